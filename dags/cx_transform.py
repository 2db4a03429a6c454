"""
### cx_transform

Builds the marts once the raw Assets of all four sources have been updated, and publishes them
to BI only if they pass their quality gate (write-audit-publish):

1. **dbt_staging** (Cosmos): staging views and snapshots over `raw_*`.
2. **enrich_text**: the spaCy voice-of-customer pipeline over new or changed texts
   (`enrich.text_insights`); **resolve_identities**: the identity graph (scipy csgraph) with
   stable customer keys (`enrich.identity_assignments`).
3. **dbt_intermediate** (Cosmos): identity graph, touchpoints, metric definitions.
4. **enrich_clv**: BG/NBD + Gamma-Gamma fitted on every customer (`enrich.clv_predictions`).
5. **dbt_marts** (Cosmos): the marts, built into `analytics_candidate`.
6. **quality_gate**: the GX checkpoint `analytics_candidate`; on failure BI keeps the last
   good build and the run fails naming the failed expectations.
7. **publish**: `analytics_candidate` becomes `analytics` in one transaction; emits `analytics`.
"""

from __future__ import annotations

from airflow.sdk import Asset, dag, task

from cxw.dag_factories import dbt_layer, raw_asset
from cxw.orchestration import ANALYTICS_URI, DEFAULT_ARGS, SOURCES, START_DATE, TAGS

ANALYTICS = Asset(name="analytics", uri=ANALYTICS_URI)


@dag(
    dag_id="cx_transform",
    schedule=[raw_asset(source) for source in SOURCES],
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "transform", "dbt", "quality"],
    doc_md=__doc__,
)
def cx_transform():
    @task
    def enrich_text(**context) -> dict:
        from cxw.tasks import enrich_text as run

        return run(context)

    @task
    def resolve_identities(**context) -> dict:
        from cxw.tasks import resolve_identities as run

        return run(context)

    @task
    def enrich_clv(**context) -> dict:
        from cxw.tasks import enrich_clv as run

        return run(context)

    @task
    def quality_gate(**context) -> dict:
        from cxw.tasks import mart_quality_gate

        return mart_quality_gate(context)

    @task(outlets=[ANALYTICS])
    def publish(gate: dict, **context) -> dict:
        from cxw.tasks import publish as run

        return run(gate, context)

    staging = dbt_layer("dbt_staging", "staging")
    intermediate = dbt_layer("dbt_intermediate", "intermediate")
    marts = dbt_layer("dbt_marts", "marts")
    gate = quality_gate()
    staging >> [enrich_text(), resolve_identities()] >> intermediate
    intermediate >> enrich_clv() >> marts >> gate
    publish(gate)


dag = cx_transform()

if __name__ == "__main__":
    dag.test()
