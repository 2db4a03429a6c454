{#- Identifier normalization for the contact-center and survey staging models.
    Staging keeps the raw value beside the normalized one; raw values never reach the marts
    (the identity step in Python normalizes the raw values itself, cxw.enrich.normalize). -#}

{#- email: lower-case, surrounding whitespace (spaces, tabs, newlines) removed; '' -> null.
    The +tag is kept: canonical linking forms are the identity step's business. -#}
{% macro cc_normalize_email(expr) -%}
    nullif(lower(regexp_replace({{ expr }}, '^[[:space:]]+|[[:space:]]+$', '', 'g')), '')
{%- endmacro %}

{#- phone -> E.164 for the North American numbering plan (the contact center's market):
    keep the digits; 10 digits -> '+1' + digits; 11 digits starting with 1 -> '+' + digits;
    a value written with a leading '+' and 8-15 digits is taken as already international.
    Anything else (letters, too short, too long) is null. Placeholders such as 000-000-0000
    normalize like any number: the identity step decides they never link people. Same rule
    as cxw.enrich.normalize.normalize_phone for what the sources send. -#}
{% macro cc_normalize_phone(expr) -%}
    {#- one phone rule for the whole project: see normalize_phone_sql (core_normalize.sql) -#}
    {{ normalize_phone_sql(expr) }}
{%- endmacro %}
