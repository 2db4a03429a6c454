{#- Identifier normalization in SQL, equivalent to cxw.enrich.normalize for what the sources
    send (DECISIONLOG_core.md, "Identifier normalization"). Staging keeps the raw value too:
    identity resolution (Python) normalizes the raw values itself. -#}

{#- email: strip surrounding whitespace (spaces, tabs, newlines), a 'mailto:' prefix and
    trailing dots, lower-case; null unless it looks like an address (same pattern and checks
    as cxw.enrich.normalize.normalize_email; 'Name <addr>' wrappers are not unwrapped).
    keep_plus=false gives the canonical linking form ('jane+shop@x.com' -> 'jane@x.com'); keep_plus=true keeps the +tag. -#}
{% macro normalize_email_sql(expr, keep_plus=false) -%}
    {%- set cleaned -%}
        regexp_replace(regexp_replace(
            lower(regexp_replace({{ expr }}, '^[[:space:]]+|[[:space:]]+$', '', 'g')),
            '^mailto:[[:space:]]*', ''), '\.+$', '')
    {%- endset -%}
    case
        when {{ cleaned }} ~ '^[^[:space:]@<>()\[\],;:"]+@[a-z0-9]([a-z0-9.-]*[a-z0-9])?\.[a-z]{2,63}$'
            and strpos({{ cleaned }}, '..') = 0
            and {{ cleaned }} !~ '^\.|\.@|@.*(\.-|-\.)'
            then {% if keep_plus %}{{ cleaned }}{% else %}regexp_replace({{ cleaned }}, '^([^@+]+)\+[^@]*@', '\1@'){% endif %}
    end
{%- endmacro %}

{#- the address with its +tag when it had one, else null -#}
{% macro email_plus_variant_sql(expr) -%}
    case
        when {{ normalize_email_sql(expr, keep_plus=true) }} ~ '^[^@+]+\+[^@]*@'
            then {{ normalize_email_sql(expr, keep_plus=true) }}
    end
{%- endmacro %}

{#- phone -> E.164 for the North American plan: keep the digits; 10 digits -> '+1' + digits;
    11 digits starting with 1 -> '+' + digits; a value written with a leading '+' and 8-15
    digits is taken as already international. Anything else is null (unreadable). -#}
{% macro normalize_phone_sql(expr) -%}
    {%- set digits -%}regexp_replace({{ expr }}, '[^0-9]', '', 'g'){%- endset -%}
    case
        when {{ expr }} ~ '[A-Za-z]' then null
        when length({{ digits }}) = 10 and left(btrim({{ expr }}), 1) <> '+' then '+1' || {{ digits }}
        when length({{ digits }}) = 11 and left({{ digits }}, 1) = '1' then '+' || {{ digits }}
        when left(btrim({{ expr }}), 1) = '+' and length({{ digits }}) between 8 and 15 then '+' || {{ digits }}
    end
{%- endmacro %}
