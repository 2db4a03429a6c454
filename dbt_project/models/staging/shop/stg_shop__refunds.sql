with

source as (
    select * from {{ source('shop', 'refunds') }}
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
        id as refund_id,
        order_id,
        amount as refund_amount,
        note as refund_note,
        coalesce(restock, false) as is_restocked,
        coalesce(processed_at, created_at) as refunded_at,
        created_at,
        updated_at,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
