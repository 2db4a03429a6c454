{#- Funnel by acquisition cohort: period = calendar month (UTC) of the customer's first touch,
    channel = acquisition channel, one row per stage. A stage's conversion is measured from a
    fixed previous stage (comparison <- research, purchase <- comparison, support <- purchase,
    loyalty <- purchase): customers who reached both / customers who reached the previous one.
    Median days between stages: over converted customers who reached this stage at or after
    the previous one (DECISIONLOG_core.md, "Journey funnel"). -#}
with

journeys as (
    select * from {{ ref('mart_customer_journey') }}
),

stage_definitions as (
    select *
    from (
        values
        ('research', 1, null),
        ('comparison', 2, 'research'),
        ('purchase', 3, 'comparison'),
        ('support', 4, 'purchase'),
        ('loyalty', 5, 'purchase')
    ) as stage_definition (stage, stage_rank, previous_stage)
),

customer_stages as (
    select
        journeys.customer_key,
        {{ utc_month('journeys.first_touch_at') }} as period_start_date,
        journeys.acquisition_channel as channel,
        reached.stage,
        reached.reached_at
    from journeys
    cross join
        lateral (
            values
            ('research', journeys.research_reached_at),
            ('comparison', journeys.comparison_reached_at),
            ('purchase', journeys.purchase_reached_at),
            ('support', journeys.support_reached_at),
            ('loyalty', journeys.loyalty_reached_at)
        ) as reached (stage, reached_at)
    where journeys.first_touch_at is not null
),

pairs as (
    select
        current_stage.period_start_date,
        current_stage.channel,
        stage_definitions.stage,
        stage_definitions.stage_rank,
        stage_definitions.previous_stage,
        current_stage.customer_key,
        current_stage.reached_at,
        previous_stage.reached_at as previous_reached_at
    from customer_stages as current_stage
    inner join stage_definitions
        on current_stage.stage = stage_definitions.stage
    left join customer_stages as previous_stage
        on
            current_stage.customer_key = previous_stage.customer_key
            and stage_definitions.previous_stage = previous_stage.stage
),

aggregated as (
    select
        period_start_date,
        channel,
        stage,
        stage_rank,
        previous_stage,
        count(*) filter (where reached_at is not null) as customers,
        count(*) filter (where previous_reached_at is not null) as previous_stage_customers,
        count(*) filter (where reached_at is not null and previous_reached_at is not null) as converted_customers,
        percentile_cont(0.5) within group (
            order by extract(epoch from reached_at - previous_reached_at) / 86400
        ) filter (where reached_at >= previous_reached_at) as median_days_from_previous_stage
    from pairs
    group by period_start_date, channel, stage, stage_rank, previous_stage
),

final as (
    select
        period_start_date,
        channel,
        stage,
        stage_rank,
        previous_stage,
        customers,
        previous_stage_customers,
        converted_customers,
        case
            when previous_stage_customers > 0
                then round(converted_customers::numeric / previous_stage_customers, 4)
        end as conversion_rate,
        round(median_days_from_previous_stage::numeric, 2) as median_days_from_previous_stage
    from aggregated
)

select * from final
