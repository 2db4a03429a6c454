"""cx_extract_survey: the daily Airflow DAG that extracts the survey exports (Qualtrics-like CSV) into raw_survey.

Built by `cxw.dag_factories.build_extract_dag`; its doc_md (shown in the Airflow UI) says what
each task does.
"""

from __future__ import annotations

from cxw.dag_factories import build_extract_dag

dag = build_extract_dag("survey", "the survey exports (Qualtrics-like CSV)")

if __name__ == "__main__":
    dag.test()
