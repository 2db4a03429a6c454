{{ config(materialized='ephemeral') }}

{#- The shop customer attributes whose history the snapshot shop_customers_snapshot keeps
    (SCD2); no names or raw identifiers (see stg_crm__contact_attributes). -#}
with

customers as (
    select * from {{ ref('stg_shop__customers') }}
),

final as (
    select
        customer_id,
        email_normalized,
        phone_normalized,
        account_state,
        accepts_marketing,
        tags,
        is_wholesale,
        city,
        region,
        country,
        is_deleted,
        updated_at
    from customers
)

select * from final
