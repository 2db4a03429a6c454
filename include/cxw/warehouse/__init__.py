"""The warehouse server: the embedded PostgreSQL, or any server named by `CXW_WAREHOUSE_URL`."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import psycopg
import sqlalchemy as sa

from cxw.config import WAREHOUSE_DB, Settings
from cxw.errors import WarehouseError
from cxw.warehouse import embedded
from cxw.warehouse.migrate import bootstrap


@dataclass(frozen=True)
class Status:
    embedded: bool
    running: bool
    address: str
    pid: int | None
    migrations: int | None


def start(settings: Settings) -> Status:
    """Start (embedded) or reach (external) the server, then create databases, roles, schemas."""
    if settings.embedded:
        embedded.start(settings)
    bootstrap(settings)
    return status(settings)


def stop(settings: Settings) -> bool:
    if not settings.embedded:
        return False
    return embedded.stop(settings)


def status(settings: Settings) -> Status:
    host, port = settings.server_address()
    pid = None
    running = False
    if settings.embedded:
        st = embedded.state(settings)
        running, pid = st.running, st.pid
    migrations = None
    try:
        with psycopg.connect(settings.libpq_url(WAREHOUSE_DB), connect_timeout=5) as conn:
            running = True
            row = conn.execute("select count(*) from cxw_meta.schema_migrations").fetchone()
            migrations = int(row[0]) if row else 0
    except psycopg.Error:
        pass
    return Status(settings.embedded, running, f"{host}:{port}", pid, migrations)


def connect(settings: Settings, database: str = WAREHOUSE_DB, **kwargs) -> psycopg.Connection:
    """A psycopg 3 connection (COPY, server-side cursors); one-line error when unreachable."""
    try:
        return psycopg.connect(settings.libpq_url(database), connect_timeout=10, **kwargs)
    except psycopg.OperationalError as exc:
        hint = "run `cxw warehouse start`" if settings.embedded else "check CXW_WAREHOUSE_URL"
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WarehouseError(f"cannot reach the warehouse ({first}): {hint}") from exc


@cache
def _engine(url: str) -> sa.Engine:
    return sa.create_engine(url, pool_pre_ping=True, future=True)


def engine(settings: Settings, database: str = WAREHOUSE_DB) -> sa.Engine:
    """A pooled SQLAlchemy engine (psycopg 3 driver) for one database."""
    return _engine(settings.superuser_url(database))
