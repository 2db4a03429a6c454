"""The e-commerce OLTP database (Shopify-like): schema `shop` in its own Postgres database.

`generate` recreates the schema and COPYs rows straight into the tables (keys and indexes are
added after the load); `advance` COPYs the new and changed rows into temporary tables and
upserts them by id. Rows are dicts keyed by column name; the sink keeps bounded buffers.
"""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg import sql

from cxw.config import Settings
from cxw.errors import CxwError

SCHEMA = "shop"
TS = "timestamptz"
TABLES: dict[str, list[tuple[str, str]]] = {
    "customers": [
        ("id", "bigint not null"),
        ("email", "text"),
        ("first_name", "text"),
        ("last_name", "text"),
        ("phone", "text"),
        ("state", "text"),
        ("accepts_marketing", "boolean"),
        ("tags", "text"),
        ("city", "text"),
        ("province", "text"),
        ("country", "text"),
        ("zip", "text"),
        ("created_at", TS),
        ("updated_at", TS),
        ("deleted_at", TS),
    ],
    "products": [
        ("id", "bigint not null"),
        ("title", "text"),
        ("product_type", "text"),
        ("vendor", "text"),
        ("sku", "text"),
        ("price", "numeric(12,2)"),
        ("status", "text"),
        ("created_at", TS),
        ("updated_at", TS),
        ("deleted_at", TS),
    ],
    "orders": [
        ("id", "bigint not null"),
        ("name", "text"),
        ("customer_id", "bigint"),
        ("email", "text"),
        ("phone", "text"),
        ("currency", "text"),
        ("total_line_items_price", "numeric(12,2)"),
        ("total_discounts", "numeric(12,2)"),
        ("subtotal_price", "numeric(12,2)"),
        ("total_shipping", "numeric(12,2)"),
        ("total_tax", "numeric(12,2)"),
        ("total_price", "numeric(12,2)"),
        ("financial_status", "text"),
        ("fulfillment_status", "text"),
        ("shipment_status", "text"),
        ("cancel_reason", "text"),
        ("source_name", "text"),
        ("landing_site", "text"),
        ("shipping_name", "text"),
        ("shipping_city", "text"),
        ("shipping_province", "text"),
        ("shipping_zip", "text"),
        ("shipping_country", "text"),
        ("processed_at", TS),
        ("fulfilled_at", TS),
        ("delivered_at", TS),
        ("cancelled_at", TS),
        ("closed_at", TS),
        ("created_at", TS),
        ("updated_at", TS),
        ("deleted_at", TS),
    ],
    "order_lines": [
        ("id", "bigint not null"),
        ("order_id", "bigint"),
        ("product_id", "bigint"),
        ("sku", "text"),
        ("title", "text"),
        ("quantity", "integer"),
        ("price", "numeric(12,2)"),
        ("created_at", TS),
        ("updated_at", TS),
    ],
    "refunds": [
        ("id", "bigint not null"),
        ("order_id", "bigint"),
        ("amount", "numeric(12,2)"),
        ("note", "text"),
        ("restock", "boolean"),
        ("processed_at", TS),
        ("created_at", TS),
        ("updated_at", TS),
    ],
    "transactions": [
        ("id", "bigint not null"),
        ("order_id", "bigint"),
        ("parent_id", "bigint"),
        ("kind", "text"),
        ("status", "text"),
        ("gateway", "text"),
        ("amount", "numeric(12,2)"),
        ("currency", "text"),
        ("error_code", "text"),
        ("processed_at", TS),
        ("created_at", TS),
        ("updated_at", TS),
    ],
    "abandoned_checkouts": [
        ("id", "bigint not null"),
        ("token", "text"),
        ("customer_id", "bigint"),
        ("email", "text"),
        ("phone", "text"),
        ("currency", "text"),
        ("total_price", "numeric(12,2)"),
        ("line_items_count", "integer"),
        ("completed_at", TS),
        ("created_at", TS),
        ("updated_at", TS),
        ("deleted_at", TS),
    ],
}
COLUMNS = {t: [c for c, _ in cols] for t, cols in TABLES.items()}
BUFFER_ROWS = 20_000


def ensure_database(settings: Settings, database: str) -> None:
    """Create the shop database on the warehouse server if it does not exist."""
    from cxw.warehouse import connect

    with connect(settings, "postgres", autocommit=True) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (database,)).fetchone()
        if not found:
            conn.execute(sql.SQL("create database {}").format(sql.Identifier(database)))


class ShopSink:
    """Buffered COPY of final row states into `shop.*` (fresh load or upsert)."""

    def __init__(self, settings: Settings, database: str, fresh: bool) -> None:
        from cxw.warehouse import connect

        ensure_database(settings, database)
        self.conn = connect(settings, database)
        self.fresh = fresh
        self.buffers: dict[str, list[tuple[Any, ...]]] = {t: [] for t in TABLES}
        self.written: dict[str, int] = dict.fromkeys(TABLES, 0)
        try:
            self.conn.execute("set lock_timeout = '15s'")
            if fresh:
                self.conn.execute(f"drop schema if exists {SCHEMA} cascade")
                self.conn.execute(f"create schema {SCHEMA}")
                for table, cols in TABLES.items():
                    body = ", ".join(f"{c} {t}" for c, t in cols)
                    self.conn.execute(f"create table {SCHEMA}.{table} ({body})")
            else:
                exists = self.conn.execute("select to_regclass('shop.orders')").fetchone()
                if not exists or exists[0] is None:
                    raise CxwError(
                        f"database {database} has no shop schema: run `cxw sources generate`"
                    )
                for table in TABLES:
                    self.conn.execute(
                        f"create temp table stage_{table} (like {SCHEMA}.{table}) on commit drop"
                    )
        except psycopg.errors.LockNotAvailable as exc:
            self.conn.close()
            raise CxwError(
                f"the shop database {database} is busy (a session holds locks): retry"
            ) from exc

    def write(self, table: str, row: dict[str, Any]) -> None:
        buf = self.buffers[table]
        buf.append(tuple(row[c] for c in COLUMNS[table]))
        if len(buf) >= BUFFER_ROWS:
            self._flush(table)

    def _flush(self, table: str) -> None:
        rows = self.buffers[table]
        if not rows:
            return
        target = f"{SCHEMA}.{table}" if self.fresh else f"stage_{table}"
        cols = ", ".join(COLUMNS[table])
        with self.conn.cursor() as cur, cur.copy(f"copy {target} ({cols}) from stdin") as cp:
            for row in rows:
                cp.write_row(row)
        self.written[table] += len(rows)
        rows.clear()

    def close(self) -> dict[str, int]:
        """Flush, then add keys (fresh) or upsert the staged rows; commit. Returns table sizes."""
        for table in TABLES:
            self._flush(table)
        if self.fresh:
            for table in TABLES:
                self.conn.execute(f"alter table {SCHEMA}.{table} add primary key (id)")
                self.conn.execute(f"create index on {SCHEMA}.{table} (updated_at, id)")
            for table, col in (
                ("orders", "customer_id"),
                ("order_lines", "order_id"),
                ("refunds", "order_id"),
                ("transactions", "order_id"),
            ):
                self.conn.execute(f"create index on {SCHEMA}.{table} ({col})")
        else:
            for table in TABLES:
                cols = COLUMNS[table]
                sets = ", ".join(f"{c} = excluded.{c}" for c in cols if c != "id")
                self.conn.execute(
                    f"insert into {SCHEMA}.{table} select * from stage_{table} "
                    f"on conflict (id) do update set {sets}"
                )
        sizes = {}
        for table in TABLES:
            row = self.conn.execute(f"select count(*) from {SCHEMA}.{table}").fetchone()
            sizes[table] = int(row[0]) if row else 0
        self.conn.commit()
        self.conn.close()
        return sizes

    def abort(self) -> None:
        try:
            self.conn.rollback()
        finally:
            self.conn.close()
