with

source as (
    select * from {{ source('crm', 'deals') }}
),

latest as (
    select
        *,
        row_number() over (
            partition by id
            order by updated_at desc nulls last, _cxw_loaded_at desc
        ) as version_rank
    from source
),

renamed as (
    select
        id as deal_id,
        properties ->> 'dealname' as deal_name,
        coalesce(dealstage, properties ->> 'dealstage') as deal_stage,
        properties ->> 'pipeline' as pipeline,
        amount,
        closedate as close_at,
        coalesce((properties ->> 'hs_is_closed') = 'true', false) as is_closed,
        coalesce((properties ->> 'hs_is_closed_won') = 'true', false) as is_closed_won,
        properties ->> 'hubspot_owner_id' as owner_id,
        -- the first associated contact (deals always have one); all of them in contact_ids
        (string_to_array(contact_ids, ';'))[1] as contact_id,
        string_to_array(contact_ids, ';') as contact_ids,
        associations -> 'companies' -> 'results' -> 0 ->> 'id' as company_id,
        created_at,
        updated_at,
        coalesce(archived, false) as is_deleted,
        archived_at,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
