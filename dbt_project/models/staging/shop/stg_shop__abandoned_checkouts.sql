with

source as (
    select * from {{ source('shop', 'abandoned_checkouts') }}
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
        id as checkout_id,
        token as checkout_token,
        customer_id,
        email as email_raw,
        {{ normalize_email_sql('email') }} as email_normalized,
        {{ email_plus_variant_sql('email') }} as email_plus_variant,
        phone as phone_raw,
        {{ normalize_phone_sql('phone') }} as phone_normalized,
        currency,
        total_price,
        line_items_count,
        completed_at,
        completed_at is not null as is_recovered,
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
