{#- One row per analysed text and topic it mentions (enrich.text_insights aspects
    `[{"topic", "sentiment", "mentions"}]`): the topic's sentiment is that of the sentences or
    clauses mentioning it, not of the whole text. -#}
with

texts as (
    select * from {{ ref('int_texts_attributed') }}
    where is_analyzed
),

unnested as (
    select
        texts.text_id,
        texts.text_source,
        texts.created_at,
        texts.customer_key,
        texts.sentiment as text_sentiment,
        aspect ->> 'topic' as topic,
        (aspect ->> 'sentiment')::double precision as topic_sentiment,
        coalesce((aspect ->> 'mentions')::integer, 1) as mentions
    from texts
    cross join lateral jsonb_array_elements(texts.aspects) as aspect
),

final as (
    select
        text_id || '|' || topic as text_topic_id,
        *
    from unnested
    where topic is not null
)

select * from final
