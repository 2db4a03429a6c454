"""Great Expectations quality gates (ARCHITECTURE.md section 1).

- `gates`: `run_raw_gate` (one GX checkpoint `raw_<source>` per source, one validation
  definition per stream, each over the batch just loaded) and `run_mart_gate` (checkpoint
  `analytics_candidate` over the candidate build).
- `suites`: raw suites generated from `StreamSpec`s, mart suites from `expectations/marts.yml`;
  `sync_suites` writes the whole committed GX project under `expectations/`.
- `context`: the cached GX file context (connection string and state dirs given at run time).
- `params`: the dynamic bounds (volume z-scores, freshness, "not in the future") passed to GX
  as expectation parameters when a checkpoint runs.
- `results`: GX results -> `cxw_meta.quality_results` rows, sample offending rows, summaries.
- `alerts`: log + Slack webhook + e-mail.

GX is imported inside functions only, so importing this package stays cheap.
"""
