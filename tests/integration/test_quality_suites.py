"""The committed GX project: generated from StreamSpecs and marts.yml, loadable by GX, in sync.

If a StreamSpec or marts.yml changes without `python -m cxw.quality.suites`, the first test
fails (and the gates refuse to run), so the committed suites can never drift from the specs.
"""

from __future__ import annotations

import json
import math
import shutil

import pytest
from typer.testing import CliRunner

from cxw.errors import ConfigError
from cxw.extract.spec import Column, StreamSpec
from cxw.quality.context import GX_ROOT, data_docs_dir, get_context
from cxw.quality.gates import run_raw_gate
from cxw.quality.marts import load_registry
from cxw.quality.params import volume_bounds
from cxw.quality.suites import all_specs, drift, mart_suite, raw_suite, suite_path, sync_suites

SPEC = StreamSpec(
    source="survey",
    stream="qa_suite_probe",
    columns=(
        Column("response_id", required=True),
        Column("score", "bigint", non_negative=True),
        Column("channel", choices=frozenset({"email", "sms"})),
        Column("submitted_at", "timestamptz", required=True),
        Column("survey_date", "date"),
        Column("follow_up_at", "timestamptz"),  # may lie in the future
    ),
    key=("response_id",),
    version="submitted_at",
)


def test_committed_files_match_what_the_specs_and_registry_generate():
    stale = drift(all_specs(), GX_ROOT)
    assert stale == [], f"run `python -m cxw.quality.suites`; out of date: {stale}"


def test_no_secret_is_committed():
    config = (GX_ROOT / "great_expectations.yml").read_text()
    assert "connection_string: ${CXW_GX_WAREHOUSE_URL}" in config
    assert "postgresql" not in config.replace("type: postgres", "")


def test_raw_suite_holds_the_checks_the_spec_implies():
    suite = raw_suite(SPEC).to_json_dict()
    got = [
        (e["type"], e["kwargs"].get("column") or e["kwargs"].get("column_list"), e["meta"]["check"])
        for e in suite["expectations"]
    ]
    assert suite["name"] == "raw_survey.qa_suite_probe"
    assert got == [
        ("expect_table_columns_to_match_set", None, "schema"),
        ("expect_column_values_to_not_be_null", "response_id", "not_null"),
        ("expect_column_values_to_not_be_null", "submitted_at", "not_null"),
        ("expect_compound_columns_to_be_unique", ["response_id", "submitted_at"], "unique"),
        ("expect_column_values_to_be_in_set", "channel", "value_set"),
        ("expect_column_values_to_be_between", "score", "range"),
        ("expect_column_values_to_be_between", "submitted_at", "range"),
        ("expect_column_values_to_be_between", "follow_up_at", "range"),
        ("expect_table_row_count_to_be_between", None, "volume"),
        ("expect_column_max_to_be_between_unless_empty", "_cxw_loaded_at", "freshness"),
        ("expect_column_max_to_be_between_unless_empty", "submitted_at", "freshness"),
    ]
    columns = suite["expectations"][0]["kwargs"]["column_set"]
    assert columns[:5] == ["response_id", "score", "channel", "submitted_at", "survey_date"]
    assert {"_cxw_batch_id", "_cxw_loaded_at", "_extra"} <= set(columns)
    by_type = {}
    for e in suite["expectations"]:
        by_type.setdefault(e["type"], []).append(e["kwargs"])
    ranges = {k["column"]: k for k in by_type["expect_column_values_to_be_between"]}
    assert ranges["submitted_at"] == {
        "column": "submitted_at",
        "min_value": "1990-01-01T00:00:00+00:00",
        "max_value": {"$PARAMETER": "raw_survey__qa_suite_probe__ts_max"},
    }
    assert "max_value" not in ranges["follow_up_at"]
    (volume,) = by_type["expect_table_row_count_to_be_between"]
    assert volume == {
        "min_value": {"$PARAMETER": "raw_survey__qa_suite_probe__rows_min"},
        "max_value": {"$PARAMETER": "raw_survey__qa_suite_probe__rows_max"},
    }


def test_sync_is_stable_and_gx_loads_what_it_wrote(tmp_path, settings):
    root = tmp_path / "expectations"
    shutil.copytree(GX_ROOT, root)
    first = sync_suites([SPEC], root)
    assert "suites/raw_survey/qa_suite_probe.json" in first
    assert "checkpoints/raw_survey.json" in first
    assert sync_suites([SPEC], root) == []  # byte-for-byte stable
    assert drift([SPEC], root) == []
    context = get_context(settings, root)

    def same(a, b):  # GX stamps its version into `meta` when it loads a suite
        a, b = a.to_json_dict(), b.to_json_dict()
        return all(a[k] == b[k] for k in ("id", "name", "expectations"))

    assert same(context.suites.get("raw_survey.qa_suite_probe"), raw_suite(SPEC))
    checkpoint = context.checkpoints.get("raw_survey")
    assert [vd.name for vd in checkpoint.validation_definitions] == ["raw_survey.qa_suite_probe"]
    registry = load_registry(root / "marts.yml")
    mart = next(iter(registry.marts))
    assert same(context.suites.get(f"analytics_candidate.{mart}"), mart_suite(registry, mart))
    # a stream that disappears takes its files with it
    sync_suites([], root)
    assert not (root / suite_path("raw_survey.qa_suite_probe")).exists()
    assert not (root / "checkpoints/raw_survey.json").exists()


def test_gates_refuse_to_run_on_drifted_files(tmp_path, settings):
    root = tmp_path / "expectations"
    shutil.copytree(GX_ROOT, root)
    sync_suites([SPEC], root)
    path = root / suite_path("raw_survey.qa_suite_probe")
    data = json.loads(path.read_text())
    data["expectations"].pop(1)  # someone deleted the not-null check by hand
    path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    summary = {
        "source": "survey",
        "window": {"start": "2026-03-01T00:00:00+00:00", "end": "2026-03-02T00:00:00+00:00"},
        "batches": [{"batch_id": "b", "stream": "qa_suite_probe", "loaded": 1}],
    }
    with pytest.raises(ConfigError, match=r"out of date .*suites/raw_survey/qa_suite_probe\.json"):
        run_raw_gate(settings, "survey", summary, "qa-drift", specs=[SPEC], root=root)


def test_registry_mistakes_are_reported_in_one_line(tmp_path):
    path = tmp_path / "marts.yml"
    path.write_text("marts:\n  m:\n    key: [id]\n    ranges: {nps: [200, 100]}\n")
    with pytest.raises(ConfigError, match=r"marts\.m\.ranges: .*200.0 > 100.0"):
        load_registry(path)
    path.write_text("marts:\n  m:\n    keys: [id]\n")
    with pytest.raises(ConfigError, match=r"marts\.m\.key: Field required"):
        load_registry(path)


def test_volume_bounds_follow_the_z_score_with_a_noise_floor():
    steady = volume_bounds([100] * 14)  # sd 0: the floor is sqrt(100) = 10
    assert (steady.min, steady.max, steady.sd) == (60, 140, 10.0)
    noisy = volume_bounds([10, 30] * 7)  # mean 20, population sd 10 > sqrt(20)
    assert (noisy.min, noisy.max) == (0, 60)
    assert noisy.z(70) == 5.0
    short = volume_bounds([5, 6, 7, 8])
    assert (short.min, short.max) == (0, None) and short.note.startswith("skipped")
    assert volume_bounds([1000] * 5, floor=1).min == math.ceil(1000 - 4 * math.sqrt(1000))


def test_cli_builds_the_data_docs_and_prints_their_path(settings, monkeypatch):
    import typer

    from cxw.cli import quality as cli

    opened = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    app = typer.Typer()
    app.callback()(lambda: None)
    cli.register(app)
    result = CliRunner().invoke(app, ["quality", "--open"])
    assert result.exit_code == 0, result.output
    index = data_docs_dir(settings) / "index.html"
    assert str(index) in result.output.replace("\n", "")
    assert index.is_file() and opened == [index.as_uri()]


def test_gx_learns_a_query_assets_columns_without_reading_its_rows(settings, conn):
    """GX finds a query asset's columns by running the query; unpatched, the driver fetches
    every row (3 GB for a 3M-row raw batch). Every row of this query divides by zero, so only
    a query that returns no rows yields the columns."""
    import sqlalchemy as sa
    from great_expectations.expectations.metrics import util

    get_context(settings)  # applies the fix, as every gate does
    engine = sa.create_engine(settings.superuser_url())
    try:
        query = sa.text("select x, 1 / (x - x) as boom from generate_series(1, 3) as x")
        columns = util.column_reflection_fallback(query, engine.dialect, engine)
    finally:
        engine.dispose()
    assert [c["name"] for c in columns] == ["x", "boom"]
