"""The simulated shop database: COPY load, incremental advance, truth and defects (real Postgres).

Uses throwaway databases on the warehouse server (dropped afterwards) and a temporary
CXW_HOME, so the developer's own generated sources are untouched.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from cxw.config import Settings, get_settings
from cxw.sources.api import advance, generate, read_state
from cxw.sources.shop import TABLES

DEFECTS = 0.05

# SCHEMAS.md section 7: a shop row is invalid when one of these holds (independent of the generator)
INVALID = {
    "customers": "created_at > updated_at or state not in ('enabled', 'disabled')",
    "products": "price < 0 or status not in ('active', 'draft', 'archived')",
    "orders": (
        "total_price < 0 or subtotal_price < 0 or created_at > updated_at or financial_status not in "
        "('authorized', 'paid', 'voided', 'refunded', 'partially_refunded')"
    ),
    "order_lines": "order_id is null or price < 0 or quantity < 1",
    "refunds": "order_id is null or amount < 0",
    "transactions": "order_id is null or amount < 0 or kind not in ('authorization', 'capture', 'void', 'refund')",
    "abandoned_checkouts": "total_price < 0 or created_at > updated_at",
}


@pytest.fixture(scope="module")
def server() -> Settings:
    """The warehouse server's settings (started if it is not running)."""
    real = get_settings()
    try:
        psycopg.connect(real.libpq_url("postgres"), connect_timeout=5).close()
    except psycopg.OperationalError:
        from cxw import warehouse

        warehouse.start(real)
    return real


@pytest.fixture(scope="module")
def databases(server: Settings) -> Iterator[tuple[str, str]]:
    names = (
        f"cxw_source_shop_test_{os.getpid()}_once",
        f"cxw_source_shop_test_{os.getpid()}_steps",
    )
    yield names
    with psycopg.connect(server.libpq_url("postgres"), autocommit=True) as conn:
        for name in names:
            conn.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )


@pytest.fixture(scope="module")
def worlds(
    tmp_path_factory: pytest.TempPathFactory, server: Settings, databases: tuple[str, str]
) -> tuple[Settings, Settings]:
    url = server.superuser_url("postgres")
    once = Settings(home=tmp_path_factory.mktemp("once"), warehouse_url=url)
    steps = Settings(home=tmp_path_factory.mktemp("steps"), warehouse_url=url)
    generate(once, customers=1500, days=30, seed=21, defects=DEFECTS, shop_database=databases[0])
    generate(steps, customers=1500, days=24, seed=21, defects=DEFECTS, shop_database=databases[1])
    advance(steps, days=6)
    return once, steps


def _rows(settings: Settings, database: str, table: str) -> list[tuple[object, ...]]:
    with psycopg.connect(settings.libpq_url(database)) as conn:
        return conn.execute(f"select * from shop.{table} order by id").fetchall()


def _truth(settings: Settings, name: str) -> list[dict[str, str]]:
    with (settings.truth_dir / name).open() as fh:
        return list(csv.DictReader(fh))


def test_advance_gives_the_same_shop_rows_as_one_generate(
    worlds: tuple[Settings, Settings], databases: tuple[str, str]
) -> None:
    once, steps = worlds
    for table in TABLES:
        a, b = _rows(once, databases[0], table), _rows(steps, databases[1], table)
        assert a == b, table
        assert a or table == "refunds", table
    for name in ("identity_links.csv", "defects.csv", "persons.csv", "comments.csv"):
        assert (once.truth_dir / name).read_bytes() == (steps.truth_dir / name).read_bytes(), name


def test_invalid_rows_are_exactly_the_listed_defects(
    worlds: tuple[Settings, Settings], databases: tuple[str, str]
) -> None:
    once = worlds[0]
    listed: dict[str, set[int]] = {t: set() for t in TABLES}
    for row in _truth(once, "defects.csv"):
        if row["stream"].startswith("shop."):
            table, _, rid = row["locator"].removeprefix("shop.").partition(":id=")
            listed[table].add(int(rid))
    with psycopg.connect(once.libpq_url(databases[0])) as conn:
        for table, predicate in INVALID.items():
            bad = {r[0] for r in conn.execute(f"select id from shop.{table} where {predicate}")}
            total = conn.execute(f"select count(*) from shop.{table}").fetchone()[0]
            assert bad == listed[table], table
            n_valid = total - len(bad)
            assert abs(len(bad) - n_valid * DEFECTS) <= 4 * math.sqrt(n_valid * DEFECTS) + 2, table


def test_identity_links_cover_every_valid_identity_row_once(
    worlds: tuple[Settings, Settings], databases: tuple[str, str]
) -> None:
    once = worlds[0]
    links: dict[str, list[str]] = {}
    for row in _truth(once, "identity_links.csv"):
        links.setdefault(row["source"], []).append(row["source_record_id"])
    with psycopg.connect(once.libpq_url(databases[0])) as conn:
        for source, table in (
            ("shop_customer", "customers"),
            ("shop_order", "orders"),
            ("shop_checkout", "abandoned_checkouts"),
        ):
            valid = {
                str(r[0])
                for r in conn.execute(f"select id from shop.{table} where not ({INVALID[table]})")
            }
            assert sorted(links[source]) == sorted(valid), source


def test_orders_add_up_and_move_with_their_life(
    worlds: tuple[Settings, Settings], databases: tuple[str, str]
) -> None:
    once = worlds[0]
    now = read_state(once)["now"]
    valid = f"not ({INVALID['orders']})"
    with psycopg.connect(once.libpq_url(databases[0])) as conn:
        wrong = conn.execute(
            f"""select count(*) from shop.orders o where {valid} and (
                subtotal_price <> total_line_items_price - total_discounts
                or total_price <> subtotal_price + total_shipping + total_tax
                or total_line_items_price <> (select sum(price * quantity) from shop.order_lines l
                                              where l.order_id = o.id and l.price >= 0))"""
        ).fetchone()[0]
        assert wrong == 0
        moved = conn.execute(
            f"select count(*), count(*) filter (where updated_at >= fulfilled_at and fulfilled_at > created_at) "
            f"from shop.orders where {valid} and fulfilled_at is not null"
        ).fetchone()
        assert moved[0] > 0 and moved[0] == moved[1]
        assert conn.execute(
            "select max(updated_at) < %s::timestamptz from shop.orders", (now,)
        ).fetchone()[0]
        counts = conn.execute(
            """select count(*) filter (where state = 'disabled'),
                      count(*) filter (where deleted_at is not null)
               from shop.customers"""
        ).fetchone()
        assert counts[0] > 0, "guest checkout customers"
        assert (
            conn.execute(
                "select count(*) from shop.orders where deleted_at is not null"
            ).fetchone()[0]
            > 0
        )
        assert (
            conn.execute(
                "select count(*) from shop.orders where financial_status like '%refunded'"
            ).fetchone()[0]
            > 0
        )


def test_order_spend_follows_the_gamma_gamma_truth(
    worlds: tuple[Settings, Settings], databases: tuple[str, str]
) -> None:
    once = worlds[0]
    params = json.loads((once.truth_dir / "clv_params.json").read_text())
    gg = params["gamma_gamma"]
    expected = gg["p"] * gg["v"] / (gg["q"] - 1)
    with psycopg.connect(once.libpq_url(databases[0])) as conn:
        n, mean = conn.execute(
            f"select count(*), avg(subtotal_price)::float from shop.orders where not ({INVALID['orders']})"
        ).fetchone()
    assert n > 500
    assert abs(mean - expected) < 0.15 * expected


def test_advance_without_a_generation_is_a_one_line_error(tmp_path: Path, server: Settings) -> None:
    from cxw.errors import CxwError

    with pytest.raises(CxwError, match="cxw sources generate"):
        advance(Settings(home=tmp_path, warehouse_url=server.superuser_url("postgres")))
