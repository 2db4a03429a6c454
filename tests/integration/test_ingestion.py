"""Ingestion against the simulated sources: incremental, idempotent, nothing lost.

A small world (1,500 people, 30 days, 3% invalid records, default mess) is generated into the
test home; its truth files are the independent answer key.
"""

from __future__ import annotations

import csv
import shutil
from datetime import UTC, datetime, timedelta

import pytest

from cxw.config import Settings
from cxw.errors import DataQualityError
from cxw.extract.run import run_source
from cxw.orchestration import SOURCES, Window

DAYS = 30


def day_window(day) -> Window:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return Window(start, start + timedelta(days=1))


@pytest.fixture(scope="module")
def world(warehouse):
    """Sources generated once for this module; a loose reject threshold so defects load."""
    from cxw.sources import current_end_date, generate

    generate(warehouse, customers=1500, days=DAYS, seed=11, defects=0.03)
    settings = Settings(home=warehouse.home, pg_port=warehouse.pg_port, reject_threshold=0.5)
    return settings, current_end_date(warehouse)


def reset_raw(conn) -> None:
    for source in SOURCES:
        conn.execute(f"drop schema if exists raw_{source} cascade")
        conn.execute(f"create schema raw_{source}")
    for table in ("rejected_rows", "delivered_files", "watermarks", "batches"):
        conn.execute(f"delete from cxw_meta.{table}")
    conn.commit()


def raw_fingerprint(conn, table: str) -> list[tuple]:
    """The raw table's content, ignoring batch metadata."""
    cols = [
        r[0]
        for r in conn.execute(
            "select column_name from information_schema.columns where table_schema||'.'||table_name = %s "
            "and column_name not like '\\_cxw\\_%%' order by ordinal_position",
            (table,),
        )
    ]
    return conn.execute(
        f"select {', '.join(cols)} from {table} order by {', '.join(f'{c}::text' for c in cols)}"
    ).fetchall()


def run_days(settings, first, last) -> list[dict]:
    out = []
    day = first
    while day <= last:
        for source in SOURCES:
            out.append(run_source(settings, source, day_window(day)))
        day += timedelta(days=1)
    return out


@pytest.fixture(scope="module")
def daily(world, warehouse):
    """Initial sync at day 20, then one run per day to the end (as production would)."""
    from cxw.warehouse import connect

    settings, end = world
    with connect(warehouse) as conn:
        reset_raw(conn)
    first = end - timedelta(days=DAYS - 20)
    summaries = run_days(settings, first, end)
    return settings, end, first, summaries


def test_first_run_is_an_initial_sync_and_later_runs_are_incremental(daily):
    _, _, _, summaries = daily
    first_batches = [b for s in summaries[:4] for b in s["batches"]]
    later = [b for s in summaries[4:] for b in s["batches"]]
    assert all(b["initial_sync"] for b in first_batches)
    assert not any(b["initial_sync"] for b in later)
    assert sum(b["seen"] for b in first_batches) > 5 * max(1, sum(b["seen"] for b in later) / 10)


def test_every_batch_reconciles(daily, conn):
    bad = conn.execute(
        "select batch_id from cxw_meta.batches where status = 'committed' and "
        "records_seen <> records_loaded + records_rejected + records_unchanged"
    ).fetchall()
    assert bad == []
    rejected = conn.execute(
        "select b.batch_id, b.records_rejected, count(r.*) from cxw_meta.batches b "
        "left join cxw_meta.rejected_rows r using (batch_id) where b.status = 'committed' "
        "group by 1, 2 having b.records_rejected <> count(r.*)"
    ).fetchall()
    assert rejected == []


def test_rejected_rows_match_the_injected_defects_exactly(daily, conn):
    settings, *_ = daily
    with (settings.truth_dir / "defects.csv").open() as fh:
        truth = {r["locator"] for r in csv.DictReader(fh) if r["category"] == "invalid_record"}
    got = {
        r[0]
        for r in conn.execute(
            "select locator from cxw_meta.rejected_rows join cxw_meta.batches using (batch_id) "
            "where status = 'committed'"
        )
    }
    assert truth, "the world should contain defects"
    assert got - truth == set(), "clean records were rejected"
    assert truth - got == set(), "defects were loaded"


def test_no_record_version_is_loaded_twice(daily, conn):
    for table, key in [
        ("raw_crm.contacts", "id, updated_at"),
        ("raw_shop.orders", "id, updated_at"),
        ("raw_contact_center.calls", "call_id"),
        ("raw_contact_center.tickets", "id, updated_at"),
        ("raw_survey.responses", "response_id"),
    ]:
        dupes = conn.execute(f"select count(*) - count(distinct ({key})) from {table}").fetchone()
        assert dupes == (0,), table


def test_latest_versions_match_the_source_systems(daily, conn):
    """Nothing missed: each CRM object's and shop order's latest version is in raw."""
    import psycopg

    settings, *_ = daily
    with psycopg.connect(settings.shop_libpq_url()) as shop:
        src = dict(shop.execute("select id, updated_at from shop.orders").fetchall())
    raw = dict(
        conn.execute("select id, max(updated_at) from raw_shop.orders group by 1").fetchall()
    )
    missing = {k for k, v in src.items() if raw.get(k) != v}
    with (settings.truth_dir / "defects.csv").open() as fh:
        invalid = {
            int(r["locator"].split("=")[1])
            for r in csv.DictReader(fh)
            if r["stream"] == "shop.orders"
        }
    assert missing - invalid == set()

    import sqlite3

    store = sqlite3.connect(settings.sources_dir / "crm" / "crm.sqlite")
    tables = {r[0] for r in store.execute("select name from sqlite_master where type='table'")}
    assert tables, "CRM store is empty"


def test_rerunning_an_interval_leaves_raw_as_it_was(daily, conn):
    settings, end, _, _ = daily
    before = {
        t: raw_fingerprint(conn, t)
        for t in (
            "raw_crm.contacts",
            "raw_shop.orders",
            "raw_contact_center.calls",
            "raw_survey.responses",
        )
    }
    for source in SOURCES:
        run_source(settings, source, day_window(end - timedelta(days=3)))
    after = {t: raw_fingerprint(conn, t) for t in before}
    assert after == before


def test_a_redelivered_file_loads_nothing_new(daily, conn):
    settings, end, _, _ = daily
    src = settings.drops_root / "contact_center" / f"{end - timedelta(days=2)}" / "calls.csv"
    nxt = end + timedelta(days=1)
    folder = settings.drops_root / "contact_center" / f"{nxt}"
    folder.mkdir(exist_ok=True)
    try:
        shutil.copy(src, folder / "calls.csv")
        out = run_source(settings, "contact_center", day_window(nxt))
        calls = next(b for b in out["batches"] if b["stream"] == "calls")
        assert calls["seen"] == 0 and calls["loaded"] == 0
    finally:
        shutil.rmtree(folder)
        conn.execute("delete from cxw_meta.watermarks where source='contact_center'")
        conn.commit()


def test_schema_drift_keeps_new_columns_and_renamed_ones(daily, conn):
    extra = conn.execute(
        "select count(*) from raw_contact_center.calls where _extra ? 'recording_url'"
    ).fetchone()[0]
    renamed = conn.execute(
        "select count(*) from raw_survey.responses where _extra ? 'OrderID'"
    ).fetchone()[0]
    assert extra > 0 and renamed > 0


def test_a_missing_required_column_fails_the_batch_naming_it(daily, conn, tmp_path):
    settings, end, _, _ = daily
    day = end + timedelta(days=5)
    folder = settings.drops_root / "contact_center" / f"{day}"
    folder.mkdir()
    try:
        (folder / "calls.csv").write_text(
            "caller_phone,queue,offered_at,ended_at\n555,orders,x,y\n"
        )
        (folder / "tickets.jsonl").write_text("")
        with pytest.raises(DataQualityError, match="'call_id' is missing"):
            run_source(settings, "contact_center", day_window(day))
        assert (
            conn.execute(
                "select count(*) from cxw_meta.batches where status = 'failed' and message like '%call_id%'"
            ).fetchone()[0]
            >= 1
        )
    finally:
        shutil.rmtree(folder)


def test_crm_paging_survives_rate_limits_and_server_errors(world):
    """Under a rate limit (429 + Retry-After) and 20% 5xx answers, the extract is identical."""
    from cxw.extract.crm import CrmClient, RetryPolicy
    from cxw.sources import CrmServerConfig, api_key, start_crm_server

    settings, end = world
    until = datetime(end.year, end.month, end.day, tzinfo=UTC) + timedelta(days=1)
    key = api_key(settings)

    def listing(config):
        url, stop = start_crm_server(settings, config=config)
        waits: list[float] = []
        client = CrmClient(
            url, key, RetryPolicy(max_attempts=30, base_delay=0.01, max_delay=0.05), waits.append
        )
        try:
            objs = [(o["id"], o["updatedAt"]) for o in client.list("contacts", None, until, False)]
            return objs, client, waits
        finally:
            client.close()
            stop()

    clean, _, _ = listing(CrmServerConfig())
    rough, client, waits = listing(
        CrmServerConfig(rate_limit_rps=50, burst=3, error_rate=0.2, seed=3)
    )
    assert rough == clean and len(clean) > 100
    assert client.retries > 0 and waits  # it did meet 429s and 5xx, and waited
    assert len(set(clean)) == len(clean)  # paging neither repeats nor skips
