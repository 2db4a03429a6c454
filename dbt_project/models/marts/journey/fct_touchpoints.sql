{{
    config(
        materialized='incremental',
        unique_key='touchpoint_id',
        incremental_strategy='delete+insert',
        on_schema_change='append_new_columns',
    )
}}

{#- Incremental with a lookback: a run rebuilds every touchpoint of each customer who has an
    event loaded, or a record whose customer assignment changed, since the last run minus
    var('lookback_days'). Rebuilding whole customers keeps customer-level fields (first vs
    repeat order) and re-keyed events right, so a full refresh gives the same rows. -#}
with

touchpoints as (
    select * from {{ ref('int_touchpoints_unioned') }}
),

{% if is_incremental() %}
    cutoffs as (
        select
            coalesce(max(_cxw_loaded_at), '-infinity'::timestamptz)
            - interval '{{ var("lookback_days") }} days' as loaded_after,
            coalesce(max(assignment_updated_at), '-infinity'::timestamptz)
            - interval '{{ var("lookback_days") }} days' as assigned_after
        from {{ this }}
    ),

    changed_customers as (
        select distinct touchpoints.customer_key
        from touchpoints
        cross join cutoffs
        where
            touchpoints._cxw_loaded_at > cutoffs.loaded_after
            or touchpoints.assignment_updated_at > cutoffs.assigned_after
    ),

{% endif %}
final as (
    select
        touchpoint_id,
        customer_key,
        occurred_at,
        {{ utc_date('occurred_at') }} as occurred_date,
        source,
        event_type,
        event_detail,
        journey_stage,
        journey_stage_rank,
        channel,
        is_customer_initiated,
        amount,
        source_record_type,
        source_record_id,
        _cxw_loaded_at,
        assignment_updated_at
    from touchpoints
    {%- if is_incremental() %}
        where customer_key in (select changed_customers.customer_key from changed_customers)
    {%- endif %}
)

select * from final
