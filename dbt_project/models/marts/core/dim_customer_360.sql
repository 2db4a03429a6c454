{#- One row per customer (every customer_key of the identity bridge): the golden record with
    PII only as salted hashes and masks, and the metrics of every domain. Support and VoC
    metrics come from the contact-center / VoC side's summaries and keep their definitions. -#}
with

profiles as (
    select * from {{ ref('int_customer_profiles_survived') }}
),

order_summary as (
    select * from {{ ref('int_customers_orders_summarized') }}
),

ltv as (
    select * from {{ ref('mart_customer_ltv') }}
),

rfm as (
    select * from {{ ref('int_customers_rfm_scored') }}
),

journeys as (
    select * from {{ ref('mart_customer_journey') }}
),

support as (
    select * from {{ ref('int_customers_support_summarized') }}
),

voc as (
    select * from {{ ref('int_customers_voc_summarized') }}
),

predictions as (
    select * from {{ source('enrich', 'clv_predictions') }}
),

key_merges as (
    select
        surviving_key as customer_key,
        array_agg(merged_key order by merged_at, merged_key) as merged_customer_keys
    from {{ source('enrich', 'customer_key_merges') }}
    group by surviving_key
),

final as (
    select
        profiles.customer_key,
        -- golden record (hashed / masked PII only)
        profiles.first_name_initial,
        {{ pii_hash('email', 'profiles.email_normalized') }} as email_hash,
        {{ mask_email('profiles.email_normalized') }} as email_masked,
        {{ pii_hash('phone', 'profiles.phone_normalized') }} as phone_hash,
        {{ mask_phone('profiles.phone_normalized') }} as phone_masked,
        profiles.city,
        profiles.region,
        profiles.country,
        profiles.customer_segment,
        profiles.acquisition_channel,
        profiles.crm_lifecycle_stage,
        profiles.is_email_opted_out,
        profiles.accepts_marketing,
        profiles.first_seen_at,
        profiles.last_seen_at,
        profiles.source_record_count,
        profiles.crm_contact_count,
        profiles.shop_account_count,
        key_merges.merged_customer_keys,
        -- orders
        coalesce(order_summary.order_count, 0) as order_count,
        coalesce(order_summary.gross_revenue, 0) as gross_revenue,
        coalesce(order_summary.refunded_revenue, 0) as refunded_revenue,
        coalesce(order_summary.net_revenue, 0) as lifetime_revenue,
        round(order_summary.net_revenue / nullif(order_summary.order_count, 0), 2) as average_order_value,
        order_summary.first_order_at,
        order_summary.last_order_at,
        coalesce(order_summary.order_count, 0) > 0 as is_buyer,
        ltv.days_since_last_order,
        ltv.is_churned,
        -- support
        coalesce(support.tickets_count, 0) as ticket_count,
        coalesce(support.calls_count, 0) as call_count,
        support.last_contact_at,
        support.avg_first_reply_minutes,
        support.avg_first_reply_business_minutes,
        coalesce(support.open_unresolved_tickets, 0) as open_unresolved_ticket_count,
        coalesce(support.has_sla_breach, false) as has_sla_breach,
        support.fcr_rate_pct,
        -- voice of the customer
        voc.last_nps_score,
        voc.last_nps_category,
        voc.last_nps_at,
        voc.avg_csat_score,
        voc.avg_ces_score,
        voc.avg_sentiment,
        voc.sentiment_trend,
        coalesce(voc.has_negative_sentiment, false) as has_negative_sentiment,
        -- journey
        journeys.current_stage as journey_stage,
        journeys.journey_path,
        journeys.first_touch_at,
        -- value
        predictions.p_alive,
        predictions.expected_purchases_12m,
        predictions.predicted_clv_12m,
        rfm.rfm_cell,
        rfm.value_segment
    from profiles
    left join order_summary
        on profiles.customer_key = order_summary.customer_key
    left join ltv
        on profiles.customer_key = ltv.customer_key
    left join rfm
        on profiles.customer_key = rfm.customer_key
    left join journeys
        on profiles.customer_key = journeys.customer_key
    left join support
        on profiles.customer_key = support.customer_key
    left join voc
        on profiles.customer_key = voc.customer_key
    left join predictions
        on profiles.customer_key = predictions.customer_key
    left join key_merges
        on profiles.customer_key = key_merges.customer_key
)

select * from final
