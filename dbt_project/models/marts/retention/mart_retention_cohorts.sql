{#- Monthly cohorts by first purchase (UTC month of the first revenue order) x months since
    first purchase, up to the month of the as-of date. Active = at least one revenue order
    in the month; revenue = net revenue of the month's orders (refunds attributed to the
    order); net revenue retention = the month's revenue / the cohort's month-0 revenue. -#}
with

orders as (
    select * from {{ ref('int_orders_netted') }}
    where is_revenue_order and customer_key is not null
),

as_of as (
    select * from {{ ref('int_as_of_dates_derived') }}
),

customer_cohorts as (
    select
        customer_key,
        {{ utc_month('min(ordered_at)') }} as cohort_month
    from orders
    group by customer_key
),

cohort_sizes as (
    select
        cohort_month,
        count(*) as cohort_size
    from customer_cohorts
    group by cohort_month
),

cohort_months as (
    select
        cohort_sizes.cohort_month,
        cohort_sizes.cohort_size,
        months.months_since_first_purchase,
        (cohort_sizes.cohort_month + make_interval(months => months.months_since_first_purchase))::date
            as activity_month
    from cohort_sizes
    cross join as_of
    cross join lateral generate_series(
        0,
        (
            (extract(year from as_of.as_of_date - 1) - extract(year from cohort_sizes.cohort_month)) * 12
            + extract(month from as_of.as_of_date - 1) - extract(month from cohort_sizes.cohort_month)
        )::integer
    ) as months (months_since_first_purchase)
),

monthly_activity as (
    select
        customer_cohorts.cohort_month,
        {{ utc_month('orders.ordered_at') }} as activity_month,
        count(distinct orders.customer_key) as active_customers,
        count(*) as orders,
        sum(orders.net_revenue) as net_revenue
    from orders
    inner join customer_cohorts
        on orders.customer_key = customer_cohorts.customer_key
    group by customer_cohorts.cohort_month, {{ utc_month('orders.ordered_at') }}
),

joined as (
    select
        cohort_months.cohort_month,
        cohort_months.months_since_first_purchase,
        cohort_months.activity_month,
        cohort_months.cohort_size,
        coalesce(monthly_activity.active_customers, 0) as active_customers,
        coalesce(monthly_activity.orders, 0) as orders,
        coalesce(monthly_activity.net_revenue, 0) as net_revenue,
        (cohort_months.activity_month + interval '1 month')::date <= as_of.as_of_date as is_complete_month
    from cohort_months
    cross join as_of
    left join monthly_activity
        on
            cohort_months.cohort_month = monthly_activity.cohort_month
            and cohort_months.activity_month = monthly_activity.activity_month
),

final as (
    select
        cohort_month,
        months_since_first_purchase,
        activity_month,
        cohort_size,
        active_customers,
        round(active_customers::numeric / cohort_size, 4) as retention_rate,
        orders,
        net_revenue,
        sum(net_revenue) over (
            partition by cohort_month order by months_since_first_purchase
        ) as cumulative_net_revenue,
        round(
            sum(net_revenue) over (partition by cohort_month order by months_since_first_purchase) / cohort_size, 2
        ) as cumulative_net_revenue_per_customer,
        round(
            net_revenue / nullif(first_value(net_revenue) over (
                partition by cohort_month order by months_since_first_purchase
            ), 0),
            4
        ) as net_revenue_retention,
        is_complete_month
    from joined
)

select * from final
