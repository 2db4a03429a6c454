{#- Generic data tests the core models need (no dbt hub packages here). -#}

{#- the columns together identify a row (a compound key) -#}
{% test unique_combination_of_columns(model, combination_of_columns) -%}
    select
        {{ combination_of_columns | join(', ') }},
        count(*) as row_count
    from {{ model }}
    group by {{ combination_of_columns | join(', ') }}
    having count(*) > 1
{%- endtest %}

{#- every value lies in [min_value, max_value] (nulls pass) -#}
{% test value_between(model, column_name, min_value=none, max_value=none) -%}
    {%- set conditions = [] -%}
    {%- if min_value is not none %}{% do conditions.append(column_name ~ ' < ' ~ min_value) %}{% endif -%}
    {%- if max_value is not none %}{% do conditions.append(column_name ~ ' > ' ~ max_value) %}{% endif -%}
    select {{ column_name }}
    from {{ model }}
    where {{ conditions | join(' or ') if conditions else 'false' }}
{%- endtest %}
