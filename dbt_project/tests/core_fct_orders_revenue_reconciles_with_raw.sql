-- Revenue in fct_orders equals the same definition computed straight from raw_shop (latest
-- version of every order and refund): gross = subtotal of orders neither cancelled nor
-- deleted, refunds capped at the subtotal, net = gross - refunds; plus the total refunded
-- and the order count. Returns a row per measure that differs.
with

raw_orders as (
    select distinct on (id)
        id,
        subtotal_price,
        cancelled_at is not null or cancel_reason is not null as is_cancelled,
        deleted_at is not null as is_deleted
    from {{ source('shop', 'orders') }}
    order by id asc, updated_at desc nulls last, _cxw_loaded_at desc
),

raw_refunds as (
    select distinct on (id)
        id,
        order_id,
        amount
    from {{ source('shop', 'refunds') }}
    order by id asc, updated_at desc nulls last, _cxw_loaded_at desc
),

refunds_per_order as (
    select
        order_id,
        sum(amount) as refunded
    from raw_refunds
    group by order_id
),

revenue_orders as (
    select
        raw_orders.subtotal_price,
        least(coalesce(refunds_per_order.refunded, 0), raw_orders.subtotal_price) as refunded_revenue
    from raw_orders
    left join refunds_per_order
        on raw_orders.id = refunds_per_order.order_id
    where not raw_orders.is_cancelled and not raw_orders.is_deleted
),

expected as (
    select
        'gross_revenue' as measure,
        sum(subtotal_price) as expected_value
    from revenue_orders
    union all
    select
        'refunded_revenue' as measure,
        sum(refunded_revenue) as expected_value
    from revenue_orders
    union all
    select
        'net_revenue' as measure,
        sum(subtotal_price - refunded_revenue) as expected_value
    from revenue_orders
    union all
    select
        'refunded_amount' as measure,
        sum(amount) as expected_value
    from raw_refunds
    union all
    select
        'orders' as measure,
        count(*) as expected_value
    from raw_orders
),

fct_orders as (
    select * from {{ ref('fct_orders') }}
),

actual as (
    select
        'gross_revenue' as measure,
        sum(gross_revenue) as actual_value
    from fct_orders
    union all
    select
        'refunded_revenue' as measure,
        sum(refunded_revenue) as actual_value
    from fct_orders
    union all
    select
        'net_revenue' as measure,
        sum(net_revenue) as actual_value
    from fct_orders
    union all
    select
        'refunded_amount' as measure,
        sum(refunded_amount) as actual_value
    from fct_orders
    union all
    select
        'orders' as measure,
        count(*) as actual_value
    from fct_orders
)

select
    expected.measure,
    expected.expected_value,
    actual.actual_value
from expected
inner join actual
    on expected.measure = actual.measure
where coalesce(expected.expected_value, 0) <> coalesce(actual.actual_value, 0)
