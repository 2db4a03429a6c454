{#- One row per ticket comment, taken from the latest version of its ticket.

    Incremental (the comment history is the volume): a run re-reads every raw version of the
    tickets that received a row since the newest load already processed minus
    var('lookback_days'), rebuilds those tickets' comments from their latest version and
    replaces them (delete+insert on ticket_id). A ticket is always rebuilt whole from all its
    versions, so a late older version cannot overwrite a newer one and the result equals a
    full refresh. The post-hook removes tickets that left the raw table (erasure). -#}
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
        case when jsonb_typeof(comments) = 'array' then comments else '[]'::jsonb end as comments_list
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

comments as (
    select
        versions.id as ticket_id,
        versions.channel as ticket_channel,
        versions.ticket_loaded_at,
        comment.value as comment_json,
        comment.ordinality as comment_index
    from versions
    cross join lateral jsonb_array_elements(versions.comments_list) with ordinality as comment (value, ordinality)
    where versions.version_rank = 1
),

typed as (
    select
        (comment_json ->> 'id')::bigint as comment_id,
        ticket_id,
        ticket_channel,
        comment_index,
        (comment_json ->> 'at')::timestamptz as commented_at,
        comment_json ->> 'author' as author_role,
        nullif(btrim(comment_json ->> 'agent_id'), '') as agent_id,
        coalesce((comment_json ->> 'public')::boolean, false) as is_public,
        comment_json ->> 'body' as body,
        ticket_loaded_at as _cxw_loaded_at
    from comments
),

final as (
    select
        comment_id,
        ticket_id,
        ticket_channel,
        comment_index,
        commented_at,
        author_role,
        agent_id,
        is_public,
        body,
        -- a chat ticket stores its chat session as the first public requester comment
        coalesce(
            ticket_channel = 'chat'
            and author_role = 'requester'
            and is_public
            and row_number() over (
                partition by ticket_id, (author_role = 'requester' and is_public)
                order by commented_at, comment_index
            ) = 1,
            false
        ) as is_chat_transcript,
        _cxw_loaded_at
    from typed
)

select * from final
