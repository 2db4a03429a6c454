"""GX gate 1: the raw checkpoint over real loaded batches in the embedded warehouse.

A small StreamSpec is loaded with the real COPY loader; defects the loader would never let
through are then planted directly in the batch (as a buggy loader or source would), and the gate
must fail naming them. Expected volumes are computed here from the batch counts, independently
of the gate's own code.
"""

from __future__ import annotations

import logging
import math
import shutil
import statistics
from datetime import UTC, datetime, timedelta

import pytest

from cxw.errors import DataQualityError
from cxw.extract.spec import Column, StreamSpec
from cxw.load.copy import BatchWindow, load_stream
from cxw.quality.context import GX_ROOT, data_docs_dir
from cxw.quality.gates import run_raw_gate
from cxw.quality.suites import sync_suites

SPEC = StreamSpec(
    source="crm",
    stream="qa_gate_probe",
    columns=(
        Column("contact_id", "bigint", required=True),
        Column("email"),
        Column("amount", "numeric", non_negative=True),
        Column("status", choices=frozenset({"open", "closed"})),
        Column("updated_at", "timestamptz", required=True),
    ),
    key=("contact_id",),
    version="updated_at",
)
SUITE = "raw_crm.qa_gate_probe"
T0 = datetime(2026, 3, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def gx_root(tmp_path_factory, warehouse):
    """A copy of the committed GX project with the probe stream's suite added."""
    root = tmp_path_factory.mktemp("gx") / "expectations"
    shutil.copytree(GX_ROOT, root)
    sync_suites([SPEC], root)
    return root


@pytest.fixture
def db(conn):
    def wipe():
        conn.execute("drop table if exists raw_crm.qa_gate_probe")
        for table in ("rejected_rows", "watermarks", "batches"):
            conn.execute(f"delete from cxw_meta.{table} where stream = 'qa_gate_probe'")
        conn.execute("delete from cxw_meta.quality_results where suite = %s", (SUITE,))
        conn.commit()

    wipe()
    yield conn
    wipe()


def load(conn, day: int, n: int, *, initial: bool = False, age: timedelta = timedelta(0)):
    """Load batch `day` of `n` clean records; returns the extract summary the DAG would pass."""
    start = T0 + timedelta(days=day)
    end = start + timedelta(days=1)
    window = BatchWindow(start, end, None if initial else start, end)
    records = [
        (
            f"probe:{day}:{i}",
            {
                "contact_id": day * 10_000 + i,
                "email": f"p{day}-{i}@example.com",
                "amount": f"{i % 7}.25",
                "status": "open" if i % 2 else "closed",
                "updated_at": (start + timedelta(minutes=i) - age).isoformat(),
            },
        )
        for i in range(n)
    ]
    conn.commit()  # the loader wants a connection with no open transaction
    res = load_stream(conn, SPEC, records, window)
    return {
        "source": "crm",
        "window": {"start": start.isoformat(), "end": end.isoformat()},
        "batches": [res.as_dict() | {"initial_sync": initial}],
    }


def gate(settings, gx_root, summary, run_id="qa-run"):
    return run_raw_gate(settings, "crm", summary, run_id, specs=[SPEC], root=gx_root)


def test_clean_batch_passes_and_every_result_is_recorded(db, warehouse, gx_root):
    summary = load(db, 0, 50, initial=True)
    out = gate(warehouse, gx_root, summary)
    batch_id = summary["batches"][0]["batch_id"]
    assert out["success"] and out["failed"] == 0 and out["checkpoint"] == "raw_crm"
    assert out["batches"][0]["batch_id"] == batch_id and out["batches"][0]["rows"] == 50
    assert out["batches"][0]["volume"]["note"].startswith("skipped: initial sync")
    stored = db.execute(
        """select count(*), bool_and(success), min(batch_id), max(batch_id),
                  min(checkpoint), count(*) filter (where sample_rows is not null)
           from cxw_meta.quality_results where run_id = 'qa-run' and suite = %s""",
        (SUITE,),
    ).fetchone()
    assert stored == (out["expectations"], True, batch_id, batch_id, "raw_crm", 0)
    kinds = {
        r[0]
        for r in db.execute(
            "select expectation from cxw_meta.quality_results where suite = %s", (SUITE,)
        )
    }
    assert {
        "expect_table_columns_to_match_set",
        "expect_column_values_to_not_be_null",
        "expect_compound_columns_to_be_unique",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_be_between",
        "expect_table_row_count_to_be_between",
        "expect_column_max_to_be_between_unless_empty",
    } <= kinds
    assert (data_docs_dir(warehouse) / "index.html").is_file()
    # a retried task replaces its results instead of adding to them
    gate(warehouse, gx_root, summary)
    again = db.execute(
        "select count(*) from cxw_meta.quality_results where run_id = 'qa-run' and suite = %s",
        (SUITE,),
    ).fetchone()[0]
    assert again == out["expectations"]


def test_only_the_batch_under_audit_is_validated(db, warehouse, gx_root):
    load(db, 0, 40, initial=True)
    db.execute("update raw_crm.qa_gate_probe set amount = -1")  # defects in an OLDER batch
    db.commit()
    summary = load(db, 1, 12)
    out = gate(warehouse, gx_root, summary)
    assert out["success"], out["failures"]
    assert out["batches"][0]["rows"] == 12


PLANTS = {
    "null key": (
        "update raw_crm.qa_gate_probe set contact_id = null where contact_id = 10003",
        "expect_column_values_to_not_be_null(contact_id)",
    ),
    "duplicate key": (
        "insert into raw_crm.qa_gate_probe select * from raw_crm.qa_gate_probe "
        "where contact_id = 10004",
        "expect_compound_columns_to_be_unique(contact_id,updated_at)",
    ),
    "negative amount": (
        "update raw_crm.qa_gate_probe set amount = -5 where contact_id = 10005",
        "expect_column_values_to_be_between(amount)",
    ),
    "unknown enum": (
        "update raw_crm.qa_gate_probe set status = 'bogus' where contact_id = 10006",
        "expect_column_values_to_be_in_set(status)",
    ),
}


@pytest.mark.parametrize("defect", list(PLANTS))
def test_planted_defect_fails_the_gate_and_is_named(db, warehouse, gx_root, defect, caplog):
    summary = load(db, 1, 30)
    plant, named = PLANTS[defect]
    db.execute(plant)
    db.commit()
    with (
        caplog.at_level(logging.ERROR, logger="cxw.alerts"),
        pytest.raises(DataQualityError) as exc,
    ):
        gate(warehouse, gx_root, summary)
    message = str(exc.value)
    assert message.startswith("raw gate failed for crm: ")
    assert f"{SUITE} {named}" in message
    assert "e.g. {" in message and "contact_id" in message
    assert any("raw gate failed for crm" in r.getMessage() for r in caplog.records)
    failed = db.execute(
        """select expectation, column_name, observed, sample_rows from cxw_meta.quality_results
           where run_id = 'qa-run' and suite = %s and not success""",
        (SUITE,),
    ).fetchall()
    assert [f"{r[0]}({r[1]})" for r in failed] == [named]
    samples = failed[0][3]
    assert 1 <= len(samples) <= 5
    assert all(s["_cxw_batch_id"] == summary["batches"][0]["batch_id"] for s in samples)
    if defect == "negative amount":
        assert [float(s["amount"]) for s in samples] == [-5.0]
    if defect == "duplicate key":
        assert {s["contact_id"] for s in samples} == {10004} and len(samples) == 2
        assert failed[0][2]["unexpected_count"] == 2


def test_all_planted_defects_are_named_in_one_failure(db, warehouse, gx_root):
    summary = load(db, 1, 30)
    for plant, _ in PLANTS.values():
        db.execute(plant)
    db.commit()
    with pytest.raises(DataQualityError) as exc:
        gate(warehouse, gx_root, summary)
    for _, named in PLANTS.values():
        assert named in str(exc.value)


def test_volume_flags_a_10x_batch_once_there_is_enough_history(db, warehouse, gx_root):
    load(db, 0, 500, initial=True)  # an initial sync is never compared with daily batches
    counts = [18, 22, 20, 19, 21]
    for day, n in enumerate(counts[:2], start=1):
        load(db, day, n)
    # only 2 earlier incremental batches: the volume check is skipped, even for 200 rows
    early = gate(warehouse, gx_root, load(db, 3, 200))
    assert early["success"] and early["batches"][0]["volume"]["note"].startswith("skipped")
    # ... and is then replaced by a re-run, so it is not part of the history
    early_id = early["batches"][0]["batch_id"]
    db.execute("delete from raw_crm.qa_gate_probe where _cxw_batch_id = %s", (early_id,))
    db.execute("update cxw_meta.batches set status = 'replaced' where batch_id = %s", (early_id,))
    db.commit()
    for day, n in enumerate(counts[2:], start=3):
        load(db, day, n)
    # the same z-score computed independently: mean 20, sd floor sqrt(20)
    mean = statistics.fmean(counts)
    sd = max(statistics.pstdev(counts), math.sqrt(mean), 1.0)
    assert (200 - mean) / sd > 4 > (24 - mean) / sd
    ok = gate(warehouse, gx_root, load(db, 6, 24))
    assert ok["success"], ok["failures"]
    assert ok["batches"][0]["volume"]["history"] == 5
    with pytest.raises(DataQualityError) as exc:
        gate(warehouse, gx_root, load(db, 7, 200))
    message = str(exc.value)
    assert f"{SUITE} expect_table_row_count_to_be_between — observed 200" in message
    assert "z=" in message
    observed = db.execute(
        """select observed from cxw_meta.quality_results where run_id = 'qa-run' and suite = %s
           and expectation = 'expect_table_row_count_to_be_between'""",
        (SUITE,),
    ).fetchone()[0]
    assert observed["observed_value"] == 200 and observed["volume"]["z"] > 4
    # a quiet day: an empty incremental batch passes (freshness has nothing to judge)
    quiet = gate(warehouse, gx_root, load(db, 8, 0))
    assert quiet["success"], quiet["failures"]
    assert quiet["batches"][0]["rows"] == 0


def test_stale_and_future_data_fail(db, warehouse, gx_root):
    stale = load(db, 1, 10, age=timedelta(days=10))
    with pytest.raises(DataQualityError) as exc:
        gate(warehouse, gx_root, stale)
    assert "expect_column_max_to_be_between_unless_empty(updated_at)" in str(exc.value)
    assert "expect_column_values_to_be_between(updated_at)" not in str(exc.value)
    future = load(db, 2, 10)
    db.execute(
        "update raw_crm.qa_gate_probe set updated_at = updated_at + interval '30 days' "
        "where contact_id = 20001"
    )
    db.commit()
    with pytest.raises(DataQualityError) as exc:
        gate(warehouse, gx_root, future)
    assert "expect_column_values_to_be_between(updated_at) — 1 row," in str(exc.value)
