{#- RFM scores (1-5 each, rfm_score macro) and the value segment of every customer with a
    revenue order: recency = days since the last order (as of the build date), frequency =
    revenue orders, monetary = net revenue (DECISIONLOG_core.md, "RFM and value segments"). -#}
with

order_summary as (
    select * from {{ ref('int_customers_orders_summarized') }}
),

as_of as (
    select * from {{ ref('int_as_of_dates_derived') }}
),

base as (
    select
        order_summary.customer_key,
        as_of.as_of_date - order_summary.last_order_date as recency_days,
        order_summary.order_count as frequency,
        order_summary.net_revenue as monetary
    from order_summary
    cross join as_of
    where order_summary.order_count > 0
),

scored as (
    select
        *,
        {{ rfm_score('recency_days', higher_is_better=false) }} as recency_score,
        {{ rfm_score('frequency') }} as frequency_score,
        {{ rfm_score('monetary') }} as monetary_score
    from base
),

final as (
    select
        *,
        recency_score::text || frequency_score::text || monetary_score::text as rfm_cell,
        case
            when recency_score >= 4 and frequency_score >= 4 then 'champions'
            when frequency_score >= 4 then 'loyal'
            when recency_score >= 4 and frequency_score <= 2 then 'new'
            when recency_score <= 2 and frequency_score >= 3 then 'at_risk'
            when recency_score <= 2 then 'hibernating'
            else 'promising'
        end as value_segment
    from scored
)

select * from final
