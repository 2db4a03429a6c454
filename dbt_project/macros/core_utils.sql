{#- Small helpers shared by the core models. -#}

{#- a cast that yields null instead of failing on a malformed value (PostgreSQL 16+) -#}
{% macro core_try_cast(expr, type) -%}
    case when pg_input_is_valid({{ expr }}, '{{ type }}') then ({{ expr }})::{{ type }} end
{%- endmacro %}

{#- the UTC calendar date of a timestamptz, whatever the session time zone -#}
{% macro utc_date(expr) -%}
    ({{ expr }} at time zone 'UTC')::date
{%- endmacro %}

{#- the first day of the UTC calendar month of a timestamptz or date -#}
{% macro utc_month(expr) -%}
    date_trunc('month', ({{ expr }} at time zone 'UTC'))::date
{%- endmacro %}

{#- incremental staging over append-only raw: the keys that received a version since the last
    run, minus var('lookback_days'); the model then re-reads EVERY version of those keys and
    keeps the latest, so an old version that arrives late never overwrites a newer one and a
    full refresh gives the same rows (DECISIONLOG_core.md, "Incremental staging"). -#}
{% macro core_changed_keys_filter(key_column, source_relation) -%}
    {%- if is_incremental() %}
    where {{ key_column }} in (
        select changed.{{ key_column }}
        from {{ source_relation }} as changed
        where changed._cxw_loaded_at > (
            select coalesce(max(current_rows._cxw_loaded_at), '-infinity'::timestamptz)
                - interval '{{ var("lookback_days") }} days'
            from {{ this }} as current_rows
        )
    )
    {%- endif %}
{%- endmacro %}
