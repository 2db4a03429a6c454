"""Dynamic bounds for the suites, passed to GX as expectation parameters at checkpoint run time.

Volume (raw): a batch's loaded row count is compared with the last 14 committed batches of the
same stream *of the same kind*: incremental batches only. An initial sync carries all history
and is orders of magnitude larger than a daily batch, so it is neither checked against daily
batches nor part of their history. Before 5 earlier incremental batches exist the check is
skipped (bounds 0..unbounded). The bound is |z| <= 4 with a noise floor on the standard
deviation, max(sd, sqrt(mean), 1): a perfectly steady history (sd = 0) would otherwise reject
a batch one row larger, and sqrt(mean) is the spread of a Poisson count of that size.
An empty incremental batch (nothing changed since the watermark, e.g. a quiet Sunday) always
passes: the lower bound catches partial extractions, which still deliver some rows.

Volume (marts): the same z-score over the row counts of the last 14 published builds
(`cxw_meta.publish_log.row_counts`), with the registry's minimum row count as the floor.

Freshness (raw): an incremental batch holds what changed since the watermark (minus the 48 h
overlap), so its newest version is at most 3 days older than the window end unless the source
served stale data; an initial sync is exempt. The newest `_cxw_loaded_at` is within 24 hours
of the gate run (the gate audits the batch just loaded, not an old one).

Time bounds are relative to the run's data window, not the wall clock, so backfills and the
simulated sources (whose "now" is their last simulated day) are judged fairly.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg

from cxw.extract.spec import StreamSpec
from cxw.quality.suites import column_type, param

HISTORY = 14
MIN_HISTORY = 5
MAX_Z = 4.0
FUTURE_TOLERANCE = timedelta(days=1)  # timestamps may run ahead of the window end this much
DATA_MAX_AGE = timedelta(days=3)  # newest record version vs the window end (incl. 48h overlap)
LOADED_WITHIN = timedelta(hours=24)  # the batch under audit was loaded this recently
EARLIEST = datetime(1990, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class VolumeBounds:
    """Bounds on a row count, and how they were derived (recorded with the result)."""

    min: int
    max: int | None
    history: int
    mean: float | None = None
    sd: float | None = None
    note: str | None = None  # why the check is skipped or relaxed

    def z(self, value: int) -> float | None:
        if self.mean is None or not self.sd:
            return None
        return round((value - self.mean) / self.sd, 2)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def volume_bounds(
    history: Sequence[int],
    *,
    min_history: int = MIN_HISTORY,
    max_z: float = MAX_Z,
    floor: int = 0,
) -> VolumeBounds:
    """Row-count bounds |z| <= max_z from earlier counts (skipped: `floor`..unbounded)."""
    n = len(history)
    if n < min_history:
        return VolumeBounds(floor, None, n, note=f"skipped: {n} earlier batches < {min_history}")
    mean = statistics.fmean(history)
    sd = max(statistics.pstdev(history), math.sqrt(mean), 1.0)
    lo = max(floor, math.ceil(mean - max_z * sd))
    hi = math.floor(mean + max_z * sd)
    return VolumeBounds(lo, max(hi, lo), n, round(mean, 2), round(sd, 2))


# ---- raw ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RawBatch:
    """A committed batch, as `cxw_meta.batches` records it."""

    batch_id: str
    stream: str
    interval_start: datetime
    interval_end: datetime
    initial_sync: bool
    loaded: int


def raw_batch(conn: psycopg.Connection, source: str, batch_id: str) -> RawBatch | None:
    row = conn.execute(
        """select batch_id, stream, interval_start, interval_end, watermark_from is null,
                  records_loaded
           from cxw_meta.batches where batch_id = %s and source = %s and status = 'committed'""",
        (batch_id, source),
    ).fetchone()
    return RawBatch(*row) if row else None


def raw_volume(conn: psycopg.Connection, source: str, batch: RawBatch) -> VolumeBounds:
    if batch.initial_sync:
        return VolumeBounds(
            0, None, 0, note="skipped: initial sync (all history), no comparable batches"
        )
    history = [
        r[0]
        for r in conn.execute(
            """select records_loaded from cxw_meta.batches
               where source = %s and stream = %s and status = 'committed'
                 and watermark_from is not null and batch_id <> %s and interval_end <= %s
               order by interval_end desc, started_at desc limit %s""",
            (source, batch.stream, batch.batch_id, batch.interval_end, HISTORY),
        )
    ]
    bounds = volume_bounds(history)
    if batch.loaded == 0 and bounds.min > 0:
        note = "empty incremental batch (nothing changed since the watermark) is allowed"
        return VolumeBounds(0, bounds.max, bounds.history, bounds.mean, bounds.sd, note)
    return bounds


def raw_parameters(
    spec: StreamSpec, batch: RawBatch, volume: VolumeBounds, now: datetime
) -> dict[str, Any]:
    """The expectation parameters of one stream's suite for one batch."""
    asset = spec.qualified
    version = next((c for c in spec.columns if c.name == spec.version), None)
    # an initial sync holds all history, and a slow-changing entity (a company) may not have
    # changed for months: only an incremental batch must hold recent versions
    version_after: datetime | date = (
        EARLIEST if batch.initial_sync else batch.interval_end - DATA_MAX_AGE
    )
    if version is not None and column_type(version) == "date":
        version_after = version_after.date()
    return {
        param(asset, "rows_min"): volume.min,
        param(asset, "rows_max"): volume.max,
        param(asset, "ts_max"): batch.interval_end + FUTURE_TOLERANCE,
        param(asset, "loaded_after"): now - LOADED_WITHIN,
        param(asset, "version_after"): version_after,
    }


# ---- marts ----------------------------------------------------------------------------------
def mart_history(conn: psycopg.Connection, mart: str, limit: int) -> list[int]:
    """Row counts of `mart` in the last `limit` published builds that had it."""
    return [
        int(r[0])
        for r in conn.execute(
            """select row_counts ->> %s from cxw_meta.publish_log
               where status = 'published' and row_counts ? %s
               order by published_at desc limit %s""",
            (mart, mart, limit),
        )
    ]


def data_now(conn: psycopg.Connection, fallback: datetime) -> datetime:
    """The data's "now": the end of the latest committed raw batch (the wall clock if none)."""
    row = conn.execute(
        "select max(interval_end) from cxw_meta.batches where status = 'committed'"
    ).fetchone()
    return row[0] if row and row[0] else fallback


def fresh_after(as_of: datetime, max_age_days: float, column_type: str) -> datetime | date:
    bound = as_of - timedelta(days=max_age_days)
    return bound.date() if column_type == "date" else bound
