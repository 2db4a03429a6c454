"""GX gate 2: the data-driven mart registry over a small fake mart (a candidate build).

The registry used here is a YAML file like the committed one, so the test exercises exactly
what adding a mart means: an entry, a regenerated suite, a real checkpoint run. Its `schema`
is the test's own, so whatever else lives in analytics_candidate does not matter.
"""

from __future__ import annotations

import shutil
from datetime import timedelta

import pytest
from psycopg import sql
from psycopg.types.json import Jsonb

from cxw.quality.context import GX_ROOT
from cxw.quality.gates import run_mart_gate
from cxw.quality.suites import sync_suites

MART = "qa_fake_orders"
SCHEMA = "qa_mart_gate"
SUITE = f"{SCHEMA}.{MART}"
REGISTRY = """
schema: qa_mart_gate
min_rows: 1
volume: {history: 14, min_history: 5, max_z: 4.0}
marts:
  qa_fake_orders:
    key: [order_id]
    not_null: [customer_key]
    ranges: {nps: [-100, 100]}
    rates: [discount_rate]
    non_negative: [order_total]
    accepted_values: {channel: [web, store]}
    freshness: {column: ordered_at, max_age_days: 2}
    reconcile:
      - name: order_total
        mart_value: sum(order_total)
        raw_sql: select sum(amount) from raw_shop.qa_mart_orders
        tolerance: 0.000001
"""
MISSING = "\n  qa_missing_mart:\n    key: [id]\n"


def make_root(tmp_path_factory, registry: str):
    root = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(GX_ROOT, root)
    (root / "marts.yml").write_text(registry)
    sync_suites([], root)
    return root


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory, warehouse):
    return make_root(tmp_path_factory, REGISTRY)


@pytest.fixture
def db(conn):
    def wipe():
        conn.execute(f"drop schema if exists {SCHEMA} cascade")
        conn.execute("drop table if exists raw_shop.qa_mart_orders")
        conn.execute("delete from cxw_meta.publish_log where build_id like 'qa-mart-%'")
        conn.execute("delete from cxw_meta.quality_results where run_id like 'qa-mart%'")
        conn.commit()

    wipe()
    conn.execute(f"create schema {SCHEMA}")
    conn.commit()
    yield conn
    wipe()


def as_of(conn):
    """The data's "now" as the gate should see it: end of the latest committed raw batch."""
    return conn.execute(
        "select coalesce(max(interval_end), now()) from cxw_meta.batches where status = 'committed'"
    ).fetchone()[0]


def build(conn, n: int = 100, *, age: timedelta = timedelta(hours=6)):
    """A clean candidate mart of n orders and the raw orders it must reconcile with."""
    newest = as_of(conn) - age
    conn.execute(
        sql.SQL(
            """create table qa_mart_gate.qa_fake_orders as
            select i as order_id, 'c' || (i % 37) as customer_key,
                   case when i % 3 = 0 then 'store' else 'web' end as channel,
                   (i % 50) * 1.5 as order_total, (i % 10) / 20.0 as discount_rate,
                   (i % 201) - 100 as nps, {} - (i || ' minutes')::interval as ordered_at
            from generate_series(1, {}) as i"""
        ).format(sql.Literal(newest), sql.Literal(n))
    )
    conn.execute(
        f"""create table raw_shop.qa_mart_orders as
            select i as order_id, (i % 50) * 1.5 as amount from generate_series(1, {n}) as i"""
    )
    conn.commit()


def failures(out) -> str:
    return "\n".join(out["failures"])


def test_clean_candidate_passes_and_results_are_recorded(db, warehouse, gx_root):
    build(db)
    out = run_mart_gate(warehouse, "qa-mart-clean", root=gx_root)
    assert out["success"], out["failures"]
    assert out["checkpoint"] == "analytics_candidate"
    assert out["marts"] == [
        {
            "mart": SUITE,
            "rows": 100,
            "expectations": out["expectations"],
            "failed": 0,
            "volume": {"min": 1, "history": 0, "note": "skipped: 0 earlier batches < 5"},
        }
    ]
    stored = db.execute(
        """select count(*), bool_and(success), count(distinct expectation)
           from cxw_meta.quality_results where run_id = 'qa-mart-clean' and suite = %s""",
        (SUITE,),
    ).fetchone()
    # schema, 2x not null, unique, 3x between, in set, row count, freshness, reconciliation
    assert stored == (11, True, 8)


def test_planted_defects_fail_and_are_named(db, warehouse, gx_root):
    build(db)
    for plant in (
        "update qa_mart_gate.qa_fake_orders set nps = 150 where order_id = 3",
        "update qa_mart_gate.qa_fake_orders set discount_rate = 1.5 where order_id = 4",
        "update qa_mart_gate.qa_fake_orders set order_total = -3 where order_id = 5",
        "update qa_mart_gate.qa_fake_orders set customer_key = null where order_id = 6",
        "update qa_mart_gate.qa_fake_orders set order_id = 8 where order_id = 7",
        "update qa_mart_gate.qa_fake_orders set channel = 'fax' where order_id = 9",
    ):
        db.execute(plant)
    db.commit()
    out = run_mart_gate(warehouse, "qa-mart-defects", root=gx_root)
    assert not out["success"]
    text = failures(out)
    for named in (
        'expect_column_values_to_be_between(nps) — 1 row, e.g. {"order_id": 3, "nps": 150',
        "expect_column_values_to_be_between(discount_rate) — 1 row",
        "expect_column_values_to_be_between(order_total) — 1 row",
        "expect_column_values_to_not_be_null(customer_key) — 1 row",
        "expect_column_values_to_be_unique(order_id) — 2 rows",
        "expect_column_values_to_be_in_set(channel) — 1 row",
        "unexpected_rows_expectation — reconciliation order_total",
    ):
        assert f"{SUITE} {named}" in text
    assert out["message"].startswith("mart gate failed: ")


def test_reconciliation_mismatch_shows_both_totals(db, warehouse, gx_root):
    build(db)
    db.execute("insert into raw_shop.qa_mart_orders values (999, 10)")  # raw has more revenue
    db.commit()
    out = run_mart_gate(warehouse, "qa-mart-recon", root=gx_root)
    named = [f.split(" — ")[0] for f in out["failures"]]
    assert named == [f"{SUITE} unexpected_rows_expectation"]
    sample = db.execute(
        """select sample_rows from cxw_meta.quality_results
           where run_id = 'qa-mart-recon' and not success"""
    ).fetchone()[0]
    expected_mart = sum((i % 50) * 1.5 for i in range(1, 101))
    assert len(sample) == 1
    assert float(sample[0]["mart_value"]) == expected_mart
    assert float(sample[0]["raw_value"]) == expected_mart + 10


def test_volume_is_compared_with_previous_publishes(db, warehouse, gx_root):
    for i, n in enumerate([100, 98, 103, 101, 99, 100]):
        db.execute(
            """insert into cxw_meta.publish_log (build_id, published_at, status, row_counts)
               values (%s, now() - %s * interval '1 day', 'published', %s)""",
            (f"qa-mart-hist-{i}", i + 1, Jsonb({MART: n})),
        )
    db.commit()
    build(db, 1000)
    out = run_mart_gate(warehouse, "qa-mart-volume", root=gx_root)
    assert not out["success"]
    assert out["failures"][0].startswith(
        f"{SUITE} expect_table_row_count_to_be_between — observed 1000"
    ), out["failures"]
    assert out["marts"][0]["volume"]["history"] == 6
    db.execute(f"drop table {SUITE}")
    db.execute("drop table raw_shop.qa_mart_orders")
    db.commit()
    build(db, 104)
    assert run_mart_gate(warehouse, "qa-mart-volume", root=gx_root)["success"]


def test_stale_mart_fails_freshness(db, warehouse, gx_root):
    build(db, age=timedelta(days=5))
    out = run_mart_gate(warehouse, "qa-mart-stale", root=gx_root)
    assert [f.split(" — ")[0] for f in out["failures"]] == [
        f"{SUITE} expect_column_max_to_be_between(ordered_at)"
    ]


def test_missing_and_unregistered_tables_fail_clearly(db, warehouse, tmp_path_factory):
    root = make_root(tmp_path_factory, REGISTRY + MISSING)
    build(db)
    db.execute(f"create table {SCHEMA}.qa_stray (x int)")
    db.commit()
    out = run_mart_gate(warehouse, "qa-mart-missing", root=root)
    assert not out["success"]
    assert out["failures"] == [
        "mart qa_mart_gate.qa_missing_mart does not exist",
        "qa_mart_gate.qa_stray has no entry in expectations/marts.yml "
        "(every published table needs quality checks)",
    ]
    recorded = db.execute(
        """select expectation, success from cxw_meta.quality_results
           where run_id = 'qa-mart-missing' order by expectation"""
    ).fetchall()
    assert recorded == [("mart_exists", False), ("mart_registered", False)]
