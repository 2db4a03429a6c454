{#- Voice-of-customer metric definitions: the only place NPS, CSAT and CES are defined.
    Documented in macros/_cc_voc__macros.yml and DECISIONLOG_support.md. -#}

{#- NPS category of a 0-10 likelihood-to-recommend score: promoter 9-10, passive 7-8,
    detractor 0-6; null for a null or out-of-scale score. -#}
{% macro voc_nps_category(score) -%}
    case
        when ({{ score }}) between 9 and 10 then 'promoter'
        when ({{ score }}) between 7 and 8 then 'passive'
        when ({{ score }}) between 0 and 6 then 'detractor'
    end
{%- endmacro %}

{#- Net Promoter Score: 100 * (promoters - detractors) / NPS responses, from -100 to 100,
    unrounded; null without responses. Only answers to NPS questions count. -#}
{% macro voc_nps(promoters, detractors, responses) -%}
    (100.0 * (({{ promoters }}) - ({{ detractors }})) / nullif({{ responses }}, 0))::double precision
{%- endmacro %}

{#- CSAT: a rating is "satisfied" when it is 4 or 5 on the 1-5 CSAT scale; for help-desk
    satisfaction ratings (good/bad) "good" is satisfied. -#}
{% macro voc_is_csat_satisfied(score) -%}
    (({{ score }}) >= 4)
{%- endmacro %}

{#- CSAT score: satisfied ratings as a percentage (0-100) of all CSAT ratings; null without ratings -#}
{% macro voc_csat(satisfied, rated) -%}
    {{ cc_pct(satisfied, rated) }}
{%- endmacro %}

{#- CES: the mean of 1-7 customer-effort answers (7 = very easy); a plain average. -#}
{% macro voc_ces(ces_score) -%}
    avg({{ ces_score }})::double precision
{%- endmacro %}

{#- the stable id of a customer text in stg_voc__texts / enrich.text_insights:
    '<record kind>:<record id>', kind one of survey_response, ticket_comment, ticket_rating -#}
{% macro voc_text_id(kind, record_id) -%}
    ('{{ kind }}:' || ({{ record_id }})::text)
{%- endmacro %}
