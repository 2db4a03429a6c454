{#- One row per ISO week (Monday start, UTC) x topic mentioned in customer texts (survey
    comments, ticket comments, chat transcripts), from enrich.text_insights aspects. -#}
with

topics as (
    select * from {{ ref('int_text_topics_unnested') }}
),

texts as (
    select * from {{ ref('int_texts_attributed') }}
    where is_analyzed
),

weekly_texts as (
    select
        date_trunc('week', created_at at time zone 'UTC')::date as week_start_date,
        count(*) as analyzed_texts
    from texts
    group by 1
),

weekly_topics as (
    select
        date_trunc('week', created_at at time zone 'UTC')::date as week_start_date,
        topic,
        count(*) as texts_mentioning,
        sum(mentions) as mentions,
        avg(topic_sentiment) as avg_sentiment,
        count(*) filter (where topic_sentiment >= 0.25) as positive_texts,
        count(*) filter (where topic_sentiment <= -0.25) as negative_texts,
        count(*) filter (where text_source = 'survey_comment') as survey_comment_texts,
        count(*) filter (where text_source = 'ticket_comment') as ticket_comment_texts,
        count(*) filter (where text_source = 'chat_transcript') as chat_transcript_texts
    from topics
    group by 1, 2
),

final as (
    select
        weekly_topics.week_start_date,
        weekly_topics.topic,
        weekly_topics.texts_mentioning,
        weekly_topics.mentions,
        weekly_topics.avg_sentiment,
        weekly_topics.positive_texts,
        weekly_topics.negative_texts,
        weekly_topics.survey_comment_texts,
        weekly_topics.ticket_comment_texts,
        weekly_topics.chat_transcript_texts,
        weekly_texts.analyzed_texts,
        {{ cc_pct('weekly_topics.texts_mentioning', 'weekly_texts.analyzed_texts') }} as share_of_texts_pct
    from weekly_topics
    inner join weekly_texts
        on weekly_topics.week_start_date = weekly_texts.week_start_date
)

select * from final
