{#- One row per identity-bearing source record observed now, with the customer it resolved
    to. Records the resolver has not seen yet have no key: tests fail loudly rather than
    inventing one. Assignments of records no longer observed (erased) are dropped. -#}
with

observations as (
    select * from {{ ref('stg_identity__observations') }}
),

assignments as (
    select * from {{ source('enrich', 'identity_assignments') }}
),

records as (
    select
        source,
        source_record_id,
        min(observed_at) as observed_at
    from observations
    group by source, source_record_id
),

final as (
    select
        records.source,
        records.source_record_id,
        case
            when records.source = 'crm_contact' then 'crm'
            when records.source in ('shop_customer', 'shop_order', 'shop_checkout') then 'shop'
            when records.source in ('contact_center_call', 'contact_center_ticket') then 'contact_center'
            when records.source = 'survey_response' then 'survey'
        end as source_system,
        assignments.customer_key,
        assignments.match_rule,
        records.observed_at,
        assignments.first_assigned_at,
        assignments.updated_at as assignment_updated_at
    from records
    left join assignments
        on
            records.source = assignments.source
            and records.source_record_id = assignments.source_record_id
)

select * from final
