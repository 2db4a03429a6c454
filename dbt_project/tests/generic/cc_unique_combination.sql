{#- The combination of `columns` identifies a row (composite grain of a daily or weekly mart). -#}
{% test cc_unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as rows_with_this_key
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
