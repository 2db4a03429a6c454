{#- One row per shop order (cancelled and deleted ones included, flagged), with its customer
    and the revenue definition of int_orders_netted. -#}
with

orders as (
    select * from {{ ref('int_orders_netted') }}
),

final as (
    select
        order_id,
        customer_key,
        order_number,
        ordered_at,
        ordered_date,
        shop_customer_id,
        source_name,
        utm_source,
        utm_medium,
        financial_status,
        fulfillment_status,
        shipment_status,
        cancel_reason,
        is_cancelled,
        is_deleted,
        is_revenue_order,
        customer_order_number,
        coalesce(customer_order_number = 1, false) as is_first_order,
        line_count,
        unit_count,
        total_line_items_price,
        total_discounts,
        subtotal_price,
        total_shipping,
        total_tax,
        total_price as order_total,
        refund_count,
        refunded_amount,
        gross_revenue,
        refunded_revenue,
        net_revenue,
        first_refunded_at,
        fulfilled_at,
        delivered_at,
        cancelled_at,
        created_at,
        updated_at
    from orders
)

select * from final
