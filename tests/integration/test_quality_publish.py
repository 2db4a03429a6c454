"""Write-audit-publish: the schema swap, its grants, rejection, and BI readers during publishes.

The tests publish between their own two schemas (same code path, `schemas=` argument), so they
never touch what other tests or a developer left in `analytics` / `analytics_candidate`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter

import psycopg
import pytest
from psycopg import sql

from cxw.errors import DataQualityError
from cxw.publish import publish_candidate

TABLES = ("qa_pub_a", "qa_pub_b")
GATE_OK = {"checkpoint": "analytics_candidate", "success": True}
LIVE, CANDIDATE = "qa_analytics", "qa_analytics_candidate"
SCHEMAS = (LIVE, CANDIDATE)


def make_build(conn, schema: str, build: str, n: int = 50) -> None:
    """A build of two tables that both carry its build id (a consistent build agrees)."""
    for extra, table in enumerate(TABLES):
        ident = sql.Identifier(schema, table)
        conn.execute(sql.SQL("drop table if exists {}").format(ident))
        conn.execute(
            sql.SQL(
                "create table {} as select i as id, {} as build_id, md5(i::text) as payload "
                "from generate_series(1, {}) as i"
            ).format(ident, sql.Literal(build), sql.Literal(n + 7 * extra))
        )
    conn.commit()


def checksums(conn, schema: str) -> dict[str, tuple]:
    """Per table: its oid, its file, and an md5 over all its rows."""
    out = {}
    for oid, name, node in conn.execute(
        """select c.oid, c.relname, c.relfilenode from pg_class c
           join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = %s and c.relkind = 'r' order by 2""",
        (schema,),
    ).fetchall():
        digest = conn.execute(
            sql.SQL("select md5(string_agg(t::text, '|' order by t::text)) from {} as t").format(
                sql.Identifier(schema, name)
            )
        ).fetchone()[0]
        out[name] = (oid, node, digest)
    conn.commit()
    return out


def role_conn(settings, role: str, **kwargs) -> psycopg.Connection:
    return psycopg.connect(settings.role_url(role, driver="postgresql"), **kwargs)


@pytest.fixture
def db(conn):
    """The two schemas with the grants migration 0002 gives analytics / analytics_candidate."""

    def wipe():
        for (name,) in conn.execute(
            "select nspname from pg_namespace where nspname like 'qa\\_analytics%'"
        ).fetchall():
            conn.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(name)))
        conn.execute("delete from cxw_meta.publish_log where build_id like 'qa-pub-%'")
        conn.commit()

    wipe()
    conn.execute(f"create schema {LIVE}; create schema {CANDIDATE}")
    conn.execute(f"grant usage, create on schema {LIVE}, {CANDIDATE} to cxw_transformer")
    conn.execute(f"grant usage on schema {LIVE} to cxw_bi_reader")
    conn.execute(
        f"alter default privileges in schema {LIVE} grant select on tables to cxw_bi_reader"
    )
    conn.commit()
    yield conn
    wipe()


def test_a_failed_gate_publishes_nothing_and_analytics_stays_byte_for_byte(db, warehouse, caplog):
    make_build(db, LIVE, "b0")
    make_build(db, CANDIDATE, "b1")
    before = checksums(db, LIVE)
    gate = {"checkpoint": "analytics_candidate", "success": False, "message": "mart gate failed: x"}
    with (
        caplog.at_level(logging.ERROR, logger="cxw.alerts"),
        pytest.raises(DataQualityError) as exc,
    ):
        publish_candidate(warehouse, gate, "qa-pub-rejected", schemas=SCHEMAS)
    assert "build qa-pub-rejected rejected by the mart gate" in str(exc.value)
    assert "mart gate failed: x" in str(exc.value)
    assert any("qa-pub-rejected" in r.getMessage() for r in caplog.records)
    assert checksums(db, LIVE) == before
    assert set(checksums(db, CANDIDATE)) == set(TABLES)  # the build is kept to inspect
    log = db.execute(
        "select status, message from cxw_meta.publish_log where build_id = 'qa-pub-rejected'"
    ).fetchone()
    assert log[0] == "rejected" and "mart gate failed: x" in log[1]


def test_publish_swaps_the_build_in_and_grants_survive(db, warehouse):
    make_build(db, LIVE, "b0")
    make_build(db, CANDIDATE, "b1")
    out = publish_candidate(warehouse, GATE_OK, "qa-pub-1", schemas=SCHEMAS)
    assert out["status"] == "published" and out["row_counts"] == {"qa_pub_a": 50, "qa_pub_b": 57}
    builds = {t: db.execute(f"select distinct build_id from {LIVE}.{t}").fetchall() for t in TABLES}
    assert builds == {t: [("b1",)] for t in TABLES}
    assert checksums(db, CANDIDATE) == {}
    leftovers = db.execute(
        "select nspname from pg_namespace where nspname like 'qa\\_analytics\\_prev%'"
    ).fetchall()
    assert leftovers == []
    logged = db.execute(
        "select status, row_counts from cxw_meta.publish_log where build_id = 'qa-pub-1'"
    ).fetchone()
    assert logged == ("published", {"qa_pub_a": 50, "qa_pub_b": 57})
    db.commit()
    # BI reads the new build; the transformer builds the next candidate; BI cannot see it
    with role_conn(warehouse, "cxw_transformer", autocommit=True) as tr:
        tr.execute(f"create table {CANDIDATE}.qa_pub_t (x int)")
    with role_conn(warehouse, "cxw_bi_reader") as bi:
        assert bi.execute(f"select count(*) from {LIVE}.qa_pub_b").fetchone() == (57,)
        bi.rollback()
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            bi.execute(f"select * from {CANDIDATE}.qa_pub_t")
    # default privileges moved with the name: a table added to analytics later is readable
    db.execute(f"create table {LIVE}.qa_pub_after as select 1 as x")
    db.commit()
    with role_conn(warehouse, "cxw_bi_reader") as bi:
        assert bi.execute(f"select x from {LIVE}.qa_pub_after").fetchone() == (1,)


def test_bi_readers_never_fail_nor_see_a_mix_of_builds_during_publishes(db, warehouse):
    make_build(db, LIVE, "b0")
    stop = threading.Event()
    seen: Counter[str] = Counter()
    problems: list[str] = []

    def reader(join: bool) -> None:
        """A BI session: one transaction reading both tables in two statements, a little
        apart (a mix of builds would show), or one statement joining them (as dashboards do)."""
        with role_conn(warehouse, "cxw_bi_reader") as bi:
            while not stop.is_set():
                try:
                    if join:
                        b1, b2 = bi.execute(
                            f"select a.build_id, b.build_id from {LIVE}.qa_pub_a as a "
                            f"cross join {LIVE}.qa_pub_b as b limit 1"
                        ).fetchone()
                    else:
                        b1 = bi.execute(f"select build_id from {LIVE}.qa_pub_a limit 1")
                        b1 = b1.fetchone()[0]
                        bi.execute("select pg_sleep(0.003)")
                        b2 = bi.execute(f"select build_id from {LIVE}.qa_pub_b limit 1")
                        b2 = b2.fetchone()[0]
                    bi.commit()
                except psycopg.Error as exc:
                    problems.append(f"{type(exc).__name__}: {exc}")
                    bi.rollback()
                    continue
                if b1 != b2:
                    problems.append(f"mixed builds in one transaction: {b1} and {b2}")
                seen[b1] += 1

    threads = [threading.Thread(target=reader, args=(j,)) for j in (False, True)]
    for t in threads:
        t.start()
    try:
        for k in range(1, 5):
            make_build(db, CANDIDATE, f"b{k}", n=200)
            time.sleep(0.05)
            publish_candidate(warehouse, GATE_OK, f"qa-pub-{k}", schemas=SCHEMAS)
        time.sleep(0.1)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=30)
    assert problems == []
    assert seen["b4"] > 0 and len(seen) >= 3, seen
