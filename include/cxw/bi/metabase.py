"""Provision Metabase from the dashboards spec through its REST API, idempotently.

API reference (Metabase v0.56, the version docker-compose runs):
https://www.metabase.com/docs/latest/api ("session", "setup", "database", "collection", "card",
"dashboard" pages). Calls used: GET /api/session/properties and POST /api/setup (first run),
POST /api/session (login; the session id goes in the X-Metabase-Session header),
GET/POST/PUT /api/database, GET/POST /api/collection, GET /api/collection/:id/items,
POST/PUT /api/card, POST /api/dashboard, GET/PUT /api/dashboard/:id (PUT with `dashcards` and
`tabs`: the replacement of the deprecated PUT /api/dashboard/:id/cards since v0.47).

Idempotency: everything lives in one collection, "CX warehouse"; every question and dashboard
carries a marker line `cxw:<spec id>` in its description. A run finds existing objects by that
marker (or by name, for objects without one) and updates them in place; dashcards keep their ids;
questions/dashboards whose id left the spec are archived. A second run creates nothing.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from cxw.bi import layout
from cxw.bi.spec import Chart, Dashboard, Filter, Spec
from cxw.bi.target import WarehouseTarget
from cxw.errors import CxwError

COLLECTION_NAME = "CX warehouse"
COLLECTION_DESCRIPTION = "Dashboards as code from cx-warehouse (include/dashboards). Edits here are overwritten by `cxw bi provision metabase`."
DATABASE_NAME = "CX warehouse (analytics)"
SITE_NAME = "CX warehouse"
GRID_COLUMNS = 24  # Metabase's dashboard grid since v0.46
HEIGHTS = {"small": 3, "medium": 6, "tall": 8}
DISPLAY = {
    "line": "line",
    "bar": "bar",
    "area": "area",
    "table": "table",
    "number": "scalar",
    "heatmap": "table",  # Metabase has no heatmap: a pivoted table shaded by value
    "funnel": "funnel",
}
TAG_TYPES = {"text": "text", "number": "number", "date": "date"}
PARAMETER_TYPES = {  # dashboard filter type and its section, per filter type
    "text": ("string/=", "string"),
    "number": ("number/=", "number"),
    "date": ("date/single", "date"),
}
_NAMESPACE = uuid.UUID("0b6a7c2e-3f51-5b8e-9d0c-6f1e2a4b7c90")
_MARKER = re.compile(r"^cxw:([a-z][a-z0-9_]*)\s*$", re.M)


class MetabaseError(CxwError):
    """Metabase cannot be reached, refused the login, or rejected a request."""


def marker(spec_id: str) -> str:
    return f"cxw:{spec_id}"


def _describe(*parts: str | None, spec_id: str) -> str:
    text = "\n\n".join(p for p in parts if p)
    return f"{text}\n\n{marker(spec_id)}" if text else marker(spec_id)


def _stable(name: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, name))


# ---- payloads (pure: what the spec becomes in Metabase) -----------------------------------------


def database_payload(target: WarehouseTarget) -> dict[str, Any]:
    """POST/PUT /api/database body: Postgres as the bi reader, synced for `analytics` only."""
    return {
        "name": DATABASE_NAME,
        "engine": "postgres",
        "details": {
            "host": target.host,
            "port": target.port,
            "dbname": target.dbname,
            "user": target.user,
            "password": target.password,
            "ssl": False,
            "tunnel-enabled": False,
            "advanced-options": False,
            "schema-filters-type": "inclusion",
            "schema-filters-patterns": "analytics",
        },
        "is_full_sync": True,
        "auto_run_queries": True,
    }


def template_tags(chart: Chart, filters: tuple[Filter, ...]) -> dict[str, dict[str, Any]]:
    """Native-query template tags for the filters this chart's SQL uses."""
    used = set(chart.parameters)
    return {
        f.id: {
            "id": _stable(f"tag:{chart.id}:{f.id}"),
            "name": f.id,
            "display-name": f.title,
            "type": TAG_TYPES[f.type],
        }
        for f in filters
        if f.id in used
    }


def visualization_settings(chart: Chart) -> dict[str, Any]:
    """How Metabase draws the chart: axes, measures, pivot, units."""
    settings: dict[str, Any] = {}
    if chart.type in ("line", "bar", "area"):
        settings["graph.dimensions"] = [chart.x] + ([chart.series] if chart.series else [])
        settings["graph.metrics"] = list(chart.y)
        if chart.unit:
            settings["graph.y_axis.title_text"] = chart.unit
    elif chart.type == "number":
        settings["scalar.field"] = chart.y[0]
        if chart.unit:
            key = json.dumps(["name", chart.y[0]], separators=(",", ":"))
            settings["column_settings"] = {key: {"suffix": f" {chart.unit}"}}
    elif chart.type == "funnel":
        settings["funnel.dimension"] = chart.x
        settings["funnel.metric"] = chart.y[0]
    elif chart.type == "heatmap":
        settings["table.pivot"] = True
        settings["table.pivot_column"] = chart.x
        settings["table.cell_column"] = chart.y[0]
        settings["table.column_formatting"] = [
            {
                "id": 0,
                "columns": [chart.y[0]],
                "type": "range",
                "colors": ["#FFFFFF", "#509EE3"],
                "min_type": None,
                "max_type": None,
                "operator": "=",
                "value": "",
                "color": "#509EE3",
                "highlight_row": False,
            }
        ]
    return settings


def card_payload(
    chart: Chart, dashboard: Dashboard, database_id: int, collection_id: int
) -> dict[str, Any]:
    """POST/PUT /api/card body: a native-SQL question with template tags for the filters."""
    tags = template_tags(chart, dashboard.filters)
    return {
        "name": chart.title,
        "description": _describe(
            chart.definition, f"Unit: {chart.unit}" if chart.unit else None, spec_id=chart.id
        ),
        "type": "question",
        "display": DISPLAY[chart.type],
        "visualization_settings": visualization_settings(chart),
        "collection_id": collection_id,
        "dataset_query": {
            "type": "native",
            "database": database_id,
            "native": {"query": chart.sql, "template-tags": tags},
        },
        "parameters": [
            {
                "id": tag["id"],
                "type": "category" if tag["type"] == "text" else f"{tag['type']}/=",
                "target": ["variable", ["template-tag", name]],
                "name": tag["display-name"],
                "slug": name,
            }
            for name, tag in tags.items()
        ],
    }


def dashboard_parameters(dashboard: Dashboard) -> list[dict[str, Any]]:
    params = []
    for f in dashboard.filters:
        ptype, section = PARAMETER_TYPES[f.type]
        params.append(
            {
                "id": parameter_id(dashboard, f),
                "name": f.title,
                "slug": f.id,
                "type": ptype,
                "sectionId": section,
            }
        )
    return params


def parameter_id(dashboard: Dashboard, f: Filter) -> str:
    return uuid.uuid5(_NAMESPACE, f"param:{dashboard.id}:{f.id}").hex[:8]


def dashcards(
    dashboard: Dashboard, card_ids: dict[str, int], existing: dict[int, int] | None = None
) -> list[dict[str, Any]]:
    """The `dashcards` of PUT /api/dashboard/:id: laid out on the 24-column grid.

    `existing` maps card id -> dashcard id already on the dashboard (kept, so the update moves
    cards instead of recreating them); new dashcards get negative ids, as the API expects.
    """
    existing = existing or {}
    out: list[dict[str, Any]] = []
    new_id = 0
    row_y = 0
    for row in layout.rows(dashboard.charts):
        col = 0
        row_height = 0
        for chart, width in row:
            card_id = card_ids[chart.id]
            size_x = width * GRID_COLUMNS // layout.GRID
            size_y = HEIGHTS[layout.height_class(chart)]
            if card_id in existing:
                dashcard_id = existing[card_id]
            else:
                new_id -= 1
                dashcard_id = new_id
            tags = template_tags(chart, dashboard.filters)
            out.append(
                {
                    "id": dashcard_id,
                    "card_id": card_id,
                    "row": row_y,
                    "col": col,
                    "size_x": size_x,
                    "size_y": size_y,
                    "series": [],
                    "visualization_settings": {},
                    "parameter_mappings": [
                        {
                            "parameter_id": parameter_id(dashboard, f),
                            "card_id": card_id,
                            "target": ["variable", ["template-tag", f.id]],
                        }
                        for f in dashboard.filters
                        if f.id in tags
                    ],
                }
            )
            col += size_x
            row_height = max(row_height, size_y)
        row_y += row_height
    return out


# ---- the client ---------------------------------------------------------------------------------


def _error_text(response: httpx.Response) -> str:
    """The one-line reason Metabase gave (its bodies are JSON `message`/`errors`, or text)."""
    try:
        body = response.json()
    except ValueError:
        body = response.text
    if isinstance(body, dict):
        if isinstance(body.get("errors"), dict) and body["errors"]:
            return "; ".join(f"{k}: {v}" for k, v in body["errors"].items())
        if body.get("message"):
            return str(body["message"])
    text = " ".join(str(body).split())
    return text[:200] or response.reason_phrase


class MetabaseClient:
    """A thin client for the Metabase endpoints provisioning needs."""

    def __init__(
        self, url: str, *, timeout: float = 60.0, transport: httpx.BaseTransport | None = None
    ) -> None:
        self.url = url.rstrip("/")
        self._http = httpx.Client(
            base_url=self.url,
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json"},
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> MetabaseClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def call(self, method: str, path: str, *, json: Any = None, params: Any = None) -> Any:
        try:
            response = self._http.request(method, path, json=json, params=params)
        except httpx.HTTPError as exc:
            raise MetabaseError(
                f"cannot reach Metabase at {self.url} ({type(exc).__name__}: {exc}); is it running?"
            ) from None
        if response.status_code >= 400:
            raise MetabaseError(
                f"Metabase {method} {path} failed ({response.status_code}): {_error_text(response)}"
            )
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise MetabaseError(
                f"Metabase {method} {path} did not answer JSON: is {self.url} a Metabase server?"
            ) from None

    # -- session ---------------------------------------------------------------------------------
    def session_properties(self) -> dict[str, Any]:
        return self.call("GET", "/api/session/properties")

    def set_up(self, email: str, password: str, site_name: str = SITE_NAME) -> None:
        """First run: create the admin with POST /api/setup (token from session properties)."""
        props = self.session_properties()
        token = props.get("setup-token") or props.get("setup_token")
        if not token:
            raise MetabaseError(
                "Metabase is not set up but offers no setup token; finish setup in its UI"
            )
        if "@" not in email:
            raise MetabaseError(
                f"Metabase's first admin needs an email address as --user, got '{email}'"
            )
        body = {
            "token": token,
            "user": {
                "email": email,
                "password": password,
                "first_name": "CX",
                "last_name": "Admin",
                "site_name": site_name,
            },
            "prefs": {"site_name": site_name, "site_locale": "en", "allow_tracking": False},
        }
        session = self.call("POST", "/api/setup", json=body)
        self._http.headers["X-Metabase-Session"] = session["id"]

    def login(self, user: str, password: str) -> None:
        try:
            session = self.call(
                "POST", "/api/session", json={"username": user, "password": password}
            )
        except MetabaseError as exc:
            if "(401)" in str(exc) or "(400)" in str(exc):
                raise MetabaseError(
                    f"Metabase at {self.url} refused the login for '{user}': check --user/--password"
                ) from None
            raise
        self._http.headers["X-Metabase-Session"] = session["id"]

    def connect(self, user: str, password: str) -> bool:
        """Log in, setting Metabase up first if it has no admin yet. True on a first run."""
        props = self.session_properties()
        if not isinstance(props, dict):
            raise MetabaseError(f"{self.url} does not look like Metabase (no session properties)")
        if not props.get("has-user-setup", props.get("has_user_setup", True)):
            self.set_up(user, password)
            return True
        self.login(user, password)
        return False

    # -- objects ---------------------------------------------------------------------------------
    def databases(self) -> list[dict[str, Any]]:
        body = self.call("GET", "/api/database")
        return body["data"] if isinstance(body, dict) else body  # {"data": [...], "total": n}

    def upsert_database(self, target: WarehouseTarget) -> tuple[int, str]:
        payload = database_payload(target)
        for db in self.databases():
            if db.get("name") == DATABASE_NAME and db.get("engine") == "postgres":
                self.call("PUT", f"/api/database/{db['id']}", json=payload)
                return int(db["id"]), "updated"
        db = self.call("POST", "/api/database", json=payload)
        return int(db["id"]), "created"

    def find_or_create_collection(self) -> tuple[int, str]:
        for coll in self.call("GET", "/api/collection", params={"archived": "false"}):
            if (
                coll.get("name") == COLLECTION_NAME
                and isinstance(coll.get("id"), int)
                and not coll.get("archived")
                and coll.get("personal_owner_id") is None
                and coll.get("location", "/") == "/"
            ):
                return coll["id"], "exists"
        coll = self.call(
            "POST",
            "/api/collection",
            json={"name": COLLECTION_NAME, "description": COLLECTION_DESCRIPTION},
        )
        return int(coll["id"]), "created"

    def collection_items(self, collection_id: int, model: str) -> list[dict[str, Any]]:
        body = self.call(
            "GET", f"/api/collection/{collection_id}/items", params={"models": [model]}
        )
        items = body["data"] if isinstance(body, dict) else body
        return [i for i in items if i.get("model", model) == model]

    def dashboard(self, dashboard_id: int) -> dict[str, Any]:
        return self.call("GET", f"/api/dashboard/{dashboard_id}")


# ---- provisioning -------------------------------------------------------------------------------


@dataclass
class Counts:
    created: int = 0
    updated: int = 0
    archived: int = 0

    def __str__(self) -> str:
        text = f"{self.created} created, {self.updated} updated"
        return text + (f", {self.archived} archived" if self.archived else "")


@dataclass
class MetabaseResult:
    first_run: bool = False
    database: str = ""
    database_id: int = 0
    collection: str = ""
    collection_id: int = 0
    questions: Counts = field(default_factory=Counts)
    dashboards: Counts = field(default_factory=Counts)
    urls: dict[str, str] = field(default_factory=dict)


def _index(items: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, int]]:
    """(marker id -> object id, name -> object id for objects without a marker)."""
    by_marker: dict[str, int] = {}
    by_name: dict[str, int] = {}
    for item in items:
        found = _MARKER.search(item.get("description") or "")
        if found:
            by_marker.setdefault(found.group(1), item["id"])
        else:
            by_name.setdefault(item.get("name", ""), item["id"])
    return by_marker, by_name


def provision(
    client: MetabaseClient,
    spec: Spec,
    target: WarehouseTarget,
    progress: Callable[[str], None] | None = None,
) -> MetabaseResult:
    """Create or update the database, collection, questions and dashboards of `spec`."""
    say = progress or (lambda _msg: None)
    result = MetabaseResult()
    say(f"database connection {DATABASE_NAME} ({target.describe()})")
    result.database_id, result.database = client.upsert_database(target)
    result.collection_id, result.collection = client.find_or_create_collection()
    cards_by_marker, cards_by_name = _index(client.collection_items(result.collection_id, "card"))
    dash_by_marker, dash_by_name = _index(
        client.collection_items(result.collection_id, "dashboard")
    )

    for dashboard in spec.dashboards:
        card_ids: dict[str, int] = {}
        for chart in dashboard.charts:
            say(f"question {chart.id}")
            payload = card_payload(chart, dashboard, result.database_id, result.collection_id)
            card_id = cards_by_marker.pop(chart.id, None) or cards_by_name.pop(chart.title, None)
            if card_id is not None:
                client.call("PUT", f"/api/card/{card_id}", json=payload)
                result.questions.updated += 1
            else:
                card_id = int(client.call("POST", "/api/card", json=payload)["id"])
                result.questions.created += 1
            card_ids[chart.id] = card_id

        say(f"dashboard {dashboard.id}")
        body = {
            "name": dashboard.title,
            "description": _describe(dashboard.description, spec_id=dashboard.id),
            "collection_id": result.collection_id,
            "parameters": dashboard_parameters(dashboard),
        }
        dash_id = dash_by_marker.pop(dashboard.id, None) or dash_by_name.pop(dashboard.title, None)
        existing: dict[int, int] = {}
        if dash_id is None:
            dash_id = int(client.call("POST", "/api/dashboard", json=body)["id"])
            result.dashboards.created += 1
        else:
            for dc in client.dashboard(dash_id).get("dashcards") or []:
                if dc.get("card_id") is not None:
                    existing.setdefault(dc["card_id"], dc["id"])
            result.dashboards.updated += 1
        body["dashcards"] = dashcards(dashboard, card_ids, existing)
        body["tabs"] = []
        client.call("PUT", f"/api/dashboard/{dash_id}", json=body)
        result.urls[dashboard.title] = f"{client.url}/dashboard/{dash_id}"

    # what carries our marker but left the spec is archived (reversible in Metabase's trash)
    for spec_id, card_id in cards_by_marker.items():
        say(f"archiving question {spec_id}")
        client.call("PUT", f"/api/card/{card_id}", json={"archived": True})
        result.questions.archived += 1
    for spec_id, dash_id in dash_by_marker.items():
        say(f"archiving dashboard {spec_id}")
        client.call("PUT", f"/api/dashboard/{dash_id}", json={"archived": True})
        result.dashboards.archived += 1
    return result
