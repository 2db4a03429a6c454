{#- One row per ticket with its service metrics; the definitions of first reply, full
    resolution, reopens, one-touch resolution, ticket CSAT and SLA breach live here
    (documented in _support__models.yml and DECISIONLOG_support.md). -#}
with

tickets as (
    select * from {{ ref('stg_contact_center__tickets') }}
),

ticket_comments as (
    select * from {{ ref('stg_contact_center__ticket_comments') }}
),

status_events as (
    select * from {{ ref('stg_contact_center__ticket_status_events') }}
),

sla_targets as (
    select * from {{ ref('sla_targets') }}
),

identity_assignments as (
    select * from {{ source('enrich', 'identity_assignments') }}
    where source = 'contact_center_ticket'
),

-- first reply: the first public agent comment, or on a chat ticket the chat transcript (the
-- agent answered live in the chat; a phone ticket's first public comment is the agent's log
-- of the call that was answered live)
replies as (
    select
        ticket_id,
        min(commented_at) filter (
            where is_public and (author_role = 'agent' or is_chat_transcript)
        ) as first_reply_at,
        count(*) filter (where is_public and author_role = 'agent') as agent_public_comments_count
    from ticket_comments
    group by ticket_id
),

requester_followups as (
    select
        ticket_comments.ticket_id,
        count(*) as requester_followups_count
    from ticket_comments
    inner join replies
        on ticket_comments.ticket_id = replies.ticket_id
    where
        ticket_comments.author_role = 'requester'
        and ticket_comments.is_public
        and ticket_comments.commented_at > replies.first_reply_at
    group by ticket_comments.ticket_id
),

status_history as (
    select
        ticket_id,
        min(changed_at) filter (where to_status = 'solved') as first_solved_at,
        max(changed_at) filter (where to_status = 'solved') as last_solved_at,
        -- a reopen: the ticket leaves solved for anything but closed
        count(*) filter (
            where from_status = 'solved' and to_status in ('new', 'open', 'pending')
        ) as reopens_count
    from status_events
    group by ticket_id
),

joined as (
    select
        tickets.ticket_id,
        identity_assignments.customer_key,
        tickets.channel,
        tickets.queue,
        tickets.priority,
        tickets.ticket_type,
        tickets.status,
        tickets.order_id,
        tickets.call_id,
        tickets.created_at,
        tickets.updated_at,
        replies.first_reply_at,
        status_history.first_solved_at,
        case
            when tickets.status in ('solved', 'closed')
                then coalesce(status_history.last_solved_at, tickets.updated_at)
        end as resolved_at,
        coalesce(status_history.reopens_count, 0) as reopens_count,
        coalesce(replies.agent_public_comments_count, 0) as agent_public_comments_count,
        coalesce(requester_followups.requester_followups_count, 0) as requester_followups_count,
        tickets.satisfaction_score,
        sla_targets.first_reply_target_business_minutes,
        sla_targets.resolution_target_business_minutes,
        -- the data's "now": the latest ticket change received (not wall-clock time, so a
        -- rebuild of old data gives the same answer)
        max(tickets.updated_at) over () as data_as_of
    from tickets
    left join identity_assignments
        on tickets.ticket_id::text = identity_assignments.source_record_id
    left join replies
        on tickets.ticket_id = replies.ticket_id
    left join requester_followups
        on tickets.ticket_id = requester_followups.ticket_id
    left join status_history
        on tickets.ticket_id = status_history.ticket_id
    left join sla_targets
        on tickets.priority = sla_targets.priority
),

timed as (
    select
        *,
        extract(epoch from first_reply_at - created_at)::double precision / 60 as first_reply_calendar_minutes,
        {{ cc_business_minutes('created_at', 'first_reply_at') }} as first_reply_business_minutes,
        extract(epoch from resolved_at - created_at)::double precision / 60 as full_resolution_calendar_minutes,
        {{ cc_business_minutes('created_at', 'resolved_at') }} as full_resolution_business_minutes,
        {{ cc_business_minutes('created_at', 'data_as_of') }} as open_business_minutes_as_of
    from joined
),

measured as (
    select
        ticket_id,
        customer_key,
        channel,
        queue,
        priority,
        ticket_type,
        status,
        order_id,
        call_id,
        created_at,
        updated_at,
        first_reply_at,
        first_solved_at,
        resolved_at,
        resolved_at is not null as is_resolved,
        first_reply_calendar_minutes,
        first_reply_business_minutes,
        full_resolution_calendar_minutes,
        full_resolution_business_minutes,
        reopens_count,
        reopens_count > 0 as is_reopened,
        agent_public_comments_count,
        requester_followups_count,
        -- one-touch: solved on the first reply, with no customer follow-up and no reopen
        coalesce(
            resolved_at is not null
            and first_reply_at is not null
            and reopens_count = 0
            and requester_followups_count = 0,
            false
        ) as is_one_touch_resolved,
        satisfaction_score,
        satisfaction_score in ('good', 'bad') as is_csat_rated,
        case when satisfaction_score in ('good', 'bad') then satisfaction_score = 'good' end as is_csat_satisfied,
        first_reply_target_business_minutes,
        resolution_target_business_minutes,
        case
            when first_reply_target_business_minutes is null then null
            when first_reply_at is not null
                then case
                        when first_reply_business_minutes <= first_reply_target_business_minutes then 'achieved'
                        else 'breached'
                    end
            when open_business_minutes_as_of > first_reply_target_business_minutes then 'breached'
            else 'pending'
        end as first_reply_sla_status,
        case
            when resolution_target_business_minutes is null then null
            when resolved_at is not null
                then case
                        when full_resolution_business_minutes <= resolution_target_business_minutes then 'achieved'
                        else 'breached'
                    end
            when open_business_minutes_as_of > resolution_target_business_minutes then 'breached'
            else 'pending'
        end as resolution_sla_status,
        data_as_of
    from timed
),

final as (
    select
        *,
        -- SLA breach (the project's one meaning): the first-reply target was missed
        coalesce(first_reply_sla_status = 'breached', false) as is_sla_breached,
        coalesce(resolution_sla_status = 'breached', false) as is_resolution_sla_breached
    from measured
)

select * from final
