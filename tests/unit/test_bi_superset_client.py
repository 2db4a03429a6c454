"""The Superset API client sends what Superset's API documents (checked on a mock transport).

Superset 5.0 API (its OpenAPI docs at /swagger/v1 and the views' docstrings):
- POST /api/v1/security/login {username, password, provider: "db", refresh} -> {access_token,
  refresh_token}; later calls carry `Authorization: Bearer <access_token>`;
- GET /api/v1/security/csrf_token/ -> {"result": token}; POSTs carry it as X-CSRFToken (with
  the session cookie it set);
- POST /api/v1/dashboard/import/: multipart `formData` (the ZIP), `passwords` (JSON map of
  database file -> password), `overwrite` ("true");
- POST /api/v1/assets/import/: multipart `bundle` (the ZIP), `passwords`;
- GET /api/v1/dashboard/?q=(rison) -> {"count": n, "result": [{id, dashboard_title, uuid, url}]}.
tests/e2e/test_superset_import.py runs the same calls against a real Superset.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from cxw.bi import superset as ss
from cxw.bi.spec import load_spec
from cxw.bi.target import WarehouseTarget

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "dashboards_test.yml"
TARGET = WarehouseTarget("warehouse", 5432, "cxw", "cxw_bi_reader", "pw-123")


class FakeSuperset:
    def __init__(self, password: str = "admin-pw") -> None:
        self.password = password
        self.dashboards: dict[str, dict] = {}
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/api/v1/security/login":
            body = json.loads(request.content)
            if body.get("provider") != "db" or body.get("password") != self.password:
                return httpx.Response(401, json={"message": "Not authorized"})
            return httpx.Response(200, json={"access_token": "jwt-1", "refresh_token": "r"})
        if request.headers.get("Authorization") != "Bearer jwt-1":
            return httpx.Response(401, json={"msg": "Missing Authorization Header"})
        if path == "/api/v1/security/csrf_token/":
            return httpx.Response(
                200, json={"result": "csrf-1"}, headers={"Set-Cookie": "session=s1; Path=/"}
            )
        if request.method == "POST" and request.headers.get("X-CSRFToken") != "csrf-1":
            return httpx.Response(
                400, json={"message": "400 Bad Request: The CSRF token is missing."}
            )
        if request.method == "POST" and request.headers.get("Cookie") != "session=s1":
            return httpx.Response(
                400, json={"message": "400 Bad Request: The CSRF session token is missing."}
            )
        if path in ("/api/v1/assets/import/", "/api/v1/dashboard/import/"):
            field = "bundle" if "assets" in path else "formData"
            content = request.content.decode("latin-1")
            assert re.search(rf'name="{field}"; filename="bundle.zip"', content)
            passwords = re.search(r'name="passwords"\r\n\r\n(.*?)\r\n', content).group(1)
            assert json.loads(passwords) == {ss.DATABASE_FILE: TARGET.password}
            if field == "formData":
                assert re.search(r'name="overwrite"\r\n\r\ntrue\r\n', content)
            spec = load_spec(FIXTURE)
            for i, d in enumerate(spec.dashboards, start=1):
                u = ss.stable_uuid("dashboard", d.id)
                self.dashboards[u] = {
                    "id": i,
                    "dashboard_title": d.title,
                    "uuid": u,
                    "url": f"/superset/dashboard/{i}/",
                }
            return httpx.Response(200, json={"message": "OK"})
        if path == "/api/v1/dashboard/":
            result = list(self.dashboards.values())
            return httpx.Response(200, json={"count": len(result), "result": result, "ids": []})
        return httpx.Response(404, json={"message": "Not found"})


def _client(fake: FakeSuperset) -> ss.SupersetClient:
    return ss.SupersetClient("http://superset.test", transport=httpx.MockTransport(fake))


def test_provision_logs_in_imports_and_lists_back():
    fake = FakeSuperset()
    spec = load_spec(FIXTURE)
    with _client(fake) as client:
        client.login("admin", "admin-pw")
        first = ss.provision(client, spec, TARGET)
        second = ss.provision(client, spec, TARGET)
    assert (first.created, first.updated) == (2, 0)
    assert (second.created, second.updated) == (0, 2)
    assert first.urls["Test CX overview"] == "http://superset.test/superset/dashboard/1/"
    paths = [r.url.path for r in fake.requests]
    assert paths[:2] == ["/api/v1/security/login", "/api/v1/security/csrf_token/"]
    assert paths.count("/api/v1/assets/import/") == 2
    for request in fake.requests:
        if request.url.path.endswith("/import/"):
            assert TARGET.password.encode() not in _zip_part(request)


def _zip_part(request: httpx.Request) -> bytes:
    """The uploaded ZIP's bytes (the password may appear in the `passwords` field only)."""
    body = request.content
    start = body.index(b"Content-Type: application/zip\r\n\r\n") + 34
    return body[start : body.index(b"\r\n--", start)]


def test_the_ui_import_endpoint_sends_form_data_and_overwrite():
    fake = FakeSuperset()
    with _client(fake) as client:
        client.login("admin", "admin-pw")
        client.import_dashboards(ss.build_bundle(load_spec(FIXTURE), TARGET), ss.passwords(TARGET))
        assert len(client.dashboards()) == 2


def test_bad_login_is_a_one_line_error():
    with _client(FakeSuperset()) as client, pytest.raises(ss.SupersetError) as err:
        client.login("admin", "wrong")
    assert "refused the login for 'admin'" in str(err.value) and "\n" not in str(err.value)


def test_unreachable_superset_is_a_one_line_error():
    with (
        ss.SupersetClient("http://127.0.0.1:9", timeout=5) as client,
        pytest.raises(ss.SupersetError) as err,
    ):
        client.login("admin", "pw")
    assert "cannot reach Superset" in str(err.value) and "\n" not in str(err.value)


def test_a_failed_import_says_superset_must_reach_the_warehouse():
    def broken(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/assets/import/":
            message = "Import dashboard failed for an unknown reason"
            return httpx.Response(500, json={"message": message})
        return httpx.Response(200, json={"count": 0, "result": []})

    with (
        ss.SupersetClient("http://s.test", transport=httpx.MockTransport(broken)) as client,
        pytest.raises(ss.SupersetError) as err,
    ):
        ss.provision(client, load_spec(FIXTURE), TARGET)
    assert "must reach the warehouse at warehouse:5432" in str(err.value)
