{#- One row per ticket: its latest version (greatest updated_at; for identical versions the
    most recently loaded copy). Comments and status events are unnested in their own
    (incremental) staging models. -#}
with

source as (
    select * from {{ source('contact_center', 'tickets') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by id
            order by updated_at desc, _cxw_loaded_at desc, _cxw_locator desc
        ) as version_rank
    from source
    where id is not null
),

final as (
    select
        id as ticket_id,
        channel,
        subject,
        priority,
        type as ticket_type,
        "group" as queue,
        nullif(btrim(assignee_id), '') as assignee_id,
        status,
        tags,
        case
            when jsonb_typeof(custom_fields -> 'order_id') = 'number'
                then (custom_fields ->> 'order_id')::bigint
        end as order_id,
        case
            when jsonb_typeof(custom_fields -> 'call_id') = 'number'
                then (custom_fields ->> 'call_id')::bigint
        end as call_id,
        requester_email as requester_email_raw,
        {{ cc_normalize_email('requester_email') }} as requester_email,
        requester_phone as requester_phone_raw,
        {{ cc_normalize_phone('requester_phone') }} as requester_phone_e164,
        coalesce(satisfaction_rating ->> 'score', 'unoffered') as satisfaction_score,
        nullif(btrim(satisfaction_rating ->> 'comment'), '') as satisfaction_comment,
        (satisfaction_rating ->> 'updated_at')::timestamptz as satisfaction_updated_at,
        created_at,
        updated_at,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from final
