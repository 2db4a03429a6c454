with

source as (
    select * from {{ source('shop', 'orders') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by id
            order by updated_at desc nulls last, _cxw_loaded_at desc
        ) as version_rank
    from source
),

renamed as (
    select
        id as order_id,
        name as order_number,
        customer_id,
        email as email_raw,
        {{ normalize_email_sql('email') }} as email_normalized,
        {{ email_plus_variant_sql('email') }} as email_plus_variant,
        phone as phone_raw,
        {{ normalize_phone_sql('phone') }} as phone_normalized,
        currency,
        total_line_items_price,
        total_discounts,
        subtotal_price,
        total_shipping,
        total_tax,
        total_price,
        financial_status,
        fulfillment_status,
        shipment_status,
        cancel_reason,
        source_name,
        nullif(landing_site, '') as landing_site,
        substring(landing_site from '[?&]utm_source=([^&#]*)') as utm_source,
        substring(landing_site from '[?&]utm_medium=([^&#]*)') as utm_medium,
        nullif(shipping_city, '') as shipping_city,
        nullif(shipping_province, '') as shipping_region,
        nullif(shipping_zip, '') as shipping_postal_code,
        nullif(shipping_country, '') as shipping_country,
        processed_at,
        fulfilled_at,
        delivered_at,
        cancelled_at,
        closed_at,
        created_at,
        updated_at,
        deleted_at,
        cancelled_at is not null or cancel_reason is not null as is_cancelled,
        deleted_at is not null as is_deleted,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
