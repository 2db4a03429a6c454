{#- One row per status change of a ticket, taken from the latest version of the ticket.
    Incremental exactly like stg_contact_center__ticket_comments (tickets that received a row
    since the newest processed load minus var('lookback_days') are rebuilt whole; erased
    tickets are removed by the post-hook), so a full refresh gives the same rows. -#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='ticket_id',
        on_schema_change='append_new_columns',
        post_hook=[
            "delete from {{ this }} as t where not exists (select 1 from "
            ~ "{{ source('contact_center', 'tickets') }} as s where s.id = t.ticket_id)"
        ]
    )
}}

{%- set newest_processed_load -%}
    (select coalesce(max(processed._cxw_loaded_at), '-infinity'::timestamptz) from {{ this }} as processed)
{%- endset %}

with

source as (
    select * from {{ source('contact_center', 'tickets') }}
),

versions as (
    select
        *,
        row_number() over (
            partition by id
            order by updated_at desc, _cxw_loaded_at desc, _cxw_locator desc
        ) as version_rank,
        max(_cxw_loaded_at) over (partition by id) as ticket_loaded_at,
        case when jsonb_typeof(status_events) = 'array' then status_events else '[]'::jsonb end as status_events_list
    from source
    where
        id is not null
        {% if is_incremental() %}
            -- every version of each ticket that received a row since the newest processed
            -- load, minus the lookback for late commits
            and id in (
                select changed.id
                from source as changed
                where changed._cxw_loaded_at > {{ newest_processed_load }} - interval '1 day' * {{ var('lookback_days') }}
            )
        {% endif %}
),

events as (
    select
        versions.id as ticket_id,
        versions.ticket_loaded_at,
        event.value as event_json,
        event.ordinality as event_index
    from versions
    cross join lateral jsonb_array_elements(versions.status_events_list) with ordinality as event (value, ordinality)
    where versions.version_rank = 1
),

final as (
    select
        ticket_id || ':' || event_index as status_event_id,
        ticket_id,
        event_index,
        (event_json ->> 'at')::timestamptz as changed_at,
        nullif(event_json ->> 'from', '') as from_status,
        event_json ->> 'to' as to_status,
        ticket_loaded_at as _cxw_loaded_at
    from events
)

select * from final
