{#- One row per customer: first touch and acquisition channel, time to first purchase, the
    stages reached and when, the current stage and the path (DECISIONLOG_core.md, "Journey"). -#}
with

touchpoints as (
    select * from {{ ref('fct_touchpoints') }}
),

profiles as (
    select * from {{ ref('int_customer_profiles_survived') }}
),

first_touches as (
    select distinct on (customer_key)
        customer_key,
        occurred_at as first_touch_at,
        event_type as first_touch_event_type,
        source as first_touch_source,
        channel as first_touch_channel
    from touchpoints
    order by customer_key, occurred_at, journey_stage_rank, touchpoint_id
),

stage_firsts as (
    select
        customer_key,
        journey_stage,
        min(occurred_at) as reached_at
    from touchpoints
    group by customer_key, journey_stage
),

stages as (
    select
        customer_key,
        min(reached_at) filter (where journey_stage = 'research') as research_reached_at,
        min(reached_at) filter (where journey_stage = 'comparison') as comparison_reached_at,
        min(reached_at) filter (where journey_stage = 'purchase') as purchase_reached_at,
        min(reached_at) filter (where journey_stage = 'support') as support_reached_at,
        min(reached_at) filter (where journey_stage = 'loyalty') as loyalty_reached_at,
        count(*) as stages_reached_count,
        string_agg(journey_stage, ' > ' order by reached_at, {{ journey_stage_rank('journey_stage') }})
            as journey_path
    from stage_firsts
    group by customer_key
),

activity as (
    select
        customer_key,
        count(*) as touchpoint_count,
        count(*) filter (where is_customer_initiated) as customer_initiated_touchpoint_count,
        max(occurred_at) as last_touch_at
    from touchpoints
    group by customer_key
),

-- current stage: the stage of the latest customer-initiated touchpoint; once a customer has
-- purchased, research and comparison events no longer count (a marketing email does not
-- send a buyer back to research). Without any such touchpoint, the latest touchpoint's stage.
current_stages as (
    select distinct on (touchpoints.customer_key)
        touchpoints.customer_key,
        touchpoints.journey_stage as current_stage,
        touchpoints.occurred_at as current_stage_since_touch_at
    from touchpoints
    inner join stages
        on touchpoints.customer_key = stages.customer_key
    order by
        touchpoints.customer_key asc,
        (
            touchpoints.is_customer_initiated
            and (stages.purchase_reached_at is null or touchpoints.journey_stage_rank >= 3)
        ) desc,
        touchpoints.occurred_at desc,
        touchpoints.journey_stage_rank desc,
        touchpoints.touchpoint_id asc
),

final as (
    select
        profiles.customer_key,
        profiles.acquisition_channel,
        first_touches.first_touch_at,
        first_touches.first_touch_event_type,
        first_touches.first_touch_source,
        first_touches.first_touch_channel,
        stages.purchase_reached_at as first_purchase_at,
        round(
            (extract(epoch from stages.purchase_reached_at - first_touches.first_touch_at) / 86400)::numeric, 2
        ) as days_to_first_purchase,
        stages.research_reached_at,
        stages.comparison_reached_at,
        stages.purchase_reached_at,
        stages.support_reached_at,
        stages.loyalty_reached_at,
        stages.research_reached_at is not null as has_reached_research,
        stages.comparison_reached_at is not null as has_reached_comparison,
        stages.purchase_reached_at is not null as has_reached_purchase,
        stages.support_reached_at is not null as has_reached_support,
        stages.loyalty_reached_at is not null as has_reached_loyalty,
        coalesce(stages.stages_reached_count, 0) as stages_reached_count,
        current_stages.current_stage,
        stages.journey_path,
        coalesce(activity.touchpoint_count, 0) as touchpoint_count,
        coalesce(activity.customer_initiated_touchpoint_count, 0) as customer_initiated_touchpoint_count,
        activity.last_touch_at
    from profiles
    left join first_touches
        on profiles.customer_key = first_touches.customer_key
    left join stages
        on profiles.customer_key = stages.customer_key
    left join current_stages
        on profiles.customer_key = current_stages.customer_key
    left join activity
        on profiles.customer_key = activity.customer_key
)

select * from final
