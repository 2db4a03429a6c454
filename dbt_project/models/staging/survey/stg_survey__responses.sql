{#- One row per survey response (key response_id; a late or re-sent line is an identical
    copy, the most recently loaded one is kept). Scores and the comment are mapped from the
    `answers` JSON per survey definition (macro voc_survey_definitions): nps_score only from
    NPS questions, csat_score from CSAT questions, ces_score from CES questions; an answer
    outside its question's scale is null. -#}
with

source as (
    select * from {{ source('survey', 'responses') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by response_id
            order by _cxw_loaded_at desc, _cxw_locator desc
        ) as version_rank
    from source
    where response_id is not null
),

final as (
    select
        response_id,
        survey_id,
        coalesce(nullif(btrim(touchpoint), ''), {{ voc_survey_touchpoint('survey_id') }}) as touchpoint,
        distribution_channel,
        user_language,
        start_date as started_at,
        end_date as ended_at,
        recorded_date as recorded_at,
        progress as progress_pct,
        duration_seconds,
        finished = '1' as is_finished,
        {{ voc_survey_score('answers', 'survey_id', 'nps') }} as nps_score,
        {{ voc_survey_score('answers', 'survey_id', 'csat') }} as csat_score,
        {{ voc_survey_score('answers', 'survey_id', 'ces') }} as ces_score,
        {{ voc_survey_comment('answers', 'survey_id') }} as comment,
        -- the embedded-data column order_id arrives as OrderID (in _extra) after the schema drift
        coalesce(
            order_id,
            case when btrim(_extra ->> 'OrderID') ~ '^[0-9]+$' then btrim(_extra ->> 'OrderID')::bigint end
        ) as order_id,
        ticket_id,
        recipient_email as recipient_email_raw,
        {{ cc_normalize_email('recipient_email') }} as recipient_email,
        email as email_raw,
        {{ cc_normalize_email('email') }} as email,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from final
