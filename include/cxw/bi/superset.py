"""Superset from the dashboards spec: an import bundle (ZIP of YAML) and an API client.

Bundle layout (Superset's v1 import format, `superset/commands/importers/v1`; the schemas are
ImportV1DatabaseSchema, ImportV1DatasetSchema, ImportV1ChartSchema, ImportV1DashboardSchema):

    cxw_dashboards/metadata.yaml            version 1.0.0, type Dashboard | assets, timestamp
    cxw_dashboards/databases/cx_warehouse.yaml   sqlalchemy_uri with the password masked
    cxw_dashboards/datasets/cx_warehouse/<chart>.yaml   one virtual dataset per chart (its SQL)
    cxw_dashboards/charts/<chart>.yaml      viz_type + params (form data), dataset_uuid
    cxw_dashboards/dashboards/<dashboard>.yaml   position (layout v2) referencing chart uuids

Every uuid is uuid5 of the spec id, so a re-import finds and overwrites the same objects. The
password never enters the bundle: the import request carries it as the `passwords` form field,
`{"databases/cx_warehouse.yaml": "..."}`.

API: POST /api/v1/security/login (JWT), GET /api/v1/security/csrf_token/, then
POST /api/v1/assets/import/ (form field `bundle`; overwrites databases, datasets, charts and
dashboards) for provisioning, or POST /api/v1/dashboard/import/ (form fields `formData`,
`overwrite=true`), which is what Superset's "Import dashboard" dialog does: it overwrites the
dashboards but keeps existing charts and datasets as they are, so spec changes to chart SQL need
the assets import. GET /api/v1/dashboard/ lists dashboards back.
"""

from __future__ import annotations

import io
import json
import re
import uuid
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import yaml

from cxw.bi import layout
from cxw.bi.spec import PUBLISHED_SCHEMA, Chart, Dashboard, Spec, strip_optional_clauses
from cxw.bi.target import WarehouseTarget
from cxw.errors import CxwError

IMPORT_VERSION = "1.0.0"
ROOT = "cxw_dashboards"
DATABASE_NAME = "CX warehouse (analytics)"
DATABASE_FILE = "databases/cx_warehouse.yaml"
PASSWORD_MASK = "X" * 10  # superset.constants.PASSWORD_MASK
HEIGHTS = {"small": 30, "medium": 50, "tall": 70}  # Superset grid units (8 px)
VIZ_TYPES = {
    "line": "echarts_timeseries_line",
    "bar": "echarts_timeseries_bar",
    "area": "echarts_area",
    "table": "table",
    "number": "big_number_total",
    "heatmap": "heatmap_v2",  # Superset 5 removed the legacy `heatmap` (migrated to heatmap_v2)
    "funnel": "funnel",
}
_NAMESPACE = uuid.UUID("5f0c2b1e-8a47-5d3c-b6e9-1c2d3e4f5a6b")
_TEMPORAL = re.compile(r"(^|_)(date|day|week|month|quarter|year|at|period|time|ts)$")


class SupersetError(CxwError):
    """Superset cannot be reached, refused the login, or rejected the import."""


def stable_uuid(kind: str, spec_id: str) -> str:
    """The same uuid for the same spec object on every build (so imports overwrite)."""
    return str(uuid.uuid5(_NAMESPACE, f"cxw:{kind}:{spec_id}"))


def database_uuid() -> str:
    return stable_uuid("database", "cx_warehouse")


# ---- bundle contents (pure) ------------------------------------------------------------------


def database_config(target: WarehouseTarget) -> dict[str, Any]:
    return {
        "database_name": DATABASE_NAME,
        "sqlalchemy_uri": target.sqlalchemy_uri("postgresql+psycopg2", password=PASSWORD_MASK),
        "cache_timeout": None,
        "expose_in_sqllab": True,
        "allow_run_async": False,
        "allow_ctas": False,
        "allow_cvas": False,
        "allow_dml": False,
        "allow_csv_upload": False,
        "impersonate_user": False,
        "extra": {
            "metadata_params": {},
            "engine_params": {},
            "metadata_cache_timeout": {},
            "schemas_allowed_for_csv_upload": [],
        },
        "uuid": database_uuid(),
        "version": IMPORT_VERSION,
    }


def _is_temporal(chart: Chart, column: str) -> bool:
    return column == chart.x and (chart.type in ("line", "area") or bool(_TEMPORAL.search(column)))


def _chart_columns(chart: Chart) -> list[str]:
    cols = [c for c in (chart.x, chart.series, *chart.y) if c]
    return list(dict.fromkeys(cols))


def _tidy(sql: str) -> str:
    """SQL without the blank lines dropped clauses leave (and no trailing spaces, so the YAML
    keeps it as a readable block)."""
    return "\n".join(line.rstrip() for line in sql.splitlines() if line.strip()) + "\n"


def dataset_config(chart: Chart) -> dict[str, Any]:
    """A virtual dataset: the chart's SQL with its optional `[[ ... ]]` clauses dropped."""
    temporal = [c for c in _chart_columns(chart) if _is_temporal(chart, c)]
    return {
        "table_name": f"cxw_{chart.id}",
        "main_dttm_col": temporal[0] if temporal else None,
        "description": chart.definition,
        "default_endpoint": None,
        "offset": 0,
        "cache_timeout": None,
        "schema": PUBLISHED_SCHEMA,
        "sql": _tidy(strip_optional_clauses(chart.sql)),
        "params": None,
        "template_params": None,
        "filter_select_enabled": True,
        "fetch_values_predicate": None,
        "extra": None,
        "normalize_columns": False,
        "always_filter_main_dttm": False,
        "uuid": stable_uuid("dataset", chart.id),
        "metrics": [],
        "columns": [
            {
                "column_name": col,
                "verbose_name": None,
                "is_dttm": _is_temporal(chart, col),
                "is_active": True,
                "type": None,
                "groupby": True,
                "filterable": True,
                "expression": None,
                "description": None,
                "python_date_format": None,
                "extra": {},
            }
            for col in _chart_columns(chart)
        ],
        "version": IMPORT_VERSION,
        "database_uuid": database_uuid(),
    }


def _metric(column: str) -> dict[str, Any]:
    """An adhoc metric over one result column. The SQL already aggregates (one row per x and
    series), so MAX returns that row's value; any time grain is left off for the same reason."""
    return {
        "expressionType": "SIMPLE",
        "column": {"column_name": column},
        "aggregate": "MAX",
        "label": column,
        "hasCustomLabel": True,
        "optionName": f"metric_{column}",
    }


def chart_params(chart: Chart) -> dict[str, Any]:
    """The chart's form data (`params`) for its Superset viz type."""
    viz = VIZ_TYPES[chart.type]
    params: dict[str, Any] = {"viz_type": viz, "adhoc_filters": [], "row_limit": 10000}
    if chart.type in ("line", "bar", "area"):
        params.update(
            x_axis=chart.x,
            metrics=[_metric(c) for c in chart.y],
            groupby=[chart.series] if chart.series else [],
            order_desc=True,
            show_legend=True,
            rich_tooltip=True,
            y_axis_title=chart.unit or "",
            y_axis_format="SMART_NUMBER",
            truncate_metric=True,
        )
    elif chart.type == "number":
        params.update(
            metric=_metric(chart.y[0]), subheader=chart.unit or "", y_axis_format="SMART_NUMBER"
        )
    elif chart.type == "table":
        params.update(
            query_mode="raw",
            all_columns=_chart_columns(chart),
            order_by_cols=[],
            include_search=True,
            server_pagination=False,
        )
    elif chart.type == "heatmap":
        params.update(
            x_axis=chart.x,
            groupby=chart.series,
            metric=_metric(chart.y[0]),
            legend_type="continuous",
            normalize_across="heatmap",
            sort_x_axis="alpha_asc",
            sort_y_axis="alpha_asc",
            show_values=True,
            y_axis_format="SMART_NUMBER",
        )
    elif chart.type == "funnel":
        params.update(
            groupby=[chart.x], metric=_metric(chart.y[0]), sort_by_metric=True, show_legend=True
        )
    return params


def chart_config(chart: Chart) -> dict[str, Any]:
    description = chart.definition
    if chart.unit:
        description = (
            f"{description} (unit: {chart.unit})" if description else f"Unit: {chart.unit}"
        )
    return {
        "slice_name": chart.title,
        "description": description,
        "certified_by": None,
        "certification_details": None,
        "viz_type": VIZ_TYPES[chart.type],
        "params": chart_params(chart),
        "query_context": None,
        "cache_timeout": None,
        "uuid": stable_uuid("chart", chart.id),
        "version": IMPORT_VERSION,
        "dataset_uuid": stable_uuid("dataset", chart.id),
    }


def position(dashboard: Dashboard) -> dict[str, Any]:
    """Dashboard layout v2: ROOT -> GRID -> ROW -> CHART, chart widths in twelfths.

    `chartId` is a placeholder the importer replaces (it maps meta.uuid to the real chart id).
    """
    pos: dict[str, Any] = {
        "DASHBOARD_VERSION_KEY": "v2",
        "ROOT_ID": {"type": "ROOT", "id": "ROOT_ID", "children": ["GRID_ID"]},
        "GRID_ID": {"type": "GRID", "id": "GRID_ID", "children": [], "parents": ["ROOT_ID"]},
        "HEADER_ID": {"type": "HEADER", "id": "HEADER_ID", "meta": {"text": dashboard.title}},
    }
    n = 0
    for i, row in enumerate(layout.rows(dashboard.charts)):
        row_id = f"ROW-{dashboard.id}-{i}"
        pos["GRID_ID"]["children"].append(row_id)
        pos[row_id] = {
            "type": "ROW",
            "id": row_id,
            "children": [],
            "parents": ["ROOT_ID", "GRID_ID"],
            "meta": {"background": "BACKGROUND_TRANSPARENT"},
        }
        for chart, width in row:
            n += 1
            chart_key = f"CHART-{chart.id}"
            pos[row_id]["children"].append(chart_key)
            pos[chart_key] = {
                "type": "CHART",
                "id": chart_key,
                "children": [],
                "parents": ["ROOT_ID", "GRID_ID", row_id],
                "meta": {
                    "chartId": n,
                    "uuid": stable_uuid("chart", chart.id),
                    "sliceName": chart.title,
                    "width": width,
                    "height": HEIGHTS[layout.height_class(chart)],
                },
            }
    return pos


def dashboard_config(dashboard: Dashboard) -> dict[str, Any]:
    return {
        "dashboard_title": dashboard.title,
        "description": dashboard.description or None,
        "css": "",
        "slug": "cxw-" + dashboard.id.replace("_", "-"),
        "certified_by": None,
        "certification_details": None,
        "published": True,
        "uuid": stable_uuid("dashboard", dashboard.id),
        "position": position(dashboard),
        "metadata": {
            "color_scheme": "supersetColors",
            "refresh_frequency": 0,
            "expanded_slices": {},
            "label_colors": {},
            "shared_label_colors": [],
            "color_scheme_domain": [],
            "timed_refresh_immune_slices": [],
            "cross_filters_enabled": False,
            "native_filter_configuration": [],
        },
        "version": IMPORT_VERSION,
    }


def bundle_files(
    spec: Spec, target: WarehouseTarget, bundle_type: str = "Dashboard", now: datetime | None = None
) -> dict[str, dict[str, Any]]:
    """Path (relative to the bundle root) -> YAML document, for every file of the bundle."""
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    files: dict[str, dict[str, Any]] = {
        "metadata.yaml": {"version": IMPORT_VERSION, "type": bundle_type, "timestamp": stamp},
        DATABASE_FILE: database_config(target),
    }
    for dashboard in spec.dashboards:
        for chart in dashboard.charts:
            files[f"datasets/cx_warehouse/{chart.id}.yaml"] = dataset_config(chart)
            files[f"charts/{chart.id}.yaml"] = chart_config(chart)
        files[f"dashboards/{dashboard.id}.yaml"] = dashboard_config(dashboard)
    return files


class _BlockDumper(yaml.SafeDumper):
    """Safe YAML, with multi-line strings (SQL) as literal blocks."""


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.Node:
    style = "|" if "\n" in data else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_BlockDumper.add_representer(str, _str)


def build_bundle(
    spec: Spec, target: WarehouseTarget, bundle_type: str = "Dashboard", now: datetime | None = None
) -> bytes:
    """The import ZIP. `bundle_type` is "Dashboard" (UI import dialog) or "assets" (assets API)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for path, doc in bundle_files(spec, target, bundle_type, now).items():
            text = yaml.dump(doc, Dumper=_BlockDumper, sort_keys=False, allow_unicode=True)
            zf.writestr(f"{ROOT}/{path}", text)
    return buf.getvalue()


def passwords(target: WarehouseTarget) -> dict[str, str]:
    """The `passwords` form field of an import: database file -> password."""
    return {DATABASE_FILE: target.password}


# ---- the client ---------------------------------------------------------------------------------


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:200] or response.reason_phrase
    if isinstance(body, dict):
        if "errors" in body and isinstance(body["errors"], list) and body["errors"]:
            first = body["errors"][0]
            extra = first.get("extra") if isinstance(first, dict) else None
            detail = ""
            if isinstance(extra, dict):
                detail = " ".join(
                    f"{k}: {v}" for k, v in extra.items() if k not in ("issue_codes",)
                )
            msg = first.get("message", first) if isinstance(first, dict) else first
            return " ".join(f"{msg} {detail}".split())[:400]
        if "message" in body:
            return " ".join(json.dumps(body["message"]).split())[:400]
        if "msg" in body:
            return str(body["msg"])
    return " ".join(str(body).split())[:200]


class SupersetClient:
    """A thin client for Superset's login, import and dashboard list endpoints."""

    def __init__(
        self, url: str, *, timeout: float = 120.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "Referer": self.url},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> SupersetClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise SupersetError(
                f"cannot reach Superset at {self.url} ({type(exc).__name__}: {exc}); is it running?"
            ) from None
        if response.status_code >= 400:
            raise SupersetError(
                f"Superset {method} {path} failed ({response.status_code}): {_error_text(response)}"
            )
        try:
            return response.json()
        except ValueError:
            raise SupersetError(
                f"Superset {method} {path} did not answer JSON: is {self.url} a Superset server?"
            ) from None

    def login(self, user: str, password: str) -> None:
        """JWT login (database auth), then the CSRF token that POSTs must carry."""
        try:
            body = self.call(
                "POST",
                "/api/v1/security/login",
                json={"username": user, "password": password, "provider": "db", "refresh": True},
            )
        except SupersetError as exc:
            if "(401)" in str(exc) or "(400)" in str(exc):
                raise SupersetError(
                    f"Superset at {self.url} refused the login for '{user}': check --user/--password"
                ) from None
            raise
        self._http.headers["Authorization"] = f"Bearer {body['access_token']}"
        csrf = self.call("GET", "/api/v1/security/csrf_token/")
        self._http.headers["X-CSRFToken"] = csrf["result"]

    def import_assets(self, bundle: bytes, passwords: dict[str, str]) -> None:
        """POST /api/v1/assets/import/: create or overwrite every object in the bundle."""
        self.call(
            "POST",
            "/api/v1/assets/import/",
            files={"bundle": ("bundle.zip", bundle, "application/zip")},
            data={"passwords": json.dumps(passwords)},
        )

    def import_dashboards(
        self, bundle: bytes, passwords: dict[str, str], overwrite: bool = True
    ) -> None:
        """POST /api/v1/dashboard/import/ (the UI's import; keeps existing charts/datasets)."""
        self.call(
            "POST",
            "/api/v1/dashboard/import/",
            files={"formData": ("bundle.zip", bundle, "application/zip")},
            data={
                "passwords": json.dumps(passwords),
                "overwrite": "true" if overwrite else "false",
            },
        )

    def dashboards(self) -> list[dict[str, Any]]:
        """Every dashboard (GET /api/v1/dashboard/, paged with a rison `q`)."""
        out: list[dict[str, Any]] = []
        page = 0
        while True:
            body = self.call(
                "GET", "/api/v1/dashboard/", params={"q": f"(page:{page},page_size:100)"}
            )
            out.extend(body.get("result", []))
            if len(out) >= body.get("count", 0) or not body.get("result"):
                return out
            page += 1


# ---- provisioning -------------------------------------------------------------------------------


@dataclass
class SupersetResult:
    created: int = 0
    updated: int = 0
    charts: int = 0
    datasets: int = 0
    urls: dict[str, str] = field(default_factory=dict)


def provision(
    client: SupersetClient,
    spec: Spec,
    target: WarehouseTarget,
    progress: Callable[[str], None] | None = None,
) -> SupersetResult:
    """Import the spec's bundle (overwriting what a previous import made) and check it landed."""
    say = progress or (lambda _msg: None)
    wanted = {stable_uuid("dashboard", d.id): d for d in spec.dashboards}
    say("listing existing dashboards")
    before = {d.get("uuid") for d in client.dashboards()}
    say(f"importing {len(spec.dashboards)} dashboards")
    try:
        client.import_assets(build_bundle(spec, target, bundle_type="assets"), passwords(target))
    except SupersetError as exc:
        if "(500)" not in str(exc):
            raise
        # Superset connects to a database it imports (to list catalogs and schemas) and
        # answers a bare 500 when it cannot: say what to check.
        raise SupersetError(
            f"{exc}. Superset must reach the warehouse at {target.host}:{target.port} as "
            f"{target.user} to import it: check --db-host/--db-port, that the warehouse is "
            "running, and Superset's log"
        ) from None
    say("checking the import")
    after = {d.get("uuid"): d for d in client.dashboards()}
    missing = [d.title for u, d in wanted.items() if u not in after]
    if missing:
        raise SupersetError(f"Superset accepted the bundle but lists no dashboard {missing[0]!r}")
    result = SupersetResult(
        charts=sum(len(d.charts) for d in spec.dashboards),
        datasets=sum(len(d.charts) for d in spec.dashboards),
    )
    for u, dashboard in wanted.items():
        if u in before:
            result.updated += 1
        else:
            result.created += 1
        url = after[u].get("url") or f"/superset/dashboard/{after[u].get('id')}/"
        result.urls[dashboard.title] = client.url + url
    return result
