{{
    config(
        materialized='incremental',
        unique_key='transaction_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

source as (
    select * from {{ source('shop', 'transactions') }}
    {{ core_changed_keys_filter('id', source('shop', 'transactions')) }}
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
        id as transaction_id,
        order_id,
        parent_id as parent_transaction_id,
        kind as transaction_kind,
        status as transaction_status,
        gateway,
        amount,
        currency,
        error_code,
        processed_at,
        created_at,
        updated_at,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
