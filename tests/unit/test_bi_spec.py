"""The dashboards spec: the format include/dashboards/README.md documents, and its errors.

Every error is one line naming the dashboard and chart it is about.
"""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from cxw.bi import spec as bi_spec
from cxw.bi.spec import SpecError, load_spec, non_analytics_reads, parse_spec
from cxw.errors import CxwError

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dashboards_test.yml"
RAW = yaml.safe_load(FIXTURE.read_text())


def _mutated(change) -> dict:
    data = copy.deepcopy(RAW)
    change(data)
    return data


def _chart(data: dict, dashboard: int = 0, chart: int = 0) -> dict:
    return data["dashboards"][dashboard]["charts"][chart]


def test_the_fixture_loads_into_typed_objects():
    spec = load_spec(FIXTURE)
    assert [d.id for d in spec.dashboards] == ["test_overview", "test_customer_lookup"]
    types = {c.type for _, c in spec.charts()}
    assert types == set(bi_spec.CHART_TYPES)
    trend = spec.dashboards[0].charts[1]
    assert (trend.x, trend.y, trend.series, trend.unit) == ("week", ["nps"], "channel", "points")
    lookup = spec.dashboards[1]
    assert [(f.id, f.type) for f in lookup.filters] == [
        ("customer_key", "text"),
        ("min_orders", "number"),
    ]
    assert lookup.charts[0].parameters == ("customer_key", "min_orders")
    # a table without `y` shows the columns its SQL selects
    assert lookup.charts[0].y == ["customer_key", "segment", "lifetime_orders"]


def test_the_default_path_is_the_projects_spec():
    repo = Path(__file__).resolve().parents[2]
    assert repo / "include" / "dashboards" / "cx_dashboards.yml" == bi_spec.DEFAULT_SPEC


@pytest.mark.skipif(not bi_spec.DEFAULT_SPEC.exists(), reason="cx_dashboards.yml not written yet")
def test_the_projects_spec_is_valid():
    spec = load_spec()
    assert spec.dashboards


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d.clear(), "spec: missing top-level 'dashboards'"),
        (lambda d: d.update(dashboards=[]), "'dashboards' must be a non-empty list"),
        (lambda d: d["dashboards"][0].pop("title"), "dashboard 'test_overview': missing 'title'"),
        (lambda d: d["dashboards"][0].pop("charts"), "dashboard 'test_overview': missing 'charts'"),
        (
            lambda d: d["dashboards"][0].update(id="Exec Overview"),
            "id 'Exec Overview' must be a lower-case slug",
        ),
        (
            lambda d: d["dashboards"][1].update(id="test_overview"),
            "duplicate dashboard id 'test_overview'",
        ),
        (
            lambda d: _chart(d).pop("sql"),
            "dashboard 'test_overview', chart 'test_nps_now': missing 'sql'",
        ),
        (
            lambda d: _chart(d).update(title=" "),
            "dashboard 'test_overview', chart 'test_nps_now': missing 'title'",
        ),
        (lambda d: _chart(d).pop("id"), "dashboard 'test_overview', a chart: missing 'id'"),
        (
            lambda d: _chart(d, 1, 0).update(id="test_nps_now"),
            "duplicate chart id (chart ids are unique across the file) 'test_nps_now'",
        ),
        (
            lambda d: _chart(d).update(type="pie"),
            "dashboard 'test_overview', chart 'test_nps_now': unknown chart type 'pie'",
        ),
        (
            lambda d: _chart(d).update(sql="select count(*) as nps from raw_crm.contacts"),
            "chart 'test_nps_now': SQL reads raw_crm.contacts; charts may read only 'analytics.<table>'",
        ),
        (
            lambda d: _chart(d).update(
                sql="select 1 as nps from analytics.fct_orders o join staging.stg_shop__orders s on true"
            ),
            "SQL reads staging.stg_shop__orders",
        ),
        (
            lambda d: _chart(d).update(sql="select 1 as nps from fct_orders"),
            "SQL reads fct_orders",
        ),
        (
            lambda d: _chart(d).update(sql="select 42 as nps"),
            "chart 'test_nps_now': SQL does not read from 'analytics.<table>'",
        ),
        (
            lambda d: _chart(d).update(
                sql="select 1 as nps from analytics.fct_orders where true [[and k = {{k}}]]"
            ),
            "chart 'test_nps_now': SQL uses {{k}} but the dashboard has no filter with id 'k'",
        ),
        (
            lambda d: _chart(d, 0, 1).pop("x"),
            "chart 'test_nps_trend': a line chart needs 'x'",
        ),
        (
            lambda d: _chart(d).update(y=["nps", "csat"]),
            "chart 'test_nps_now': a number chart takes exactly one 'y' measure",
        ),
        (
            lambda d: _chart(d, 0, 2).pop("y"),
            "chart 'test_contacts': a bar chart needs 'y'",
        ),
        (
            lambda d: _chart(d, 1, 0).update(sql="select * from analytics.dim_customer_360"),
            "chart 'test_customer_card': cannot tell the table's columns from its SQL",
        ),
        (
            lambda d: _chart(d, 1, 1).pop("series"),
            "chart 'test_cohorts': a heatmap needs 'series'",
        ),
        (lambda d: _chart(d).update(width=13), "'width' must be a whole number of twelfths"),
        (
            lambda d: d["dashboards"][1]["filters"][0].update(type="dropdown"),
            "dashboard 'test_customer_lookup', filter 'customer_key': unknown type 'dropdown'",
        ),
        (
            lambda d: d["dashboards"][1]["filters"].append(
                {"id": "customer_key", "title": "Again"}
            ),
            "dashboard 'test_customer_lookup': duplicate filter id 'customer_key'",
        ),
    ],
)
def test_spec_errors_name_what_is_wrong_in_one_line(change, message):
    with pytest.raises(SpecError) as err:
        parse_spec(_mutated(change))
    text = str(err.value)
    assert message in text
    assert "\n" not in text


def test_spec_errors_are_cli_errors():
    assert issubclass(SpecError, CxwError) and SpecError.exit_code == 2


def test_file_errors(tmp_path):
    with pytest.raises(SpecError, match="dashboards spec not found"):
        load_spec(tmp_path / "nope.yml")
    bad = tmp_path / "bad.yml"
    bad.write_text("dashboards:\n  - id: x\n   title: [unclosed\n")
    with pytest.raises(SpecError, match=r"bad.yml: not valid YAML \(line \d+\)"):
        load_spec(bad)


@pytest.mark.parametrize(
    ("sql", "bad"),
    [
        ("with w as (select * from analytics.a) select * from w", []),
        ("with w as materialized (select 1 from analytics.a) select * from w", []),
        ("select extract(epoch from created_at) from analytics.fct_calls", []),
        ("select substring(x from 2), trim(both from y) from analytics.a", []),
        ("select * from analytics.a, generate_series(1, 3) g", []),
        ("select * from analytics.a x, raw_shop.orders y", ["raw_shop.orders"]),
        ('select * from "analytics"."fct_orders"', []),
        ("select 'from raw_crm.contacts' as s from analytics.a -- join raw_crm.x", []),
        ("select * from analytics.a /* from raw_crm.x */", []),
        (
            "select * from analytics.a left join lateral (select 1 from cxw_meta.batches) b on true",
            ["cxw_meta.batches"],
        ),
        ("select * from analytics.a where true [[and k = {{k}}]]", []),
    ],
)
def test_which_relations_a_query_reads(sql, bad):
    assert non_analytics_reads(sql) == bad


@pytest.mark.parametrize(
    ("sql", "columns"),
    [
        (
            'select a, t.b, round(c, 2) as c, d::date, count(*) n, "E" from analytics.x t',
            ("a", "b", "c", "d", "n", "E"),
        ),
        (
            "with w as (select 1 as z from analytics.x) select distinct on (z) z, 2 as y from w",
            ("z", "y"),
        ),
        ("select a from analytics.x where true [[and k = {{k}}]]", ("a",)),
        ("select * from analytics.x", None),
        ("select a + 1 from analytics.x", None),
    ],
)
def test_output_columns_of_a_query(sql, columns):
    assert bi_spec.output_columns(sql) == columns


def test_optional_clauses_are_dropped_for_tools_without_parameters():
    sql = "select * from analytics.a where true [[and k = {{k}}]] [[and n >= {{n}}]]\nlimit 5"
    assert bi_spec.strip_optional_clauses(sql) == "select * from analytics.a where true  \nlimit 5"
