"""Real Airflow: the scheduler (LocalExecutor) on the embedded metadata database runs a DAG
triggered through Airflow's REST API, and Airflow reports the run succeeded."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest


@pytest.fixture(scope="module")
def stack(warehouse):
    from cxw.airflow_stack import AirflowStack
    from cxw.sources import generate, read_state

    if read_state(warehouse) is None:
        generate(warehouse, customers=300, days=15, seed=5)
    stack = AirflowStack(warehouse)
    stack.start(timeout=180)
    yield stack
    stack.stop()


def test_dag_run_triggered_over_rest_succeeds(stack, warehouse, capsys):
    from cxw.airflow_stack import ADMIN_USER, AirflowClient, admin_password
    from cxw.sources import current_end_date

    client = AirflowClient(stack.base_url, ADMIN_USER, admin_password(warehouse))
    dag = client.wait_for_dag("cx_extract_survey", timeout=120)
    assert dag["dag_id"] == "cx_extract_survey"
    client.unpause("cx_extract_survey")
    day = current_end_date(warehouse) + timedelta(days=1)  # the run after the last day
    # Airflow keeps one run per logical date, and a test home reused from an earlier
    # `make test` already has one for that day: remove it (a later date would be in the future
    # and wait for its time)
    stamp = f"{day}T00:00:00Z"
    runs = client.http.get(
        "/dags/cx_extract_survey/dagRuns",
        params={"logical_date_gte": stamp, "logical_date_lte": stamp},
    ).json()
    for old in runs["dag_runs"]:
        if (old.get("logical_date") or "")[:10] == str(day):
            client.http.delete(f"/dags/cx_extract_survey/dagRuns/{old['dag_run_id']}")
    run_id = f"rest_test__{day}__{uuid.uuid4().hex[:8]}"
    run = client.trigger("cx_extract_survey", stamp, run_id=run_id)
    assert run["dag_run_id"] == run_id
    final = client.wait_for_run("cx_extract_survey", run["dag_run_id"], timeout=300)
    with capsys.disabled():
        print(f"\nREST-triggered DAG run {final['dag_id']}/{final['dag_run_id']}: {final['state']}")
    assert final["state"] == "success"
