"""Routing of what the world produces: record versions, daily drop lines and truth rows.

A record (shop row, CRM object) is born with all its future versions. Versions visible before
the run's end (the simulated now) collapse into the one final state written to its store; later
versions wait in the pending list (state/pending.pkl) until a later `advance` reaches them.
Drop lines and truth rows are routed to their day and written when that day is flushed.
"""

from __future__ import annotations

import csv
import pickle
from collections import defaultdict
from pathlib import Path
from typing import Any

from cxw.sources.crm_store import CrmSink
from cxw.sources.drops import DropWriter
from cxw.sources.shop import ShopSink
from cxw.sources.util import DAY_MS, Clock

LINK_HEADER = ["person_id", "source", "source_record_id"]
DEFECT_HEADER = ["locator", "stream", "kind", "category", "detail"]
COMMENT_HEADER = ["source", "source_record_id", "person_id", "sentiment", "topics", "has_pii"]


class Truth:
    """Append-only ground-truth files (identity links, defects, comments), one day at a time."""

    def __init__(self, truth_dir: Path, fresh: bool) -> None:
        truth_dir.mkdir(parents=True, exist_ok=True)
        self.files = {}
        self.writers = {}
        for name, header in (
            ("identity_links.csv", LINK_HEADER),
            ("defects.csv", DEFECT_HEADER),
            ("comments.csv", COMMENT_HEADER),
        ):
            fh = (truth_dir / name).open("w" if fresh else "a", encoding="utf-8", newline="")
            self.files[name] = fh
            self.writers[name] = csv.writer(fh, lineterminator="\n")
            if fresh:
                self.writers[name].writerow(header)

    def write(self, name: str, rows: list[tuple[Any, ...]]) -> None:
        self.writers[name].writerows(rows)

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()


class Router:
    """Sends versions to the stores or to pending, and day items to their drop day."""

    def __init__(
        self,
        clock: Clock,
        run_end: int,
        export_start: int,
        shop: ShopSink | None,
        crm: CrmSink,
        drops: DropWriter,
        truth: Truth,
    ) -> None:
        self.clock = clock
        self.run_end = run_end
        self.now_ms = clock.origin_ms + run_end * DAY_MS
        self.export_start = export_start
        self.shop = shop
        self.crm = crm
        self.drops = drops
        self.truth = truth
        self.future: dict[int, list[tuple[Any, ...]]] = defaultdict(list)
        self.pending: list[tuple[Any, ...]] = []
        self.counts: dict[str, int] = defaultdict(int)
        self.current_day = 0

    def day_of_ms(self, ms: int) -> int:
        return (ms - self.clock.origin_ms) // DAY_MS

    # ---- records ------------------------------------------------------------------------
    def record(
        self,
        system: str,
        table: str,
        key: int,
        versions: list[tuple[int, Any]],
        link: tuple[str, str, str] | None = None,
        defect: tuple[str, str, str, str] | None = None,
    ) -> None:
        """versions: (visible_ms, payload) in order; link: (person, source, id); defect row."""
        first_day = self.day_of_ms(versions[0][0])
        if link is not None:
            self.day_item(first_day, ("link", *link))
        if defect is not None:
            self.day_item(
                first_day, ("defect", defect[0], defect[1], defect[2], "invalid_record", defect[3])
            )
        last = None
        for vis_ms, payload in versions:
            if vis_ms < self.now_ms:
                last = payload
            else:
                self.pending.append(("rec", system, table, key, vis_ms, payload))
        if last is not None:
            self._write(system, table, last)

    def _write(self, system: str, table: str, payload: Any) -> None:
        self.counts[f"{system}.{table}"] += 1
        if system == "shop":
            if self.shop is not None:
                self.shop.write(table, payload)
        else:
            obj, created_ms, updated_ms = payload
            self.crm.write(table, obj, created_ms, updated_ms)

    # ---- day items ----------------------------------------------------------------------
    def day_item(self, day: int, item: tuple[Any, ...]) -> None:
        if day < self.current_day:
            raise AssertionError(f"item for day {day} routed on day {self.current_day}: {item[:3]}")
        if day < self.run_end:
            self.future[day].append(item)
        else:
            self.pending.append(("day", day, item))

    def drop(
        self,
        stream: str,
        items: list[tuple[int, tuple[Any, ...], Any]],
        link: tuple[str, str, str] | None = None,
        comment: tuple[Any, ...] | None = None,
    ) -> None:
        """Lines of one drop record: (drop day, sort key, payload); pre-export days vanish."""
        days = [d for d, _, _ in items if d >= self.export_start]
        if not days:
            return
        first = min(days)
        if link is not None:
            self.day_item(first, ("link", *link))
        if comment is not None:
            self.day_item(first, ("comment", *comment))
        for d, key, payload in items:
            if d >= self.export_start:
                self.day_item(d, ("drop", stream, key, payload))

    # ---- pending and flush --------------------------------------------------------------
    def load_pending(self, items: list[tuple[Any, ...]]) -> None:
        """Apply pending versions now visible; re-route pending day items."""
        latest: dict[tuple[str, str, int], Any] = {}
        for item in items:
            if item[0] == "rec":
                _, system, table, key, vis_ms, payload = item
                if vis_ms < self.now_ms:
                    latest[(system, table, key)] = payload
                else:
                    self.pending.append(item)
            else:
                self.day_item(item[1], item[2])
        for (system, table, _), payload in latest.items():
            self._write(system, table, payload)

    def flush_day(self, day: int) -> None:
        """Write the drop files (export days only) and truth rows of one day."""
        items = self.future.pop(day, [])
        links, defects, comments = [], [], []
        streams: dict[str, list[tuple[Any, Any]]] = defaultdict(list)
        for item in items:
            kind = item[0]
            if kind == "drop":
                streams[item[1]].append((item[2], item[3]))
            elif kind == "link":
                links.append(item[1:])
            elif kind == "defect":
                defects.append(item[1:])
            else:
                comments.append(item[1:])
        if day >= self.export_start:
            found, counts = self.drops.write_day(day, streams)
            for name, n in counts.items():
                self.counts[name] += n
        else:
            found = []
        links.sort(key=lambda r: (r[1], len(r[2]), r[2]))
        defects.sort()
        comments.sort(key=lambda r: (r[0], len(r[1]), r[1]))
        self.truth.write("identity_links.csv", links)
        self.truth.write("defects.csv", defects + found)
        self.truth.write("comments.csv", comments)
        self.counts["truth.defects"] += len(defects) + len(found)
        self.current_day = day + 1


def save_pending(path: Path, items: list[tuple[Any, ...]]) -> None:
    tmp = path.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        pickle.dump(items, fh, protocol=pickle.HIGHEST_PROTOCOL)
    tmp.replace(path)


def load_pending(path: Path) -> list[tuple[Any, ...]]:
    if not path.exists():
        return []
    with path.open("rb") as fh:
        return pickle.load(fh)
