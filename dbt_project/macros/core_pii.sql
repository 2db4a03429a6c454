{#- Personal identifiers in the marts: salted hashes and masked forms only (ARCHITECTURE.md s.6).
    pii_hash must equal cxw.privacy.hashing.hash_identifier(salt, kind, normalized):
    hex sha256 of salt || kind || ':' || normalized value, UTF-8. The salt comes from
    CXW_DBT_PII_SALT (cxw.config.Settings.dbt_env); there is deliberately no default, because
    hashes under a wrong salt would silently stop matching the Python side. -#}

{% macro pii_salt_literal() -%}
    {#- `env_var is defined` is always true under dbt; the guard only lets sqlfluff's plain
        jinja templater (which has no env_var) render the models for linting -#}
    {%- set salt = env_var("CXW_DBT_PII_SALT") if env_var is defined else "lint-only" -%}
    '{{ salt | replace("'", "''") }}'
{%- endmacro %}

{#- kind: 'email' or 'phone'; expr: an already normalized value (null stays null) -#}
{% macro pii_hash(kind, expr) -%}
    encode(sha256(convert_to({{ pii_salt_literal() }} || '{{ kind }}:' || ({{ expr }}), 'UTF8')), 'hex')
{%- endmacro %}

{#- 'jane.doe@example.com' -> 'j***@example.com' (cxw.privacy.hashing.mask_email) -#}
{% macro mask_email(expr) -%}
    case
        when strpos(btrim({{ expr }}), '@') > 0
            then left(btrim({{ expr }}), 1) || '***@'
            || lower(substr(btrim({{ expr }}), strpos(btrim({{ expr }}), '@') + 1))
    end
{%- endmacro %}

{#- E.164 '+15551234567' -> '+1 ***-***-4567' (cxw.privacy.hashing.mask_phone). Numbers outside
    the North American plan keep only '+' and the last four digits: SQL has no country-code table. -#}
{% macro mask_phone(expr) -%}
    case
        when {{ expr }} ~ '^\+1[0-9]{10}$' then '+1 ***-***-' || right({{ expr }}, 4)
        when {{ expr }} ~ '^\+[0-9]{7,15}$' then '+** ***-***-' || right({{ expr }}, 4)
    end
{%- endmacro %}
