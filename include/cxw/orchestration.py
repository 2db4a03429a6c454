"""What the DAG files share: defaults, Assets, and how a run's data window is derived.

DAG files stay thin (ARCHITECTURE.md section 7): they import this module (cheap: no Airflow
task code, pandas, GX or spaCy at import time) and call task functions from `cxw.tasks`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

SOURCES = ("crm", "shop", "contact_center", "survey")
START_DATE = datetime(2025, 1, 1, tzinfo=UTC)
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "cx-data-eng",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=10),
}
TAGS = ["cxw"]


def raw_asset_uri(source: str) -> str:
    return f"cxw://warehouse/raw_{source}"


ANALYTICS_URI = "cxw://warehouse/analytics"


@dataclass(frozen=True)
class Window:
    """The data interval a run covers: [start, end) in UTC."""

    start: datetime
    end: datetime

    @property
    def day(self) -> str:
        return f"{self.start:%Y-%m-%d}"


def window_from_context(context: dict[str, Any]) -> Window:
    """A run's window is its data interval (the extract DAGs' timetable gives each run the day
    before it); a zero-width interval (a DAG with no data interval, e.g. triggered with only a
    logical date) means the day that ends at the logical date."""
    start = context.get("data_interval_start") or context["logical_date"]
    end = context.get("data_interval_end") or start
    start = _utc(start)
    end = _utc(end)
    if end <= start:
        end = start.replace(hour=0, minute=0, second=0, microsecond=0)
        start = end - timedelta(days=1)
    return Window(start, end)


def _utc(value: Any) -> datetime:
    ts = datetime.fromisoformat(str(value)) if not isinstance(value, datetime) else value
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=UTC)
    return datetime.fromtimestamp(ts.timestamp(), tz=UTC)
