-- The CLV input (int_customer_purchase_days) carries exactly the net revenue and revenue
-- orders of fct_orders. Returns a row when they differ.
with

purchase_days as (
    select
        sum(net_amount) as net_revenue,
        sum(order_count) as orders
    from {{ ref('int_customer_purchase_days') }}
),

orders as (
    select
        sum(net_revenue) as net_revenue,
        count(*) as orders
    from {{ ref('fct_orders') }}
    where is_revenue_order
)

select
    purchase_days.net_revenue as purchase_days_net_revenue,
    orders.net_revenue as orders_net_revenue,
    purchase_days.orders as purchase_days_orders,
    orders.orders as orders_orders
from purchase_days
cross join orders
where
    purchase_days.net_revenue is distinct from orders.net_revenue
    or purchase_days.orders is distinct from orders.orders
