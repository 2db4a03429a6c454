{#- One row per (identity-bearing source record, identifier) with the RAW value: the input of
    cxw.enrich.identity.resolve_identities (CONTRACT.md), which normalizes, guards shared
    values and links records. `source` values are those of truth/identity_links.csv; `kind`
    values are the resolver's registered kinds (cxw.enrich.identity.DEFAULT_KINDS):
    email, phone, crm_contact_id, crm_merged_into, crm_merged_object_id, shop_customer_id,
    shop_order_id, ticket_id, call_id. Every record has at least one row (its own id, or a
    possibly empty email for checkouts and survey responses: the record's presence row), so
    records without any identifier still get a customer key of their own. Deleted, archived
    and merged-away records are included: they exist in their source and their events still
    belong to someone.
    A table, not a view like the rest of staging: its readers (five data tests, the resolver,
    int_source_records_assigned) each read all of it, and as a view each re-ran it (12.6M
    rows, about 60 s each at a million customers; DECISIONLOG.md, "Staging"). -#}
{{ config(materialized='table') }}

with

crm_contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

shop_customers as (
    select * from {{ ref('stg_shop__customers') }}
),

shop_orders as (
    select * from {{ ref('stg_shop__orders') }}
),

shop_checkouts as (
    select * from {{ ref('stg_shop__abandoned_checkouts') }}
),

calls as (
    select * from {{ ref('stg_contact_center__calls') }}
),

tickets as (
    select * from {{ ref('stg_contact_center__tickets') }}
),

survey_responses as (
    select * from {{ ref('stg_survey__responses') }}
),

crm_contact_rows as (
    select
        'crm_contact' as source,
        crm_contacts.contact_id as source_record_id,
        identifier.kind,
        identifier.value,
        crm_contacts.created_at as observed_at,
        identifier.is_presence_row
    from crm_contacts
    cross join
        lateral (
            values
            ('crm_contact_id', crm_contacts.contact_id, true),
            ('email', crm_contacts.email_raw, false),
            ('phone', crm_contacts.phone_raw, false),
            -- a merged-away contact points at its survivor
            ('crm_merged_into', crm_contacts.merged_into_contact_id, false)
        ) as identifier (kind, value, is_presence_row)
),

crm_merge_rows as (
    -- a survivor points at each contact merged into it (hs_merged_object_ids)
    select
        'crm_contact' as source,
        crm_contacts.contact_id as source_record_id,
        'crm_merged_object_id' as kind,
        btrim(merged.contact_id) as value,
        crm_contacts.created_at as observed_at,
        false as is_presence_row
    from crm_contacts
    cross join lateral unnest(crm_contacts.merged_contact_ids) as merged (contact_id)
),

shop_customer_rows as (
    select
        'shop_customer' as source,
        shop_customers.customer_id::text as source_record_id,
        identifier.kind,
        identifier.value,
        shop_customers.created_at as observed_at,
        identifier.is_presence_row
    from shop_customers
    cross join
        lateral (
            values
            ('shop_customer_id', shop_customers.customer_id::text, true),
            ('email', shop_customers.email_raw, false),
            ('phone', shop_customers.phone_raw, false)
        ) as identifier (kind, value, is_presence_row)
),

shop_order_rows as (
    select
        'shop_order' as source,
        shop_orders.order_id::text as source_record_id,
        identifier.kind,
        identifier.value,
        shop_orders.created_at as observed_at,
        identifier.is_presence_row
    from shop_orders
    cross join
        lateral (
            values
            ('shop_order_id', shop_orders.order_id::text, true),
            ('shop_customer_id', shop_orders.customer_id::text, false),
            ('email', shop_orders.email_raw, false),
            ('phone', shop_orders.phone_raw, false)
        ) as identifier (kind, value, is_presence_row)
),

shop_checkout_rows as (
    select
        'shop_checkout' as source,
        shop_checkouts.checkout_id::text as source_record_id,
        identifier.kind,
        identifier.value,
        shop_checkouts.created_at as observed_at,
        identifier.is_presence_row
    from shop_checkouts
    cross join
        lateral (
            values
            ('email', shop_checkouts.email_raw, true),
            ('shop_customer_id', shop_checkouts.customer_id::text, false),
            ('phone', shop_checkouts.phone_raw, false)
        ) as identifier (kind, value, is_presence_row)
),

call_rows as (
    select
        'contact_center_call' as source,
        calls.call_id::text as source_record_id,
        identifier.kind,
        identifier.value,
        calls.offered_at as observed_at,
        identifier.is_presence_row
    from calls
    cross join
        lateral (
            values
            ('call_id', calls.call_id::text, true),
            ('phone', calls.caller_phone_raw, false),
            ('ticket_id', calls.ticket_id::text, false)
        ) as identifier (kind, value, is_presence_row)
),

ticket_rows as (
    select
        'contact_center_ticket' as source,
        tickets.ticket_id::text as source_record_id,
        identifier.kind,
        identifier.value,
        tickets.created_at as observed_at,
        identifier.is_presence_row
    from tickets
    cross join
        lateral (
            values
            ('ticket_id', tickets.ticket_id::text, true),
            ('email', tickets.requester_email_raw, false),
            ('phone', tickets.requester_phone_raw, false),
            ('call_id', tickets.call_id::text, false),
            -- the order the ticket is about (custom field): a system reference to the buyer
            ('shop_order_id', tickets.order_id::text, false)
        ) as identifier (kind, value, is_presence_row)
),

survey_rows as (
    select
        'survey_response' as source,
        survey_responses.response_id as source_record_id,
        identifier.kind,
        identifier.value,
        survey_responses.recorded_at as observed_at,
        identifier.is_presence_row
    from survey_responses
    cross join
        lateral (
            values
            ('email', survey_responses.recipient_email_raw, true),
            ('email', survey_responses.email_raw, false),
            ('shop_order_id', survey_responses.order_id::text, false),
            ('ticket_id', survey_responses.ticket_id::text, false)
        ) as identifier (kind, value, is_presence_row)
),

unioned as (
    select * from crm_contact_rows
    union all
    select * from crm_merge_rows
    union all
    select * from shop_customer_rows
    union all
    select * from shop_order_rows
    union all
    select * from shop_checkout_rows
    union all
    select * from call_rows
    union all
    select * from ticket_rows
    union all
    select * from survey_rows
),

final as (
    select
        source,
        source_record_id,
        kind,
        value,
        observed_at
    from unioned
    where is_presence_row or nullif(btrim(value), '') is not null
)

select * from final
