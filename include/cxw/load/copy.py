"""Stream validated records into a raw table with PostgreSQL COPY, inside one batch transaction.

The batch is atomic: rows, rejects, the batch record and the watermark commit together, so a
run killed mid-way leaves nothing visible, and re-running an interval replaces its batch.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from cxw.errors import DataQualityError
from cxw.extract.spec import Column, StreamSpec

META_COLUMNS = (
    ("_extra", "jsonb"),
    ("_cxw_locator", "text"),
    ("_cxw_batch_id", "text not null"),
    ("_cxw_loaded_at", "timestamptz not null"),
    ("_cxw_source", "text not null"),
)

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_text(value: Any) -> str:
    """One value in PostgreSQL COPY text format."""
    if value is None:
        return "\\N"
    if isinstance(value, str):
        return value.translate(_ESCAPES)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (int, Decimal, float)):
        return str(value)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str).translate(_ESCAPES)
    return str(value).translate(_ESCAPES)


def copy_line(values: Iterable[Any]) -> str:
    return "\t".join(_copy_text(v) for v in values) + "\n"


@dataclass(frozen=True)
class BatchWindow:
    """What a batch covers: the DAG run's data interval and the extraction window."""

    interval_start: datetime
    interval_end: datetime
    watermark_from: datetime | None  # None = initial sync (all history)
    watermark_to: datetime
    content_hash: str | None = None


@dataclass
class BatchResult:
    batch_id: str
    source: str
    stream: str
    seen: int = 0
    loaded: int = 0
    rejected: int = 0
    unchanged: int = 0
    replaced_batches: int = 0
    reject_reasons: dict[str, int] = field(default_factory=dict)
    key_range: tuple[str, str] | None = None  # smallest and largest key loaded (as text)

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "source": self.source,
            "stream": self.stream,
            "seen": self.seen,
            "loaded": self.loaded,
            "rejected": self.rejected,
            "unchanged": self.unchanged,
            "replaced_batches": self.replaced_batches,
        }


Suppressor = Callable[[Mapping[str, Any], tuple[tuple[str, str], ...]], bool]


def ensure_table(conn: psycopg.Connection, spec: StreamSpec) -> None:
    """Create the raw table, or add columns the spec gained since (never drops any)."""
    cols = [sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.type)) for c in spec.columns]
    cols += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in META_COLUMNS]
    table = sql.Identifier(spec.schema, spec.table)
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(spec.schema)))
    conn.execute(
        sql.SQL("create table if not exists {} ({})").format(table, sql.SQL(", ").join(cols))
    )
    have = dict(
        conn.execute(
            "select column_name, column_default from information_schema.columns"
            " where table_schema = %s and table_name = %s",
            (spec.schema, spec.table),
        ).fetchall()
    )
    for c in spec.columns:
        if c.name not in have:
            conn.execute(
                sql.SQL("alter table {} add column {} {}").format(
                    table, sql.Identifier(c.name), sql.SQL(c.type)
                )
            )
    # The batch's metadata as column defaults (set per batch with `set local`), so a file can
    # be COPYed straight into the table without a per-row hop through Python. Set once: the
    # ALTER locks out readers, so it must not run on every batch.
    if have.get("_cxw_source") is None:
        conn.execute(
            sql.SQL(
                "alter table {} alter column _cxw_batch_id set default current_setting('cxw.batch_id'),"
                " alter column _cxw_locator set default current_setting('cxw.locator', true),"
                " alter column _cxw_loaded_at set default now(),"
                " alter column _cxw_source set default {}"
            ).format(table, sql.Literal(spec.source))
        )
    _create_indexes(conn, spec)


def _indexes(spec: StreamSpec) -> list[tuple[str, list[str]]]:
    """The raw table's indexes: by batch (replace, gate, de-duplicate) and by key + version."""
    keycols = [*spec.key, *([spec.version] if spec.version else [])]
    return [(f"{spec.table}__batch", ["_cxw_batch_id"]), (f"{spec.table}__key_version", keycols)]


def _create_indexes(conn: psycopg.Connection, spec: StreamSpec) -> None:
    for name, cols in _indexes(spec):
        conn.execute(
            sql.SQL("create index if not exists {} on {} ({})").format(
                sql.Identifier(name),
                sql.Identifier(spec.schema, spec.table),
                sql.SQL(", ").join(map(sql.Identifier, cols)),
            )
        )


def _drop_indexes_if_empty(conn: psycopg.Connection, spec: StreamSpec) -> bool:
    """Into an empty table (an initial sync), load first and build the indexes after: one
    sorted build is several times cheaper than maintaining them row by row."""
    table = sql.Identifier(spec.schema, spec.table)
    row = conn.execute(sql.SQL("select exists (select 1 from {})").format(table)).fetchone()
    if row and row[0]:
        return False
    for name, _ in _indexes(spec):
        conn.execute(sql.SQL("drop index if exists {}").format(sql.Identifier(spec.schema, name)))
    return True


def new_batch_id(spec: StreamSpec, window: BatchWindow) -> str:
    return f"{spec.source}.{spec.stream}.{window.interval_end:%Y%m%dT%H%M}.{uuid.uuid4().hex[:10]}"


def _stage_value(value: Any) -> Any:
    """A received value as the text the stage table holds (csv.writer writes None as NULL)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"), default=str)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class CsvFile:
    """A delivered CSV file whose header names the spec's fields (one header line): it can be
    COPYed straight into the raw table. `locator` is what its loaded rows record."""

    path: Path
    locator: str


def load_stream(
    conn: psycopg.Connection,
    spec: StreamSpec,
    records: Iterable[tuple[str, Mapping[str, Any]]],
    window: BatchWindow,
    *,
    reject_threshold: float = 0.01,
    suppress: Suppressor | None = None,
    chunk_bytes: int = 8 << 20,
    on_progress: Callable[[int], None] | None = None,
    on_commit: Callable[[psycopg.Connection, str], None] | None = None,
    files: Sequence[CsvFile] | None = None,
) -> BatchResult:
    """Stage, validate and load one batch; commit it with its watermark, or roll it all back.

    `records` yields `(locator, record)`; the locator says where a record came from (file and
    line, table and id) so a reject can be traced. A record carrying `_reject` (the extractor
    could not parse it) is quarantined as is, with `_raw` as its payload. Values are COPYed as
    received into a temporary table; checks and casts run in SQL, set-based. Raises
    `DataQualityError` when the rejected share exceeds `reject_threshold` (nothing is loaded
    and the batch is recorded as failed). `on_commit(conn, batch_id)` runs inside the batch
    transaction just before it commits (e.g. to record the files it covered).

    `files`, when given, are the same records as CSV files: they are first COPYed byte for
    byte into the typed raw table, and the batch's rows are checked in one scan. Only if that
    meets anything the careful path would treat differently (a value that does not cast, a
    failed check, a malformed line, an unknown or missing column, an erased person) is it
    rolled back and `records` loaded the careful way, so both paths give the same result.
    """
    if conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        raise RuntimeError("load_stream needs a connection with no open transaction")
    batch_id = new_batch_id(spec, window)
    result = BatchResult(batch_id, spec.source, spec.stream)
    pre_rejects: list[tuple[str, str, str | None]] = []
    try:
        with conn.transaction():
            conn.execute("set local timezone = 'UTC'")  # naive source timestamps are UTC
            ensure_table(conn, spec)
            result.replaced_batches = _replace_previous(conn, spec, window)
            rebuild = _drop_indexes_if_empty(conn, spec)
            conn.execute("select set_config('cxw.batch_id', %s, true)", (batch_id,))
            inserted = None
            if files is not None and (suppress is None or not spec.identifiers):
                inserted = _copy_files(conn, spec, files, batch_id, result, on_progress)
            if inserted is None:
                inserted = _stage_and_insert(
                    conn,
                    spec,
                    records,
                    batch_id,
                    result,
                    pre_rejects,
                    suppress,
                    chunk_bytes,
                    on_progress,
                )
            if rebuild:
                _create_indexes(conn, spec)
            staged = result.seen - len(pre_rejects)
            result.rejected = len(pre_rejects) + staged - inserted
            for _, reason, _ in pre_rejects:
                key = reason.split(":")[0]
                result.reject_reasons[key] = result.reject_reasons.get(key, 0) + 1
            for reason, n in conn.execute(
                "select reason, count(*) from cxw_meta.rejected_rows where batch_id = %s group by 1",
                (batch_id,),
            ):
                result.reject_reasons[reason] = result.reject_reasons.get(reason, 0) + n
            if result.seen and result.rejected / result.seen > reject_threshold:
                raise _TooManyRejects(result, reject_threshold)
            result.unchanged = _drop_unchanged(conn, spec, batch_id, result, earlier=not rebuild)
            result.loaded = inserted - result.unchanged
            if pre_rejects:
                _write_rejects(conn, spec, batch_id, pre_rejects)
            _record_batch(conn, spec, window, result, "committed", None)
            _advance_watermark(conn, spec, window, batch_id)
            if on_commit is not None:
                on_commit(conn, batch_id)
    except (_TooManyRejects, DataQualityError) as exc:
        message = str(exc)
        _record_failure(conn, spec, window, result, message)
        raise DataQualityError(message) from None
    if on_progress:
        on_progress(result.seen)
    return result


def _copy_files(
    conn: psycopg.Connection,
    spec: StreamSpec,
    files: Sequence[CsvFile],
    batch_id: str,
    result: BatchResult,
    on_progress: Callable[[int], None] | None,
) -> int | None:
    """COPY the files as they are into the raw table (the metadata columns come from their
    defaults), then check the batch's rows; None (and nothing kept) when they are not clean."""
    column_of = {c.field: c.name for c in spec.columns}
    plans = []
    for f in files:
        with f.path.open(encoding="utf-8", newline="") as fh:
            first = fh.readline()
        header = next(csv.reader([first]), []) if first.strip() else []
        if (
            not header
            or len(set(header)) != len(header)
            or not set(header) <= column_of.keys()
            or spec.missing_required(header)
        ):
            return None  # drift or an empty file: the careful path reports it
        plans.append((f, [column_of[h] for h in header]))
    table = sql.Identifier(spec.schema, spec.table)
    rules = _loaded_rules(spec)
    seen = 0
    try:
        with conn.transaction():  # a savepoint: on any surprise, nothing of this stays
            if rules:  # checked row by row as the COPY writes, dropped before the batch ends
                conn.execute(
                    sql.SQL("alter table {} add constraint {} check ({}) not valid").format(
                        table, sql.Identifier(_FAST_PATH_RULES), sql.SQL(rules)
                    )
                )
            for f, cols in plans:
                conn.execute("select set_config('cxw.locator', %s, true)", (f.locator,))
                statement = sql.SQL("copy {} ({}) from stdin with (format csv, header true)")
                with conn.cursor() as cur:
                    cols_sql = sql.SQL(", ").join(map(sql.Identifier, cols))
                    with (
                        cur.copy(statement.format(table, cols_sql)) as copy,
                        f.path.open("rb") as fh,
                    ):
                        for block in iter(lambda fh=fh: fh.read(1 << 20), b""):
                            copy.write(block)
                    seen += cur.rowcount
                if on_progress:
                    on_progress(seen)
            if rules:
                conn.execute(
                    sql.SQL("alter table {} drop constraint {}").format(
                        table, sql.Identifier(_FAST_PATH_RULES)
                    )
                )
    except (psycopg.DataError, psycopg.errors.CheckViolation, psycopg.errors.NotNullViolation):
        return None  # a value that does not cast, or a row the careful path treats differently
    result.seen = seen
    return seen


_FAST_PATH_RULES = "cxw_fast_path_rules"


def _loaded_rules(spec: StreamSpec) -> str:
    """Every check the careful path applies, and that it would store each text value unchanged
    (trimmed, non-empty), as one SQL condition over the stored row. The fast path adds it as a
    NOT VALID check constraint for the duration of its COPY (existing rows are not re-read, and
    a failing row aborts the COPY): cheaper than scanning the batch again after loading it."""
    conds = [cond for c in spec.columns for cond in c.loaded_checks(_q(c.name))]
    record = [cond for cond, _ in spec.checks]
    for c in spec.columns:  # record-level checks name the typed values "<column>__v"
        record = [cond.replace(_q(c.name + "__v"), _q(c.name)) for cond in record]
    return " and ".join(f"({cond})" for cond in conds + record)


def _stage_and_insert(
    conn: psycopg.Connection,
    spec: StreamSpec,
    records: Iterable[tuple[str, Mapping[str, Any]]],
    batch_id: str,
    result: BatchResult,
    pre_rejects: list[tuple[str, str, str | None]],
    suppress: Suppressor | None,
    chunk_bytes: int,
    on_progress: Callable[[int], None] | None,
) -> int:
    """The careful path: stage every value as text, then validate, cast and insert in SQL."""
    fields = spec.fields
    known = set(fields)
    json_idx = [i for i, c in enumerate(spec.columns) if c.type == "jsonb"]
    result.seen = 0
    stage = _create_stage(conn, spec)
    with conn.cursor().copy(
        sql.SQL("copy {} from stdin with (format csv)").format(sql.Identifier(stage))
    ) as copy:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        for locator, record in records:
            result.seen += 1
            if "_reject" in record:
                pre_rejects.append((locator, str(record["_reject"]), record.get("_raw")))
                continue
            if suppress is not None and suppress(record, spec.identifiers):
                pre_rejects.append((locator, "suppressed: an erased person", None))
                continue
            values = [record.get(f) for f in fields]
            for i in json_idx:
                values[i] = _stage_value(values[i])
            extra = None
            if len(record) != len(fields) or not known.issuperset(record):
                unknown = {
                    k: v for k, v in record.items() if k not in known and not k.startswith("_")
                }
                extra = json.dumps(unknown, default=str) if unknown else None
            writer.writerow([result.seen, locator, *map(_plain, values), extra])
            if buf.tell() >= chunk_bytes:
                copy.write(buf.getvalue())
                buf.seek(0)
                buf.truncate()
                if on_progress:
                    on_progress(result.seen)
        if buf.tell():
            copy.write(buf.getvalue())
    return _validate_and_insert(conn, spec, stage, batch_id)


def _plain(value: Any) -> Any:
    if value is None or isinstance(value, str):
        return value
    return _stage_value(value)


def _create_stage(conn: psycopg.Connection, spec: StreamSpec) -> str:
    name = f"_cxw_stage_{spec.source}_{spec.stream}"
    cols = [sql.SQL("{} text").format(sql.Identifier(c.name)) for c in spec.columns]
    conn.execute(sql.SQL("drop table if exists {}").format(sql.Identifier(name)))
    conn.execute(
        sql.SQL(
            "create temp table {} (_ord bigint, _locator text, {}, _extra text) on commit drop"
        ).format(sql.Identifier(name), sql.SQL(", ").join(cols))
    )
    return name


def _validate_and_insert(
    conn: psycopg.Connection, spec: StreamSpec, stage: str, batch_id: str
) -> int:
    """Quarantine invalid staged rows with their first failed check; load the rest, typed.

    One pass: each value is cast once, checks run on the typed values, and rejects and loaded
    rows are written from the same materialized result. Fast path first: every value is
    assumed to cast; if one does not, that attempt rolls back to a savepoint and the careful
    path guards each cast with `pg_input_is_valid`.
    """
    try:
        with conn.transaction():
            return _insert_checked(conn, spec, stage, batch_id, careful=False)
    except psycopg.DataError:  # a value that does not cast (class 22 errors)
        return _insert_checked(conn, spec, stage, batch_id, careful=True)


def _insert_checked(
    conn: psycopg.Connection, spec: StreamSpec, stage: str, batch_id: str, *, careful: bool
) -> int:
    cols = spec.columns
    texts = ", ".join(f"nullif(btrim({_q(c.name)}), '') as {_q(c.name)}" for c in cols)
    typed = ", ".join(f"{c.typed_expr(_q(c.name), careful)} as {_q(c.name + '__v')}" for c in cols)
    checks = [chk for c in cols for chk in c.checks(_q(c.name), _q(c.name + "__v"))]
    checks += list(spec.checks)
    reason = (
        "case " + " ".join(f"when not ({cond}) then {_lit(why)}" for cond, why in checks) + " end"
        if checks
        else "null::text"
    )
    payload = ", ".join(f"{_lit(c.name)}, {_q(c.name)}" for c in cols)
    target = [
        *(c.name for c in cols),
        "_extra",
        "_cxw_locator",
        "_cxw_batch_id",
        "_cxw_loaded_at",
        "_cxw_source",
    ]
    finals = ", ".join(c.final(_q(c.name + "__v")) for c in cols)
    cur = conn.execute(
        f"with t as (select _ord, _locator, {texts}, _extra from {_q(stage)}), "
        f"x as (select t.*, {typed} from t offset 0), "  # fence: cast once per value
        f"v as materialized (select x.*, {reason} as _reason from x), "
        "rej as (insert into cxw_meta.rejected_rows"
        " (source, stream, batch_id, locator, reason, payload)"
        f" select {_lit(spec.source)}, {_lit(spec.stream)}, %(b)s, _locator, _reason,"
        f" jsonb_strip_nulls(jsonb_build_object({payload}))::text"
        " from v where _reason is not null) "
        f"insert into {_q(spec.schema)}.{_q(spec.table)} ({', '.join(map(_q, target))})"
        f" select {finals}, _extra::jsonb, _locator, %(b)s, now(), {_lit(spec.source)}"
        " from v where _reason is null",
        {"b": batch_id},
    )
    return cur.rowcount


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _TooManyRejects(Exception):
    def __init__(self, result: BatchResult, threshold: float) -> None:
        top = ", ".join(
            f"{k} ({n})"
            for k, n in sorted(result.reject_reasons.items(), key=lambda kv: -kv[1])[:3]
        )
        super().__init__(
            f"{result.source}.{result.stream}: {result.rejected} of {result.seen} records rejected "
            f"({result.rejected / result.seen:.1%} > {threshold:.1%} allowed); top reasons: {top}. "
            "Fix the source or raise CXW_REJECT_THRESHOLD"
        )


def _replace_previous(conn: psycopg.Connection, spec: StreamSpec, window: BatchWindow) -> int:
    """Re-running an interval replaces its earlier batch (idempotent runs)."""
    rows = conn.execute(
        """update cxw_meta.batches set status = 'replaced'
           where source = %s and stream = %s and interval_start = %s and interval_end = %s
             and status = 'committed'
           returning batch_id""",
        (spec.source, spec.stream, window.interval_start, window.interval_end),
    ).fetchall()
    ids = [r[0] for r in rows]
    if ids:
        conn.execute(
            sql.SQL("delete from {} where _cxw_batch_id = any(%s)").format(
                sql.Identifier(spec.schema, spec.table)
            ),
            (ids,),
        )
        conn.execute("delete from cxw_meta.rejected_rows where batch_id = any(%s)", (ids,))
        conn.execute("delete from cxw_meta.delivered_files where batch_id = any(%s)", (ids,))
    return len(ids)


def _drop_unchanged(
    conn: psycopg.Connection,
    spec: StreamSpec,
    batch_id: str,
    result: BatchResult,
    *,
    earlier: bool = True,
) -> int:
    """Remove records whose identical version is already loaded (overlap window, resends).

    `earlier=False` says the table held no rows before this batch. One query over the batch
    finds whether it repeats a version within itself (then the repeats are removed,
    keeping the first occurrence) and its key range, recorded with the batch. The anti-join
    against earlier batches runs only when an earlier batch's key range overlaps this one (an
    append-only stream, such as a call log, never does); the table is analyzed first so the
    planner sees its real size right after a large COPY.
    """
    keycols = [*spec.key, *([spec.version] if spec.version else [])]
    table = sql.Identifier(spec.schema, spec.table)
    keys = sql.SQL(", ").join(map(sql.Identifier, keycols))
    first = spec.column(spec.key[0])
    if len(keycols) == 1:  # one sort of scalars (about 2x faster than a hash aggregate here)
        repeats = sql.SQL("count(*) > count(distinct {k})").format(k=keys)
    else:  # sorting row values is slow (16 s vs 7 s for 3.1M engagements): hash them
        repeats = sql.SQL(
            "(select exists (select 1 from {t} where _cxw_batch_id = %(b)s"
            " group by {k} having count(*) > 1))"
        ).format(t=table, k=keys)
    lo, hi, repeated = conn.execute(
        sql.SQL(
            "select min({f})::text, max({f})::text, {r} from {t} where _cxw_batch_id = %(b)s"
        ).format(t=table, r=repeats, f=sql.Identifier(first.name)),
        {"b": batch_id},
    ).fetchone()
    result.key_range = (lo, hi) if lo is not None and first.required else None
    within = 0
    if repeated:
        within = conn.execute(
            sql.SQL(
                "delete from {t} where ctid in (select ctid from (select ctid, row_number() over "
                "(partition by {k} order by ctid) as n from {t} where _cxw_batch_id = %s) d"
                " where n > 1)"
            ).format(t=table, k=keys),
            (batch_id,),
        ).rowcount
    if not earlier or lo is None:  # nothing before this batch, or nothing in it
        return within
    if result.key_range is not None and not _overlaps_earlier(conn, spec, first, batch_id, lo, hi):
        return within
    others = conn.execute(
        sql.SQL("select exists (select 1 from {t} where _cxw_batch_id <> %s)").format(t=table),
        (batch_id,),
    ).fetchone()
    if not (others and others[0]):
        return within
    conn.execute(sql.SQL("analyze {}").format(table))
    # plain equality on required columns (never null), so the probe can use the key index;
    # `is not distinct from` (not indexable) only where a null is possible
    required = {c.name for c in spec.columns if c.required}
    match = sql.SQL(" and ").join(
        sql.SQL("o.{c} = t.{c}" if c in required else "o.{c} is not distinct from t.{c}").format(
            c=sql.Identifier(c)
        )
        for c in keycols
    )
    dropped = conn.execute(
        sql.SQL(
            "delete from {t} t where t._cxw_batch_id = %s and exists "
            "(select 1 from {t} o where o._cxw_batch_id <> %s and {m})"
        ).format(t=table, m=match),
        (batch_id, batch_id),
    ).rowcount
    return within + dropped


def _overlaps_earlier(
    conn: psycopg.Connection, spec: StreamSpec, key: Column, batch_id: str, lo: str, hi: str
) -> bool:
    """Whether any committed batch of the stream that loaded rows may hold a key in [lo, hi]
    (compared in the key's type; a batch recorded without a range may hold any key). Rows
    only ever leave a batch (replacement, erasure), so its recorded range stays a bound."""
    key_type = sql.SQL(key.type)
    row = conn.execute(
        sql.SQL(
            "select exists (select 1 from cxw_meta.batches where source = %s and stream = %s"
            " and status = 'committed' and records_loaded > 0 and batch_id <> %s"
            " and (key_min is null or not (key_max::{ty} < %s::{ty} or key_min::{ty} > %s::{ty})))"
        ).format(ty=key_type),
        (spec.source, spec.stream, batch_id, lo, hi),
    ).fetchone()
    return bool(row and row[0])


def _write_rejects(
    conn: psycopg.Connection,
    spec: StreamSpec,
    batch_id: str,
    rejects: list[tuple[str, str, str | None]],
) -> None:
    with conn.cursor().copy(
        "copy cxw_meta.rejected_rows (source, stream, batch_id, locator, reason, payload) from stdin"
    ) as copy:
        for locator, reason, payload in rejects:
            copy.write_row((spec.source, spec.stream, batch_id, locator, reason, payload))


def _record_batch(
    conn: psycopg.Connection,
    spec: StreamSpec,
    window: BatchWindow,
    result: BatchResult,
    status: str,
    message: str | None,
) -> None:
    conn.execute(
        """insert into cxw_meta.batches (batch_id, source, stream, interval_start, interval_end,
               status, records_seen, records_loaded, records_rejected, records_unchanged,
               watermark_from, watermark_to, content_hash, message, key_min, key_max,
               finished_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())""",
        (
            result.batch_id,
            spec.source,
            spec.stream,
            window.interval_start,
            window.interval_end,
            status,
            result.seen,
            result.loaded,
            result.rejected,
            result.unchanged,
            window.watermark_from,
            window.watermark_to,
            window.content_hash,
            message,
            *(result.key_range or (None, None)),
        ),
    )


def _record_failure(
    conn: psycopg.Connection,
    spec: StreamSpec,
    window: BatchWindow,
    result: BatchResult,
    message: str,
) -> None:
    with conn.transaction():
        _record_batch(conn, spec, window, result, "failed", message)


def _advance_watermark(
    conn: psycopg.Connection, spec: StreamSpec, window: BatchWindow, batch_id: str
) -> None:
    """Watermarks only move forward, and only with their committed batch."""
    conn.execute(
        """insert into cxw_meta.watermarks (source, stream, value, batch_id)
           values (%s, %s, %s, %s)
           on conflict (source, stream) do update
             set value = excluded.value, batch_id = excluded.batch_id, updated_at = now()
             where cxw_meta.watermarks.value < excluded.value""",
        (spec.source, spec.stream, window.watermark_to, batch_id),
    )


def current_watermark(conn: psycopg.Connection, source: str, stream: str) -> datetime | None:
    row = conn.execute(
        "select value from cxw_meta.watermarks where source = %s and stream = %s", (source, stream)
    ).fetchone()
    return row[0] if row else None


def previous_window_start(
    conn: psycopg.Connection,
    source: str,
    stream: str,
    interval_start: datetime,
    interval_end: datetime,
) -> tuple[bool, datetime | None]:
    """For a re-run of an interval: the watermark its first committed batch started from."""
    row = conn.execute(
        """select watermark_from from cxw_meta.batches
           where source = %s and stream = %s and interval_start = %s and interval_end = %s
             and status in ('committed', 'replaced')
           order by started_at limit 1""",
        (source, stream, interval_start, interval_end),
    ).fetchone()
    return (row is not None, row[0] if row else None)
