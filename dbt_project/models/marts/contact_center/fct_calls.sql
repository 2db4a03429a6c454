with

calls as (
    select * from {{ ref('int_calls_measured') }}
),

contacts as (
    select * from {{ ref('int_contacts_fcr_flagged') }}
),

final as (
    select
        calls.call_id,
        calls.customer_key,
        calls.queue,
        calls.agent_id,
        calls.ticket_id,
        calls.offered_at,
        {{ cc_support_date('calls.offered_at') }} as offered_date,
        calls.answered_at,
        calls.ended_at,
        calls.is_answered,
        calls.is_abandoned,
        calls.is_transferred,
        calls.speed_of_answer_seconds,
        calls.wait_seconds,
        calls.talk_seconds,
        calls.hold_seconds,
        calls.wrap_seconds,
        calls.handle_seconds,
        contacts.contact_id,
        contacts.is_first_contact_resolved
    from calls
    left join contacts
        on calls.call_id = contacts.call_id
)

select * from final
