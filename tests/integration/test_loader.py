"""The COPY loader: batch-atomic, idempotent per interval, nothing lost, drift kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from cxw.errors import DataQualityError
from cxw.extract.spec import Column, StreamSpec
from cxw.load.copy import BatchWindow, current_watermark, load_stream

SPEC = StreamSpec(
    source="crm",
    stream="loader_probe",
    columns=(
        Column("id", "bigint", required=True),
        Column("amount", "numeric", non_negative=True),
        Column("status", choices=frozenset({"open", "closed"})),
        Column("updated_at", "timestamptz", required=True),
    ),
    key=("id",),
    version="updated_at",
)
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def window(day: int, initial: bool = False) -> BatchWindow:
    start = T0 + timedelta(days=day)
    return BatchWindow(
        start, start + timedelta(days=1), None if initial else start, start + timedelta(days=1)
    )


def rec(i: int, amount="1.50", status="open", ts=None, **extra):
    return (
        f"probe:id={i}",
        {"id": i, "amount": amount, "status": status, "updated_at": ts or T0.isoformat(), **extra},
    )


@pytest.fixture
def clean(conn):
    conn.execute("drop table if exists raw_crm.loader_probe")
    conn.execute("delete from cxw_meta.rejected_rows where stream = 'loader_probe'")
    conn.execute("delete from cxw_meta.watermarks where stream = 'loader_probe'")
    conn.execute("delete from cxw_meta.batches where stream = 'loader_probe'")
    conn.commit()
    return conn


def rows(conn):
    return conn.execute(
        "select id, amount, status, _extra from raw_crm.loader_probe order by id, updated_at"
    ).fetchall()


def test_rows_load_with_batch_metadata_and_reconcile(clean):
    res = load_stream(clean, SPEC, [rec(i) for i in range(100)], window(0, initial=True))
    assert (res.seen, res.loaded, res.rejected, res.unchanged) == (100, 100, 0, 0)
    meta = clean.execute(
        "select count(distinct _cxw_batch_id), min(_cxw_source), count(_cxw_loaded_at) from raw_crm.loader_probe"
    ).fetchone()
    assert meta == (1, "crm", 100)
    b = clean.execute(
        "select status, records_seen, records_loaded, records_rejected from cxw_meta.batches where batch_id = %s",
        (res.batch_id,),
    ).fetchone()
    assert b == ("committed", 100, 100, 0)


def test_bad_records_are_quarantined_with_reasons_and_loading_goes_on(clean):
    records = [rec(i) for i in range(300)]
    records[5] = rec(5, amount="-3")
    records[7] = ("probe:id=None", {"id": None, "updated_at": T0.isoformat()})
    records[9] = rec(9, status="bogus")
    records[11] = rec(11, ts="2026-02-30T00:00:00")
    res = load_stream(clean, SPEC, records, window(0, initial=True), reject_threshold=0.05)
    assert (res.seen, res.loaded, res.rejected) == (300, 296, 4)
    got = dict(
        clean.execute(
            "select locator, reason from cxw_meta.rejected_rows where batch_id = %s",
            (res.batch_id,),
        ).fetchall()
    )
    assert set(got) == {"probe:id=5", "probe:id=None", "probe:id=9", "probe:id=11"}
    assert "negative" in got["probe:id=5"]
    assert "missing" in got["probe:id=None"]
    assert "unknown" in got["probe:id=9"]
    assert "not a valid timestamp" in got["probe:id=11"]
    assert "timestamp" in got["probe:id=11"]


def test_too_many_rejects_fails_the_batch_and_loads_nothing(clean):
    records = [rec(i, amount="-1" if i % 10 == 0 else "1") for i in range(100)]
    with pytest.raises(DataQualityError, match=r"10 of 100 records rejected .*amount is negative"):
        load_stream(clean, SPEC, records, window(0, initial=True))
    assert clean.execute("select to_regclass('raw_crm.loader_probe')").fetchone() == (None,)
    assert clean.execute(
        "select status from cxw_meta.batches where stream = 'loader_probe'"
    ).fetchall() == [("failed",)]
    assert current_watermark(clean, "crm", "loader_probe") is None


def test_a_batch_killed_midway_leaves_nothing_visible(clean):
    def exploding():
        yield from (rec(i) for i in range(50))
        raise KeyboardInterrupt("killed")

    with pytest.raises(KeyboardInterrupt):
        load_stream(clean, SPEC, exploding(), window(0, initial=True))
    clean.rollback()
    exists = clean.execute("select to_regclass('raw_crm.loader_probe')").fetchone()[0]
    if exists:
        assert clean.execute("select count(*) from raw_crm.loader_probe").fetchone() == (0,)
    assert current_watermark(clean, "crm", "loader_probe") is None
    clean.commit()
    # and a re-run loads it all
    res = load_stream(clean, SPEC, [rec(i) for i in range(50)], window(0, initial=True))
    assert res.loaded == 50


def test_rerunning_an_interval_replaces_its_batch(clean):
    first = load_stream(clean, SPEC, [rec(i) for i in range(10)], window(0, initial=True))
    again = load_stream(clean, SPEC, [rec(i) for i in range(12)], window(0, initial=True))
    assert again.replaced_batches == 1
    assert len(rows(clean)) == 12  # no duplicates from the first attempt
    statuses = dict(
        clean.execute("select batch_id, status from cxw_meta.batches where stream='loader_probe'")
    )
    assert statuses == {first.batch_id: "replaced", again.batch_id: "committed"}


def test_identical_versions_are_not_loaded_twice_but_updates_are(clean):
    load_stream(clean, SPEC, [rec(i) for i in range(10)], window(0, initial=True))
    later = (T0 + timedelta(days=1, hours=3)).isoformat()
    overlap = [rec(i) for i in range(5)] + [rec(3, status="closed", ts=later), rec(10)]
    res = load_stream(clean, SPEC, overlap, window(1))
    assert (res.seen, res.loaded, res.unchanged, res.rejected) == (7, 2, 5, 0)
    assert len(rows(clean)) == 12  # 10 + a new version of id 3 + id 10


def test_unknown_fields_are_kept_in_extra(clean):
    load_stream(clean, SPEC, [rec(1, loyalty_tier="gold")], window(0, initial=True))
    assert rows(clean)[0][3] == {"loyalty_tier": "gold"}


def test_watermark_moves_only_forward(clean):
    load_stream(clean, SPEC, [rec(1)], window(5, initial=True))
    load_stream(clean, SPEC, [rec(2)], window(2))  # a backfill of an earlier day
    assert current_watermark(clean, "crm", "loader_probe") == T0 + timedelta(days=6)


def test_missing_required_header_column_is_named():
    assert SPEC.missing_required(["id", "amount", "status"]) == ["updated_at"]


# --- the fast path: a CSV file COPYed as it is must give what the careful path gives ---------

FAST_CASES = {
    "clean": [],
    "value that does not cast": [(3, "amount", "1.2.3")],
    "failed check": [(4, "amount", "-2")],
    "unknown enum value": [(5, "status", "pending")],
    "padded text": [(6, "status", " open")],
    "quoted empty text": [(7, "status", '""')],
    "impossible date": [(8, "updated_at", "2026-02-30T00:00:00")],
    "number with a fraction for an integer key": [(9, "id", "9.5")],
}


def _write_probe_csv(path, changes, header=("id", "amount", "status", "updated_at")):
    lines = [",".join(header)]
    for i in range(1, 41):
        values = {
            "id": str(i),
            "amount": f"{i}.25",
            "status": "closed",
            "updated_at": T0.isoformat(),
        }
        for line_id, col, value in changes:
            if line_id == i:
                values[col] = value
        lines.append(",".join(values.get(h, "") for h in header))
    path.write_text("\n".join(lines) + "\n")


def _csv_records(path):
    import csv

    with path.open(newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader)
        for n, row in enumerate(reader, start=2):
            yield f"{path.name}:line {n}", dict(zip(header, row, strict=True))


def _load_both(conn, tmp_path, changes, header=("id", "amount", "status", "updated_at")):
    from dataclasses import replace

    from cxw.load.copy import CsvFile

    out = {}
    for stream, fast in (("loader_probe", True), ("loader_probe_careful", False)):
        spec = replace(SPEC, stream=stream)
        conn.execute(f"drop table if exists raw_crm.{stream}")
        conn.execute("delete from cxw_meta.rejected_rows where stream = %s", (stream,))
        conn.execute("delete from cxw_meta.watermarks where stream = %s", (stream,))
        conn.execute("delete from cxw_meta.batches where stream = %s", (stream,))
        conn.commit()
        path = tmp_path / "probe.csv"
        _write_probe_csv(path, changes, header)
        files = [CsvFile(path, path.name)] if fast else None
        res = load_stream(
            conn,
            spec,
            _csv_records(path),
            window(0, initial=True),
            reject_threshold=0.5,
            files=files,
        )
        loaded = conn.execute(
            f"select id, amount, status, updated_at, _extra, _cxw_locator from raw_crm.{stream}"
            " order by id"
        ).fetchall()
        rejects = conn.execute(
            "select locator, reason from cxw_meta.rejected_rows where stream = %s order by 1",
            (stream,),
        ).fetchall()
        out[fast] = (res, loaded, rejects)
    return out


@pytest.mark.parametrize("case", list(FAST_CASES))
def test_fast_path_gives_what_the_careful_path_gives(clean, tmp_path, case):
    out = _load_both(clean, tmp_path, FAST_CASES[case])
    (fast, fast_rows, fast_rej), (careful, careful_rows, careful_rej) = out[True], out[False]
    assert [r[:5] for r in fast_rows] == [r[:5] for r in careful_rows]
    assert fast_rej == careful_rej
    assert (fast.seen, fast.loaded, fast.rejected) == (
        careful.seen,
        careful.loaded,
        careful.rejected,
    )
    assert fast.seen == 40
    assert careful.rejected == (0 if case in ("clean", "padded text", "quoted empty text") else 1)
    # a clean file was COPYed as it is (its rows name the file); anything else went the careful
    # way (its rows name their line)
    fast_locators = {r[5] for r in fast_rows}
    assert fast_locators == ({"probe.csv"} if case == "clean" else {r[5] for r in careful_rows})


def test_fast_path_leaves_drift_to_the_careful_path(clean, tmp_path):
    out = _load_both(clean, tmp_path, [], header=("id", "amount", "status", "updated_at", "tier"))
    assert [r[:5] for r in out[True][1]] == [r[:5] for r in out[False][1]]
    assert out[True][1][0][4] == {"tier": ""}
    out = _load_both(clean, tmp_path, [], header=("id", "status", "updated_at"))  # optional gone
    assert [r[:5] for r in out[True][1]] == [r[:5] for r in out[False][1]]
    assert {r[5] for r in out[True][1]} == {"probe.csv"}


def test_initial_load_builds_the_indexes_after_the_copy(clean, tmp_path):
    _load_both(clean, tmp_path, [])
    names = {
        r[0]
        for r in clean.execute(
            "select indexname from pg_indexes where schemaname = 'raw_crm' and tablename = 'loader_probe'"
        )
    }
    assert names == {"loader_probe__batch", "loader_probe__key_version"}


# --- key ranges: the anti-join against earlier batches runs only when ranges overlap --------


def _analyze_count(conn) -> int:
    conn.execute("set stats_fetch_consistency = none")
    n = conn.execute(
        "select analyze_count from pg_stat_user_tables"
        " where schemaname = 'raw_crm' and relname = 'loader_probe'"
    ).fetchone()[0]
    conn.commit()
    return n


def test_batches_record_their_key_range_compared_in_the_key_type(clean):
    first = load_stream(clean, SPEC, [rec(i) for i in range(10)], window(0, initial=True))
    before = _analyze_count(clean)
    # 10..12 sorts before "9" as text, but not as bigint: no overlap, no anti-join needed
    second = load_stream(clean, SPEC, [rec(i) for i in range(10, 13)], window(1))
    assert second.loaded == 3 and _analyze_count(clean) == before
    ranges = dict(
        (b, (lo, hi))
        for b, lo, hi in clean.execute(
            "select batch_id, key_min, key_max from cxw_meta.batches where stream='loader_probe'"
        )
    )
    clean.commit()
    assert ranges == {first.batch_id: ("0", "9"), second.batch_id: ("10", "12")}
    # a resend of an earlier version overlaps the first batch's range: it is found unchanged
    third = load_stream(clean, SPEC, [rec(4), rec(20)], window(2))
    assert (third.loaded, third.unchanged) == (1, 1) and _analyze_count(clean) == before + 1


def test_a_batch_recorded_without_a_key_range_may_hold_any_key(clean):
    load_stream(clean, SPEC, [rec(i) for i in range(10)], window(0, initial=True))
    clean.execute("update cxw_meta.batches set key_min = null, key_max = null")  # an older run
    clean.commit()
    res = load_stream(clean, SPEC, [rec(5)], window(1))
    assert (res.loaded, res.unchanged) == (0, 1)
