{#- One row per call with its handling times; ASA and AHT are defined here (per call) and
    averaged in the marts (documented in _support__models.yml). -#}
with

calls as (
    select * from {{ ref('stg_contact_center__calls') }}
),

identity_assignments as (
    select * from {{ source('enrich', 'identity_assignments') }}
    where source = 'contact_center_call'
),

joined as (
    select
        calls.call_id,
        identity_assignments.customer_key,
        calls.queue,
        calls.agent_id,
        calls.ticket_id,
        calls.offered_at,
        calls.answered_at,
        calls.ended_at,
        calls.is_abandoned,
        calls.is_transferred,
        not calls.is_abandoned and calls.answered_at is not null as is_answered,
        calls.hold_seconds,
        calls.wrap_seconds
    from calls
    left join identity_assignments
        on calls.call_id::text = identity_assignments.source_record_id
),

timed as (
    select
        *,
        -- speed of answer: queue wait of an answered call (ASA is its mean)
        case when is_answered then extract(epoch from answered_at - offered_at)::double precision end as speed_of_answer_seconds,
        -- wait: until answered, or until the caller hung up
        extract(epoch from coalesce(answered_at, ended_at) - offered_at)::double precision as wait_seconds,
        -- talk: conversation time without hold
        case when is_answered then extract(epoch from ended_at - answered_at)::double precision - hold_seconds end as talk_seconds
    from joined
),

final as (
    select
        call_id,
        customer_key,
        queue,
        agent_id,
        ticket_id,
        offered_at,
        answered_at,
        ended_at,
        is_answered,
        is_abandoned,
        is_transferred,
        speed_of_answer_seconds,
        wait_seconds,
        talk_seconds,
        case when is_answered then hold_seconds end as hold_seconds,
        case when is_answered then wrap_seconds end as wrap_seconds,
        -- handle time: talk + hold + wrap of an answered call (AHT is its mean)
        case when is_answered then talk_seconds + hold_seconds + wrap_seconds end as handle_seconds
    from timed
)

select * from final
