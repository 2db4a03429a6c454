"""Identity resolution through the warehouse: COPY in, the identity tables out, stable across
runs; and graded against the simulator's truth/identity_links.csv at default mess rates."""

from __future__ import annotations

import csv
import json
import shutil
import sqlite3
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from cxw.enrich.identity import evaluate_against_truth, resolve_frame, resolve_identities
from cxw.errors import CxwError

REL = "staging.test_identity_observations"
COLUMNS = ["source", "source_record_id", "kind", "value", "observed_at"]
T0 = datetime(2025, 3, 1, tzinfo=UTC)


@pytest.fixture
def relation(conn):
    def clean() -> None:
        conn.execute(
            "truncate enrich.identity_assignments, enrich.customer_key_merges, "
            "enrich.identity_suppressed"
        )
        conn.execute("delete from cxw_meta.identity_runs where relation = %s", (REL,))
        conn.execute(f"drop table if exists {REL}")
        conn.commit()

    clean()
    conn.execute(
        f"create table {REL} (source text, source_record_id text, kind text, value text, "
        "observed_at timestamptz)"
    )
    conn.commit()
    yield REL
    clean()


def load(conn, frame: pd.DataFrame) -> None:
    conn.execute(f"truncate {REL}")
    with conn.cursor().copy(f"copy {REL} ({', '.join(COLUMNS)}) from stdin") as copy:
        for row in frame[COLUMNS].itertuples(index=False):
            copy.write_row([None if pd.isna(v) else v for v in row])
    conn.commit()


def rows(spec: list[tuple]) -> pd.DataFrame:
    return pd.DataFrame(
        [(s, i, k, v, T0 + timedelta(days=d)) for s, i, k, v, d in spec], columns=COLUMNS
    )


def assignments(conn) -> pd.DataFrame:
    return pd.DataFrame(
        conn.execute(
            "select source, source_record_id, customer_key, match_rule, first_assigned_at, "
            "updated_at from enrich.identity_assignments order by source, source_record_id"
        ).fetchall(),
        columns=[
            "source",
            "source_record_id",
            "customer_key",
            "match_rule",
            "first_assigned_at",
            "updated_at",
        ],
    )


ANN = [
    ("crm_contact", "1", "crm_contact_id", "1", 0),
    ("crm_contact", "1", "email", " Ann.Lee@Mail.com", 0),
    ("shop_customer", "7", "shop_customer_id", "7", 2),
    ("shop_customer", "7", "email", "ann.lee+shop@mail.com", 2),
    ("shop_order", "70", "shop_customer_id", "7", 3),
    ("shop_order", "70", "phone", "(212) 867-5309", 3),
]
ANN_AGAIN = [  # a second account under another address, found through the phone later
    ("shop_customer", "8", "shop_customer_id", "8", 4),
    ("shop_customer", "8", "email", "annie@other.com", 4),
]
BRIDGE = [
    ("shop_order", "80", "shop_customer_id", "8", 9),
    ("shop_order", "80", "phone", "+12128675309", 9),
]
BOB = [
    ("crm_contact", "2", "crm_contact_id", "2", 1),
    ("crm_contact", "2", "email", "bob@mail.com", 1),
    ("contact_center_ticket", "t1", "email", "test@test.com", 5),
    ("contact_center_ticket", "t2", "email", "TEST@test.com", 6),
]


def test_first_run_writes_every_record_once_with_the_in_memory_answer(conn, relation, warehouse):
    data = rows(ANN + ANN_AGAIN + BOB)
    load(conn, data)
    summary = resolve_identities(warehouse, relation)
    stored = assignments(conn)
    assert len(stored) == summary["records"] == 7
    expected = resolve_frame(data, salt=warehouse.salt(), max_share=warehouse.identity_max_share)
    cols = ["source", "source_record_id", "customer_key", "match_rule"]
    pd.testing.assert_frame_equal(stored[cols], expected.assignments[cols], check_dtype=False)
    assert (
        stored.set_index("source_record_id").loc["70", "customer_key"]
        == (stored.set_index("source_record_id").loc["1", "customer_key"])
    )
    suppressed = conn.execute(
        "select identifier_kind, reason, record_count from enrich.identity_suppressed"
    ).fetchall()
    assert suppressed == [("email", "placeholder", 2)]
    run = conn.execute(
        "select max_share, summary from cxw_meta.identity_runs where run_id = %s",
        (summary["run_id"],),
    ).fetchone()
    assert run[0] == warehouse.identity_max_share and run[1]["clusters"] == summary["clusters"]


def test_later_runs_keep_keys_record_merges_and_touch_only_what_changed(conn, relation, warehouse):
    load(conn, rows(ANN + ANN_AGAIN + BOB))
    resolve_identities(warehouse, relation)
    before = assignments(conn).set_index("source_record_id")
    ann_key, second_key = before.loc["1", "customer_key"], before.loc["8", "customer_key"]
    assert ann_key != second_key

    load(conn, rows(ANN + ANN_AGAIN + BOB + BRIDGE))
    summary = resolve_identities(warehouse, relation)
    after = assignments(conn).set_index("source_record_id")
    assert set(after.loc[["1", "7", "70", "8", "80"], "customer_key"]) == {ann_key}
    assert after.loc["2", "customer_key"] == before.loc["2", "customer_key"]
    assert after.loc["2", "updated_at"] == before.loc["2", "updated_at"]  # untouched row
    assert after.loc["8", "first_assigned_at"] == before.loc["8", "first_assigned_at"]
    assert summary["keys_merged"] == 1
    merges = conn.execute(
        "select merged_key, surviving_key, reason from enrich.customer_key_merges"
    ).fetchall()
    assert merges == [(second_key, ann_key, "clusters_merged")]
    lineage = conn.execute("select merged_key, current_key from enrich.customer_key_lineage")
    assert lineage.fetchall() == [(second_key, ann_key)]

    again = resolve_identities(warehouse, relation)  # same input: nothing moves
    assert again["records_changed"] == 0 and again["keys_merged"] == 0
    pd.testing.assert_frame_equal(assignments(conn), after.reset_index()[assignments(conn).columns])


def test_records_that_disappear_leave_the_assignments(conn, relation, warehouse):
    load(conn, rows(ANN + BOB))
    resolve_identities(warehouse, relation)
    load(conn, rows(ANN))  # e.g. Bob was erased upstream
    summary = resolve_identities(warehouse, relation)
    assert summary["records_gone"] == 3
    assert set(assignments(conn)["source_record_id"]) == {"1", "7", "70"}


def test_reset_forgets_history_and_gives_data_derived_keys(conn, relation, warehouse):
    load(conn, rows(ANN_AGAIN))
    resolve_identities(warehouse, relation)
    load(conn, rows(ANN + ANN_AGAIN + BRIDGE))
    resolve_identities(warehouse, relation)  # the older key survives (account 8's)
    resolve_identities(warehouse, relation, reset=True)
    fresh = resolve_frame(rows(ANN + ANN_AGAIN + BRIDGE), salt=warehouse.salt())
    assert set(assignments(conn)["customer_key"]) == set(fresh.assignments["customer_key"])
    assert conn.execute("select count(*) from enrich.customer_key_merges").fetchone()[0] == 0


def test_bad_relations_fail_with_one_line(warehouse):
    with pytest.raises(CxwError, match="not a relation name"):
        resolve_identities(warehouse, "staging.x; drop table y")
    with pytest.raises(CxwError, match="does not exist"):
        resolve_identities(warehouse, "staging.no_such_observations")


# ---- graded against the simulator -------------------------------------------------------------
SHOP_DB = "cxw_identity_test_shop"


def observations_from_sources(settings, shop_database: str) -> pd.DataFrame:
    """What the staging model must provide, built straight from the generated sources.

    Test shortcut: CRM contacts are read from the simulator's SQLite store instead of its API.
    """
    out: list[tuple] = []

    def add(source: str, rid, at: str, **kinds) -> None:
        out.append((source, str(rid), "email", None, at))  # the record, even with no identifier
        for kind, value in kinds.items():
            for v in value if isinstance(value, list) else [value]:
                if v not in (None, ""):
                    out.append((source, str(rid), kind, str(v), at))

    src = settings.sources_dir
    crm = sqlite3.connect(src / "crm" / "crm.sqlite")
    for (body,) in crm.execute("select body from objects where type = 'contacts'"):
        o = json.loads(body)
        p = o["properties"]
        merged = [m for m in (p.get("hs_merged_object_ids") or "").split(";") if m]
        add(
            "crm_contact", o["id"], o["createdAt"], crm_contact_id=o["id"], email=p["email"],
            phone=p["phone"], crm_merged_into=p.get("hs_merged_into_object_id"),
            crm_merged_object_id=merged,
        )  # fmt: skip
    crm.close()
    from cxw.warehouse import connect

    with connect(settings, shop_database) as shop:
        for i, email, phone, at in shop.execute(
            "select id, email, phone, created_at from shop.customers"
        ):
            add("shop_customer", i, at.isoformat(), shop_customer_id=i, email=email, phone=phone)
        for i, cust, email, phone, at in shop.execute(
            "select id, customer_id, email, phone, created_at from shop.orders"
        ):
            add(
                "shop_order", i, at.isoformat(), shop_order_id=i, shop_customer_id=cust,
                email=email, phone=phone,
            )  # fmt: skip
        for i, cust, email, phone, at in shop.execute(
            "select id, customer_id, email, phone, created_at from shop.abandoned_checkouts"
        ):
            add("shop_checkout", i, at.isoformat(), shop_customer_id=cust, email=email, phone=phone)
    calls, tickets, responses = {}, {}, {}
    for path in sorted((src / "contact_center").glob("*/calls.csv")):
        with path.open(newline="") as fh:
            calls.update({r["call_id"]: r for r in csv.DictReader(fh)})
    for path in sorted((src / "contact_center").glob("*/tickets.jsonl")):
        for line in path.read_text().splitlines():
            t = json.loads(line)
            if t["id"] not in tickets or t["updated_at"] > tickets[t["id"]]["updated_at"]:
                tickets[t["id"]] = t
    for path in sorted((src / "survey").glob("*/responses_*.csv")):
        lines = path.read_text().splitlines()
        header = next(csv.reader(lines[:1]))
        for r in csv.reader(lines[3:]):
            row = dict(zip(header, r, strict=True))
            responses[row["ResponseId"]] = row
    for cid, r in calls.items():
        add(
            "contact_center_call", cid, r["offered_at"], call_id=cid, phone=r["caller_phone"],
            ticket_id=r["ticket_id"],
        )  # fmt: skip
    for tid, t in tickets.items():
        q, cf = t["requester"], t["custom_fields"]
        add(
            "contact_center_ticket", tid, t["created_at"], ticket_id=tid, email=q["email"],
            phone=q["phone"], shop_order_id=cf["order_id"], call_id=cf["call_id"],
        )  # fmt: skip
    for rid, r in responses.items():
        add(
            "survey_response", rid, r["RecordedDate"] + "Z",
            email=[r["RecipientEmail"], r["email"]],
            shop_order_id=r.get("order_id") or r.get("OrderID"), ticket_id=r["ticket_id"],
        )  # fmt: skip
    frame = pd.DataFrame(out, columns=COLUMNS)
    frame["observed_at"] = pd.to_datetime(frame["observed_at"], utc=True, format="ISO8601")
    return frame


@pytest.fixture
def generated_world(warehouse, tmp_path, conn):
    from cxw.config import Settings
    from cxw.sources.api import generate
    from cxw.warehouse import connect

    shutil.copytree(warehouse.secrets_dir, tmp_path / "secrets")
    settings = Settings(home=tmp_path)
    generate(settings, customers=5000, days=365, seed=42, shop_database=SHOP_DB)
    yield settings
    with connect(warehouse, "postgres", autocommit=True) as admin:
        admin.execute(f"drop database if exists {SHOP_DB}")


def test_graded_against_the_simulator_truth(conn, relation, generated_world, warehouse):
    data = observations_from_sources(generated_world, SHOP_DB)
    load(conn, data)
    summary = resolve_identities(warehouse, relation)
    truth = pd.read_csv(generated_world.truth_dir / "identity_links.csv", dtype=str)
    quality = evaluate_against_truth(assignments(conn), truth)
    print(
        f"\nidentity vs truth: precision {quality['precision']:.5f}, recall "
        f"{quality['recall']:.5f} ({quality['records']} records, {quality['persons']} persons, "
        f"{summary['clusters']} clusters, suppressed {summary['suppressed']})"
    )
    assert quality["records_missing"] == 0 and quality["records_not_in_truth"] == 0
    assert quality["precision"] >= 0.995
    assert quality["recall"] >= 0.98
