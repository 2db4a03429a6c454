-- Enrichment outputs (written by Python tasks in cx_transform, read by dbt marts).
create table if not exists enrich.clv_predictions (
    customer_key            text primary key,
    frequency               double precision not null,
    recency_weeks           double precision not null,
    tenure_weeks            double precision not null,
    monetary_value          double precision not null,
    p_alive                 double precision not null check (p_alive between 0 and 1),
    expected_purchases_12m  double precision not null check (expected_purchases_12m >= 0),
    expected_avg_spend      double precision,
    predicted_clv_12m       double precision,
    model_run_id            text not null,
    scored_at               timestamptz not null
);

-- one row per CLV fit: parameters, likelihood and the calibration-vs-holdout check
create table if not exists cxw_meta.clv_model_runs (
    model_run_id     text primary key,
    as_of            timestamptz not null,
    customers        bigint not null,
    bgnbd_params     jsonb not null,
    bgnbd_log_lik    double precision not null,
    gamma_gamma_params jsonb,
    gamma_gamma_log_lik double precision,
    holdout          jsonb,
    seconds          double precision not null,
    created_at       timestamptz not null default now()
);

-- voice-of-customer text: only new or changed texts (by content hash) are processed
create table if not exists enrich.text_insights (
    text_id        text primary key,
    text_source    text not null,
    content_hash   text not null,
    sentiment      double precision not null check (sentiment between -1 and 1),
    sentiment_label text not null check (sentiment_label in ('positive', 'neutral', 'negative')),
    aspects        jsonb not null default '[]'::jsonb,
    redacted_text  text not null,
    processed_at   timestamptz not null default now()
);

grant select on all tables in schema enrich to cxw_transformer;
