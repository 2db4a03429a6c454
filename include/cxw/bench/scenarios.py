"""The benchmark scenarios. Each returns a dict of measured figures (no assertions here:
tests check behaviour, `cxw bench` measures speed and memory)."""

from __future__ import annotations

import csv
import random
import subprocess
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cxw.bench.memory import measured
from cxw.config import Settings
from cxw.extract.spec import Column, StreamSpec

LOAD_SPEC = StreamSpec(
    "contact_center",
    "bench_calls",
    (
        Column("call_id", "bigint", required=True),
        Column("caller_phone"),
        Column("queue", choices=frozenset({"orders", "billing", "returns"})),
        Column("agent_id"),
        Column("offered_at", "timestamptz", required=True),
        Column("answered_at", "timestamptz"),
        Column("ended_at", "timestamptz"),
        Column("hold_seconds", "bigint", non_negative=True),
        Column("wrap_seconds", "bigint", non_negative=True),
        Column("abandoned", choices=frozenset({"true", "false"})),
    ),
    key=("call_id",),
)


def _write_calls(path: Path, rows: int, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    header = [c.name for c in LOAD_SPEC.columns]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(rows):
            o = t0 + timedelta(seconds=i * 7)
            w.writerow(
                [
                    i,
                    f"+1555{rng.randrange(10**7):07d}",
                    rng.choice(["orders", "billing", "returns"]),
                    f"AG{rng.randrange(1, 31):03d}",
                    o.isoformat(),
                    (o + timedelta(seconds=30)).isoformat(),
                    (o + timedelta(seconds=300)).isoformat(),
                    rng.randrange(100),
                    rng.randrange(60),
                    "false",
                ]
            )
    return header


def load(settings: Settings, rows: int = 200_000) -> dict[str, Any]:
    """The COPY loader against `psql \\copy` of the same rows, and pandas `to_sql`."""
    import pandas as pd

    from cxw.load.copy import BatchWindow, load_stream
    from cxw.warehouse import connect, engine
    from cxw.warehouse.embedded import bin_dir

    tmp = Path(tempfile.mkdtemp(prefix="cxw-bench-"))
    path = tmp / "calls.csv"
    header = _write_calls(path, rows)
    ddl = ", ".join(f"{c.name} {c.type}" for c in LOAD_SPEC.columns)
    with connect(settings, autocommit=True) as conn:
        for t in ("bench_calls", "bench_psql", "bench_to_sql"):
            conn.execute(f"drop table if exists raw_contact_center.{t}")
        conn.execute(f"create table raw_contact_center.bench_psql ({ddl})")
    psql = bin_dir() / "psql"
    with measured() as m_psql:
        subprocess.run(
            [
                str(psql),
                settings.libpq_url(),
                "-q",
                "-c",
                f"\\copy raw_contact_center.bench_psql from '{path}' with (format csv, header true)",
            ],
            check=True,
        )

    def records():
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for n, row in enumerate(reader, start=2):
                yield f"calls.csv:line {n}", dict(zip(header, row, strict=True))

    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    with connect(settings, autocommit=True) as conn, measured() as m_copy:
        load_stream(conn, LOAD_SPEC, records(), BatchWindow(t0, t0 + timedelta(days=1), None, t0))
    sample = min(rows, 50_000)
    with measured() as m_pandas:
        frame = pd.read_csv(path, nrows=sample)
        frame.to_sql(
            "bench_to_sql",
            engine(settings),
            schema="raw_contact_center",
            if_exists="replace",
            index=False,
            chunksize=10_000,
        )
    with connect(settings, autocommit=True) as conn:
        for t in ("bench_calls", "bench_psql", "bench_to_sql"):
            conn.execute(f"drop table if exists raw_contact_center.{t}")
        conn.execute("delete from cxw_meta.watermarks where stream = 'bench_calls'")
        conn.execute("delete from cxw_meta.batches where stream = 'bench_calls'")
    path.unlink()
    copy_rps = rows / m_copy.seconds
    psql_rps = rows / m_psql.seconds
    return {
        "rows": rows,
        "cxw_copy_rows_per_s": round(copy_rps),
        "psql_copy_rows_per_s": round(psql_rps),
        "pandas_to_sql_rows_per_s": round(sample / m_pandas.seconds),
        "ratio_cxw_to_psql": round(copy_rps / psql_rps, 3),
        "cxw_copy_peak_rss_mb": m_copy.peak_rss_mb,
        "note": "cxw validates, casts and quarantines every value; psql only copies",
    }


def clv(n_customers: int) -> dict[str, Any]:
    from cxw.enrich.clv import bench_clv

    with measured() as m:
        out = bench_clv(n_customers)
    return {**out, "peak_rss_mb": m.peak_rss_mb}


def nlp(settings: Settings, n_texts: int = 5000) -> dict[str, Any]:
    from cxw.enrich.nlp import bench_nlp

    with measured() as m:
        out = bench_nlp(n_texts, cache_dir=settings.home / "models")
    return {**out, "peak_rss_mb": m.peak_rss_mb}


def identity(n_people: int) -> dict[str, Any]:
    from cxw.enrich.identity import bench_identity

    with measured() as m:
        out = bench_identity(n_people)
    return {**out, "peak_rss_mb_sampled": m.peak_rss_mb}


def pipeline(settings: Settings, customers: int, days: int = 365) -> dict[str, Any]:
    """`full`: generate N customers x D days and run the initial sync + transform;
    `incremental`: advance one day and run that day. Wall time and peak memory per DAG."""
    from cxw import runner, warehouse
    from cxw.cli.demo import reset_warehouse
    from cxw.sources import advance, current_end_date, generate

    warehouse.start(settings)
    reset_warehouse(settings)
    with measured() as m_gen:
        generate(settings, customers=customers, days=days)
    end = current_end_date(settings)
    runner.prepare(settings)
    dags = runner.load_dags((*runner.EXTRACT_DAGS, runner.TRANSFORM_DAG))
    log = settings.logs_dir / "bench-runs.log"

    def run_day(day) -> dict[str, Any]:
        stages = {}
        for dag_id, dag in dags.items():
            with measured() as m:
                res = runner.run_dag(dag, day, log)
            stages[dag_id] = {
                "seconds": m.seconds,
                "peak_rss_mb": m.peak_rss_mb,
                "state": res.state,
            }
            if res.state != "success":
                break
        return {
            "seconds": round(sum(s["seconds"] for s in stages.values()), 1),
            "peak_rss_mb": max(s["peak_rss_mb"] for s in stages.values()),
            "succeeded": all(s["state"] == "success" for s in stages.values()),
            "stages": stages,
        }

    full = run_day(end)
    advance(settings, days=1)
    incremental = run_day(end + timedelta(days=1))
    return {
        "customers": customers,
        "days": days,
        "generate_seconds": m_gen.seconds,
        "full": full,
        "incremental": incremental,
        "incremental_to_full": round(incremental["seconds"] / full["seconds"], 4)
        if full["seconds"]
        else None,
    }
