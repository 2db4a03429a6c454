{#- Retention and LTV by customer-experience segment. Each customer appears once per
    experience dimension (NPS category, SLA breach, unresolved ticket, sentiment) plus once in
    the `overall` baseline, so rows of one dimension add up to all customers. Retention =
    1 - churn rate among buyers (the one churn definition); LTV = historical net revenue of
    buyers (DECISIONLOG_core.md, "CX impact"). Descriptive, not causal: experience is
    measured over the whole history, not before the outcome. -#}
with

customers as (
    select * from {{ ref('dim_customer_360') }}
),

ltv as (
    select * from {{ ref('mart_customer_ltv') }}
),

segmented as (
    select
        customers.customer_key,
        customers.is_buyer,
        customers.is_churned,
        ltv.historical_value,
        ltv.predicted_clv_12m,
        ltv.p_alive,
        ltv.order_count,
        segment.experience_dimension,
        segment.experience_value
    from customers
    left join ltv
        on customers.customer_key = ltv.customer_key
    cross join lateral (
        values
        ('overall', 'all_customers'),
        ('nps', coalesce(customers.last_nps_category, 'no_nps_response')),
        (
            'sla',
            case
                when customers.has_sla_breach then 'sla_breached'
                when customers.ticket_count > 0 then 'sla_met'
                else 'no_ticket'
            end
        ),
        (
            'resolution',
            case
                when customers.open_unresolved_ticket_count > 0 then 'unresolved_ticket'
                when customers.ticket_count > 0 then 'all_tickets_resolved'
                else 'no_ticket'
            end
        ),
        (
            'sentiment',
            case
                when customers.has_negative_sentiment then 'negative_sentiment'
                when customers.avg_sentiment is not null then 'non_negative_sentiment'
                else 'no_text'
            end
        )
    ) as segment (experience_dimension, experience_value)
),

aggregated as (
    select
        experience_dimension,
        experience_value,
        count(*) as customers,
        count(*) filter (where is_buyer) as buyers,
        count(*) filter (where is_churned) as churned_customers,
        avg(is_churned::integer) as churn_rate,
        avg(historical_value) as avg_ltv,
        avg(predicted_clv_12m) as avg_predicted_clv_12m,
        avg(p_alive) as avg_p_alive,
        avg(order_count) as avg_order_count,
        coalesce(sum(historical_value), 0) as total_net_revenue
    from segmented
    group by experience_dimension, experience_value
),

final as (
    select
        experience_dimension || ':' || experience_value as experience_segment,
        experience_dimension,
        experience_value,
        customers,
        buyers,
        churned_customers,
        round(churn_rate, 4) as churn_rate,
        round(1 - churn_rate, 4) as retention_rate,
        round(avg_ltv, 2) as avg_ltv,
        round(avg_predicted_clv_12m::numeric, 2) as avg_predicted_clv_12m,
        round(avg_p_alive::numeric, 4) as avg_p_alive,
        round(avg_order_count, 2) as avg_order_count,
        total_net_revenue,
        round(
            (1 - churn_rate) - (
                1 - avg(churn_rate) filter (where experience_dimension = 'overall') over ()
            ),
            4
        ) as retention_rate_vs_overall
    from aggregated
)

select * from final
