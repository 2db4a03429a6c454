{#- One row per shop order with its customer and the revenue definition (DECISIONLOG_core.md,
    "Revenue"): gross revenue = subtotal_price (after discounts, before shipping and tax) of
    orders neither cancelled nor deleted; refunds reduce it, capped at the subtotal (a full
    refund also returns shipping and tax, which were never revenue); net = gross - refunds. -#}
with

orders as (
    select * from {{ ref('stg_shop__orders') }}
),

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

order_lines as (
    select * from {{ ref('stg_shop__order_lines') }}
),

order_records as (
    select * from {{ ref('int_source_records_assigned') }}
    where source = 'shop_order'
),

refunds_per_order as (
    select
        order_id,
        count(*) as refund_count,
        sum(refund_amount) as refunded_amount,
        min(refunded_at) as first_refunded_at
    from refunds
    group by order_id
),

lines_per_order as (
    select
        order_id,
        count(*) as line_count,
        sum(quantity) as unit_count
    from order_lines
    group by order_id
),

netted as (
    select
        orders.order_id,
        order_records.customer_key,
        orders.customer_id as shop_customer_id,
        orders.order_number,
        coalesce(orders.processed_at, orders.created_at) as ordered_at,
        orders.source_name,
        orders.utm_source,
        orders.utm_medium,
        orders.financial_status,
        orders.fulfillment_status,
        orders.shipment_status,
        orders.cancel_reason,
        orders.is_cancelled,
        orders.is_deleted,
        not orders.is_cancelled and not orders.is_deleted as is_revenue_order,
        coalesce(lines_per_order.line_count, 0) as line_count,
        coalesce(lines_per_order.unit_count, 0) as unit_count,
        orders.total_line_items_price,
        orders.total_discounts,
        orders.subtotal_price,
        orders.total_shipping,
        orders.total_tax,
        orders.total_price,
        coalesce(refunds_per_order.refund_count, 0) as refund_count,
        coalesce(refunds_per_order.refunded_amount, 0) as refunded_amount,
        refunds_per_order.first_refunded_at,
        orders.fulfilled_at,
        orders.delivered_at,
        orders.cancelled_at,
        orders.created_at,
        orders.updated_at,
        orders._cxw_loaded_at
    from orders
    left join order_records
        on orders.order_id::text = order_records.source_record_id
    left join refunds_per_order
        on orders.order_id = refunds_per_order.order_id
    left join lines_per_order
        on orders.order_id = lines_per_order.order_id
),

revenue as (
    select
        *,
        case when is_revenue_order then subtotal_price else 0 end as gross_revenue,
        case
            when is_revenue_order then least(refunded_amount, coalesce(subtotal_price, 0))
            else 0
        end as refunded_revenue
    from netted
),

final as (
    select
        *,
        gross_revenue - refunded_revenue as net_revenue,
        {{ utc_date('ordered_at') }} as ordered_date,
        case
            when is_revenue_order
                then row_number() over (
                        partition by customer_key, is_revenue_order
                        order by ordered_at, order_id
                    )
        end as customer_order_number
    from revenue
)

select * from final
