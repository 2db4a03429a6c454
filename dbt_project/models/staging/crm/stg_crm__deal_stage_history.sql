-- one row per stage a deal entered, from propertiesWithHistory.dealstage of the latest version
with

deals as (
    select * from {{ source('crm', 'deals') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by id
            order by updated_at desc nulls last, _cxw_loaded_at desc
        ) as version_rank
    from deals
),

history as (
    select
        latest.id as deal_id,
        entry.value ->> 'value' as deal_stage,
        {{ core_try_cast("entry.value ->> 'timestamp'", 'timestamptz') }} as entered_at,
        entry.value ->> 'sourceType' as change_source,
        latest._cxw_loaded_at
    from latest
    cross join
        lateral jsonb_array_elements(
            coalesce(latest.properties_with_history -> 'dealstage', '[]'::jsonb)
        ) as entry (value)
    where latest.version_rank = 1
),

final as (
    select
        md5(deal_id || '|' || coalesce(deal_stage, '') || '|' || coalesce(entered_at::text, ''))
            as deal_stage_change_id,
        deal_id,
        deal_stage,
        entered_at,
        change_source,
        _cxw_loaded_at
    from history
)

select * from final
