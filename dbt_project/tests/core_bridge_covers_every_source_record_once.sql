-- Every identity-bearing source record in raw appears in bridge_customer_identity exactly
-- once, with a customer key, and the bridge holds nothing else. Returns offending records.
with

raw_records as (
    select distinct
        'crm_contact' as source,
        id as source_record_id
    from {{ source('crm', 'contacts') }}
    union
    select distinct
        'shop_customer' as source,
        id::text as source_record_id
    from {{ source('shop', 'customers') }}
    union
    select distinct
        'shop_order' as source,
        id::text as source_record_id
    from {{ source('shop', 'orders') }}
    union
    select distinct
        'shop_checkout' as source,
        id::text as source_record_id
    from {{ source('shop', 'abandoned_checkouts') }}
    union
    select distinct
        'contact_center_call' as source,
        call_id::text as source_record_id
    from {{ source('contact_center', 'calls') }}
    where call_id is not null
    union
    select distinct
        'contact_center_ticket' as source,
        id::text as source_record_id
    from {{ source('contact_center', 'tickets') }}
    where id is not null
    union
    select distinct
        'survey_response' as source,
        response_id as source_record_id
    from {{ source('survey', 'responses') }}
    where response_id is not null
),

bridge as (
    select
        source,
        source_record_id,
        count(*) as bridge_rows,
        count(customer_key) as keyed_rows
    from {{ ref('bridge_customer_identity') }}
    group by source, source_record_id
),

final as (
    select
        coalesce(raw_records.source, bridge.source) as source,
        coalesce(raw_records.source_record_id, bridge.source_record_id) as source_record_id,
        raw_records.source is not null as is_in_raw,
        coalesce(bridge.bridge_rows, 0) as bridge_rows,
        coalesce(bridge.keyed_rows, 0) as keyed_rows
    from raw_records
    full outer join bridge
        on
            raw_records.source = bridge.source
            and raw_records.source_record_id = bridge.source_record_id
)

select *
from final
where not is_in_raw or bridge_rows <> 1 or keyed_rows <> 1
