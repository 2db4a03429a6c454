-- Schemas of ARCHITECTURE.md section 6 and the pipeline's own metadata (cxw_meta).
create schema if not exists raw_crm;
create schema if not exists raw_shop;
create schema if not exists raw_contact_center;
create schema if not exists raw_survey;
create schema if not exists cxw_meta;
create schema if not exists staging;
create schema if not exists intermediate;
create schema if not exists snapshots;
create schema if not exists enrich;
create schema if not exists analytics_candidate;
create schema if not exists analytics;

-- one row per load batch (a source stream for one data interval). Reconciliation: every record
-- seen is loaded, rejected, or unchanged (an identical version already loaded by an earlier batch,
-- e.g. in the incremental overlap window or a re-sent record).
create table if not exists cxw_meta.batches (
    batch_id        text primary key,
    source          text not null,
    stream          text not null,
    interval_start  timestamptz,
    interval_end    timestamptz,
    status          text not null check (status in ('running', 'committed', 'failed', 'replaced')),
    records_seen    bigint not null default 0,
    records_loaded  bigint not null default 0,
    records_rejected bigint not null default 0,
    records_unchanged bigint not null default 0,
    watermark_from  timestamptz,
    watermark_to    timestamptz,
    content_hash    text,
    message         text,
    started_at      timestamptz not null default now(),
    finished_at     timestamptz,
    constraint batches_reconcile check (
        status <> 'committed'
        or records_seen = records_loaded + records_rejected + records_unchanged
    )
);
create index if not exists batches_source_stream on cxw_meta.batches (source, stream, interval_end);

-- incremental extraction state; advanced in the same transaction as its batch
create table if not exists cxw_meta.watermarks (
    source      text not null,
    stream      text not null,
    value       timestamptz not null,
    batch_id    text references cxw_meta.batches (batch_id),
    updated_at  timestamptz not null default now(),
    primary key (source, stream)
);

-- quarantine: every source record ends up loaded or here, with its reason
create table if not exists cxw_meta.rejected_rows (
    rejected_id bigint generated always as identity primary key,
    source      text not null,
    stream      text not null,
    batch_id    text not null,
    locator     text not null,
    reason      text not null,
    payload     text,
    rejected_at timestamptz not null default now()
);
create index if not exists rejected_rows_batch on cxw_meta.rejected_rows (batch_id);

-- files already processed (re-delivered files are recognised by content hash)
create table if not exists cxw_meta.delivered_files (
    source       text not null,
    content_hash text not null,
    path         text not null,
    batch_id     text not null,
    loaded_at    timestamptz not null default now(),
    primary key (source, content_hash)
);

create table if not exists cxw_meta.quality_results (
    result_id     bigint generated always as identity primary key,
    run_id        text not null,
    checkpoint    text not null,
    suite         text not null,
    data_asset    text,
    batch_id      text,
    expectation   text not null,
    column_name   text,
    success       boolean not null,
    observed      jsonb,
    sample_rows   jsonb,
    created_at    timestamptz not null default now()
);
create index if not exists quality_results_run on cxw_meta.quality_results (run_id);

create table if not exists cxw_meta.publish_log (
    build_id     text primary key,
    published_at timestamptz not null default now(),
    status       text not null,
    row_counts   jsonb not null default '{}'::jsonb,
    message      text
);

-- erased people are kept by hash only
create table if not exists cxw_meta.erasure_log (
    erasure_id       bigint generated always as identity primary key,
    requested_at     timestamptz not null default now(),
    completed_at     timestamptz,
    identifier_kind  text not null,
    identifier_hash  text not null,
    rows_deleted     jsonb not null default '{}'::jsonb
);

-- hashed identifiers the loaders drop, so erased people do not come back
create table if not exists cxw_meta.suppression_list (
    identifier_hash text primary key,
    identifier_kind text not null,
    added_at        timestamptz not null default now()
);
