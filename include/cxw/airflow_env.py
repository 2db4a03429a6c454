"""Airflow's configuration, derived from `cxw.config` so CLI, DAGs and tests agree.

Airflow reads `AIRFLOW__*` variables, so `environment()` returns them and `apply()` sets them in
this process before Airflow is imported. Metadata lives in the `airflow` database on the
warehouse server (never SQLite); the `cxw_warehouse` connection points at the warehouse.
"""

from __future__ import annotations

import os
from urllib.parse import quote

from cxw.config import AIRFLOW_DB, PROJECT_ROOT, WAREHOUSE_DB, Settings

WAREHOUSE_CONN_ID = "cxw_warehouse"
CRM_CONN_ID = "cxw_crm"


def _conn_uri(settings: Settings) -> str:
    from sqlalchemy.engine import make_url

    url = make_url(settings.superuser_url(WAREHOUSE_DB))
    pw = quote(url.password or "", safe="")
    return f"postgres://{url.username}:{pw}@{url.host}:{url.port}/{WAREHOUSE_DB}"


def environment(settings: Settings) -> dict[str, str]:
    """Every variable Airflow needs to run this project against this warehouse."""
    home = settings.airflow_home
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT_ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT_ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "8",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        "AIRFLOW__CORE__AUTH_MANAGER": (
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": settings.superuser_url(
            AIRFLOW_DB, driver="postgresql+psycopg2"
        ),
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "WARNING",
        "AIRFLOW__OPENLINEAGE__DISABLED": "True",
        "AIRFLOW__OPENLINEAGE__NAMESPACE": "cxw",
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{settings.airflow_port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": (
            f"http://127.0.0.1:{settings.airflow_port}/execution/"
        ),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        f"AIRFLOW_CONN_{WAREHOUSE_CONN_ID.upper()}": _conn_uri(settings),
        "CXW_HOME": str(settings.home),
        "CXW_PG_PORT": str(settings.pg_port),
        "GX_ANALYTICS_ENABLED": "False",
        "TQDM_DISABLE": "1",
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    }
    env.update(settings.dbt_env())
    return env


def apply(settings: Settings) -> dict[str, str]:
    """Set Airflow's environment in this process (call before importing airflow)."""
    env = environment(settings)
    os.environ.update(env)
    settings.airflow_home.mkdir(parents=True, exist_ok=True)
    return env
