{#- One row per survey response with its customer_key, NPS category, CSAT satisfaction and
    the NLP results of its comment (redacted text only). Definitions: macros in
    macros/voc_metrics.sql. -#}
with

survey_responses as (
    select * from {{ ref('stg_survey__responses') }}
),

texts as (
    select * from {{ ref('int_texts_attributed') }}
    where record_source = 'survey_response'
),

identity_assignments as (
    select * from {{ source('enrich', 'identity_assignments') }}
    where source = 'survey_response'
),

topics as (
    select
        texts.text_id,
        string_agg(aspect ->> 'topic', ',' order by aspect ->> 'topic') as topics
    from texts
    cross join lateral jsonb_array_elements(texts.aspects) as aspect
    group by texts.text_id
),

final as (
    select
        survey_responses.response_id,
        identity_assignments.customer_key,
        survey_responses.survey_id,
        survey_responses.touchpoint,
        survey_responses.distribution_channel,
        survey_responses.user_language,
        survey_responses.started_at,
        survey_responses.recorded_at,
        survey_responses.is_finished,
        survey_responses.progress_pct,
        survey_responses.nps_score,
        {{ voc_nps_category('survey_responses.nps_score') }} as nps_category,
        survey_responses.csat_score,
        {{ voc_is_csat_satisfied('survey_responses.csat_score') }} as is_csat_satisfied,
        survey_responses.ces_score,
        survey_responses.order_id,
        survey_responses.ticket_id,
        survey_responses.comment is not null as has_comment,
        texts.text_id as comment_text_id,
        coalesce(texts.is_analyzed, false) as is_comment_analyzed,
        texts.redacted_text as comment_redacted,
        texts.sentiment as comment_sentiment,
        texts.sentiment_label as comment_sentiment_label,
        topics.topics as comment_topics
    from survey_responses
    left join identity_assignments
        on survey_responses.response_id = identity_assignments.source_record_id
    left join texts
        on survey_responses.response_id = texts.response_id
    left join topics
        on texts.text_id = topics.text_id
)

select * from final
