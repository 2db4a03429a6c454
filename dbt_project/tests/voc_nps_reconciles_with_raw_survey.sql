{#- Reconciliation: NPS per UTC day recomputed straight from raw_survey.responses equals
    mart_voc_daily (channel 'relationship', the NPS survey's touchpoint). Independent of the
    staging/intermediate code: its own dedup (one row per ResponseId), its own answer parsing
    (QID1 of survey SV_3KpR7nT2xQ9mWzA, SCHEMAS.md section 4) and its own buckets. Returns the
    days that differ. -#}
with

raw_responses as (
    select distinct on (response_id)
        response_id,
        recorded_date,
        answers ->> 'QID1' as answer
    from {{ source('survey', 'responses') }}
    where survey_id = 'SV_3KpR7nT2xQ9mWzA' and response_id is not null
    order by response_id asc, _cxw_loaded_at desc
),

scored as (
    select
        (recorded_date at time zone 'UTC')::date as response_date,
        btrim(answer)::numeric as score
    from raw_responses
    where btrim(answer) ~ '^[0-9]+$' and btrim(answer)::numeric between 0 and 10
),

expected as (
    select
        response_date,
        count(*) as nps_responses,
        count(*) filter (where score >= 9) as promoters,
        count(*) filter (where score <= 6) as detractors,
        100.0 * (count(*) filter (where score >= 9) - count(*) filter (where score <= 6)) / count(*) as nps
    from scored
    group by response_date
),

actual as (
    select
        response_date,
        nps_responses,
        promoters,
        detractors,
        nps
    from {{ ref('mart_voc_daily') }}
    where channel = 'relationship' and nps_responses > 0
),

final as (
    select
        coalesce(expected.response_date, actual.response_date) as response_date,
        expected.nps_responses as expected_nps_responses,
        actual.nps_responses as actual_nps_responses,
        expected.nps as expected_nps,
        actual.nps as actual_nps
    from expected
    full outer join actual
        on expected.response_date = actual.response_date
    where
        expected.response_date is null
        or actual.response_date is null
        or expected.nps_responses <> actual.nps_responses
        or expected.promoters <> actual.promoters
        or expected.detractors <> actual.detractors
        or abs(expected.nps - actual.nps) > 1e-9
)

select * from final
