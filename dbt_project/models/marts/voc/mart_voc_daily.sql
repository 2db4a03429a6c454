{#- One row per UTC day (the survey exports' time zone) x channel (= survey touchpoint:
    relationship, post_purchase, post_support) with responses. Every recorded response
    counts, finished or partial; each metric counts only the responses that answered its
    question (NPS from NPS questions only). Counts are published beside each score so days
    and channels can be re-aggregated exactly. -#}
with

responses as (
    select * from {{ ref('fct_survey_responses') }}
),

final as (
    select
        recorded_date as response_date,
        channel,
        count(*) as responses,
        count(*) filter (where is_finished) as finished_responses,
        count(nps_score) as nps_responses,
        count(*) filter (where nps_category = 'promoter') as promoters,
        count(*) filter (where nps_category = 'passive') as passives,
        count(*) filter (where nps_category = 'detractor') as detractors,
        {{ voc_nps(
            "count(*) filter (where nps_category = 'promoter')",
            "count(*) filter (where nps_category = 'detractor')",
            'count(nps_score)'
        ) }} as nps,
        count(csat_score) as csat_responses,
        count(*) filter (where is_csat_satisfied) as csat_satisfied_responses,
        {{ voc_csat('count(*) filter (where is_csat_satisfied)', 'count(csat_score)') }} as csat_pct,
        count(ces_score) as ces_responses,
        {{ voc_ces('ces_score') }} as ces_avg,
        count(*) filter (where has_comment) as comments,
        count(*) filter (where is_comment_analyzed) as analyzed_comments,
        avg(comment_sentiment) as avg_sentiment,
        count(*) filter (where comment_sentiment_label = 'negative') as negative_comments
    from responses
    group by 1, 2
)

select * from final
