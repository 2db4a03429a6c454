"""Write-audit-publish: the audited candidate build becomes `analytics` in one transaction.

dbt writes the marts into `analytics_candidate` (write), the mart gate audits them (audit), and
only a passing build is published: in ONE transaction `analytics` is renamed aside,
`analytics_candidate` is renamed to `analytics`, a fresh empty `analytics_candidate` is
created, grants are re-applied, and the old build is dropped. A failed gate publishes nothing:
the rejection is recorded in `cxw_meta.publish_log`, an alert goes out, and BI keeps reading
the last good build, untouched.

Readers never see a half state. Before renaming, the publisher takes ACCESS EXCLUSIVE locks on
every table and view of both schemas: it waits for running BI transactions that touched the
old build and holds new ones back until the swap commits, after which they resolve
`analytics.<table>` to the new build. So a BI transaction reads either only the old build or
only the new one. A reader holding one table while waiting for another could deadlock with the
publisher, so the publisher is always the side that gives up: its `deadlock_timeout` (50 ms) and
`lock_timeout` (500 ms) are below the server's `deadlock_timeout` (1 s by default, which is
when a waiting reader would check for a deadlock), and it then retries with backoff. BI queries
never fail because of a publish; at worst one waits up to `lock_timeout` for the swap. A BI
query running longer than the whole retry budget (about a minute) makes the publish fail with a
one-line reason (the task's retries try again later).
"""

from __future__ import annotations

import logging
import random
import secrets
import time
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from cxw.config import Settings
from cxw.errors import ConfigError, DataQualityError, WarehouseError
from cxw.quality.alerts import alert

LIVE = "analytics"
CANDIDATE = "analytics_candidate"
BI_ROLE = "cxw_bi_reader"
TRANSFORMER_ROLE = "cxw_transformer"
GATE_CHECKPOINT = "analytics_candidate"

log = logging.getLogger(__name__)

_LOCKABLE = ("r", "p", "v")  # tables, partitioned tables, views (LOCK TABLE refuses matviews)
_RETRYABLE = (psycopg.errors.LockNotAvailable, psycopg.errors.DeadlockDetected)


def publish_candidate(
    settings: Settings,
    gate: dict[str, Any],
    build_id: str,
    *,
    lock_timeout_ms: int = 500,
    attempts: int = 60,
    schemas: tuple[str, str] = (LIVE, CANDIDATE),
) -> dict[str, Any]:
    """Publish `analytics_candidate` as `analytics` if `gate` (run_mart_gate's result) passed;
    otherwise record the rejection, alert, and raise `DataQualityError`.

    `schemas` (live, candidate) exists for tests on a shared warehouse; the pipeline never
    changes it.
    """
    from cxw.warehouse import connect

    if gate.get("checkpoint") != GATE_CHECKPOINT:
        raise ConfigError(
            f"publish needs the result of the {GATE_CHECKPOINT} gate, "
            f"got {gate.get('checkpoint')!r}"
        )
    started = time.monotonic()
    with connect(settings, autocommit=True) as conn:
        previous = _last_published(conn)
        if not gate.get("success"):
            message = gate.get("message") or f"{gate.get('failed', '?')} expectations failed"
            _log(conn, build_id, "rejected", {}, message)
            kept = f"build {previous}" if previous else "the previous build"
            text = f"build {build_id} rejected by the mart gate; BI keeps {kept}. {message}"
            alert(settings, f"build {build_id} rejected", text)
            raise DataQualityError(text)
        for attempt in range(1, attempts + 1):
            try:
                counts = _swap(conn, build_id, lock_timeout_ms, previous, schemas)
                break
            except _RETRYABLE as exc:
                if attempt == attempts:
                    raise WarehouseError(
                        f"could not publish build {build_id}: BI queries kept the analytics "
                        f"tables locked through {attempts} attempts ({type(exc).__name__}); "
                        "retry the publish task"
                    ) from None
                log.info("publish attempt %d yielded to readers (%s)", attempt, type(exc).__name__)
                time.sleep(min(1.0, 0.05 * attempt) + random.random() * 0.05)
    return {
        "build_id": build_id,
        "status": "published",
        "previous_build": previous,
        "row_counts": counts,
        "attempts": attempt,
        "seconds": round(time.monotonic() - started, 2),
    }


def _relations(conn: psycopg.Connection, schema: str) -> list[tuple[str, str]]:
    return conn.execute(
        """select c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relkind in ('r', 'p', 'v', 'm') and not c.relispartition
           order by c.relname""",
        (schema,),
    ).fetchall()


def _swap(
    conn: psycopg.Connection,
    build_id: str,
    lock_timeout_ms: int,
    previous: str | None,
    schemas: tuple[str, str],
) -> dict[str, int]:
    """The publish transaction; raises a retryable error when readers hold the locks."""
    live_name, cand_name = schemas
    with conn.transaction():
        conn.execute(
            sql.SQL("set local lock_timeout = {}").format(sql.Literal(f"{lock_timeout_ms}ms"))
        )
        conn.execute("set local deadlock_timeout = '50ms'")
        live, candidate = _relations(conn, live_name), _relations(conn, cand_name)
        if not candidate:
            raise DataQualityError(f"{cand_name} is empty: there is no build to publish")
        lockable = [
            sql.Identifier(schema, name)
            for schema, rels in ((live_name, live), (cand_name, candidate))
            for name, kind in rels
            if kind in _LOCKABLE
        ]
        conn.execute(
            sql.SQL("lock table {} in access exclusive mode").format(sql.SQL(", ").join(lockable))
        )
        counts = {
            name: conn.execute(
                sql.SQL("select count(*) from {}").format(sql.Identifier(cand_name, name))
            ).fetchone()[0]
            for name, _ in candidate
        }
        old = sql.Identifier(f"{live_name}_prev_{secrets.token_hex(4)}")
        live_s, cand_s = sql.Identifier(live_name), sql.Identifier(cand_name)
        bi, tr = sql.Identifier(BI_ROLE), sql.Identifier(TRANSFORMER_ROLE)
        for stmt in (
            sql.SQL("alter schema {} rename to {}").format(live_s, old),
            sql.SQL("alter schema {} rename to {}").format(cand_s, live_s),
            sql.SQL("create schema {}").format(cand_s),
            # grants of migration 0002, re-applied to the schemas that now carry the names
            sql.SQL("grant usage on schema {} to {}").format(live_s, bi),
            sql.SQL("grant select on all tables in schema {} to {}").format(live_s, bi),
            sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(
                live_s, bi
            ),
            sql.SQL("grant usage, create on schema {}, {} to {}").format(live_s, cand_s, tr),
            sql.SQL("drop schema {} cascade").format(old),
        ):
            conn.execute(stmt)
        replaced = f"replaced build {previous}" if previous else "first published build"
        _log(conn, build_id, "published", counts, replaced)
    return counts


def _log(
    conn: psycopg.Connection,
    build_id: str,
    status: str,
    row_counts: dict[str, int],
    message: str | None,
) -> None:
    conn.execute(
        """insert into cxw_meta.publish_log (build_id, status, row_counts, message)
           values (%s, %s, %s, %s)
           on conflict (build_id) do update set status = excluded.status,
               row_counts = excluded.row_counts, message = excluded.message,
               published_at = now()""",
        (build_id, status, Jsonb(row_counts), message),
    )


def _last_published(conn: psycopg.Connection) -> str | None:
    row = conn.execute(
        "select build_id from cxw_meta.publish_log where status = 'published' "
        "order by published_at desc limit 1"
    ).fetchone()
    return row[0] if row else None
