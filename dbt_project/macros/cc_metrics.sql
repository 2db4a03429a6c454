{#- Contact-center metric helpers. The per-record definitions live in the intermediate models
    that compute them (documented in models/intermediate/support/_support__models.yml):
    - ASA: mean speed_of_answer_seconds (answered - offered) over answered calls (int_calls_measured)
    - AHT: mean handle_seconds = talk + hold + wrap over answered calls (int_calls_measured)
    - FCR: is_first_contact_resolved (int_contacts_fcr_flagged)
    - SLA breach: first_reply_sla_status = 'breached' (int_tickets_measured)
    This file holds the one way a rate is expressed: a percentage 0-100 of a count. -#}

{#- numerator / denominator as a percentage (0-100, double precision); null when the
    denominator is 0 or null. Continuous metrics (minutes, seconds, rates, scores) are double
    precision throughout the support/VoC models. -#}
{% macro cc_pct(numerator, denominator) -%}
    (100.0 * ({{ numerator }}) / nullif({{ denominator }}, 0))::double precision
{%- endmacro %}
