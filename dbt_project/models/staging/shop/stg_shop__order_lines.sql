{{
    config(
        materialized='incremental',
        unique_key='order_line_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

source as (
    select * from {{ source('shop', 'order_lines') }}
    {{ core_changed_keys_filter('id', source('shop', 'order_lines')) }}
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
        id as order_line_id,
        order_id,
        product_id,
        sku,
        title as product_title,
        quantity,
        price as unit_price,
        quantity * price as line_amount,
        created_at,
        updated_at,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
