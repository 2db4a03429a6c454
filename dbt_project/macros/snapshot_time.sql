{#- Snapshot clock as timestamptz, the type of every `updated_at` the snapshots use. dbt-postgres
    defaults to `timestamp without time zone` here, which makes dbt warn on every run that the
    snapshot's timestamp columns do not match `updated_at` (dbt-core #10234); the value only
    closes versions out when rows are hard-deleted. -#}
{% macro postgres__snapshot_get_time() -%}
    now()
{%- endmacro %}
