{{ config(materialized='view') }}

{#- Every customer event of every source as one stream (the body of fct_touchpoints), with
    the identity record that ties it to a customer, the event's journey stage (journey_stage
    macro) and its load time (the incremental cursor). An event linked to several CRM contacts
    counts once, for its first associated contact. Deleted or archived events, cancelled and
    deleted orders are not touchpoints. -#}
with

records as (
    select * from {{ ref('int_source_records_assigned') }}
),

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

engagements as (
    select * from {{ ref('stg_crm__engagements') }}
),

deals as (
    select * from {{ ref('stg_crm__deals') }}
),

deal_stages as (
    select * from {{ ref('stg_crm__deal_stage_history') }}
),

checkouts as (
    select * from {{ ref('stg_shop__abandoned_checkouts') }}
),

orders as (
    select * from {{ ref('int_orders_netted') }}
),

refunds as (
    select * from {{ ref('stg_shop__refunds') }}
),

tickets as (
    select * from {{ ref('stg_contact_center__tickets') }}
),

calls as (
    select * from {{ ref('stg_contact_center__calls') }}
),

survey_responses as (
    select * from {{ ref('stg_survey__responses') }}
),

crm_events as (
    -- marketing emails: the send, then the first open and first click
    select
        'crm_engagement:' || engagement_id || ':sent' as touchpoint_id,
        'crm' as source,
        'marketing_email_sent' as event_type,
        engagement_type as event_detail,
        occurred_at,
        'email' as channel,
        false as is_customer_initiated,
        null::numeric as amount,
        'crm_engagement' as source_record_type,
        engagement_id as source_record_id,
        'crm_contact' as identity_source,
        contact_id as identity_record_id,
        _cxw_loaded_at
    from engagements
    where engagement_type = 'EMAIL' and email_status = 'SENT' and not is_deleted
    union all
    select
        'crm_engagement:' || engagement_id || ':opened' as touchpoint_id,
        'crm' as source,
        'marketing_email_opened' as event_type,
        engagement_type as event_detail,
        email_first_opened_at as occurred_at,
        'email' as channel,
        true as is_customer_initiated,
        null as amount,
        'crm_engagement' as source_record_type,
        engagement_id as source_record_id,
        'crm_contact' as identity_source,
        contact_id as identity_record_id,
        _cxw_loaded_at
    from engagements
    where engagement_type = 'EMAIL' and email_first_opened_at is not null and not is_deleted
    union all
    select
        'crm_engagement:' || engagement_id || ':clicked' as touchpoint_id,
        'crm' as source,
        'marketing_email_clicked' as event_type,
        engagement_type as event_detail,
        email_first_clicked_at as occurred_at,
        'email' as channel,
        true as is_customer_initiated,
        null as amount,
        'crm_engagement' as source_record_type,
        engagement_id as source_record_id,
        'crm_contact' as identity_source,
        contact_id as identity_record_id,
        _cxw_loaded_at
    from engagements
    where engagement_type = 'EMAIL' and email_first_clicked_at is not null and not is_deleted
    union all
    -- sales calls and meetings
    select
        'crm_engagement:' || engagement_id as touchpoint_id,
        'crm' as source,
        case engagement_type when 'CALL' then 'sales_call' else 'sales_meeting' end as event_type,
        coalesce(call_disposition, meeting_outcome) as event_detail,
        occurred_at,
        case engagement_type when 'CALL' then 'phone' else 'meeting' end as channel,
        engagement_type = 'MEETING' as is_customer_initiated,
        null as amount,
        'crm_engagement' as source_record_type,
        engagement_id as source_record_id,
        'crm_contact' as identity_source,
        contact_id as identity_record_id,
        _cxw_loaded_at
    from engagements
    where engagement_type in ('CALL', 'MEETING') and not is_deleted
    union all
    -- lifecycle milestones of each contact (merged-away contacts included: they are the
    -- same person's history; archived contacts that were not merged are deleted)
    select
        'crm_contact:' || contacts.contact_id || ':' || milestone.stage as touchpoint_id,
        'crm' as source,
        milestone.event_type,
        milestone.stage as event_detail,
        milestone.reached_at as occurred_at,
        'crm' as channel,
        milestone.event_type = 'lead_created' as is_customer_initiated,
        null as amount,
        'crm_contact' as source_record_type,
        contacts.contact_id as source_record_id,
        'crm_contact' as identity_source,
        contacts.contact_id as identity_record_id,
        contacts._cxw_loaded_at
    from contacts
    cross join
        lateral (
            values
            ('lead', 'lead_created', coalesce(contacts.became_lead_at, contacts.created_at)),
            ('marketingqualifiedlead', 'lead_qualified', contacts.became_mql_at),
            ('salesqualifiedlead', 'lead_qualified', contacts.became_sql_at),
            ('opportunity', 'opportunity_created', contacts.became_opportunity_at),
            ('customer', 'became_customer', contacts.became_customer_at)
        ) as milestone (stage, event_type, reached_at)
    where milestone.reached_at is not null and (not contacts.is_deleted or contacts.is_merged_away)
    union all
    -- every deal stage entered
    select
        'crm_deal_stage:' || deal_stages.deal_stage_change_id as touchpoint_id,
        'crm' as source,
        case deal_stages.deal_stage
            when 'closedwon' then 'deal_won'
            when 'closedlost' then 'deal_lost'
            else 'deal_stage_entered'
        end as event_type,
        deal_stages.deal_stage as event_detail,
        deal_stages.entered_at as occurred_at,
        'sales' as channel,
        deal_stages.deal_stage = 'closedwon' as is_customer_initiated,
        case when deal_stages.deal_stage = 'closedwon' then deals.amount end as amount,
        'crm_deal' as source_record_type,
        deals.deal_id as source_record_id,
        'crm_contact' as identity_source,
        deals.contact_id as identity_record_id,
        greatest(deals._cxw_loaded_at, deal_stages._cxw_loaded_at) as _cxw_loaded_at
    from deal_stages
    inner join deals
        on deal_stages.deal_id = deals.deal_id
    where not deals.is_deleted and deal_stages.entered_at is not null
),

shop_events as (
    select
        'shop_checkout:' || checkout_id as touchpoint_id,
        'shop' as source,
        'checkout_abandoned' as event_type,
        case when is_recovered then 'recovered' else 'abandoned' end as event_detail,
        created_at as occurred_at,
        'web' as channel,
        true as is_customer_initiated,
        total_price as amount,
        'shop_checkout' as source_record_type,
        checkout_id::text as source_record_id,
        'shop_checkout' as identity_source,
        checkout_id::text as identity_record_id,
        _cxw_loaded_at
    from checkouts
    where not is_deleted
    union all
    select
        'shop_order:' || order_id as touchpoint_id,
        'shop' as source,
        case when customer_order_number = 1 then 'first_order' else 'repeat_order' end as event_type,
        financial_status as event_detail,
        ordered_at as occurred_at,
        case source_name
            when 'web' then 'web'
            when 'shopify_mobile' then 'mobile_app'
            when 'shopify_draft_order' then 'sales'
            else coalesce(source_name, 'web')
        end as channel,
        true as is_customer_initiated,
        net_revenue as amount,
        'shop_order' as source_record_type,
        order_id::text as source_record_id,
        'shop_order' as identity_source,
        order_id::text as identity_record_id,
        _cxw_loaded_at
    from orders
    where is_revenue_order
    union all
    select
        'shop_refund:' || refunds.refund_id as touchpoint_id,
        'shop' as source,
        'refund_issued' as event_type,
        case when refunds.is_restocked then 'restocked' else 'not_restocked' end as event_detail,
        refunds.refunded_at as occurred_at,
        'shop' as channel,
        true as is_customer_initiated,
        -refunds.refund_amount as amount,
        'shop_refund' as source_record_type,
        refunds.refund_id::text as source_record_id,
        'shop_order' as identity_source,
        refunds.order_id::text as identity_record_id,
        refunds._cxw_loaded_at
    from refunds
),

support_events as (
    select
        'contact_center_ticket:' || ticket_id as touchpoint_id,
        'contact_center' as source,
        'ticket_opened' as event_type,
        queue as event_detail,
        created_at as occurred_at,
        channel,
        true as is_customer_initiated,
        null::numeric as amount,
        'contact_center_ticket' as source_record_type,
        ticket_id::text as source_record_id,
        'contact_center_ticket' as identity_source,
        ticket_id::text as identity_record_id,
        _cxw_loaded_at
    from tickets
    union all
    select
        'contact_center_call:' || call_id as touchpoint_id,
        'contact_center' as source,
        'call_received' as event_type,
        queue as event_detail,
        offered_at as occurred_at,
        'phone' as channel,
        true as is_customer_initiated,
        null as amount,
        'contact_center_call' as source_record_type,
        call_id::text as source_record_id,
        'contact_center_call' as identity_source,
        call_id::text as identity_record_id,
        _cxw_loaded_at
    from calls
    union all
    select
        'survey_response:' || response_id as touchpoint_id,
        'survey' as source,
        'survey_response' as event_type,
        touchpoint as event_detail,
        recorded_at as occurred_at,
        'survey' as channel,
        true as is_customer_initiated,
        null as amount,
        'survey_response' as source_record_type,
        response_id as source_record_id,
        'survey_response' as identity_source,
        response_id as identity_record_id,
        _cxw_loaded_at
    from survey_responses
),

unioned as (
    select * from crm_events
    union all
    select * from shop_events
    union all
    select * from support_events
),

final as (
    select
        unioned.touchpoint_id,
        records.customer_key,
        unioned.occurred_at,
        unioned.source,
        unioned.event_type,
        unioned.event_detail,
        {{ journey_stage('unioned.event_type') }} as journey_stage,
        {{ journey_stage_rank(journey_stage('unioned.event_type')) }} as journey_stage_rank,
        unioned.channel,
        unioned.is_customer_initiated,
        unioned.amount,
        unioned.source_record_type,
        unioned.source_record_id,
        unioned.identity_source,
        unioned.identity_record_id,
        unioned._cxw_loaded_at,
        records.assignment_updated_at
    from unioned
    left join records
        on
            unioned.identity_source = records.source
            and unioned.identity_record_id = records.source_record_id
    where unioned.occurred_at is not null
)

select * from final
