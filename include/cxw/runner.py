"""`cxw run`: run the project's DAGs in-process with Airflow's `dag.test()`, day by day.

Metadata goes to the `airflow` database on the warehouse server, exactly as a scheduled run's
would, so the Airflow UI (`cxw airflow standalone`) shows these runs too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cxw import airflow_env
from cxw.config import AIRFLOW_DB, Settings
from cxw.errors import CxwError
from cxw.orchestration import SOURCES

EXTRACT_DAGS = tuple(f"cx_extract_{s}" for s in SOURCES)
TRANSFORM_DAG = "cx_transform"


@dataclass
class DagResult:
    dag_id: str
    logical_date: str
    state: str
    seconds: float
    failed_tasks: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def data_day(self) -> str:
        """The day of data the run processed (the day before its logical date)."""
        return str(date.fromisoformat(self.logical_date[:10]) - timedelta(days=1))


def ensure_airflow_db(settings: Settings) -> None:
    """`airflow db migrate` on the metadata database, only when it is not at head already."""
    import psycopg

    with psycopg.connect(settings.libpq_url(AIRFLOW_DB)) as conn:
        exists = conn.execute("select to_regclass('public.alembic_version') is not null").fetchone()
        current = None
        if exists and exists[0]:
            row = conn.execute("select version_num from alembic_version").fetchone()
            current = row[0] if row else None
    stamp = settings.airflow_home / ".migrated"
    if current is not None and stamp.exists() and stamp.read_text().strip() == current:
        return
    exe = Path(sys.executable).parent / "airflow"
    proc = subprocess.run(
        [str(exe), "db", "migrate"], env=os.environ.copy(), capture_output=True, text=True
    )
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
        raise CxwError(f"airflow db migrate failed: {' '.join(tail)}")
    with psycopg.connect(settings.libpq_url(AIRFLOW_DB)) as conn:
        row = conn.execute("select version_num from alembic_version").fetchone()
    stamp.write_text((row[0] if row else "") + "\n")


def load_dags(dag_ids: tuple[str, ...]) -> dict[str, Any]:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    if bag.import_errors:
        path, err = next(iter(bag.import_errors.items()))
        raise CxwError(
            f"DAG file {Path(path).name} does not import: {err.strip().splitlines()[-1]}"
        )
    missing = [d for d in dag_ids if d not in bag.dags]
    if missing:
        raise CxwError(f"DAGs not found in dags/: {', '.join(missing)}")
    return {d: bag.dags[d] for d in dag_ids}


def days(start: date, end: date) -> Iterator[date]:
    d = start
    while d <= end:
        yield d
        d += timedelta(days=1)


@contextlib.contextmanager
def _captured(log_path: Path) -> Iterator[None]:
    """Send Airflow's task output to a log file; the console shows our summary instead."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    with log_path.open("a") as fh, contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
        root = logging.getLogger()
        handler = logging.StreamHandler(fh)
        root.addHandler(handler)
        try:
            yield
        finally:
            root.removeHandler(handler)


def run_dag(dag: Any, day: date, log_path: Path, conf: dict[str, Any] | None = None) -> DagResult:
    """One `dag.test()` processing the data of `day` (UTC): the run at midnight after it, whose
    data interval is [day, day + 1), as a scheduled run of that day would be."""
    logical = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)
    started = time.monotonic()
    error = None
    with _captured(log_path):
        try:
            dr = dag.test(logical_date=logical, run_conf=conf or None)
            state = str(getattr(dr, "state", "failed"))
        except Exception as exc:  # dag.test raises for some failures, returns others
            state, dr, error = "failed", None, f"{type(exc).__name__}: {exc}"
    failed = []
    if dr is not None:
        with contextlib.suppress(Exception):
            failed = [
                ti.task_id
                for ti in dr.get_task_instances()
                if str(ti.state) in ("failed", "upstream_failed")
            ]
    return DagResult(
        dag.dag_id,
        logical.isoformat(),
        state.split(".")[-1].lower(),
        time.monotonic() - started,
        failed,
        error,
    )


def prepare(settings: Settings) -> None:
    """Airflow's environment and metadata DB, ready for `dag.test()`."""
    airflow_env.apply(settings)
    ensure_airflow_db(settings)


def run_days(
    settings: Settings,
    start: date,
    end: date,
    *,
    on_result: Callable[[DagResult], None] | None = None,
    dag_ids: tuple[str, ...] = (*EXTRACT_DAGS, TRANSFORM_DAG),
) -> list[DagResult]:
    """Run the DAGs for each day in order; stop at the first failed DAG run."""
    prepare(settings)
    dags = load_dags(dag_ids)
    log_path = settings.logs_dir / "airflow-runs.log"
    results: list[DagResult] = []
    for day in days(start, end):
        for dag_id in dag_ids:
            res = run_dag(dags[dag_id], day, log_path)
            results.append(res)
            if on_result:
                on_result(res)
            if res.state != "success":
                return results
    return results


def last_log_lines(settings: Settings, n: int = 15) -> str:
    path = settings.logs_dir / "airflow-runs.log"
    if not path.exists():
        return ""
    lines = path.read_text(errors="replace").splitlines()
    return "\n".join(lines[-n:])
