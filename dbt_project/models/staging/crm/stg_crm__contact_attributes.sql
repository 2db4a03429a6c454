{{ config(materialized='ephemeral') }}

{#- The contact attributes whose history the snapshot crm_contacts_snapshot keeps (SCD2).
    Names and raw identifiers are left out on purpose; the normalized email and phone stay,
    because the erasure step (cxw.privacy.erase) finds a person's snapshot rows by them. -#}
with

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

final as (
    select
        contact_id,
        email_normalized,
        phone_normalized,
        company_id,
        city,
        region,
        country,
        lifecycle_stage,
        lead_status,
        analytics_source,
        owner_id,
        is_email_opted_out,
        merged_into_contact_id,
        is_archived,
        is_deleted,
        updated_at
    from contacts
)

select * from final
