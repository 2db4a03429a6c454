"""The Metabase client against a local fake Metabase that speaks the documented API.

The fake implements the request and response shapes of the endpoints the client uses, as
Metabase's API reference documents them (v0.56, the version docker-compose runs):
- https://www.metabase.com/docs/latest/api/session  (POST /api/session -> {"id": session};
  GET /api/session/properties -> settings incl. "setup-token", "has-user-setup")
- https://www.metabase.com/docs/latest/api/setup    (POST /api/setup: token, user{email,
  password, first_name, last_name}, prefs{site_name}; only while no user exists)
- https://www.metabase.com/docs/latest/api/database (GET -> {"data": [...], "total": n};
  POST: name, engine, details map; PUT /api/database/:id)
- https://www.metabase.com/docs/latest/api/collection (GET -> list incl. the virtual "root";
  POST: name, description; GET /:id/items?models=... -> {"data": [...], "total": n, ...})
- https://www.metabase.com/docs/latest/api/card     (POST: name, dataset_query, display,
  visualization_settings required; parameters need :id and :type; PUT /api/card/:id)
- https://www.metabase.com/docs/latest/api/dashboard (POST: name, parameters; PUT /api/dashboard/:id
  with `dashcards`: unique ids, negative = new, size_x/size_y > 0, row/col >= 0,
  parameter_mappings with parameter_id and target; dashcards left out are removed)
Every request needs the X-Metabase-Session header except login, setup and session properties.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import uuid
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from cxw.bi import metabase as mb
from cxw.bi.spec import load_spec
from cxw.bi.target import WarehouseTarget

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dashboards_test.yml"
CXW = str(Path(sys.executable).parent / "cxw")
ADMIN, PASSWORD = "admin@cxw.test", "s3cret-pass-1"
TARGET = WarehouseTarget("warehouse", 5432, "cxw", "cxw_bi_reader", "bi-pw")


class ApiError(Exception):
    def __init__(self, status: int, body: Any) -> None:
        self.status, self.body = status, body


def _require(cond: bool, field: str, message: str) -> None:
    """Metabase answers 400 {"errors": {field: message}} when a parameter fails its schema."""
    if not cond:
        raise ApiError(400, {"errors": {field: message}})


def _non_blank(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


class FakeMetabase:
    """In-memory Metabase: just the documented endpoints and their validation."""

    def __init__(self, set_up: bool = True) -> None:
        self.setup_token = str(uuid.uuid4())
        self.users: dict[str, str] = {ADMIN: PASSWORD} if set_up else {}
        self.sessions: set[str] = set()
        self.databases: dict[int, dict] = {}
        self.collections: dict[int, dict] = {}
        self.cards: dict[int, dict] = {}
        self.dashboards: dict[int, dict] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self._ids = iter(range(1, 10_000))
        self.lock = threading.Lock()

    def next_id(self) -> int:
        return next(self._ids)

    # -- dispatch ------------------------------------------------------------------------------
    def handle(self, method: str, path: str, query: dict, body: Any, session: str | None):
        with self.lock:
            self.requests.append((method, path, body))
            if (method, path) == ("GET", "/api/session/properties"):
                return {
                    "setup-token": None if self.users else self.setup_token,
                    "has-user-setup": bool(self.users),
                    "version": {"tag": "v0.56.3"},
                }
            if (method, path) == ("POST", "/api/setup"):
                return self.setup(body)
            if (method, path) == ("POST", "/api/session"):
                return self.login(body)
            if session not in self.sessions:
                raise ApiError(401, "Unauthenticated")
            for pattern, handler in self.routes():
                m = re.fullmatch(pattern, f"{method} {path}")
                if m:
                    return handler(body or {}, query, *[int(g) for g in m.groups()])
            raise ApiError(404, "API endpoint does not exist.")

    def routes(self):
        return [
            (r"GET /api/database/?", self.list_databases),
            (r"POST /api/database/?", self.create_database),
            (r"PUT /api/database/(\d+)", self.update_database),
            (r"GET /api/collection/?", self.list_collections),
            (r"POST /api/collection/?", self.create_collection),
            (r"GET /api/collection/(\d+)/items", self.collection_items),
            (r"POST /api/card/?", self.create_card),
            (r"PUT /api/card/(\d+)", self.update_card),
            (r"POST /api/dashboard/?", self.create_dashboard),
            (r"GET /api/dashboard/(\d+)", self.get_dashboard),
            (r"PUT /api/dashboard/(\d+)", self.update_dashboard),
        ]

    # -- session / setup ------------------------------------------------------------------------
    def _new_session(self) -> dict:
        sid = str(uuid.uuid4())
        self.sessions.add(sid)
        return {"id": sid}

    def setup(self, body: dict) -> dict:
        if self.users:
            raise ApiError(403, "The /api/setup route can only be used to create the first user")
        user, prefs = body.get("user") or {}, body.get("prefs") or {}
        _require(
            body.get("token") == self.setup_token, "token", "Token does not match the setup token."
        )
        _require("@" in str(user.get("email", "")), "email", "value must be a valid email address.")
        _require(_non_blank(user.get("password")), "password", "password is too common.")
        _require(
            _non_blank(prefs.get("site_name")), "site_name", "value must be a non-blank string."
        )
        self.users[user["email"]] = user["password"]
        return self._new_session()

    def login(self, body: dict) -> dict:
        _require(_non_blank(body.get("username")), "username", "value must be a non-blank string.")
        _require(_non_blank(body.get("password")), "password", "value must be a non-blank string.")
        if self.users.get(body["username"]) != body["password"]:
            raise ApiError(401, {"errors": {"password": "did not match stored password"}})
        return self._new_session()

    # -- databases ------------------------------------------------------------------------------
    def _check_database(self, body: dict, partial: bool) -> None:
        if not partial or "name" in body:
            _require(_non_blank(body.get("name")), "name", "value must be a non-blank string.")
        if not partial or "engine" in body:
            _require(
                body.get("engine") in ("postgres", "h2", "mysql"),
                "engine",
                "value must be a valid database engine.",
            )
        if not partial or "details" in body:
            _require(isinstance(body.get("details"), dict), "details", "Value must be a map.")

    def _db_out(self, db: dict) -> dict:
        details = {**db["details"], "password": "**MetabasePass**"}
        return {**db, "details": details}

    def list_databases(self, body, query):
        data = [self._db_out(d) for d in self.databases.values()]
        return {"data": data, "total": len(data)}

    def create_database(self, body, query):
        self._check_database(body, partial=False)
        db = {"id": self.next_id(), **body}
        self.databases[db["id"]] = db
        return self._db_out(db)

    def update_database(self, body, query, db_id):
        if db_id not in self.databases:
            raise ApiError(404, "Not found.")
        self._check_database(body, partial=True)
        self.databases[db_id].update(body)
        return self._db_out(self.databases[db_id])

    # -- collections ----------------------------------------------------------------------------
    def list_collections(self, body, query):
        root = {"id": "root", "name": "Our analytics", "can_write": True}
        return [root, *[c for c in self.collections.values() if not c["archived"]]]

    def create_collection(self, body, query):
        _require(_non_blank(body.get("name")), "name", "value must be a non-blank string.")
        desc = body.get("description")
        _require(
            desc is None or _non_blank(desc),
            "description",
            "nullable value must be a non-blank string.",
        )
        coll = {
            "id": self.next_id(),
            "name": body["name"],
            "description": desc,
            "archived": False,
            "location": "/",
            "personal_owner_id": None,
        }
        self.collections[coll["id"]] = coll
        return coll

    def collection_items(self, body, query, coll_id):
        models = query.get("models") or ["card", "dashboard"]
        items = []
        for model, store in (("card", self.cards), ("dashboard", self.dashboards)):
            if model not in models:
                continue
            for obj in store.values():
                if obj["collection_id"] == coll_id and not obj["archived"]:
                    items.append(
                        {
                            "id": obj["id"],
                            "name": obj["name"],
                            "description": obj["description"],
                            "model": model,
                        }
                    )
        return {"total": len(items), "data": items, "models": models, "limit": None, "offset": None}

    # -- cards ----------------------------------------------------------------------------------
    def _check_card(self, body: dict, partial: bool) -> None:
        def need(key, cond, message):
            if not partial or key in body:
                _require(cond(body.get(key)), key, message)

        need("name", _non_blank, "value must be a non-blank string.")
        need("display", _non_blank, "value must be a non-blank string.")
        need("visualization_settings", lambda v: isinstance(v, dict), "Value must be a map.")
        need("dataset_query", lambda v: isinstance(v, dict), "Value must be a map.")
        if "description" in body:
            _require(
                body["description"] is None or _non_blank(body["description"]),
                "description",
                "nullable value must be a non-blank string.",
            )
        if body.get("collection_id") is not None:
            _require(
                body["collection_id"] in self.collections, "collection_id", "collection not found"
            )
        for p in body.get("parameters") or []:
            _require(
                isinstance(p, dict) and "id" in p and "type" in p,
                "parameters",
                "parameter must be a map with :id and :type keys",
            )
        query = body.get("dataset_query")
        if isinstance(query, dict):
            _require(query.get("database") in self.databases, "dataset_query", "database not found")
            if query.get("type") == "native":
                native = query.get("native") or {}
                _require(
                    _non_blank(native.get("query")),
                    "dataset_query",
                    "native query must be a string",
                )
                for name, tag in (native.get("template-tags") or {}).items():
                    _require(
                        tag.get("name") == name and {"id", "display-name", "type"} <= set(tag),
                        "dataset_query",
                        "template tag must have id, name, display-name and type",
                    )

    def create_card(self, body, query):
        self._check_card(body, partial=False)
        card = {
            "id": self.next_id(),
            "archived": False,
            "description": None,
            "collection_id": None,
            **body,
        }
        self.cards[card["id"]] = card
        return card

    def update_card(self, body, query, card_id):
        if card_id not in self.cards:
            raise ApiError(404, "Not found.")
        self._check_card(body, partial=True)
        self.cards[card_id].update(body)
        return self.cards[card_id]

    # -- dashboards -----------------------------------------------------------------------------
    def _check_parameters(self, params) -> None:
        _require(
            params is None or isinstance(params, list),
            "parameters",
            "nullable sequence of parameter",
        )
        for p in params or []:
            _require(
                isinstance(p, dict) and "id" in p and "type" in p,
                "parameters",
                "parameter must be a map with :id and :type keys",
            )

    def create_dashboard(self, body, query):
        _require(_non_blank(body.get("name")), "name", "value must be a non-blank string.")
        self._check_parameters(body.get("parameters"))
        dash = {
            "id": self.next_id(),
            "name": body["name"],
            "description": body.get("description"),
            "collection_id": body.get("collection_id"),
            "parameters": body.get("parameters") or [],
            "archived": False,
            "dashcards": [],
            "tabs": [],
        }
        self.dashboards[dash["id"]] = dash
        return dash

    def get_dashboard(self, body, query, dash_id):
        if dash_id not in self.dashboards:
            raise ApiError(404, "Not found.")
        dash = self.dashboards[dash_id]
        return {
            **dash,
            "dashcards": [{**dc, "card": self.cards[dc["card_id"]]} for dc in dash["dashcards"]],
        }

    def update_dashboard(self, body, query, dash_id):
        if dash_id not in self.dashboards:
            raise ApiError(404, "Not found.")
        dash = self.dashboards[dash_id]
        if "parameters" in body:
            self._check_parameters(body["parameters"])
        if "archived" in body:
            _require(isinstance(body["archived"], bool), "archived", "nullable boolean")
        for key in ("name", "description", "collection_id", "parameters", "archived"):
            if key in body:
                dash[key] = body[key]
        if "dashcards" in body:
            cards = body["dashcards"]
            ids = [dc.get("id") for dc in cards]
            _require(
                len(ids) == len(set(ids)),
                "dashcards",
                "value must be seq of maps in which ids are unique",
            )
            param_ids = {p["id"] for p in dash["parameters"]}
            current = {dc["id"]: dc for dc in dash["dashcards"]}
            new = []
            for dc in cards:
                _require(isinstance(dc.get("id"), int), "dashcards", "id must be an integer")
                _require(
                    _positive_int(dc.get("size_x")) and _positive_int(dc.get("size_y")),
                    "dashcards",
                    "size must be > 0",
                )
                _require(
                    isinstance(dc.get("row"), int) and dc["row"] >= 0,
                    "dashcards",
                    "row must be >= 0",
                )
                _require(
                    isinstance(dc.get("col"), int) and dc["col"] >= 0,
                    "dashcards",
                    "col must be >= 0",
                )
                _require(dc.get("card_id") in self.cards, "dashcards", "card not found")
                for pm in dc.get("parameter_mappings") or []:
                    _require(
                        _non_blank(pm.get("parameter_id")) and "target" in pm,
                        "dashcards",
                        "parameter_mapping must be a map with :parameter_id and :target keys",
                    )
                    _require(
                        pm["parameter_id"] in param_ids,
                        "dashcards",
                        "parameter_mapping refers to no dashboard parameter",
                    )
                if dc["id"] < 0:
                    new.append({**dc, "id": self.next_id(), "dashboard_id": dash_id})
                else:
                    _require(
                        dc["id"] in current,
                        "dashcards",
                        f"dashcard {dc['id']} is not on this dashboard",
                    )
                    new.append({**current[dc["id"]], **dc})
            dash["dashcards"] = new
        if "tabs" in body:
            dash["tabs"] = body["tabs"]
        return self.get_dashboard({}, query, dash_id)

    # -- checks for tests -------------------------------------------------------------------------
    def live_cards(self) -> list[dict]:
        return [c for c in self.cards.values() if not c["archived"]]

    def live_dashboards(self) -> list[dict]:
        return [d for d in self.dashboards.values() if not d["archived"]]


def _handler(fake: FakeMetabase):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output quiet
            pass

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            try:
                body = json.loads(raw) if raw else None
                status, out = (
                    200,
                    fake.handle(
                        method,
                        parts.path,
                        parse_qs(parts.query),
                        body,
                        self.headers.get("X-Metabase-Session"),
                    ),
                )
            except ApiError as exc:
                status, out = exc.status, exc.body
            data = json.dumps(out).encode() if not isinstance(out, str) else out.encode()
            self.send_response(status)
            self.send_header(
                "Content-Type", "application/json" if not isinstance(out, str) else "text/plain"
            )
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PUT(self):
            self._serve("PUT")

    return Handler


@pytest.fixture
def fake():
    return FakeMetabase()


@pytest.fixture
def server(fake):
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def spec():
    return load_spec(FIXTURE)


def _provision(url: str, spec, user: str = ADMIN, password: str = PASSWORD) -> mb.MetabaseResult:
    with mb.MetabaseClient(url) as client:
        first_run = client.connect(user, password)
        result = mb.provision(client, spec, TARGET)
        result.first_run = first_run
        return result


def test_first_run_creates_the_admin_through_setup(spec):
    fake = FakeMetabase(set_up=False)
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    try:
        result = _provision(f"http://127.0.0.1:{httpd.server_address[1]}", spec)
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert result.first_run
    assert fake.users == {ADMIN: PASSWORD}
    setup = next(body for method, path, body in fake.requests if path == "/api/setup")
    assert setup["token"] == fake.setup_token
    assert setup["user"]["email"] == ADMIN and setup["prefs"]["site_name"]
    assert not any(path == "/api/session" for _, path, _ in fake.requests)  # setup logs in


def test_provision_creates_the_connection_questions_and_dashboards(fake, server, spec):
    result = _provision(server, spec)

    assert not result.first_run
    assert (result.database, result.collection) == ("created", "created")
    n_charts = sum(len(d.charts) for d in spec.dashboards)
    assert (result.questions.created, result.questions.updated) == (n_charts, 0)
    assert (result.dashboards.created, result.dashboards.updated) == (len(spec.dashboards), 0)

    (db,) = fake.databases.values()
    assert db["engine"] == "postgres"
    assert {k: db["details"][k] for k in ("host", "port", "dbname", "user", "password")} == {
        "host": "warehouse", "port": 5432, "dbname": "cxw", "user": "cxw_bi_reader", "password": "bi-pw",
    }  # fmt: skip
    (coll,) = fake.collections.values()
    assert coll["name"] == "CX warehouse"

    cards = {c["description"].rsplit("cxw:", 1)[1]: c for c in fake.live_cards()}
    assert set(cards) == {c.id for _, c in spec.charts()}
    for _, chart in spec.charts():
        card = cards[chart.id]
        assert card["collection_id"] == coll["id"]
        assert card["dataset_query"]["type"] == "native"
        assert card["dataset_query"]["database"] == db["id"]
        assert card["dataset_query"]["native"]["query"] == chart.sql
        assert set(card["dataset_query"]["native"]["template-tags"]) == set(chart.parameters)
        assert card["display"] == mb.DISPLAY[chart.type]
    assert cards["test_nps_now"]["display"] == "scalar"
    assert cards["test_nps_trend"]["visualization_settings"]["graph.dimensions"] == [
        "week",
        "channel",
    ]
    tag = cards["test_customer_card"]["dataset_query"]["native"]["template-tags"]["min_orders"]
    assert (tag["type"], tag["display-name"]) == ("number", "Minimum orders")

    lookup = next(d for d in fake.live_dashboards() if d["name"] == "Test customer lookup")
    assert {p["slug"] for p in lookup["parameters"]} == {"customer_key", "min_orders"}
    by_card = {dc["card_id"]: dc for dc in lookup["dashcards"]}
    assert set(by_card) == {cards[c.id]["id"] for c in spec.dashboards[1].charts}
    mapped = by_card[cards["test_funnel"]["id"]]["parameter_mappings"]
    assert [m["target"] for m in mapped] == [["variable", ["template-tag", "customer_key"]]]
    # cards sit inside the 24-column grid without overlapping
    for dash in fake.live_dashboards():
        cells = set()
        for dc in dash["dashcards"]:
            assert dc["col"] + dc["size_x"] <= 24
            area = {
                (r, c)
                for r in range(dc["row"], dc["row"] + dc["size_y"])
                for c in range(dc["col"], dc["col"] + dc["size_x"])
            }
            assert not cells & area
            cells |= area


def test_second_provision_updates_instead_of_duplicating(fake, server, spec):
    _provision(server, spec)
    snapshot = {
        "cards": sorted(c["id"] for c in fake.live_cards()),
        "dashboards": sorted(d["id"] for d in fake.live_dashboards()),
        "dashcards": sorted(dc["id"] for d in fake.live_dashboards() for dc in d["dashcards"]),
    }
    fake.requests.clear()

    result = _provision(server, spec)

    n_charts = sum(len(d.charts) for d in spec.dashboards)
    assert (result.database, result.collection) == ("updated", "exists")
    assert (result.questions.created, result.questions.updated) == (0, n_charts)
    assert (result.dashboards.created, result.dashboards.updated) == (0, len(spec.dashboards))
    assert len(fake.databases) == 1 and len(fake.collections) == 1
    assert snapshot == {
        "cards": sorted(c["id"] for c in fake.live_cards()),
        "dashboards": sorted(d["id"] for d in fake.live_dashboards()),
        "dashcards": sorted(dc["id"] for d in fake.live_dashboards() for dc in d["dashcards"]),
    }
    posts = [path for method, path, _ in fake.requests if method == "POST"]
    assert posts == ["/api/session"]  # a re-run creates nothing


def test_a_chart_removed_from_the_spec_is_archived_and_leaves_its_dashboard(fake, server, spec):
    _provision(server, spec)
    first, second = spec.dashboards
    smaller = replace(spec, dashboards=(first, replace(second, charts=second.charts[:-1])))

    result = _provision(server, smaller)

    assert result.questions.archived == 1
    funnel = next(c for c in fake.cards.values() if c["description"].endswith("cxw:test_funnel"))
    assert funnel["archived"]
    lookup = next(d for d in fake.live_dashboards() if d["name"] == second.title)
    assert funnel["id"] not in {dc["card_id"] for dc in lookup["dashcards"]}


def test_edited_sql_updates_the_same_question(fake, server, spec):
    _provision(server, spec)
    first, second = spec.dashboards
    chart = first.charts[0]
    edited = replace(chart, sql=chart.sql.replace("28", "7"))
    spec2 = replace(spec, dashboards=(replace(first, charts=(edited, *first.charts[1:])), second))

    _provision(server, spec2)

    (card,) = [c for c in fake.live_cards() if c["description"].endswith(f"cxw:{chart.id}")]
    assert "current_date - 7" in card["dataset_query"]["native"]["query"]


def test_bad_login_is_a_one_line_error(server, spec):
    with pytest.raises(mb.MetabaseError) as err:
        _provision(server, spec, password="wrong")
    assert "refused the login" in str(err.value) and "\n" not in str(err.value)


def test_unreachable_metabase_is_a_one_line_error(spec):
    with pytest.raises(mb.MetabaseError) as err:
        _provision("http://127.0.0.1:9", spec)
    assert "cannot reach Metabase" in str(err.value) and "\n" not in str(err.value)


def test_cli_provisions_twice_and_reports_counts(fake, server, tmp_path):
    cmd = [
        CXW, "bi", "provision", "metabase", "--url", server, "--user", ADMIN,
        "--password", PASSWORD, "--spec", str(FIXTURE), "--db-host", "warehouse", "--db-port", "5432",
    ]  # fmt: skip
    env = {"CXW_HOME": str(tmp_path), "PATH": "/usr/bin:/bin", "COLUMNS": "200"}
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert first.returncode == 0, first.stderr
    assert "questions: 7 created, 0 updated" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env)
    assert second.returncode == 0, second.stderr
    assert "questions: 0 created, 7 updated" in second.stdout
    assert "dashboards: 0 created, 2 updated" in second.stdout
    (db,) = fake.databases.values()
    assert db["details"]["host"] == "warehouse" and db["details"]["user"] == "cxw_bi_reader"
    assert (
        db["details"]["password"]
        == (tmp_path / "secrets" / "cxw_bi_reader.password").read_text().strip()
    )

    bad = subprocess.run(
        [*cmd[:9], "wrong", *cmd[10:]], capture_output=True, text=True, timeout=120, env=env
    )
    assert bad.returncode != 0
    assert bad.stderr.strip().count("\n") == 0 and "refused the login" in bad.stderr
