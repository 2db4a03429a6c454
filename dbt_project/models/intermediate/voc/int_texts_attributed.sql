{#- One row per customer text of stg_voc__texts, attributed to its source record and
    customer_key, with the NLP results of enrich.text_insights (sentiment, label, topics,
    redacted text). A text not analysed yet has null NLP columns. The raw body is dropped
    here: downstream models only see the redacted text. -#}
with

texts as (
    select * from {{ ref('stg_voc__texts') }}
),

survey_responses as (
    select * from {{ ref('stg_survey__responses') }}
),

ticket_comments as (
    select * from {{ ref('stg_contact_center__ticket_comments') }}
),

tickets as (
    select * from {{ ref('stg_contact_center__tickets') }}
),

text_insights as (
    select * from {{ source('enrich', 'text_insights') }}
),

identity_assignments as (
    select * from {{ source('enrich', 'identity_assignments') }}
),

text_records as (
    select
        {{ voc_text_id('survey_response', 'response_id') }} as text_id,
        'survey_response' as record_source,
        response_id as record_id,
        response_id,
        null::bigint as ticket_id
    from survey_responses
    union all
    select
        {{ voc_text_id('ticket_comment', 'comment_id') }} as text_id,
        'contact_center_ticket' as record_source,
        ticket_id::text as record_id,
        null as response_id,
        ticket_id
    from ticket_comments
    union all
    select
        {{ voc_text_id('ticket_rating', 'ticket_id') }} as text_id,
        'contact_center_ticket' as record_source,
        ticket_id::text as record_id,
        null as response_id,
        ticket_id
    from tickets
),

final as (
    select
        texts.text_id,
        texts.text_source,
        texts.created_at,
        text_records.record_source,
        text_records.record_id,
        text_records.response_id,
        text_records.ticket_id,
        identity_assignments.customer_key,
        text_insights.text_id is not null as is_analyzed,
        text_insights.sentiment,
        text_insights.sentiment_label,
        coalesce(text_insights.aspects, '[]'::jsonb) as aspects,
        text_insights.redacted_text
    from texts
    inner join text_records
        on texts.text_id = text_records.text_id
    left join identity_assignments
        on
            text_records.record_source = identity_assignments.source
            and text_records.record_id = identity_assignments.source_record_id
    left join text_insights
        on texts.text_id = text_insights.text_id
)

select * from final
