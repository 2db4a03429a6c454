-- Re-analyse a text when the pipeline (model, lexicons, taxonomy, redaction) changes.
alter table enrich.text_insights add column if not exists pipeline_version text not null default '';
alter table enrich.text_insights add column if not exists text_created_at timestamptz;
