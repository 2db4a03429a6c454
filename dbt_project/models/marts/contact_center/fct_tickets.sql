with

tickets as (
    select * from {{ ref('int_tickets_measured') }}
),

contacts as (
    select * from {{ ref('int_contacts_fcr_flagged') }}
),

final as (
    select
        tickets.ticket_id,
        tickets.customer_key,
        tickets.channel,
        tickets.queue,
        tickets.priority,
        tickets.ticket_type,
        tickets.status,
        tickets.order_id,
        tickets.call_id,
        tickets.created_at,
        {{ cc_support_date('tickets.created_at') }} as created_date,
        tickets.updated_at,
        tickets.first_reply_at,
        tickets.first_solved_at,
        tickets.resolved_at,
        tickets.is_resolved,
        tickets.first_reply_calendar_minutes,
        tickets.first_reply_business_minutes,
        tickets.full_resolution_calendar_minutes,
        tickets.full_resolution_business_minutes,
        tickets.reopens_count,
        tickets.is_reopened,
        tickets.agent_public_comments_count,
        tickets.requester_followups_count,
        tickets.is_one_touch_resolved,
        tickets.satisfaction_score,
        tickets.is_csat_rated,
        tickets.is_csat_satisfied,
        tickets.first_reply_target_business_minutes,
        tickets.resolution_target_business_minutes,
        tickets.first_reply_sla_status,
        tickets.is_sla_breached,
        tickets.resolution_sla_status,
        tickets.is_resolution_sla_breached,
        contacts.contact_id,
        contacts.is_first_contact_resolved,
        tickets.data_as_of
    from tickets
    left join contacts
        on tickets.ticket_id = contacts.ticket_id
)

select * from final
