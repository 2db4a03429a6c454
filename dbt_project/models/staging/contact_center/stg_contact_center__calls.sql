{#- One row per call: calls are immutable, so a late or re-sent copy is identical; the most
    recently loaded copy is kept. Timestamps arrive in America/Chicago with their offset and
    are stored as timestamptz (an absolute instant; shown in UTC). -#}
with

source as (
    select * from {{ source('contact_center', 'calls') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by call_id
            order by _cxw_loaded_at desc, _cxw_locator desc
        ) as version_rank
    from source
    where call_id is not null
),

final as (
    select
        call_id,
        caller_phone as caller_phone_raw,
        {{ cc_normalize_phone('caller_phone') }} as caller_phone_e164,
        queue,
        nullif(btrim(agent_id), '') as agent_id,
        offered_at,
        answered_at,
        ended_at,
        hold_seconds,
        wrap_seconds,
        abandoned = 'true' as is_abandoned,
        transferred = 'true' as is_transferred,
        ticket_id,
        nullif(_extra ->> 'recording_url', '') as recording_url,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from final
