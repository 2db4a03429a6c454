"""The quality gates the DAG tasks call (ARCHITECTURE.md section 1).

- `run_raw_gate`: GX checkpoint `raw_<source>` over the batches an extract run just loaded; on
  failure it alerts and raises `DataQualityError`, so the source's Asset is not emitted and
  `cx_transform` does not run on that data.
- `run_mart_gate`: GX checkpoint `analytics_candidate` over the candidate build; it returns its
  verdict (`success`) and `cxw.publish.publish_candidate` acts on it: publish, or record the
  rejection, alert and fail the run.

Every expectation result is recorded in `cxw_meta.quality_results` (with up to 5 offending rows
for a failed one) and GX data docs are updated under `$CXW_HOME/gx_data_docs`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from cxw.config import Settings
from cxw.errors import ConfigError, DataQualityError
from cxw.extract.spec import StreamSpec
from cxw.quality import params as qp
from cxw.quality.alerts import alert
from cxw.quality.context import DATASOURCE, GX_ROOT, data_docs_dir, get_context
from cxw.quality.marts import REGISTRY_FILE, Registry, load_registry
from cxw.quality.results import ResultRow, collect, record, sample_rows, summary_line
from cxw.quality.suites import (
    MART_CHECKPOINT,
    SCOPE_TABLE,
    mart_files,
    mart_query,
    param,
    raw_checkpoint,
    raw_files,
    raw_query,
    source_specs,
)

_SCOPE_DDL = f"""create table if not exists {SCOPE_TABLE} (
    checkpoint  text not null,
    data_asset  text not null,
    batch_id    text,
    run_id      text not null,
    scoped_at   timestamptz not null default now(),
    primary key (checkpoint, data_asset)
)"""


# ---- shared ---------------------------------------------------------------------------------
def _ensure_scope_table(conn: psycopg.Connection) -> None:
    """The batch pointer the raw query assets read (see `cxw.quality.suites.raw_query`).

    Belongs in a migration; created here (idempotently, one creator at a time) until it is.
    """
    if conn.execute("select to_regclass(%s)", (SCOPE_TABLE,)).fetchone()[0] is not None:
        return
    with conn.transaction():
        conn.execute("select pg_advisory_xact_lock(4243)")
        conn.execute(_SCOPE_DDL)


@contextmanager
def _checkpoint_lock(conn: psycopg.Connection, checkpoint: str) -> Iterator[None]:
    """One run of a checkpoint at a time (its scope rows and GX results are per checkpoint)."""
    key = f"cxw.quality:{checkpoint}"
    conn.execute("select pg_advisory_lock(hashtext(%s))", (key,))
    try:
        yield
    finally:
        with suppress(psycopg.Error):  # a broken connection has released it anyway
            conn.execute("select pg_advisory_unlock(hashtext(%s))", (key,))


def _assert_in_sync(root: Path, expected: dict[str, str]) -> None:
    stale = [
        rel
        for rel, text in sorted(expected.items())
        if not (root / rel).is_file() or (root / rel).read_text() != text
    ]
    if stale:
        raise ConfigError(
            f"the committed GX files are out of date ({', '.join(stale[:3])}"
            f"{', ...' if len(stale) > 3 else ''}): run `python -m cxw.quality.suites` "
            "and commit expectations/"
        )


def _run_checkpoint(context: Any, name: str, parameters: dict[str, Any], run_id: str, now):
    from great_expectations.core.run_identifier import RunIdentifier

    try:
        checkpoint = context.checkpoints.get(name)
    except Exception as exc:  # GX raises DataContextError subclasses with long messages
        raise ConfigError(
            f"GX checkpoint {name} not found in expectations/: run `python -m cxw.quality.suites`"
        ) from exc
    return checkpoint.run(
        expectation_parameters=parameters, run_id=RunIdentifier(run_name=run_id, run_time=now)
    )


def _annotate(
    conn: psycopg.Connection,
    rows: list[ResultRow],
    volumes: dict[str, qp.VolumeBounds],
    relation: Callable[[ResultRow], tuple[sql.Composable, dict[str, Any]]],
) -> None:
    """Add how volume bounds were derived (and the z-score) and sample offending rows."""
    for row in rows:
        if row.check == "volume":
            vol = volumes[row.suite]
            observed = int(row.observed.get("observed_value") or 0)
            row.observed["volume"] = vol.as_dict() | {"z": vol.z(observed)}
        rel, params = relation(row)
        row.sample_rows = sample_rows(conn, rel, row, params)


def _docs_index(settings: Settings) -> str:
    return str(data_docs_dir(settings) / "index.html")


# ---- raw gate -------------------------------------------------------------------------------
def run_raw_gate(
    settings: Settings,
    source: str,
    summary: dict[str, Any],
    run_id: str,
    *,
    specs: Sequence[StreamSpec] | None = None,
    root: Path | None = None,
) -> dict[str, Any]:
    """Validate each batch of an extract run with its stream's raw suite (checkpoint
    `raw_<source>`); record results; raise `DataQualityError` naming failures."""
    started = time.monotonic()
    root = root or GX_ROOT
    if summary.get("source", source) != source:
        raise ConfigError(f"summary of source {summary.get('source')!r} given to the {source} gate")
    specs = tuple(specs) if specs is not None else source_specs(source)
    by_stream = {s.stream: s for s in specs if s.source == source}
    checkpoint = raw_checkpoint(source)
    batches = list(summary.get("batches") or [])
    scope: dict[str, str] = {}
    for b in batches:
        spec = by_stream.get(b["stream"])
        if spec is None:
            raise ConfigError(
                f"batch {b['batch_id']} is for {source}.{b['stream']}, which has no StreamSpec"
            )
        scope[spec.qualified] = b["batch_id"]
    out: dict[str, Any] = {"checkpoint": checkpoint, "success": True, "expectations": 0}
    out |= {"failed": 0, "batches": [], "failures": []}
    if not batches:
        return out | {"seconds": round(time.monotonic() - started, 2)}

    _assert_in_sync(root, raw_files(by_stream.values()))
    context = get_context(settings, root)
    _assert_assets(context, {s.qualified: raw_query(s) for s in by_stream.values()})
    now = datetime.now(UTC)
    window_end = datetime.fromisoformat(summary["window"]["end"])

    from cxw.warehouse import connect

    with connect(settings, autocommit=True) as conn:
        _ensure_scope_table(conn)
        with _checkpoint_lock(conn, checkpoint):
            parameters: dict[str, Any] = {}
            volumes: dict[str, qp.VolumeBounds] = {}
            for spec in by_stream.values():  # every validation definition needs its parameters
                batch = _raw_batch(conn, source, spec, scope.get(spec.qualified), window_end)
                volumes[spec.qualified] = qp.raw_volume(conn, source, batch)
                parameters |= qp.raw_parameters(spec, batch, volumes[spec.qualified], now)
            _set_scope(conn, checkpoint, [s.qualified for s in by_stream.values()], scope, run_id)
            result = _run_checkpoint(context, checkpoint, parameters, run_id, now)
            rows = collect(result, checkpoint, dict(scope))

            def batch_rows(row: ResultRow) -> tuple[sql.Composable, dict[str, Any]]:
                spec = by_stream[row.suite.partition(".")[2]]
                relation = sql.SQL("(select * from {} where _cxw_batch_id = %(batch)s)")
                return relation.format(sql.Identifier(spec.schema, spec.table)), {
                    "batch": row.batch_id
                }

            _annotate(conn, rows, volumes, batch_rows)
            record(conn, run_id, checkpoint, rows)

    failures = [r.describe(by_stream[r.suite.partition(".")[2]].key) for r in rows if not r.success]
    for asset, batch_id in scope.items():
        mine = [r for r in rows if r.suite == asset]
        count = next((r.observed.get("observed_value") for r in mine if r.check == "volume"), None)
        out["batches"].append(
            {
                "batch_id": batch_id,
                "stream": asset.partition(".")[2],
                "suite": asset,
                "rows": count,
                "expectations": len(mine),
                "failed": sum(not r.success for r in mine),
                "volume": volumes[asset].as_dict(),
            }
        )
    out |= {
        "success": not failures,
        "expectations": len(rows),
        "failed": len(failures),
        "failures": failures,
        "data_docs": _docs_index(settings),
        "seconds": round(time.monotonic() - started, 2),
    }
    if failures:
        message = summary_line(f"raw gate failed for {source}", failures)
        details = "\n".join(failures)
        alert(
            settings, f"raw gate failed for {source}", f"{details}\ndata docs: {out['data_docs']}"
        )
        raise DataQualityError(message)
    return out


def _assert_assets(context: Any, queries: dict[str, str]) -> None:
    datasource = context.data_sources.get(DATASOURCE)
    have = {a.name: getattr(a, "query", None) for a in datasource.assets}
    stale = [name for name, query in queries.items() if have.get(name) != query]
    if stale:
        raise ConfigError(
            f"GX assets {', '.join(sorted(stale)[:3])} are missing or out of date in "
            "expectations/great_expectations.yml: run `python -m cxw.quality.suites`"
        )


def _raw_batch(
    conn: psycopg.Connection,
    source: str,
    spec: StreamSpec,
    batch_id: str | None,
    window_end: datetime,
) -> qp.RawBatch:
    if batch_id is None:  # a stream this run did not extract: its validation sees no rows
        return qp.RawBatch("", spec.stream, window_end, window_end, True, 0)
    batch = qp.raw_batch(conn, source, batch_id)
    if batch is None or batch.stream != spec.stream:
        raise ConfigError(
            f"batch {batch_id} is not a committed batch of {spec.qualified} "
            "(re-run the extract task: its summary no longer matches cxw_meta.batches)"
        )
    return batch


def _set_scope(
    conn: psycopg.Connection,
    checkpoint: str,
    assets: Sequence[str],
    scope: dict[str, str],
    run_id: str,
) -> None:
    """Point every asset of the checkpoint at the batch under audit (none: an empty batch)."""
    with conn.transaction():
        conn.execute(f"delete from {SCOPE_TABLE} where checkpoint = %s", (checkpoint,))
        with conn.cursor() as cur:
            cur.executemany(
                f"insert into {SCOPE_TABLE} (checkpoint, data_asset, batch_id, run_id) "
                "values (%s, %s, %s, %s)",
                [(checkpoint, a, scope.get(a), run_id) for a in assets],
            )


# ---- mart gate ------------------------------------------------------------------------------
def run_mart_gate(
    settings: Settings,
    run_id: str,
    *,
    root: Path | None = None,
    raise_on_failure: bool = False,
) -> dict[str, Any]:
    """Validate the candidate build (checkpoint `analytics_candidate`) against the mart
    registry; record results and return the verdict (publish_candidate acts on it)."""
    started = time.monotonic()
    root = root or GX_ROOT
    registry = load_registry(root / REGISTRY_FILE)
    _assert_in_sync(root, mart_files(registry))
    now = datetime.now(UTC)
    schema = registry.schema_name

    from cxw.warehouse import connect

    with connect(settings, autocommit=True) as conn:
        present = {
            r[0]
            for r in conn.execute(
                "select table_name from information_schema.tables where table_schema = %s",
                (schema,),
            )
        }
        rows = _registry_problems(registry, present)
        volumes: dict[str, qp.VolumeBounds] = {}
        if not rows:
            context = get_context(settings, root)
            _assert_assets(
                context, {registry.asset(m): mart_query(registry, m) for m in registry.marts}
            )
            parameters, volumes = _mart_parameters(conn, registry, qp.data_now(conn, now))
            with _checkpoint_lock(conn, MART_CHECKPOINT):
                result = _run_checkpoint(context, MART_CHECKPOINT, parameters, run_id, now)
            rows = collect(result, MART_CHECKPOINT, dict.fromkeys(volumes))
            _annotate(
                conn,
                rows,
                volumes,
                lambda row: (sql.Identifier(schema, row.suite.partition(".")[2]), {}),
            )
        record(conn, run_id, MART_CHECKPOINT, rows)

    def keys(row: ResultRow) -> tuple[str, ...]:
        entry = registry.marts.get(row.suite.partition(".")[2])
        return entry.key if entry else ()

    failures = [r.describe(keys(r)) for r in rows if not r.success]
    out = {
        "checkpoint": MART_CHECKPOINT,
        "run_id": run_id,
        "success": not failures,
        "expectations": len(rows),
        "failed": len(failures),
        "marts": [
            {
                "mart": asset,
                "rows": next(
                    (
                        r.observed.get("observed_value")
                        for r in rows
                        if r.suite == asset and r.check == "volume"
                    ),
                    None,
                ),
                "expectations": sum(r.suite == asset for r in rows),
                "failed": sum(r.suite == asset and not r.success for r in rows),
                "volume": vol.as_dict(),
            }
            for asset, vol in volumes.items()
        ],
        "failures": failures,
        "message": summary_line("mart gate failed", failures) if failures else "",
        "data_docs": _docs_index(settings),
        "seconds": round(time.monotonic() - started, 2),
    }
    if failures and raise_on_failure:
        alert(settings, "mart gate failed", out["message"])
        raise DataQualityError(out["message"])
    return out


def _mart_parameters(
    conn: psycopg.Connection, registry: Registry, as_of: datetime
) -> tuple[dict[str, Any], dict[str, qp.VolumeBounds]]:
    """Volume bounds from earlier publishes and freshness bounds from the data's "now"."""
    parameters: dict[str, Any] = {}
    volumes: dict[str, qp.VolumeBounds] = {}
    for mart, entry in registry.marts.items():
        asset = registry.asset(mart)
        vol = qp.volume_bounds(
            qp.mart_history(conn, mart, registry.volume.history),
            min_history=registry.volume.min_history,
            max_z=registry.volume.max_z,
            floor=registry.min_rows_for(mart),
        )
        volumes[asset] = vol
        parameters[param(asset, "rows_min")] = vol.min
        parameters[param(asset, "rows_max")] = vol.max
        if entry.freshness is not None:
            kind = _column_type(conn, registry.schema_name, mart, entry.freshness.column)
            parameters[param(asset, "fresh_after")] = qp.fresh_after(
                as_of, entry.freshness.max_age_days, kind
            )
    return parameters, volumes


def _registry_problems(registry: Registry, present: set[str]) -> list[ResultRow]:
    """Failures found before GX can run: missing marts, unregistered tables, no marts at all."""
    schema = registry.schema_name

    def problem(asset: str, check: str, message: str) -> ResultRow:
        return ResultRow(
            checkpoint=MART_CHECKPOINT,
            suite=asset,
            data_asset=asset,
            batch_id=None,
            expectation=check,
            column=None,
            success=False,
            observed={"exception": message},
            check=check,
        )

    rows = [
        problem(registry.asset(m), "mart_exists", f"mart {registry.asset(m)} does not exist")
        for m in registry.marts
        if m not in present
    ]
    rows += [
        problem(
            f"{schema}.{t}",
            "mart_registered",
            f"{schema}.{t} has no entry in expectations/{REGISTRY_FILE} "
            "(every published table needs quality checks)",
        )
        for t in sorted(present - registry.marts.keys())
    ]
    if not registry.marts:
        rows.append(
            problem(schema, "mart_registered", f"expectations/{REGISTRY_FILE} lists no marts")
        )
    return rows


def _column_type(conn: psycopg.Connection, schema: str, table: str, column: str) -> str:
    row = conn.execute(
        """select data_type from information_schema.columns
           where table_schema = %s and table_name = %s and column_name = %s""",
        (schema, table, column),
    ).fetchone()
    return "date" if row and row[0] == "date" else "timestamptz"
