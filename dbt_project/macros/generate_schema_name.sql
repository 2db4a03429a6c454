{#- Custom schemas are used as given (staging, intermediate, analytics_candidate), not
    prefixed with the target schema: the schema names are a contract (ARCHITECTURE.md s.6). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
