with

source as (
    select * from {{ source('shop', 'customers') }}
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
        id as customer_id,
        nullif(btrim(first_name), '') as first_name,
        nullif(btrim(last_name), '') as last_name,
        email as email_raw,
        {{ normalize_email_sql('email') }} as email_normalized,
        {{ email_plus_variant_sql('email') }} as email_plus_variant,
        phone as phone_raw,
        {{ normalize_phone_sql('phone') }} as phone_normalized,
        state as account_state,
        state = 'disabled' as is_guest,
        accepts_marketing,
        nullif(tags, '') as tags,
        coalesce('wholesale' = any(string_to_array(replace(tags, ' ', ''), ',')), false) as is_wholesale,
        nullif(city, '') as city,
        nullif(province, '') as region,
        nullif(zip, '') as postal_code,
        nullif(country, '') as country,
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
