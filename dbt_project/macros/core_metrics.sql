{#- Metric definitions owned by the core models, defined once (DECISIONLOG_core.md). -#}

{#- CHURN (DECISIONLOG_core.md, "Churn"), for a customer with at least one revenue order:
    - a repeat buyer (2+ purchase days) is churned when P(alive) from the BG/NBD model
      (enrich.clv_predictions) is below var('churn_p_alive_threshold', 0.5);
    - a one-time buyer, for whom BG/NBD gives P(alive) = 1 by construction, is churned after
      more than var('churn_one_time_inactive_days', 365) days without a purchase;
    - null (unknown) for a repeat buyer the CLV step has not scored.
    Computed once, in mart_customer_ltv; every other model reads it from there. -#}
{% macro churn_flag(p_alive, purchase_day_count, days_since_last_order) -%}
    case
        when {{ purchase_day_count }} >= 2
            then {{ p_alive }} < {{ var('churn_p_alive_threshold', 0.5) }}
        when {{ purchase_day_count }} = 1
            then {{ days_since_last_order }} > {{ var('churn_one_time_inactive_days', 365) }}
    end
{%- endmacro %}

{#- JOURNEY STAGE of a touchpoint, from its event type alone (the stage the event is
    evidence of, not the customer's state): research, comparison, purchase, support,
    loyalty. Unknown event types map to null, which the tests reject. -#}
{% macro journey_stage(event_type) -%}
    case
        when {{ event_type }} in (
            'marketing_email_sent', 'marketing_email_opened', 'marketing_email_clicked', 'lead_created'
        ) then 'research'
        when {{ event_type }} in (
            'lead_qualified', 'opportunity_created', 'sales_call', 'sales_meeting',
            'deal_stage_entered', 'deal_lost', 'checkout_abandoned'
        ) then 'comparison'
        when {{ event_type }} in ('first_order', 'deal_won', 'became_customer') then 'purchase'
        when {{ event_type }} in ('ticket_opened', 'call_received', 'refund_issued') then 'support'
        when {{ event_type }} in ('repeat_order', 'survey_response') then 'loyalty'
    end
{%- endmacro %}

{#- the order of the stages (funnel position) -#}
{% macro journey_stage_rank(stage) -%}
    case {{ stage }}
        when 'research' then 1
        when 'comparison' then 2
        when 'purchase' then 3
        when 'support' then 4
        when 'loyalty' then 5
    end
{%- endmacro %}

{#- RFM SCORE 1-5 of a value among all scored customers: 1 + floor(5 x percent_rank),
    capped at 5. Ties share a score (percent_rank gives ties the rank of the first), so
    e.g. all one-order customers get the same frequency score. higher_is_better=false
    reverses the order (recency: fewer days since the last order scores higher). -#}
{% macro rfm_score(expr, higher_is_better=true) -%}
    least(5, 1 + floor(5 * percent_rank() over (
        order by {{ expr }} {{ 'asc' if higher_is_better else 'desc' }}
    )))::integer
{%- endmacro %}

{#- Identifiers that name no single person: the SQL twin of cxw.enrich.normalize's
    placeholder and role-address lists (used to keep them out of the golden record; linking
    is guarded by the resolver itself). Arguments are normalized values. -#}
{% macro is_shared_email(email) -%}
    (
        split_part({{ email }}, '@', 2) in (
            'example.com', 'example.org', 'example.net', 'test.com', 'noemail.com', 'no-email.com',
            'none.com', 'na.com', 'nomail.com', 'invalid.com', 'email.invalid', 'localhost',
            'domain.com', 'fake.com', 'dummy.com'
        )
        or split_part({{ email }}, '@', 2) ~ '\.(test|example|invalid|localhost)$'
        or split_part({{ email }}, '@', 1) in (
            'noemail', 'no-email', 'no_email', 'nomail', 'none', 'na', 'n.a', 'nil', 'null', 'test',
            'tester', 'testing', 'noreply', 'no-reply', 'no_reply', 'donotreply', 'do-not-reply',
            'do_not_reply', 'unknown', 'nobody', 'dummy', 'fake', 'asdf', 'xxx', 'xx', 'x', 'customer',
            'support', 'info', 'orders', 'order', 'accounts', 'account', 'accounting',
            'accountspayable', 'ap', 'ar', 'purchasing', 'procurement', 'office', 'sales', 'admin',
            'administrator', 'billing', 'invoices', 'invoice', 'contact', 'contactus', 'hello', 'help',
            'helpdesk', 'service', 'services', 'customerservice', 'customer.service', 'customercare',
            'care', 'team', 'marketing', 'hr', 'jobs', 'careers', 'enquiries', 'enquiry', 'inquiries',
            'inquiry', 'reception', 'frontdesk', 'mail', 'webmaster', 'postmaster', 'hostmaster',
            'abuse', 'finance', 'shipping', 'returns', 'feedback', 'press', 'media', 'legal', 'privacy',
            'security', 'operations', 'ops', 'staff', 'all', 'everyone', 'general', 'reservations',
            'bookings', 'booking', 'management', 'manager', 'owner', 'it'
        )
        or split_part({{ email }}, '@', 1) ~ '^(noreply|no-reply|donotreply|do-not-reply)'
        or replace(split_part({{ email }}, '@', 1), '.', '') ~ '^(.)\1*$'
    )
{%- endmacro %}

{% macro is_placeholder_phone(e164) -%}
    (
        regexp_replace({{ e164 }}, '^\+1(?=[0-9]{10}$)|^\+', '') ~ '^(.)\1*$'
        or (
            length(regexp_replace({{ e164 }}, '^\+1(?=[0-9]{10}$)|^\+', '')) >= 7
            and (
                strpos('01234567890123456789', regexp_replace({{ e164 }}, '^\+1(?=[0-9]{10}$)|^\+', '')) > 0
                or strpos('98765432109876543210', regexp_replace({{ e164 }}, '^\+1(?=[0-9]{10}$)|^\+', '')) > 0
            )
        )
        or (
            {{ e164 }} ~ '^\+1[0-9]{10}$'
            and (
                substr({{ e164 }}, 3, 1) in ('0', '1')
                or substr({{ e164 }}, 6, 1) in ('0', '1')
                or substr({{ e164 }}, 4, 2) = '11'
                or substr({{ e164 }}, 3, 3) = '555'
                or (substr({{ e164 }}, 6, 3) = '555' and substr({{ e164 }}, 9, 4) between '0100' and '0199')
            )
        )
    )
{%- endmacro %}
