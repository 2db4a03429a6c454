{#- One row per customer with at least one revenue order: historical value (net revenue),
    orders, AOV and tenure; predictions from enrich.clv_predictions (BG/NBD + Gamma-Gamma,
    12 months); RFM scores and value segment; THE churn flag (macro churn_flag, computed here
    once: dim_customer_360 and mart_cx_impact read it from this model) and the churn rates of
    the customer's segments (DECISIONLOG_core.md, "LTV" and "Churn"). -#}
with

order_summary as (
    select * from {{ ref('int_customers_orders_summarized') }}
    where order_count > 0
),

as_of as (
    select * from {{ ref('int_as_of_dates_derived') }}
),

rfm as (
    select * from {{ ref('int_customers_rfm_scored') }}
),

profiles as (
    select * from {{ ref('int_customer_profiles_survived') }}
),

predictions as (
    select * from {{ source('enrich', 'clv_predictions') }}
),

joined as (
    select
        order_summary.customer_key,
        profiles.customer_segment,
        profiles.acquisition_channel,
        order_summary.first_order_date,
        order_summary.last_order_date,
        as_of.as_of_date - order_summary.first_order_date as tenure_days,
        as_of.as_of_date - order_summary.last_order_date as days_since_last_order,
        order_summary.order_count,
        order_summary.purchase_day_count,
        order_summary.gross_revenue,
        order_summary.refunded_revenue,
        order_summary.net_revenue as historical_value,
        round(order_summary.net_revenue / order_summary.order_count, 2) as average_order_value,
        predictions.p_alive,
        predictions.expected_purchases_12m,
        predictions.expected_avg_spend,
        predictions.predicted_clv_12m,
        predictions.frequency as clv_repeat_purchase_days,
        predictions.model_run_id as clv_model_run_id,
        predictions.scored_at as clv_scored_at,
        rfm.recency_score,
        rfm.frequency_score,
        rfm.monetary_score,
        rfm.rfm_cell,
        rfm.value_segment
    from order_summary
    cross join as_of
    inner join rfm
        on order_summary.customer_key = rfm.customer_key
    left join profiles
        on order_summary.customer_key = profiles.customer_key
    left join predictions
        on order_summary.customer_key = predictions.customer_key
),

churn as (
    select
        *,
        {{ churn_flag('p_alive', 'purchase_day_count', 'days_since_last_order') }} as is_churned
    from joined
),

final as (
    select
        *,
        round(avg(is_churned::integer) over (partition by value_segment), 4) as value_segment_churn_rate,
        round(avg(is_churned::integer) over (partition by customer_segment), 4) as customer_segment_churn_rate
    from churn
)

select * from final
