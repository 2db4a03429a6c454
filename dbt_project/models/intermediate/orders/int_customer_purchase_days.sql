{#- Input of the CLV step (CONTRACT.md): one row per customer and UTC day with at least one
    revenue order; net_amount is that day's net revenue (refunds attributed to the order's
    day, never to the refund's day). -#}
with

orders as (
    select * from {{ ref('int_orders_netted') }}
),

final as (
    select
        customer_key,
        ordered_date as purchase_date,
        sum(net_revenue) as net_amount,
        count(*) as order_count
    from orders
    where is_revenue_order and customer_key is not null
    group by customer_key, ordered_date
)

select * from final
