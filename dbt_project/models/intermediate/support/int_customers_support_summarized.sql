{#- One row per customer_key with at least one ticket or call: the support experience, for
    dim_customer_360 and mart_cx_impact (CONTRACT.md). Metrics keep their project-wide
    definitions (int_tickets_measured, int_calls_measured, int_contacts_fcr_flagged). -#}
with

tickets as (
    select * from {{ ref('int_tickets_measured') }}
),

calls as (
    select * from {{ ref('int_calls_measured') }}
),

contacts as (
    select * from {{ ref('int_contacts_fcr_flagged') }}
),

ticket_summary as (
    select
        customer_key,
        count(*) as tickets_count,
        min(created_at) as first_ticket_at,
        max(created_at) as last_ticket_at,
        avg(first_reply_calendar_minutes) as avg_first_reply_minutes,
        avg(first_reply_business_minutes) as avg_first_reply_business_minutes,
        count(*) filter (where not is_resolved) as open_unresolved_tickets,
        count(*) filter (where is_sla_breached) as sla_breached_tickets,
        count(*) filter (where is_reopened) as reopened_tickets,
        count(*) filter (where is_csat_rated) as csat_rated_tickets,
        count(*) filter (where is_csat_satisfied) as csat_satisfied_tickets,
        count(*) filter (where is_csat_rated and not is_csat_satisfied) as bad_rated_tickets
    from tickets
    where customer_key is not null
    group by customer_key
),

call_summary as (
    select
        customer_key,
        count(*) as calls_count,
        min(offered_at) as first_call_at,
        max(offered_at) as last_call_at,
        count(*) filter (where is_abandoned) as abandoned_calls
    from calls
    where customer_key is not null
    group by customer_key
),

contact_summary as (
    select
        customer_key,
        count(*) as contacts_count,
        min(contacted_at) as first_contact_at,
        max(contacted_at) as last_contact_at,
        count(is_first_contact_resolved) as fcr_evaluated_contacts,
        count(*) filter (where is_first_contact_resolved) as fcr_resolved_contacts
    from contacts
    where customer_key is not null
    group by customer_key
),

customers as (
    select customer_key from ticket_summary
    union
    select customer_key from call_summary
    union
    select customer_key from contact_summary
),

final as (
    select
        customers.customer_key,
        coalesce(ticket_summary.tickets_count, 0) as tickets_count,
        coalesce(call_summary.calls_count, 0) as calls_count,
        coalesce(contact_summary.contacts_count, 0) as contacts_count,
        least(
            contact_summary.first_contact_at, ticket_summary.first_ticket_at, call_summary.first_call_at
        ) as first_contact_at,
        greatest(
            contact_summary.last_contact_at, ticket_summary.last_ticket_at, call_summary.last_call_at
        ) as last_contact_at,
        ticket_summary.avg_first_reply_minutes,
        ticket_summary.avg_first_reply_business_minutes,
        coalesce(ticket_summary.open_unresolved_tickets, 0) as open_unresolved_tickets,
        coalesce(ticket_summary.open_unresolved_tickets, 0) > 0 as has_unresolved_ticket,
        coalesce(ticket_summary.sla_breached_tickets, 0) as sla_breached_tickets,
        coalesce(ticket_summary.sla_breached_tickets, 0) > 0 as has_sla_breach,
        coalesce(ticket_summary.reopened_tickets, 0) as reopened_tickets,
        coalesce(ticket_summary.csat_rated_tickets, 0) as csat_rated_tickets,
        {{ voc_csat('ticket_summary.csat_satisfied_tickets', 'ticket_summary.csat_rated_tickets') }} as ticket_csat_pct,
        coalesce(ticket_summary.bad_rated_tickets, 0) > 0 as has_bad_ticket_rating,
        coalesce(call_summary.abandoned_calls, 0) as abandoned_calls,
        coalesce(contact_summary.fcr_evaluated_contacts, 0) as fcr_evaluated_contacts,
        coalesce(contact_summary.fcr_resolved_contacts, 0) as fcr_resolved_contacts,
        {{ cc_pct('contact_summary.fcr_resolved_contacts', 'contact_summary.fcr_evaluated_contacts') }} as fcr_rate_pct
    from customers
    left join contact_summary
        on customers.customer_key = contact_summary.customer_key
    left join ticket_summary
        on customers.customer_key = ticket_summary.customer_key
    left join call_summary
        on customers.customer_key = call_summary.customer_key
)

select * from final
