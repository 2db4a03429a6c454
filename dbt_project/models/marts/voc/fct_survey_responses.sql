with

responses as (
    select * from {{ ref('int_survey_responses_scored') }}
),

final as (
    select
        response_id,
        customer_key,
        survey_id,
        touchpoint,
        -- the VoC "channel" (mart_voc_daily): the journey touchpoint the survey is sent at
        touchpoint as channel,
        distribution_channel,
        user_language,
        started_at,
        recorded_at,
        (recorded_at at time zone 'UTC')::date as recorded_date,
        is_finished,
        progress_pct,
        nps_score,
        nps_category,
        csat_score,
        is_csat_satisfied,
        ces_score,
        order_id,
        ticket_id,
        has_comment,
        is_comment_analyzed,
        comment_redacted,
        comment_sentiment,
        comment_sentiment_label,
        comment_topics
    from responses
)

select * from final
