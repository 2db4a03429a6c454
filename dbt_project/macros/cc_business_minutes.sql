{#- Business time under the support schedule (dbt_project.yml vars, DECISIONLOG_support.md):
    support_timezone, support_open_hour .. support_close_hour local time, Monday to Friday,
    except the dates in the seed support_holidays (local calendar dates).

    cc_business_minutes(start_at, end_at): minutes of [start_at, end_at) that fall inside
    business hours, as double precision (fractions of a minute kept). Each local calendar day between
    the two instants contributes its overlap with [open, close) on that day in wall-clock time,
    so DST changes (at night) do not shift the schedule. Null when either end is null;
    0 when end_at <= start_at. -#}
{% macro cc_business_minutes(start_at, end_at) -%}
    {%- set tz = var('support_timezone') -%}
    {%- set local_start -%}(({{ start_at }}) at time zone '{{ tz }}'){%- endset -%}
    {%- set local_end -%}(({{ end_at }}) at time zone '{{ tz }}'){%- endset -%}
    {%- set day_open -%}(business_day.day_start + interval '1 hour' * {{ var('support_open_hour') }}){%- endset -%}
    {%- set day_close -%}(business_day.day_start + interval '1 hour' * {{ var('support_close_hour') }}){%- endset -%}
    case
        when ({{ start_at }}) is null or ({{ end_at }}) is null then null
        when ({{ end_at }}) <= ({{ start_at }}) then 0::double precision
        else (
            select
                coalesce(
                    sum(
                        extract(epoch from least({{ local_end }}, {{ day_close }}) - greatest({{ local_start }}, {{ day_open }}))
                    ) / 60,
                    0
                )::double precision
            from generate_series(
                date_trunc('day', {{ local_start }}), date_trunc('day', {{ local_end }}), interval '1 day'
            ) as business_day (day_start)
            where
                extract(isodow from business_day.day_start) <= 5
                and least({{ local_end }}, {{ day_close }}) > greatest({{ local_start }}, {{ day_open }})
                and not exists (
                    select 1
                    from {{ ref('support_holidays') }} as holiday
                    where holiday.holiday_date = business_day.day_start::date
                )
        )
    end
{%- endmacro %}

{#- the local calendar date of an instant in the support time zone (contact-center "day") -#}
{% macro cc_support_date(ts) -%}
    (({{ ts }}) at time zone '{{ var("support_timezone") }}')::date
{%- endmacro %}
