"""Versioned migrations: ordered SQL files in `migrations/`, recorded in a table.

Cluster-level objects (databases, roles) cannot be created inside a transaction, so they are
ensured here in code; everything else is a numbered SQL file applied once, in order, each in
its own transaction, and recorded in `cxw_meta.schema_migrations` with its checksum. An
existing warehouse therefore upgrades in place on the next `cxw warehouse start`.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources

import psycopg
from psycopg import sql

from cxw.config import AIRFLOW_DB, ROLES, SHOP_SOURCE_DB, WAREHOUSE_DB, Settings
from cxw.errors import WarehouseError

DATABASES = (WAREHOUSE_DB, AIRFLOW_DB)


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def available() -> list[Migration]:
    """The migrations shipped with this version of cxw, in order."""
    folder = resources.files("cxw.warehouse") / "migrations"
    found = []
    for entry in folder.iterdir():
        if entry.name.endswith(".sql"):
            version, _, rest = entry.name.partition("_")
            found.append(Migration(int(version), rest.removesuffix(".sql"), entry.read_text()))
    return sorted(found, key=lambda m: m.version)


def ensure_cluster(settings: Settings, extra_databases: tuple[str, ...] = ()) -> None:
    """Create the databases and login roles if missing; keep role passwords in sync."""
    try:
        conn = psycopg.connect(settings.libpq_url("postgres"), autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise WarehouseError(
            f"cannot connect to the warehouse server: {exc}".splitlines()[0]
        ) from exc
    with conn:
        existing = {r[0] for r in conn.execute("select datname from pg_database")}
        for db in (*DATABASES, *extra_databases):
            if db not in existing:
                conn.execute(sql.SQL("create database {}").format(sql.Identifier(db)))
        roles = {r[0] for r in conn.execute("select rolname from pg_roles")}
        for role in ROLES:
            verb = "alter" if role in roles else "create"
            conn.execute(
                sql.SQL(verb + " role {} with login password {}").format(
                    sql.Identifier(role), sql.Literal(settings.role_password(role))
                )
            )


def applied(conn: psycopg.Connection) -> dict[int, str]:
    conn.execute(
        """create schema if not exists cxw_meta;
        create table if not exists cxw_meta.schema_migrations (
            version integer primary key, name text not null, checksum text not null,
            applied_at timestamptz not null default now())"""
    )
    return {
        v: c for v, c in conn.execute("select version, checksum from cxw_meta.schema_migrations")
    }


def migrate(settings: Settings) -> list[Migration]:
    """Apply pending migrations to the warehouse database; return the ones applied."""
    done: list[Migration] = []
    with psycopg.connect(settings.libpq_url(WAREHOUSE_DB)) as conn:
        # one migrator at a time (a DAG run and a CLI call may start together)
        conn.execute("select pg_advisory_xact_lock(4242)")
        have = applied(conn)
        conn.commit()
        for mig in available():
            if mig.version in have:
                if have[mig.version] != mig.checksum:
                    raise WarehouseError(
                        f"migration {mig.version:04d}_{mig.name} changed after it was applied: "
                        "add a new migration instead of editing an applied one"
                    )
                continue
            with conn.transaction():
                conn.execute("select pg_advisory_xact_lock(4242)")
                conn.execute(mig.sql)
                conn.execute(
                    "insert into cxw_meta.schema_migrations (version, name, checksum) values (%s, %s, %s)",
                    (mig.version, mig.name, mig.checksum),
                )
            done.append(mig)
    return done


def bootstrap(settings: Settings) -> list[Migration]:
    """Everything `cxw warehouse start` guarantees after the server is up."""
    ensure_cluster(settings, extra_databases=(SHOP_SOURCE_DB,) if settings.embedded else ())
    return migrate(settings)
