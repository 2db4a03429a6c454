"""Every DAG imports cleanly, parses fast, and carries tags, retries and docs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

DAGS_DIR = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {
    "cx_extract_crm",
    "cx_extract_shop",
    "cx_extract_contact_center",
    "cx_extract_survey",
    "cx_transform",
    "cx_privacy_erase",
}


@pytest.fixture(scope="module")
def bag(settings):
    from cxw import airflow_env

    airflow_env.apply(settings)
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS_DIR))


def test_no_import_errors_and_all_dags_present(bag):
    assert bag.import_errors == {}
    assert set(bag.dags) == EXPECTED


@pytest.mark.parametrize("path", sorted(DAGS_DIR.glob("*.py")), ids=lambda p: p.name)
def test_each_file_parses_quickly(bag, path):
    from airflow.dag_processing.dagbag import DagBag

    started = time.perf_counter()
    single = DagBag(dag_folder=str(path))
    elapsed = time.perf_counter() - started
    assert single.import_errors == {}
    assert elapsed < 2.0, f"{path.name} took {elapsed:.2f}s to parse (limit 2s)"
    text = path.read_text()
    assert "airflow" in text.lower() and "dag" in text.lower()  # else the processor skips it
    assert 'if __name__ == "__main__":' in text


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_dag_has_tags_retries_and_docs(bag, dag_id):
    dag = bag.dags[dag_id]
    assert "cxw" in dag.tags
    assert dag.doc_md and len(dag.doc_md.strip()) > 50
    assert dag.catchup is False
    for task in dag.tasks:
        assert task.retries >= 1 or task.task_id.startswith("dbt_"), (
            f"{dag_id}.{task.task_id} has no retries"
        )


def test_transform_is_scheduled_on_the_four_raw_assets(bag):
    dag = bag.dags["cx_transform"]
    condition = dag.timetable.asset_condition  # AssetAll: every source must have updated
    assert type(condition).__name__ == "AssetAll"
    uris = {asset.uri for asset in condition.objects}
    assert uris == {f"cxw://warehouse/raw_{s}" for s in ("crm", "shop", "contact_center", "survey")}


def test_extract_dags_emit_their_raw_asset(bag):
    for source in ("crm", "shop", "contact_center", "survey"):
        gate = bag.dags[f"cx_extract_{source}"].get_task("raw_quality_gate")
        assert [o.uri for o in gate.outlets] == [f"cxw://warehouse/raw_{source}"]
