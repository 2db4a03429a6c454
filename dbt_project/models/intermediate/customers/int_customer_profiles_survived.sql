{#- The golden record: one row per customer_key with each attribute taken by survivorship
    (DECISIONLOG_core.md, "Golden record"): among the customer's records that carry a usable
    value, the most trusted source wins (CRM 1 > shop 2 > support 3 > survey 4), and within
    a source the most recently updated record. Shared mailboxes and placeholder phones never
    survive. Raw PII stays here (schema intermediate); the marts get hashes and masks. -#}
with

records as (
    select * from {{ ref('int_source_records_assigned') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

checkouts as (
    select * from {{ ref('stg_shop__abandoned_checkouts') }}
),

tickets as (
    select * from {{ ref('stg_contact_center__tickets') }}
),

calls as (
    select * from {{ ref('stg_contact_center__calls') }}
),

survey_responses as (
    select * from {{ ref('stg_survey__responses') }}
),

channel_map as (
    select * from {{ ref('acquisition_channel_map') }}
),

-- one row per (record, attribute, value) with the record's priority and recency
candidates as (
    select
        'crm_contact' as source,
        contacts.contact_id as source_record_id,
        1 as source_priority,
        contacts.updated_at as observed_at,
        attribute.name as attribute,
        attribute.value
    from contacts
    cross join
        lateral (
            values
            ('first_name_initial', upper(left(contacts.first_name, 1))),
            ('email', contacts.email_normalized),
            ('phone', contacts.phone_normalized),
            ('city', contacts.city),
            ('region', contacts.region),
            ('country', contacts.country),
            ('company_id', contacts.company_id),
            ('lifecycle_stage', contacts.lifecycle_stage),
            ('is_email_opted_out', contacts.is_email_opted_out::text)
        ) as attribute (name, value)

    union all

    select
        'shop_customer' as source,
        shop_customers.customer_id::text as source_record_id,
        2 as source_priority,
        shop_customers.updated_at as observed_at,
        attribute.name as attribute,
        attribute.value
    from shop_customers
    cross join
        lateral (
            values
            ('first_name_initial', upper(left(shop_customers.first_name, 1))),
            ('email', shop_customers.email_normalized),
            ('phone', shop_customers.phone_normalized),
            ('city', shop_customers.city),
            ('region', shop_customers.region),
            ('country', shop_customers.country),
            ('accepts_marketing', shop_customers.accepts_marketing::text),
            ('is_wholesale', shop_customers.is_wholesale::text)
        ) as attribute (name, value)

    union all

    select
        'shop_order' as source,
        shop_orders.order_id::text as source_record_id,
        2 as source_priority,
        shop_orders.updated_at as observed_at,
        attribute.name as attribute,
        attribute.value
    from shop_orders
    cross join
        lateral (
            values
            ('email', shop_orders.email_normalized),
            ('phone', shop_orders.phone_normalized),
            ('city', shop_orders.shipping_city),
            ('region', shop_orders.shipping_region),
            ('country', shop_orders.shipping_country)
        ) as attribute (name, value)

    union all

    select
        'shop_checkout' as source,
        checkouts.checkout_id::text as source_record_id,
        2 as source_priority,
        checkouts.updated_at as observed_at,
        attribute.name as attribute,
        attribute.value
    from checkouts
    cross join
        lateral (
            values
            ('email', checkouts.email_normalized),
            ('phone', checkouts.phone_normalized)
        ) as attribute (name, value)

    union all

    select
        'contact_center_ticket' as source,
        tickets.ticket_id::text as source_record_id,
        3 as source_priority,
        tickets.updated_at as observed_at,
        attribute.name as attribute,
        attribute.value
    from tickets
    cross join
        lateral (
            values
            ('email', {{ normalize_email_sql('tickets.requester_email_raw') }}),
            ('phone', {{ normalize_phone_sql('tickets.requester_phone_raw') }})
        ) as attribute (name, value)

    union all

    select
        'contact_center_call' as source,
        calls.call_id::text as source_record_id,
        3 as source_priority,
        calls.offered_at as observed_at,
        'phone' as attribute,
        {{ normalize_phone_sql('calls.caller_phone_raw') }} as value
    from calls

    union all

    select
        'survey_response' as source,
        survey_responses.response_id as source_record_id,
        4 as source_priority,
        survey_responses.recorded_at as observed_at,
        'email' as attribute,
        coalesce(
            {{ normalize_email_sql('survey_responses.email_raw') }},
            {{ normalize_email_sql('survey_responses.recipient_email_raw') }}
        ) as value
    from survey_responses
),

usable as (
    select
        records.customer_key,
        candidates.attribute,
        candidates.value,
        candidates.source_priority,
        candidates.observed_at
    from candidates
    inner join records
        on
            candidates.source = records.source
            and candidates.source_record_id = records.source_record_id
    where
        records.customer_key is not null
        and nullif(btrim(candidates.value), '') is not null
        and not (candidates.attribute = 'email' and {{ is_shared_email('candidates.value') }})
        and not (candidates.attribute = 'phone' and {{ is_placeholder_phone('candidates.value') }})
),

survivors as (
    select distinct on (customer_key, attribute)
        customer_key,
        attribute,
        value
    from usable
    order by customer_key asc, attribute asc, source_priority asc, observed_at desc nulls last, value asc
),

golden as (
    select
        customer_key,
        max(value) filter (where attribute = 'first_name_initial') as first_name_initial,
        max(value) filter (where attribute = 'email') as email_normalized,
        max(value) filter (where attribute = 'phone') as phone_normalized,
        max(value) filter (where attribute = 'city') as city,
        max(value) filter (where attribute = 'region') as region,
        max(value) filter (where attribute = 'country') as country_raw,
        max(value) filter (where attribute = 'company_id') as crm_company_id,
        max(value) filter (where attribute = 'lifecycle_stage') as crm_lifecycle_stage,
        max(value) filter (where attribute = 'is_email_opted_out')::boolean as is_email_opted_out,
        max(value) filter (where attribute = 'accepts_marketing')::boolean as accepts_marketing,
        max(value) filter (where attribute = 'is_wholesale')::boolean as is_wholesale
    from survivors
    group by customer_key
),

record_counts as (
    select
        customer_key,
        count(*) as source_record_count,
        count(*) filter (where source = 'crm_contact') as crm_contact_count,
        count(*) filter (where source = 'shop_customer') as shop_account_count,
        min(observed_at) as first_seen_at,
        max(observed_at) as last_seen_at
    from records
    where customer_key is not null
    group by customer_key
),

-- acquisition channel: the CRM source of the customer's earliest contact, else the utm_medium
-- of the first order ('/' without utm = direct); DECISIONLOG_core.md, "Acquisition channel"
first_contacts as (
    select distinct on (records.customer_key)
        records.customer_key,
        contacts.analytics_source
    from contacts
    inner join records
        on records.source = 'crm_contact' and contacts.contact_id = records.source_record_id
    order by records.customer_key, contacts.created_at, contacts.contact_id
),

first_orders as (
    select distinct on (records.customer_key)
        records.customer_key,
        coalesce(shop_orders.utm_medium, case when shop_orders.landing_site = '/' then 'direct' end)
            as utm_medium
    from shop_orders
    inner join records
        on records.source = 'shop_order' and shop_orders.order_id::text = records.source_record_id
    order by records.customer_key, shop_orders.created_at, shop_orders.order_id
),

crm_channels as (
    select
        first_contacts.customer_key,
        channel_map.acquisition_channel
    from first_contacts
    inner join channel_map
        on channel_map.source_system = 'crm' and first_contacts.analytics_source = channel_map.source_value
),

shop_channels as (
    select
        first_orders.customer_key,
        channel_map.acquisition_channel
    from first_orders
    inner join channel_map
        on channel_map.source_system = 'shop' and first_orders.utm_medium = channel_map.source_value
),

-- account size: how many distinct customers the CRM holds for the company (a buying committee
-- of 3+ people marks an enterprise account); DECISIONLOG_core.md, "Customer segment"
company_sizes as (
    select
        contacts.company_id,
        count(distinct records.customer_key) as company_customer_count
    from contacts
    inner join records
        on records.source = 'crm_contact' and contacts.contact_id = records.source_record_id
    where contacts.company_id is not null
    group by contacts.company_id
),

final as (
    select
        record_counts.customer_key,
        golden.first_name_initial,
        golden.email_normalized,
        golden.phone_normalized,
        golden.city,
        golden.region,
        case
            when upper(golden.country_raw) in ('US', 'USA', 'UNITED STATES', 'UNITED STATES OF AMERICA') then 'US'
            when upper(golden.country_raw) in ('CA', 'CANADA') then 'CA'
            else golden.country_raw
        end as country,
        golden.crm_company_id,
        golden.crm_lifecycle_stage,
        golden.is_email_opted_out,
        golden.accepts_marketing,
        case
            when company_sizes.company_customer_count >= {{ var('enterprise_min_customers', 3) }} then 'enterprise'
            when golden.crm_company_id is not null or golden.is_wholesale then 'small_business'
            else 'consumer'
        end as customer_segment,
        coalesce(crm_channels.acquisition_channel, shop_channels.acquisition_channel, 'unknown')
            as acquisition_channel,
        record_counts.source_record_count,
        record_counts.crm_contact_count,
        record_counts.shop_account_count,
        record_counts.first_seen_at,
        record_counts.last_seen_at
    from record_counts
    left join golden
        on record_counts.customer_key = golden.customer_key
    left join company_sizes
        on golden.crm_company_id = company_sizes.company_id
    left join crm_channels
        on record_counts.customer_key = crm_channels.customer_key
    left join shop_channels
        on record_counts.customer_key = shop_channels.customer_key
)

select * from final
