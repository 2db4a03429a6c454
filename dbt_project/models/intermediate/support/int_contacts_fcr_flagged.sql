{#- First-contact resolution (FCR), defined once for the project: a contact is resolved at
    first contact when the same customer_key makes no further contact (a new ticket or call,
    abandoned calls included) within var('fcr_window_days', 7) days of its start.
    Null (not evaluated) for abandoned calls (never handled), contacts without a customer_key,
    and contacts whose window has not ended by the data's latest contact with no repeat seen
    yet. -#}
with

contacts as (
    select * from {{ ref('int_contacts_unioned') }}
),

sequenced as (
    select
        *,
        lead(contacted_at) over (
            partition by customer_key
            order by contacted_at, contact_id
        ) as next_contact_at,
        max(contacted_at) over () as data_as_of
    from contacts
),

final as (
    select
        contact_id,
        ticket_id,
        call_id,
        customer_key,
        channel,
        queue,
        contacted_at,
        is_abandoned_call,
        case when customer_key is not null then next_contact_at end as next_contact_at,
        data_as_of,
        case
            when is_abandoned_call or customer_key is null then null
            when next_contact_at <= contacted_at + interval '1 day' * {{ var('fcr_window_days', 7) }} then false
            when contacted_at + interval '1 day' * {{ var('fcr_window_days', 7) }} > data_as_of then null
            else true
        end as is_first_contact_resolved
    from sequenced
)

select * from final
