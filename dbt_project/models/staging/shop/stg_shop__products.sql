with

source as (
    select * from {{ source('shop', 'products') }}
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
        id as product_id,
        title as product_title,
        product_type,
        vendor,
        sku,
        price,
        status as product_status,
        created_at,
        updated_at,
        deleted_at,
        deleted_at is not null as is_deleted,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
