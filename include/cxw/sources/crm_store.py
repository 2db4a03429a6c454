"""The CRM's own storage: one SQLite file the REST simulator reads, never all in memory.

Each object is stored as its current state (the JSON the API returns) with integer-millisecond
`updated_ms` and an index on (type, archived, updated_ms, id) that serves cursor pages sorted
by (updatedAt, id). `meta.now_ms` holds the simulated now; nothing later is ever served.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
from pathlib import Path
from typing import Any

from cxw.config import Settings

OBJECT_TYPES = ("contacts", "companies", "deals", "engagements")
BUFFER_ROWS = 20_000


def crm_dir(settings: Settings) -> Path:
    return settings.sources_dir / "crm"


def store_path(settings: Settings) -> Path:
    return crm_dir(settings) / "crm.sqlite"


def api_key_path(settings: Settings) -> Path:
    """Where the CRM simulator's API key lives ($CXW_HOME/sources/crm/api_key, mode 0600)."""
    return crm_dir(settings) / "api_key"


def api_key(settings: Settings) -> str:
    """The CRM API key, generated once and kept (0600) across regenerations."""
    path = api_key_path(settings)
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    value = "pat-na1-" + secrets.token_hex(16)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(value + "\n")
    return value


def _schema(conn: sqlite3.Connection) -> None:
    conn.executescript(
        """
        create table if not exists objects (
            type text not null, id integer not null, created_ms integer not null,
            updated_ms integer not null, archived integer not null, body text not null,
            unique (type, id));
        create table if not exists meta (key text primary key, value text not null);
        """
    )


class CrmSink:
    """Buffered upserts of object states into the store (a fresh file, or the existing one)."""

    def __init__(self, settings: Settings, fresh: bool) -> None:
        self.final = store_path(settings)
        self.final.parent.mkdir(parents=True, exist_ok=True)
        self.fresh = fresh
        self.path = self.final.with_suffix(".sqlite.tmp") if fresh else self.final
        if fresh and self.path.exists():
            self.path.unlink()
        self.conn = sqlite3.connect(self.path, timeout=30)
        if fresh:
            self.conn.execute("pragma journal_mode = off")
            self.conn.execute("pragma synchronous = off")
        else:
            self.conn.execute("pragma journal_mode = wal")
        _schema(self.conn)
        self.buffer: list[tuple[Any, ...]] = []

    def write(self, otype: str, obj: dict[str, Any], created_ms: int, updated_ms: int) -> None:
        body = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        self.buffer.append(
            (otype, int(obj["id"]), created_ms, updated_ms, 1 if obj["archived"] else 0, body)
        )
        if len(self.buffer) >= BUFFER_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.buffer:
            self.conn.executemany(
                "insert or replace into objects values (?, ?, ?, ?, ?, ?)", self.buffer
            )
            self.buffer.clear()

    def close(self, now_ms: int) -> dict[str, int]:
        """Flush, index, record the simulated now, and (fresh) move the file into place."""
        self._flush()
        self.conn.execute(
            "create index if not exists objects_sync on objects (type, archived, updated_ms, id)"
        )
        self.conn.execute("insert or replace into meta values ('now_ms', ?)", (str(now_ms),))
        self.conn.commit()
        counts = dict.fromkeys(OBJECT_TYPES, 0)
        for otype, n in self.conn.execute("select type, count(*) from objects group by type"):
            counts[otype] = int(n)
        if self.fresh:
            self.conn.execute("pragma journal_mode = wal")
        self.conn.close()
        if self.fresh:
            for suffix in ("-wal", "-shm"):
                Path(str(self.final) + suffix).unlink(missing_ok=True)
            os.replace(self.path, self.final)
        return counts

    def abort(self) -> None:
        self.conn.close()
