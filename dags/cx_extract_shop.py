"""cx_extract_shop: the daily Airflow DAG that extracts the e-commerce OLTP database (Shopify-like) into raw_shop.

Built by `cxw.dag_factories.build_extract_dag`; its doc_md (shown in the Airflow UI) says what
each task does.
"""

from __future__ import annotations

from cxw.dag_factories import build_extract_dag

dag = build_extract_dag("shop", "the e-commerce OLTP database (Shopify-like)")

if __name__ == "__main__":
    dag.test()
