"""The Superset import bundle: structure, references and keys per Superset's import schemas.

The key sets below are the fields of Superset 5.0's marshmallow import schemas (the version
docker-compose runs): superset/databases/schemas.py ImportV1DatabaseSchema,
superset/datasets/schemas.py ImportV1DatasetSchema (+ ImportV1ColumnSchema),
superset/charts/schemas.py ImportV1ChartSchema, superset/dashboards/schemas.py
ImportV1DashboardSchema, superset/commands/importers/v1/utils.py MetadataSchema. The importer
strips the bundle's first directory (`remove_root`) and dispatches on `databases/`, `datasets/`,
`charts/`, `dashboards/`. tests/e2e/test_superset_import.py imports it into a real Superset.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import datetime
from pathlib import Path, PurePosixPath

import pytest
import yaml

from cxw.bi import superset as ss
from cxw.bi.spec import load_spec
from cxw.bi.target import WarehouseTarget

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dashboards_test.yml"
PASSWORD = "Sup3r-secret-bi-password"
TARGET = WarehouseTarget("warehouse", 5432, "cxw", "cxw_bi_reader", PASSWORD)

SCHEMA_KEYS = {
    "databases/": {
        "required": {"database_name", "sqlalchemy_uri", "uuid", "version"},
        "allowed": {
            "database_name", "sqlalchemy_uri", "password", "cache_timeout", "expose_in_sqllab",
            "allow_run_async", "allow_ctas", "allow_cvas", "allow_dml", "allow_csv_upload",
            "allow_file_upload", "impersonate_user", "extra", "uuid", "version",
            "is_managed_externally", "external_url", "ssh_tunnel",
        },
    },
    "datasets/": {
        "required": {"table_name", "uuid", "version", "database_uuid"},
        "allowed": {
            "table_name", "main_dttm_col", "description", "default_endpoint", "offset",
            "cache_timeout", "schema", "catalog", "sql", "params", "template_params",
            "filter_select_enabled", "fetch_values_predicate", "extra", "uuid", "columns",
            "metrics", "version", "database_uuid", "data", "is_managed_externally",
            "external_url", "normalize_columns", "always_filter_main_dttm",
        },
    },
    "charts/": {
        "required": {"slice_name", "viz_type", "uuid", "version", "dataset_uuid"},
        "allowed": {
            "slice_name", "description", "certified_by", "certification_details", "viz_type",
            "params", "query_context", "cache_timeout", "uuid", "version", "dataset_uuid",
            "is_managed_externally", "external_url",
        },
    },
    "dashboards/": {
        "required": {"dashboard_title", "uuid", "version"},
        "allowed": {
            "dashboard_title", "description", "css", "slug", "uuid", "position", "metadata",
            "version", "is_managed_externally", "external_url", "certified_by",
            "certification_details", "published",
        },
    },
}  # fmt: skip
COLUMN_KEYS = {
    "column_name", "extra", "verbose_name", "is_dttm", "is_active", "type",
    "advanced_data_type", "groupby", "filterable", "expression", "description",
    "python_date_format",
}  # fmt: skip


@pytest.fixture(scope="module")
def spec():
    return load_spec(FIXTURE)


@pytest.fixture(scope="module")
def raw_zip(spec) -> bytes:
    return ss.build_bundle(spec, TARGET)


@pytest.fixture(scope="module")
def files(raw_zip) -> dict[str, dict]:
    """Bundle contents as the importer sees them: root dir removed, YAML parsed."""
    with zipfile.ZipFile(io.BytesIO(raw_zip)) as zf:
        names = zf.namelist()
        assert {PurePosixPath(n).parts[0] for n in names} == {ss.ROOT}
        return {
            str(PurePosixPath(*PurePosixPath(n).parts[1:])): yaml.safe_load(zf.read(n))
            for n in names
        }


def _of(files: dict[str, dict], prefix: str) -> dict[str, dict]:
    return {k: v for k, v in files.items() if k.startswith(prefix)}


def test_metadata_declares_the_v1_format(files):
    meta = files["metadata.yaml"]
    assert meta["version"] == "1.0.0" and meta["type"] == "Dashboard"
    datetime.fromisoformat(meta["timestamp"])


def test_the_assets_variant_differs_only_in_type(spec):
    with zipfile.ZipFile(io.BytesIO(ss.build_bundle(spec, TARGET, bundle_type="assets"))) as zf:
        assert yaml.safe_load(zf.read(f"{ss.ROOT}/metadata.yaml"))["type"] == "assets"


@pytest.mark.parametrize("prefix", sorted(SCHEMA_KEYS))
def test_yaml_keys_follow_the_import_schema(files, prefix):
    docs = _of(files, prefix)
    assert docs, f"no {prefix} files"
    for name, doc in docs.items():
        keys = set(doc)
        assert SCHEMA_KEYS[prefix]["required"] <= keys, name
        assert keys <= SCHEMA_KEYS[prefix]["allowed"], (name, keys - SCHEMA_KEYS[prefix]["allowed"])
        uuid.UUID(doc["uuid"])
        assert doc["version"] == "1.0.0"
    if prefix == "datasets/":
        for doc in docs.values():
            for col in doc["columns"]:
                assert set(col) <= COLUMN_KEYS and "column_name" in col


def test_one_dataset_and_chart_per_spec_chart_and_one_dashboard_per_spec_dashboard(files, spec):
    charts = [c for _, c in spec.charts()]
    assert len(_of(files, "datasets/")) == len(_of(files, "charts/")) == len(charts)
    assert len(_of(files, "dashboards/")) == len(spec.dashboards)
    assert len(_of(files, "databases/")) == 1


def test_references_resolve_chart_to_dataset_to_database(files):
    (db,) = _of(files, "databases/").values()
    datasets = {d["uuid"]: d for d in _of(files, "datasets/").values()}
    for dataset in datasets.values():
        assert dataset["database_uuid"] == db["uuid"]
    for chart in _of(files, "charts/").values():
        assert chart["dataset_uuid"] in datasets


def test_dashboard_positions_reference_existing_charts(files, spec):
    charts = {c["uuid"]: c for c in _of(files, "charts/").values()}
    placed: list[str] = []
    for dashboard in spec.dashboards:
        doc = files[f"dashboards/{dashboard.id}.yaml"]
        pos = doc["position"]
        assert pos["DASHBOARD_VERSION_KEY"] == "v2"
        assert pos["ROOT_ID"]["children"] == ["GRID_ID"]
        in_dash = []
        for key, node in pos.items():
            if not isinstance(node, dict):
                continue
            assert node["id"] == key
            for child in node.get("children", []):
                assert child in pos and pos[child]["parents"][-1] == key
            if node["type"] == "ROW":
                assert sum(pos[c]["meta"]["width"] for c in node["children"]) <= 12
            if node["type"] == "CHART":
                assert node["meta"]["uuid"] in charts  # the importer maps uuid -> chart id
                assert isinstance(node["meta"]["chartId"], int)
                in_dash.append(node["meta"]["uuid"])
        assert sorted(in_dash) == sorted(ss.stable_uuid("chart", c.id) for c in dashboard.charts)
        placed += in_dash
    assert sorted(placed) == sorted(charts)


def test_viz_types_and_form_data_follow_the_spec(files, spec):
    expected = {
        "line": "echarts_timeseries_line",
        "bar": "echarts_timeseries_bar",
        "area": "echarts_area",
        "table": "table",
        "number": "big_number_total",
        "heatmap": "heatmap_v2",
        "funnel": "funnel",
    }
    for _, chart in spec.charts():
        doc = files[f"charts/{chart.id}.yaml"]
        params = doc["params"]
        assert doc["viz_type"] == params["viz_type"] == expected[chart.type]
        assert doc["slice_name"] == chart.title
        if chart.type in ("line", "bar", "area"):
            assert params["x_axis"] == chart.x
            assert [m["column"]["column_name"] for m in params["metrics"]] == list(chart.y)
            assert params["groupby"] == ([chart.series] if chart.series else [])
        elif chart.type in ("number", "funnel", "heatmap"):
            assert params["metric"]["column"]["column_name"] == chart.y[0]
        elif chart.type == "table":
            assert params["query_mode"] == "raw" and params["all_columns"] == list(chart.y)
    heat = files["charts/test_cohorts.yaml"]["params"]
    assert (heat["x_axis"], heat["groupby"]) == ("months_since_first_purchase", "cohort_month")


def test_datasets_carry_the_chart_sql_without_metabase_parameters(files, spec):
    for _, chart in spec.charts():
        doc = files[f"datasets/cx_warehouse/{chart.id}.yaml"]
        assert doc["schema"] == "analytics"
        assert "{{" not in doc["sql"] and "[[" not in doc["sql"]
        assert "analytics." in doc["sql"]
        columns = {c["column_name"] for c in doc["columns"]}
        assert set(chart.y) <= columns and (chart.x is None or chart.x in columns)
    trend = files["datasets/cx_warehouse/test_nps_trend.yaml"]
    assert trend["main_dttm_col"] == "week"
    assert [c["is_dttm"] for c in trend["columns"] if c["column_name"] == "week"] == [True]


def test_the_password_is_never_in_the_bundle(raw_zip, files):
    with zipfile.ZipFile(io.BytesIO(raw_zip)) as zf:
        for name in zf.namelist():
            assert PASSWORD not in zf.read(name).decode()
    (db,) = _of(files, "databases/").values()
    assert "password" not in db
    assert db["sqlalchemy_uri"] == (
        f"postgresql+psycopg2://cxw_bi_reader:{ss.PASSWORD_MASK}@warehouse:5432/cxw"
    )
    # ... it travels in the import request's `passwords` field, keyed by the file's path
    assert ss.passwords(TARGET) == {ss.DATABASE_FILE: PASSWORD}
    assert ss.DATABASE_FILE in files


def test_uuids_are_stable_so_reimports_overwrite(spec):
    def uuids(raw: bytes) -> list[str]:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            return [
                yaml.safe_load(zf.read(n)).get("uuid", "")
                for n in zf.namelist()
                if not n.endswith("metadata.yaml")
            ]

    other_target = WarehouseTarget("db.example", 6543, "cxw", "cxw_bi_reader", "other")
    first, again = uuids(ss.build_bundle(spec, TARGET)), uuids(ss.build_bundle(spec, other_target))
    assert first == again
    assert len(set(first)) == len(first)
    assert ss.stable_uuid("chart", "a") != ss.stable_uuid("dataset", "a")
