-- The batches a raw quality checkpoint audits (its GX query assets read the scope from here).
create table if not exists cxw_meta.quality_scope (
    checkpoint text not null,
    data_asset text not null,
    batch_id   text,
    run_id     text not null,
    scoped_at  timestamptz not null default now(),
    primary key (checkpoint, data_asset)
);
