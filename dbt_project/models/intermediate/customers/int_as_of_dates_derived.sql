{#- The as-of date of the build (one row): the day after the latest change seen in the CRM or
    the shop, i.e. the sources' "now" (SCHEMAS.md s.0), not the wall clock: a backfill or a
    replay of old data measures recency, churn and cohorts against the data's own end.
    var('as_of_date') overrides it. -#}
with

orders as (
    select max(updated_at) as latest_at from {{ ref('stg_shop__orders') }}
),

customers as (
    select max(updated_at) as latest_at from {{ ref('stg_shop__customers') }}
),

contacts as (
    select max(updated_at) as latest_at from {{ ref('stg_crm__contacts') }}
),

engagements as (
    select max(updated_at) as latest_at from {{ ref('stg_crm__engagements') }}
),

latest as (
    select greatest(orders.latest_at, customers.latest_at, contacts.latest_at, engagements.latest_at) as latest_at
    from orders
    cross join customers
    cross join contacts
    cross join engagements
),

final as (
    select
        {%- if var('as_of_date', none) %}
            '{{ var("as_of_date") }}'::date as as_of_date,
        {%- else %}
            {{ utc_date('latest_at') }} + 1 as as_of_date,
        {%- endif %}
        latest_at as latest_source_change_at
    from latest
)

select * from final
