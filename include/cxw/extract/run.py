"""Run one source's extraction for a data window: every stream, one atomic batch each.

Window rules (ARCHITECTURE.md section 4 and the Ingestion issue):
- first run of a stream (no watermark): initial sync, everything up to the window's end;
- later runs: what changed since the watermark, minus an overlap for late updates, up to the
  window's end (records already loaded are recognised and counted as unchanged);
- a re-run of an interval extracts the same range as its first run did, and replaces its batch.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, Protocol

import psycopg

from cxw.config import Settings
from cxw.extract.spec import StreamSpec
from cxw.load.copy import BatchWindow, current_watermark, load_stream, previous_window_start
from cxw.orchestration import Window

OVERLAP = timedelta(hours=48)  # late-arriving updates (the simulator sends some 1-2 days late)


class Extractor(Protocol):
    """What a source module provides (`cxw.extract.<source>.extractor(settings)`)."""

    source: str

    def streams(self) -> tuple[StreamSpec, ...]: ...

    def records(
        self, spec: StreamSpec, since: datetime | None, until: datetime
    ) -> Iterator[tuple[str, Mapping[str, Any]]]: ...

    def content_hash(self, spec: StreamSpec, since: datetime | None, until: datetime) -> str | None:
        """For file sources: a hash of the files the range covers (None for APIs/DBs)."""
        ...

    def close(self) -> None: ...


def get_extractor(settings: Settings, source: str) -> Extractor:
    module = importlib.import_module(f"cxw.extract.{source}")
    return module.extractor(settings)


def plan_window(
    conn: psycopg.Connection, spec: StreamSpec, window: Window, overlap: timedelta
) -> BatchWindow:
    """The extraction range for this stream and run (see the module docstring)."""
    rerun, first_from = previous_window_start(
        conn, spec.source, spec.stream, window.start, window.end
    )
    if rerun:
        since = first_from
    else:
        mark = current_watermark(conn, spec.source, spec.stream)
        since = None if mark is None else min(mark, window.end) - overlap
    return BatchWindow(window.start, window.end, since, window.end)


def run_source(
    settings: Settings, source: str, window: Window, *, overlap: timedelta = OVERLAP
) -> dict[str, Any]:
    """Extract and load every stream of `source` for `window`; returns the run summary."""
    from cxw.privacy.suppression import load_suppressor
    from cxw.warehouse import connect

    started = time.monotonic()
    extractor = get_extractor(settings, source)
    batches = []
    try:
        with connect(settings, autocommit=True) as conn:
            suppress = load_suppressor(conn, settings, source)
            for spec in extractor.streams():
                plan = plan_window(conn, spec, window, overlap)
                plan = BatchWindow(
                    plan.interval_start,
                    plan.interval_end,
                    plan.watermark_from,
                    plan.watermark_to,
                    extractor.content_hash(spec, plan.watermark_from, plan.watermark_to),
                )
                res = load_stream(
                    conn,
                    spec,
                    extractor.records(spec, plan.watermark_from, plan.watermark_to),
                    plan,
                    reject_threshold=settings.reject_threshold,
                    suppress=suppress,
                    on_commit=extractor.commit_hook(spec)
                    if hasattr(extractor, "commit_hook")
                    else None,
                    files=extractor.csv_files(spec) if hasattr(extractor, "csv_files") else None,
                )
                batches.append({**res.as_dict(), "initial_sync": plan.watermark_from is None})
    finally:
        extractor.close()
    return {
        "source": source,
        "window": {"start": window.start.isoformat(), "end": window.end.isoformat()},
        "batches": batches,
        "seconds": round(time.monotonic() - started, 2),
    }
