"""Shop extraction through SQL (Shopify-like OLTP): `updated_at` windows, server-side cursors.

Soft deletes arrive as rows whose `deleted_at` is set (their `updated_at` moves), so they are
carried through like any other change. Rows stream in (updated_at, id) order; values are read as
text (validation and typing happen in the warehouse).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

import psycopg
from psycopg import sql

from cxw.config import Settings
from cxw.errors import CxwError
from cxw.extract.spec import StreamSpec
from cxw.extract.streams import SHOP

SCHEMA = "shop"
FETCH = 10_000


class ShopExtractor:
    source = "shop"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        try:
            self.conn = psycopg.connect(settings.shop_libpq_url(), connect_timeout=10)
        except psycopg.OperationalError as exc:
            raise CxwError(
                "cannot reach the shop database: set CXW_SHOP_URL or run `cxw sources generate`"
            ) from exc
        self.conn.read_only = True

    def streams(self) -> tuple[StreamSpec, ...]:
        return SHOP

    def content_hash(self, spec: StreamSpec, since: datetime | None, until: datetime) -> None:
        return None

    def _columns(self, table: str) -> list[str]:
        rows = self.conn.execute(
            "select column_name from information_schema.columns where table_schema = %s "
            "and table_name = %s order by ordinal_position",
            (SCHEMA, table),
        ).fetchall()
        if not rows:
            raise CxwError(f"shop table {SCHEMA}.{table} not found in the shop database")
        return [r[0] for r in rows]

    def records(
        self, spec: StreamSpec, since: datetime | None, until: datetime
    ) -> Iterator[tuple[str, Mapping[str, Any]]]:
        cols = self._columns(spec.stream)
        missing = [c.field for c in spec.columns if c.required and c.field not in cols]
        if missing:
            raise CxwError(
                f"shop.{spec.stream} has no column {missing[0]}: the source schema changed"
            )
        where = [sql.SQL("updated_at <= %(until)s")]
        if since is not None:
            where.append(sql.SQL("updated_at > %(since)s"))
        query = sql.SQL("select {} from {} where {} order by updated_at, id").format(
            sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in cols),
            sql.Identifier(SCHEMA, spec.stream),
            sql.SQL(" and ").join(where),
        )
        prefix = f"shop.{spec.stream}:id="
        with self.conn.transaction(), self.conn.cursor(name=f"cxw_shop_{spec.stream}") as cur:
            cur.itersize = FETCH
            cur.execute(query, {"since": since, "until": until})
            for row in cur:
                rec = dict(zip(cols, row, strict=True))
                yield prefix + str(rec["id"]), rec

    def close(self) -> None:
        self.conn.close()


def extractor(settings: Settings) -> ShopExtractor:
    return ShopExtractor(settings)
