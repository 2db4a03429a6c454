{{
    config(
        materialized='incremental',
        unique_key='engagement_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

with

source as (
    select * from {{ source('crm', 'engagements') }}
    {{ core_changed_keys_filter('id', source('crm', 'engagements')) }}
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
        id as engagement_id,
        coalesce(hs_engagement_type, properties ->> 'hs_engagement_type') as engagement_type,
        hs_timestamp as occurred_at,
        (string_to_array(contact_ids, ';'))[1] as contact_id,
        string_to_array(contact_ids, ';') as contact_ids,
        associations -> 'deals' -> 'results' -> 0 ->> 'id' as deal_id,
        properties ->> 'hubspot_owner_id' as owner_id,
        properties ->> 'hs_email_direction' as email_direction,
        properties ->> 'hs_email_subject' as email_subject,
        properties ->> 'hs_email_status' as email_status,
        {{ core_try_cast("properties ->> 'hs_email_open_count'", 'integer') }} as email_open_count,
        {{ core_try_cast("properties ->> 'hs_email_click_count'", 'integer') }} as email_click_count,
        {{ core_try_cast("properties ->> 'hs_email_first_open_date'", 'timestamptz') }} as email_first_opened_at,
        {{ core_try_cast("properties ->> 'hs_email_first_click_date'", 'timestamptz') }} as email_first_clicked_at,
        properties ->> 'hs_call_direction' as call_direction,
        properties ->> 'hs_call_disposition' as call_disposition,
        {{ core_try_cast("properties ->> 'hs_call_duration'", 'bigint') }} / 1000.0 as call_duration_seconds,
        properties ->> 'hs_meeting_outcome' as meeting_outcome,
        {{ core_try_cast("properties ->> 'hs_meeting_start_time'", 'timestamptz') }} as meeting_start_at,
        {{ core_try_cast("properties ->> 'hs_meeting_end_time'", 'timestamptz') }} as meeting_end_at,
        created_at,
        updated_at,
        coalesce(archived, false) as is_deleted,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
