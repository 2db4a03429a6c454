"""cx_extract_crm: the daily Airflow DAG that extracts the CRM (HubSpot-like REST API) into raw_crm.

Built by `cxw.dag_factories.build_extract_dag`; its doc_md (shown in the Airflow UI) says what
each task does.
"""

from __future__ import annotations

from cxw.dag_factories import build_extract_dag

dag = build_extract_dag("crm", "the CRM (HubSpot-like REST API)")

if __name__ == "__main__":
    dag.test()
