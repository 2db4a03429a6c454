-- Least privilege (ARCHITECTURE.md section 6): loaders write raw_*, the transformer builds the
-- dbt schemas, the BI reader can read `analytics` and nothing else. Roles exist already
-- (created by `cxw warehouse start` with generated passwords).
revoke all on database cxw from public;
revoke create on schema public from public;
grant connect on database cxw to cxw_loader, cxw_transformer, cxw_bi_reader;

grant usage, create on schema raw_crm, raw_shop, raw_contact_center, raw_survey to cxw_loader;
grant usage on schema cxw_meta to cxw_loader, cxw_transformer;
grant select, insert, update, delete on all tables in schema cxw_meta to cxw_loader, cxw_transformer;

grant usage on schema raw_crm, raw_shop, raw_contact_center, raw_survey to cxw_transformer;
grant select on all tables in schema raw_crm, raw_shop, raw_contact_center, raw_survey
    to cxw_transformer;
alter default privileges in schema raw_crm, raw_shop, raw_contact_center, raw_survey
    grant select on tables to cxw_transformer;
grant usage, create on schema staging, intermediate, snapshots, enrich, analytics_candidate,
    analytics to cxw_transformer;

grant usage on schema analytics to cxw_bi_reader;
grant select on all tables in schema analytics to cxw_bi_reader;
alter default privileges in schema analytics grant select on tables to cxw_bi_reader;
