"""Stream validated records into a raw table with PostgreSQL COPY, inside one batch transaction.

The batch is atomic: rows, rejects, the batch record and the watermark commit together, so a
run killed mid-way leaves nothing visible, and re-running an interval replaces its batch.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from psycopg import sql

from cxw.errors import DataQualityError
from cxw.extract.spec import RecordRejected, StreamSpec

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


Suppressor = Callable[[Mapping[str, Any]], bool]


def ensure_table(conn: psycopg.Connection, spec: StreamSpec) -> None:
    """Create the raw table, or add columns the spec gained since (never drops any)."""
    cols = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(c.pg_type)) for c in spec.columns
    ]
    cols += [sql.SQL("{} {}").format(sql.Identifier(n), sql.SQL(t)) for n, t in META_COLUMNS]
    table = sql.Identifier(spec.schema, spec.table)
    conn.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(spec.schema)))
    conn.execute(
        sql.SQL("create table if not exists {} ({})").format(table, sql.SQL(", ").join(cols))
    )
    have = {
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema=%s and table_name=%s",
            (spec.schema, spec.table),
        )
    }
    for c in spec.columns:
        if c.name not in have:
            conn.execute(
                sql.SQL("alter table {} add column {} {}").format(
                    table, sql.Identifier(c.name), sql.SQL(c.pg_type)
                )
            )
    conn.execute(
        sql.SQL("create index if not exists {} on {} (_cxw_batch_id)").format(
            sql.Identifier(f"{spec.table}__batch"), table
        )
    )
    keycols = [*spec.key, *([spec.version] if spec.version else [])]
    conn.execute(
        sql.SQL("create index if not exists {} on {} ({})").format(
            sql.Identifier(f"{spec.table}__key_version"),
            table,
            sql.SQL(", ").join(map(sql.Identifier, keycols)),
        )
    )


def new_batch_id(spec: StreamSpec, window: BatchWindow) -> str:
    return f"{spec.source}.{spec.stream}.{window.interval_end:%Y%m%dT%H%M}.{uuid.uuid4().hex[:10]}"


def load_stream(
    conn: psycopg.Connection,
    spec: StreamSpec,
    records: Iterable[tuple[str, Mapping[str, Any]]],
    window: BatchWindow,
    *,
    reject_threshold: float = 0.01,
    suppress: Suppressor | None = None,
    chunk_bytes: int = 4 << 20,
    on_progress: Callable[[int], None] | None = None,
) -> BatchResult:
    """Validate and COPY one batch; commit it with its watermark, or roll it all back.

    `records` yields `(locator, record)`; the locator says where a record came from (file and
    line, table and id) so a reject can be traced. Raises `DataQualityError` when the rejected
    share exceeds `reject_threshold` (the batch is then not loaded, and recorded as failed).
    """
    batch_id = new_batch_id(spec, window)
    result = BatchResult(batch_id, spec.source, spec.stream)
    now = datetime.now(UTC)
    meta_tail = [batch_id, now.isoformat(), spec.source]
    target = sql.SQL("copy {} ({}) from stdin").format(
        sql.Identifier(spec.schema, spec.table),
        sql.SQL(", ").join(
            map(sql.Identifier, [*(c.name for c in spec.columns), *(n for n, _ in META_COLUMNS)])
        ),
    )
    rejects: list[tuple[str, str, str | None]] = []
    try:
        with conn.transaction():
            ensure_table(conn, spec)
            result.replaced_batches = _replace_previous(conn, spec, window)
            with conn.cursor().copy(target) as copy:
                buf: list[str] = []
                size = 0
                for locator, record in records:
                    result.seen += 1
                    if suppress is not None and suppress(record):
                        rejects.append((locator, "suppressed: an erased person", None))
                        continue
                    try:
                        values, extra = spec.convert(record)
                    except RecordRejected as exc:
                        rejects.append((locator, str(exc), _payload(record)))
                        continue
                    line = copy_line([*values, extra or None, locator, *meta_tail])
                    buf.append(line)
                    size += len(line)
                    if size >= chunk_bytes:
                        copy.write("".join(buf))
                        buf, size = [], 0
                        if on_progress:
                            on_progress(result.seen)
                if buf:
                    copy.write("".join(buf))
            result.rejected = len(rejects)
            for _, reason, _ in rejects:
                key = reason.split(":")[0]
                result.reject_reasons[key] = result.reject_reasons.get(key, 0) + 1
            if result.seen and result.rejected / result.seen > reject_threshold:
                raise _TooManyRejects(result, reject_threshold)
            result.unchanged = _drop_unchanged(conn, spec, batch_id)
            result.loaded = result.seen - result.rejected - result.unchanged
            if rejects:
                _write_rejects(conn, spec, batch_id, rejects)
            _record_batch(conn, spec, window, result, "committed", None)
            _advance_watermark(conn, spec, window, batch_id)
    except _TooManyRejects as exc:
        message = str(exc)
        _record_failure(conn, spec, window, result, message)
        raise DataQualityError(message) from None
    if on_progress:
        on_progress(result.seen)
    return result


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


def _payload(record: Mapping[str, Any]) -> str:
    raw = record.get("_raw")
    if isinstance(raw, str):
        return raw
    return json.dumps(dict(record), default=str, separators=(",", ":"))


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


def _drop_unchanged(conn: psycopg.Connection, spec: StreamSpec, batch_id: str) -> int:
    """Remove records whose identical version an earlier batch already loaded (overlap, resends).

    Also collapses exact repeats inside this batch, keeping the first.
    """
    keycols = [*spec.key, *([spec.version] if spec.version else [])]
    table = sql.Identifier(spec.schema, spec.table)
    match = sql.SQL(" and ").join(
        sql.SQL("o.{c} is not distinct from t.{c}").format(c=sql.Identifier(c)) for c in keycols
    )
    earlier = conn.execute(
        sql.SQL(
            "delete from {t} t using {t} o where t._cxw_batch_id = %s and o._cxw_batch_id <> %s and {m}"
        ).format(t=table, m=match),
        (batch_id, batch_id),
    ).rowcount
    within = conn.execute(
        sql.SQL(
            "delete from {t} t using {t} o where t._cxw_batch_id = %s and o._cxw_batch_id = %s "
            "and {m} and o.ctid < t.ctid"
        ).format(t=table, m=match),
        (batch_id, batch_id),
    ).rowcount
    return earlier + within


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
               watermark_from, watermark_to, content_hash, message, finished_at)
           values (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, now())""",
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
