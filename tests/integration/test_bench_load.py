"""The `load` bench scenario: both tools load the same rows, and nothing is left behind."""

from __future__ import annotations

from cxw.bench import scenarios


def test_load_scenario_times_the_loader_and_psql_on_the_same_rows(settings, conn):
    out = scenarios.load(settings, rows=3000)
    assert out["rows"] == 3000  # the scenario itself checks that all 2 x 3000 rows loaded
    for case in ("initial", "append"):
        figures = out[case]
        assert figures["cxw_rows_per_s"] > 0 and figures["psql_rows_per_s"] > 0
        assert figures["ratio"] == round(figures["cxw_rows_per_s"] / figures["psql_rows_per_s"], 3)
    assert out["ratio_cxw_to_psql"] == min(out["initial"]["ratio"], out["append"]["ratio"])
    left = conn.execute(
        "select count(*) from information_schema.tables"
        " where table_schema = 'raw_contact_center' and table_name like 'bench%'"
    ).fetchone()[0]
    batches = conn.execute(
        "select count(*) from cxw_meta.batches where stream = 'bench_calls'"
    ).fetchone()[0]
    assert (left, batches) == (0, 0)
