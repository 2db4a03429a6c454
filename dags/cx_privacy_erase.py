"""
### cx_privacy_erase

Right-to-be-forgotten erasure, triggered by `cxw erase` (or by hand with parameters):

1. **find_person**: resolve the e-mail address or customer_key to every source identifier of
   that person (through the identity graph), hashed.
2. **suppress_and_delete**: add the hashed identifiers to the loaders' suppression list, then
   delete the person's records from `raw_*`, `enrich` and snapshots, in one transaction.
3. **rebuild_and_publish**: rebuild the marts and publish them through the quality gate, so
   `analytics` no longer holds the person; log the erasure (hashes only) in `cxw_meta.erasure_log`.
"""

from __future__ import annotations

from airflow.sdk import Param, dag, task

from cxw.orchestration import DEFAULT_ARGS, START_DATE, TAGS


@dag(
    dag_id="cx_privacy_erase",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args={**DEFAULT_ARGS, "retries": 1},
    tags=[*TAGS, "privacy"],
    doc_md=__doc__,
    params={
        "email": Param(None, type=["null", "string"], description="e-mail address to erase"),
        "customer_key": Param(None, type=["null", "string"], description="customer_key to erase"),
    },
)
def cx_privacy_erase():
    @task
    def find_person(**context) -> dict:
        from cxw.privacy.erase import find_person as run

        return run(context["params"])

    @task
    def suppress_and_delete(person: dict) -> dict:
        from cxw.privacy.erase import suppress_and_delete as run

        return run(person)

    @task
    def rebuild_and_publish(deleted: dict, **context) -> dict:
        from cxw.privacy.erase import rebuild_and_publish as run

        return run(deleted, context)

    rebuild_and_publish(suppress_and_delete(find_person()))


dag = cx_privacy_erase()

if __name__ == "__main__":
    dag.test()
