"""cx_extract_contact_center: the daily Airflow DAG that extracts the contact-center drops (call log CSV, help-desk tickets JSONL) into raw_contact_center.

Built by `cxw.dag_factories.build_extract_dag`; its doc_md (shown in the Airflow UI) says what
each task does.
"""

from __future__ import annotations

from cxw.dag_factories import build_extract_dag

dag = build_extract_dag(
    "contact_center", "the contact-center drops (call log CSV, help-desk tickets JSONL)"
)

if __name__ == "__main__":
    dag.test()
