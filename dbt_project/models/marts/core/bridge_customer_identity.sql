{#- One row per identity-bearing source record: the customer it belongs to and why. -#}
with

records as (
    select * from {{ ref('int_source_records_assigned') }}
),

final as (
    select
        source,
        source_record_id,
        source_system,
        customer_key,
        match_rule,
        observed_at as record_observed_at,
        first_assigned_at,
        assignment_updated_at
    from records
)

select * from final
