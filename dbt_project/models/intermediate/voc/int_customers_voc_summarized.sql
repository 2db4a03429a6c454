{#- One row per customer_key with at least one survey response or analysed text: the voice of
    the customer, for dim_customer_360 and mart_cx_impact (CONTRACT.md). -#}
with

scored_responses as (
    select * from {{ ref('int_survey_responses_scored') }}
),

attributed_texts as (
    select * from {{ ref('int_texts_attributed') }}
),

responses as (
    select * from scored_responses
    where customer_key is not null
),

texts as (
    select * from attributed_texts
    where customer_key is not null and is_analyzed
),

-- "recent" is measured back from the latest text in the data, not from wall-clock time
as_of as (
    select max(created_at) as data_as_of from attributed_texts
),

last_nps as (
    select distinct on (customer_key)
        customer_key,
        nps_score as last_nps_score,
        nps_category as last_nps_category,
        recorded_at as last_nps_at
    from responses
    where nps_score is not null
    order by customer_key asc, recorded_at desc, response_id desc
),

response_summary as (
    select
        customer_key,
        count(*) as responses_count,
        max(recorded_at) as last_response_at,
        count(nps_score) as nps_responses,
        avg(csat_score)::double precision as avg_csat_score,
        count(csat_score) as csat_responses,
        count(*) filter (where is_csat_satisfied) as csat_satisfied_responses,
        avg(ces_score)::double precision as avg_ces_score,
        count(ces_score) as ces_responses
    from responses
    group by customer_key
),

text_summary as (
    select
        texts.customer_key,
        count(*) as texts_count,
        avg(texts.sentiment) as avg_sentiment,
        count(*) filter (where texts.sentiment_label = 'negative') as negative_texts_count,
        avg(texts.sentiment) filter (
            where texts.created_at > as_of.data_as_of - interval '90 days'
        ) as avg_sentiment_last_90d,
        avg(texts.sentiment) filter (
            where texts.created_at <= as_of.data_as_of - interval '90 days'
        ) as avg_sentiment_before_90d
    from texts
    cross join as_of
    group by texts.customer_key
),

customers as (
    select customer_key from response_summary
    union
    select customer_key from text_summary
),

final as (
    select
        customers.customer_key,
        coalesce(response_summary.responses_count, 0) as responses_count,
        response_summary.last_response_at,
        coalesce(response_summary.nps_responses, 0) as nps_responses,
        last_nps.last_nps_score,
        last_nps.last_nps_category,
        last_nps.last_nps_at,
        response_summary.avg_csat_score,
        coalesce(response_summary.csat_responses, 0) as csat_responses,
        {{ voc_csat('response_summary.csat_satisfied_responses', 'response_summary.csat_responses') }} as csat_pct,
        response_summary.avg_ces_score,
        coalesce(response_summary.ces_responses, 0) as ces_responses,
        coalesce(text_summary.texts_count, 0) as texts_count,
        text_summary.avg_sentiment,
        coalesce(text_summary.negative_texts_count, 0) as negative_texts_count,
        text_summary.avg_sentiment_last_90d,
        text_summary.avg_sentiment_before_90d,
        text_summary.avg_sentiment_last_90d - text_summary.avg_sentiment_before_90d as sentiment_trend,
        -- the same band as the pipeline's "negative" label (score <= -0.25)
        coalesce(text_summary.avg_sentiment <= -0.25, false) as has_negative_sentiment
    from customers
    left join response_summary
        on customers.customer_key = response_summary.customer_key
    left join last_nps
        on customers.customer_key = last_nps.customer_key
    left join text_summary
        on customers.customer_key = text_summary.customer_key
)

select * from final
