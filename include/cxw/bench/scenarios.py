"""The benchmark scenarios. Each returns a dict of measured figures (no assertions here:
tests check behaviour, `cxw bench` measures speed and memory)."""

from __future__ import annotations

import csv
import random
import subprocess
import tempfile
from dataclasses import replace
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


def _write_calls(path: Path, rows: int, first_id: int = 0, seed: int = 1) -> list[str]:
    rng = random.Random(seed)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    header = [c.name for c in LOAD_SPEC.columns]
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        for i in range(first_id, first_id + rows):
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


def load(settings: Settings, rows: int = 200_000, repeats: int = 5) -> dict[str, Any]:
    """The COPY loader against `psql \\copy` of the same rows, and pandas `to_sql`.

    Two loads, each timed for both: the initial load of a file into an empty table, then a
    second file of new rows appended to the table that holds the first. psql copies into a
    table with the raw table's exact definition (metadata columns, defaults, indexes): the same
    rows into the same table. The cxw loader is timed end to end: COPY, the checks, the
    de-duplication, the batch record and watermark. psql into a bare typed table (no metadata
    columns, no indexes) is also timed, as the physical floor. The whole sequence runs
    `repeats` times from empty tables and each figure is the fastest of its runs (a shared
    machine only ever slows a run down).
    """
    import pandas as pd

    from cxw.load.copy import BatchWindow, CsvFile, ensure_table, load_stream
    from cxw.warehouse import connect, engine
    from cxw.warehouse.embedded import bin_dir

    tmp = Path(tempfile.mkdtemp(prefix="cxw-bench-"))
    first, second = tmp / "calls_1.csv", tmp / "calls_2.csv"
    header = _write_calls(first, rows)
    _write_calls(second, rows, first_id=rows, seed=2)
    ddl = ", ".join(f"{c.name} {c.type}" for c in LOAD_SPEC.columns)
    twin = replace(LOAD_SPEC, stream="bench_psql_raw")
    tables = ("bench_calls", "bench_psql", "bench_psql_raw", "bench_to_sql")
    cols = ", ".join(c.name for c in LOAD_SPEC.columns)
    psql = bin_dir() / "psql"

    def psql_copy(table: str, path: Path, batch: str) -> None:
        subprocess.run(
            [
                str(psql),
                settings.libpq_url(),
                "-q",
                "-c",
                f"set cxw.batch_id = '{batch}'",
                "-c",
                f"\\copy raw_contact_center.{table} ({cols}) from '{path}' with (format csv, header true)",
            ],
            check=True,
        )

    def records(path: Path):
        with path.open(newline="") as fh:
            reader = csv.reader(fh)
            next(reader)
            for n, row in enumerate(reader, start=2):
                yield f"{path.name}:line {n}", dict(zip(header, row, strict=True))

    def cxw_copy(path: Path, day: int) -> None:
        start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(days=day)
        window = BatchWindow(start, start + timedelta(days=1), None, start + timedelta(days=1))
        with connect(settings, autocommit=True) as conn:
            load_stream(conn, LOAD_SPEC, records(path), window, files=[CsvFile(path, path.name)])

    def clear(conn) -> None:
        for t in tables:
            conn.execute(f"drop table if exists raw_contact_center.{t}")
        conn.execute("delete from cxw_meta.watermarks where stream = 'bench_calls'")
        conn.execute("delete from cxw_meta.batches where stream = 'bench_calls'")

    def reset() -> None:
        with connect(settings, autocommit=True) as conn:
            clear(conn)
            conn.execute(f"create table raw_contact_center.bench_psql ({ddl})")
            with conn.transaction():
                ensure_table(conn, twin)

    best: dict[str, Any] = {}
    peak_mb = 0.0

    def timed(name: str, step) -> None:
        nonlocal peak_mb
        with measured() as m:
            step()
        if name not in best or m.seconds < best[name].seconds:
            best[name] = m
        if name.startswith("cxw"):
            peak_mb = max(peak_mb, m.peak_rss_mb)

    for _ in range(repeats):
        reset()
        timed("psql_bare", lambda: psql_copy("bench_psql", first, "initial"))
        timed("cxw_initial", lambda: cxw_copy(first, 0))
        timed("psql_initial", lambda: psql_copy("bench_psql_raw", first, "initial"))
        timed("psql_append", lambda: psql_copy("bench_psql_raw", second, "append"))
        timed("cxw_append", lambda: cxw_copy(second, 1))
        with connect(settings, autocommit=True) as conn:
            loaded = conn.execute("select count(*) from raw_contact_center.bench_calls").fetchone()
        if loaded[0] != 2 * rows:
            raise RuntimeError(f"bench load: {loaded[0]} rows loaded, expected {2 * rows}")
    sample = min(rows, 50_000)
    with measured() as m_pandas:
        frame = pd.read_csv(first, nrows=sample)
        frame.to_sql(
            "bench_to_sql",
            engine(settings),
            schema="raw_contact_center",
            if_exists="replace",
            index=False,
            chunksize=10_000,
        )
    with connect(settings, autocommit=True) as conn:
        clear(conn)
    first.unlink()
    second.unlink()

    def rps(name: str) -> int:
        return round(rows / best[name].seconds)

    initial = rps("cxw_initial") / rps("psql_initial")
    append = rps("cxw_append") / rps("psql_append")
    return {
        "rows": rows,
        "initial": {
            "cxw_rows_per_s": rps("cxw_initial"),
            "psql_rows_per_s": rps("psql_initial"),
            "ratio": round(initial, 3),
            "psql_target": "the raw table's definition, empty",
            "psql_bare_rows_per_s": rps("psql_bare"),
            "ratio_to_bare": round(rps("cxw_initial") / rps("psql_bare"), 3),
        },
        "append": {
            "cxw_rows_per_s": rps("cxw_append"),
            "psql_rows_per_s": rps("psql_append"),
            "ratio": round(append, 3),
            "psql_target": "the raw table's definition, holding the first file",
        },
        "pandas_to_sql_rows_per_s": round(sample / m_pandas.seconds),
        "cxw_copy_peak_rss_mb": peak_mb,
        "repeats": repeats,
        "ratio_cxw_to_psql": round(min(initial, append), 3),
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


def pipeline(
    settings: Settings, customers: int, days: int = 365, *, reuse_world: bool = False
) -> dict[str, Any]:
    """`full`: generate N customers x D days and run the initial sync + transform;
    `incremental`: advance one day and run that day. Wall time and peak memory per DAG."""
    from cxw import runner, warehouse
    from cxw.cli.demo import reset_warehouse
    from cxw.sources import advance, current_end_date, generate, read_state

    warehouse.start(settings)
    reset_warehouse(settings)
    state = read_state(settings)
    reuse = (
        reuse_world
        and state is not None
        and state["params"]["customers"] == customers
        and days <= state.get("days", 0) <= days + 7
    )
    with measured() as m_gen:
        if not reuse:  # the simulated sources: the outside world, not part of the pipeline
            generate(settings, customers=customers, days=days)
    end = current_end_date(settings)
    runner.prepare(settings)  # the DAGs' tasks read their settings from this environment
    crm = _CrmApiProcess(settings)  # the outside world runs outside the pipeline's process
    from cxw.config import get_settings

    get_settings.cache_clear()
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
            print(  # progress on a long run, and a record if it is stopped half-way
                f"bench   {day} {dag_id}: {res.state} in {m.seconds:.1f} s, "
                f"peak RSS {m.peak_rss_mb} MB",
                flush=True,
            )
            if res.state != "success":
                break
        return {
            "seconds": round(sum(s["seconds"] for s in stages.values()), 1),
            "peak_rss_mb": max(s["peak_rss_mb"] for s in stages.values()),
            "succeeded": all(s["state"] == "success" for s in stages.values()),
            "stages": stages,
        }

    try:
        full = run_day(end)
        advance(settings, days=1)
        incremental = run_day(end + timedelta(days=1))
    finally:
        crm.stop()
    return {
        "customers": customers,
        "days": state["days"] if reuse else days,
        "generate_seconds": None if reuse else m_gen.seconds,
        "world_reused": reuse,
        "full": full,
        "incremental": incremental,
        "incremental_to_full": round(incremental["seconds"] / full["seconds"], 4)
        if full["seconds"]
        else None,
    }


class _CrmApiProcess:
    """The simulated CRM API in a process of its own, as a real CRM would be: served in the
    pipeline's process it would share the interpreter (and its lock) with the extraction it
    feeds. The extract DAG reaches it as a real CRM, through CXW_CRM_URL and an API key."""

    def __init__(self, settings: Settings) -> None:
        import os
        import shutil
        import socket
        import sys
        import time

        from cxw.sources.crm_store import api_key

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        cxw = shutil.which("cxw") or str(Path(sys.executable).with_name("cxw"))
        env = {**os.environ, "CXW_HOME": str(settings.home), "CXW_PG_PORT": str(settings.pg_port)}
        self.proc = subprocess.Popen(
            [cxw, "sources", "serve-crm", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError("bench: the CRM API simulator did not start") from None
                time.sleep(0.2)
        self._saved = {k: os.environ.get(k) for k in ("CXW_CRM_URL", "CXW_CRM_API_KEY")}
        os.environ["CXW_CRM_URL"] = f"http://127.0.0.1:{port}"
        os.environ["CXW_CRM_API_KEY"] = api_key(settings)

    def stop(self) -> None:
        import os

        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        for key, value in getattr(self, "_saved", {}).items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
