{#- One row per customer with at least one order (any status): order counts and revenue per
    the revenue definition of int_orders_netted. -#}
with

orders as (
    select * from {{ ref('int_orders_netted') }}
),

final as (
    select
        customer_key,
        count(*) filter (where is_revenue_order) as order_count,
        count(*) as orders_placed_count,
        count(*) filter (where is_cancelled) as cancelled_order_count,
        count(distinct ordered_date) filter (where is_revenue_order) as purchase_day_count,
        coalesce(sum(gross_revenue), 0) as gross_revenue,
        coalesce(sum(refunded_revenue), 0) as refunded_revenue,
        coalesce(sum(net_revenue), 0) as net_revenue,
        count(*) filter (where is_revenue_order and refund_count > 0) as refunded_order_count,
        min(ordered_at) filter (where is_revenue_order) as first_order_at,
        max(ordered_at) filter (where is_revenue_order) as last_order_at,
        min(ordered_date) filter (where is_revenue_order) as first_order_date,
        max(ordered_date) filter (where is_revenue_order) as last_order_date
    from orders
    where customer_key is not null
    group by customer_key
)

select * from final
