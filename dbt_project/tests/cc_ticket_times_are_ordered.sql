{#- A ticket's milestones are in time order and business time never exceeds calendar time. -#}
select
    ticket_id,
    created_at,
    first_reply_at,
    resolved_at,
    first_reply_business_minutes,
    first_reply_calendar_minutes
from {{ ref('fct_tickets') }}
where
    first_reply_at < created_at
    or resolved_at < created_at
    or first_reply_business_minutes > first_reply_calendar_minutes + 1e-9
    or full_resolution_business_minutes > full_resolution_calendar_minutes + 1e-9
    or first_reply_business_minutes < 0
    or full_resolution_business_minutes < 0
