{#- mart_contact_center_daily loses and duplicates nothing: its volumes add up to the facts. -#}
with

daily as (
    select
        sum(tickets_created) as tickets,
        sum(calls_offered) as calls,
        sum(calls_abandoned) as abandoned_calls,
        sum(handle_seconds_sum) as handle_seconds,
        sum(contacts) as contacts
    from {{ ref('mart_contact_center_daily') }}
),

facts as (
    select
        (select count(*) from {{ ref('fct_tickets') }}) as tickets,
        (select count(*) from {{ ref('fct_calls') }}) as calls,
        (
            select count(*) from {{ ref('fct_calls') }}
            where is_abandoned
        ) as abandoned_calls,
        (select sum(handle_seconds) from {{ ref('fct_calls') }}) as handle_seconds,
        (select count(*) from {{ ref('int_contacts_fcr_flagged') }}) as contacts
),

final as (
    select
        daily.*,
        facts.tickets as fact_tickets,
        facts.calls as fact_calls
    from daily
    cross join facts
    where
        daily.tickets is distinct from facts.tickets
        or daily.calls is distinct from facts.calls
        or daily.abandoned_calls is distinct from facts.abandoned_calls
        or daily.handle_seconds is distinct from facts.handle_seconds
        or daily.contacts is distinct from facts.contacts
)

select * from final
