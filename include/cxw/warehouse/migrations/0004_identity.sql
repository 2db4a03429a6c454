-- Identity resolution (cxw.enrich.identity, task resolve_identities in cx_transform): one stable
-- customer_key per source record. dbt reads these as sources (schema enrich); the published
-- bridge_customer_identity is built from identity_assignments. No PII here: record ids, opaque
-- keys, and salted hashes of identifiers.

-- one row per source record seen in staging.stg_identity__observations
create table if not exists enrich.identity_assignments (
    source            text not null,
    source_record_id  text not null,
    customer_key      text not null check (customer_key ~ '^c_[0-9a-f]{16}$'),
    match_rule        text not null,
    first_assigned_at timestamptz not null,
    updated_at        timestamptz not null,  -- last change of customer_key or match_rule
    primary key (source, source_record_id)
);
create index if not exists identity_assignments_customer_key
    on enrich.identity_assignments (customer_key);

-- a key retired when its customer merged into an older one; a key is retired once, never reused
create table if not exists enrich.customer_key_merges (
    merged_key    text primary key check (merged_key ~ '^c_[0-9a-f]{16}$'),
    surviving_key text not null check (surviving_key ~ '^c_[0-9a-f]{16}$'),
    merged_at     timestamptz not null,
    reason        text not null
);
create index if not exists customer_key_merges_surviving
    on enrich.customer_key_merges (surviving_key);

-- any key ever handed out -> the key that holds its records now (follows chains of merges)
create or replace view enrich.customer_key_lineage as
with recursive chain (merged_key, current_key, depth) as (
    select merged_key, surviving_key, 1
    from enrich.customer_key_merges
    union all
    select chain.merged_key, merges.surviving_key, chain.depth + 1
    from chain
    inner join enrich.customer_key_merges as merges on chain.current_key = merges.merged_key
    where chain.depth < 1000
)
select distinct on (merged_key) merged_key, current_key
from chain
order by merged_key, depth desc;

-- identifiers kept from linking records in the last run (for engineers; replaced each run)
create table if not exists enrich.identity_suppressed (
    identifier_kind          text not null,   -- email, phone, crm_contact, shop_customer, ...
    identifier_hash          text not null,   -- sha256(salt || kind || ':' || normalized value)
    distinct_people_estimate integer not null,
    record_count             bigint not null,
    reason                   text not null check (reason in ('placeholder', 'role_address', 'shared')),
    computed_at              timestamptz not null,
    primary key (identifier_kind, identifier_hash)
);

-- one row per resolution run: what it read, what it changed, how long it took
create table if not exists cxw_meta.identity_runs (
    run_id      text primary key,
    relation    text not null,
    max_share   integer not null,
    summary     jsonb not null,
    started_at  timestamptz not null,
    finished_at timestamptz not null
);

grant select on enrich.identity_assignments, enrich.customer_key_merges,
    enrich.customer_key_lineage, enrich.identity_suppressed to cxw_transformer;
grant select, insert, update, delete on cxw_meta.identity_runs to cxw_loader, cxw_transformer;
