with

source as (
    select * from {{ source('crm', 'contacts') }}
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
        id as contact_id,
        nullif(btrim(properties ->> 'firstname'), '') as first_name,
        nullif(btrim(properties ->> 'lastname'), '') as last_name,
        properties ->> 'email' as email_raw,
        {{ normalize_email_sql("properties ->> 'email'") }} as email_normalized,
        {{ email_plus_variant_sql("properties ->> 'email'") }} as email_plus_variant,
        properties ->> 'phone' as phone_raw,
        {{ normalize_phone_sql("properties ->> 'phone'") }} as phone_normalized,
        nullif(properties ->> 'company', '') as company_name,
        nullif(properties ->> 'associatedcompanyid', '') as company_id,
        nullif(properties ->> 'city', '') as city,
        nullif(properties ->> 'state', '') as region,
        nullif(properties ->> 'zip', '') as postal_code,
        nullif(properties ->> 'country', '') as country,
        lower(properties ->> 'lifecyclestage') as lifecycle_stage,
        properties ->> 'hs_lead_status' as lead_status,
        properties ->> 'hs_analytics_source' as analytics_source,
        properties ->> 'hubspot_owner_id' as owner_id,
        coalesce((properties ->> 'hs_email_optout') = 'true', false) as is_email_opted_out,
        nullif(properties ->> 'hs_merged_into_object_id', '') as merged_into_contact_id,
        string_to_array(nullif(properties ->> 'hs_merged_object_ids', ''), ';') as merged_contact_ids,
        {{ core_try_cast("properties ->> 'hs_lifecyclestage_lead_date'", 'timestamptz') }} as became_lead_at,
        {{ core_try_cast("properties ->> 'hs_lifecyclestage_marketingqualifiedlead_date'", 'timestamptz') }}
            as became_mql_at,
        {{ core_try_cast("properties ->> 'hs_lifecyclestage_salesqualifiedlead_date'", 'timestamptz') }}
            as became_sql_at,
        {{ core_try_cast("properties ->> 'hs_lifecyclestage_opportunity_date'", 'timestamptz') }}
            as became_opportunity_at,
        {{ core_try_cast("properties ->> 'hs_lifecyclestage_customer_date'", 'timestamptz') }} as became_customer_at,
        coalesce(createdate, created_at) as created_at,
        updated_at,
        coalesce(archived, false) as is_archived,
        archived_at,
        -- CRM has no soft-delete column: an archived contact is deleted from the CRM's point of view
        coalesce(archived, false) as is_deleted,
        nullif(properties ->> 'hs_merged_into_object_id', '') is not null as is_merged_away,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
