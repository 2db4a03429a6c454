{#- One row per support day (local date in var support_timezone) x channel x queue with
    activity. Tickets count on their creation day, calls on their offered day, contacts (FCR) on
    their start day. Sums and counts are published beside each rate so periods and groups can
    be re-aggregated exactly. -#}
with

tickets as (
    select * from {{ ref('fct_tickets') }}
),

calls as (
    select * from {{ ref('fct_calls') }}
),

contacts as (
    select * from {{ ref('int_contacts_fcr_flagged') }}
),

ticket_days as (
    select
        created_date as activity_date,
        channel,
        coalesce(queue, 'unknown') as queue,
        count(*) as tickets_created,
        count(*) filter (where is_resolved) as tickets_resolved,
        count(*) filter (where is_one_touch_resolved) as tickets_one_touch_resolved,
        count(*) filter (where is_reopened) as tickets_reopened,
        avg(first_reply_business_minutes) as avg_first_reply_business_minutes,
        avg(full_resolution_business_minutes) as avg_full_resolution_business_minutes,
        count(*) filter (where first_reply_sla_status = 'achieved') as sla_achieved_tickets,
        count(*) filter (where first_reply_sla_status = 'breached') as sla_breached_tickets,
        count(*) filter (where is_csat_rated) as csat_rated_tickets,
        count(*) filter (where is_csat_satisfied) as csat_satisfied_tickets
    from tickets
    group by 1, 2, 3
),

call_days as (
    select
        offered_date as activity_date,
        'phone' as channel,
        coalesce(queue, 'unknown') as queue,
        count(*) as calls_offered,
        count(*) filter (where is_answered) as calls_answered,
        count(*) filter (where is_abandoned) as calls_abandoned,
        count(*) filter (where is_transferred) as calls_transferred,
        sum(speed_of_answer_seconds) as speed_of_answer_seconds_sum,
        sum(handle_seconds) as handle_seconds_sum
    from calls
    group by 1, 2, 3
),

contact_days as (
    select
        {{ cc_support_date('contacted_at') }} as activity_date,
        channel,
        coalesce(queue, 'unknown') as queue,
        count(*) as contacts,
        count(is_first_contact_resolved) as fcr_evaluated_contacts,
        count(*) filter (where is_first_contact_resolved) as fcr_resolved_contacts
    from contacts
    group by 1, 2, 3
),

day_keys as (
    select
        activity_date,
        channel,
        queue
    from ticket_days
    union
    select
        activity_date,
        channel,
        queue
    from call_days
    union
    select
        activity_date,
        channel,
        queue
    from contact_days
),

final as (
    select
        day_keys.activity_date,
        day_keys.channel,
        day_keys.queue,
        coalesce(contact_days.contacts, 0) as contacts,
        coalesce(ticket_days.tickets_created, 0) as tickets_created,
        coalesce(call_days.calls_offered, 0) as calls_offered,
        coalesce(call_days.calls_answered, 0) as calls_answered,
        coalesce(call_days.calls_abandoned, 0) as calls_abandoned,
        coalesce(call_days.calls_transferred, 0) as calls_transferred,
        call_days.speed_of_answer_seconds_sum,
        call_days.speed_of_answer_seconds_sum / nullif(call_days.calls_answered, 0) as asa_seconds,
        call_days.handle_seconds_sum,
        call_days.handle_seconds_sum / nullif(call_days.calls_answered, 0) as aht_seconds,
        {{ cc_pct('call_days.calls_abandoned', 'call_days.calls_offered') }} as abandonment_rate_pct,
        coalesce(contact_days.fcr_evaluated_contacts, 0) as fcr_evaluated_contacts,
        coalesce(contact_days.fcr_resolved_contacts, 0) as fcr_resolved_contacts,
        {{ cc_pct('contact_days.fcr_resolved_contacts', 'contact_days.fcr_evaluated_contacts') }} as fcr_rate_pct,
        coalesce(ticket_days.sla_achieved_tickets, 0) as sla_achieved_tickets,
        coalesce(ticket_days.sla_breached_tickets, 0) as sla_breached_tickets,
        {{ cc_pct('ticket_days.sla_achieved_tickets',
            'ticket_days.sla_achieved_tickets + ticket_days.sla_breached_tickets') }} as sla_attainment_pct,
        ticket_days.avg_first_reply_business_minutes,
        ticket_days.avg_full_resolution_business_minutes,
        coalesce(ticket_days.tickets_resolved, 0) as tickets_resolved,
        coalesce(ticket_days.tickets_one_touch_resolved, 0) as tickets_one_touch_resolved,
        coalesce(ticket_days.tickets_reopened, 0) as tickets_reopened,
        coalesce(ticket_days.csat_rated_tickets, 0) as csat_rated_tickets,
        coalesce(ticket_days.csat_satisfied_tickets, 0) as csat_satisfied_tickets,
        {{ voc_csat('ticket_days.csat_satisfied_tickets', 'ticket_days.csat_rated_tickets') }} as ticket_csat_pct
    from day_keys
    left join ticket_days
        on
            day_keys.activity_date = ticket_days.activity_date
            and day_keys.channel = ticket_days.channel
            and day_keys.queue = ticket_days.queue
    left join call_days
        on
            day_keys.activity_date = call_days.activity_date
            and day_keys.channel = call_days.channel
            and day_keys.queue = call_days.queue
    left join contact_days
        on
            day_keys.activity_date = contact_days.activity_date
            and day_keys.channel = contact_days.channel
            and day_keys.queue = contact_days.queue
)

select * from final
