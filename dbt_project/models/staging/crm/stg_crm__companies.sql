with

source as (
    select * from {{ source('crm', 'companies') }}
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
        id as company_id,
        nullif(properties ->> 'name', '') as company_name,
        lower(nullif(btrim(properties ->> 'domain'), '')) as company_domain,
        coalesce(industry, properties ->> 'industry') as industry,
        {{ core_try_cast("properties ->> 'numberofemployees'", 'integer') }} as employee_count,
        nullif(properties ->> 'city', '') as city,
        nullif(properties ->> 'state', '') as region,
        nullif(properties ->> 'country', '') as country,
        lower(properties ->> 'lifecyclestage') as lifecycle_stage,
        created_at,
        updated_at,
        coalesce(archived, false) as is_archived,
        archived_at,
        coalesce(archived, false) as is_deleted,
        _cxw_batch_id,
        _cxw_loaded_at
    from latest
    where version_rank = 1
)

select * from renamed
