"""The CRM REST API simulator over HTTP: auth, cursor paging, incremental filters, 429 and 5xx."""

from __future__ import annotations

import itertools
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from cxw.config import Settings
from cxw.sources import CrmServerConfig, api_key, api_key_path, start_crm_server
from cxw.sources.api import advance, generate, simulated_now


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Settings, str, dict[str, str]]]:
    settings = Settings(home=tmp_path_factory.mktemp("crm"))
    generate(settings, customers=800, days=20, seed=31, shop_database=None)
    url, stop = start_crm_server(settings)
    try:
        yield settings, url, {"Authorization": f"Bearer {api_key(settings)}"}
    finally:
        stop()


def _all(
    url: str, headers: dict[str, str], otype: str, **params: object
) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    after = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        r = httpx.get(f"{url}/crm/v3/objects/{otype}", params=query, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        out += page["results"]
        after = page.get("paging", {}).get("next", {}).get("after")
        if not after:
            return out


def _store(settings: Settings, otype: str, archived: int = 0) -> list[tuple[int, int]]:
    with sqlite3.connect(settings.sources_dir / "crm" / "crm.sqlite") as conn:
        return conn.execute(
            "select id, updated_ms from objects where type = ? and archived = ? order by updated_ms, id",
            (otype, archived),
        ).fetchall()


def _ms(iso: str) -> int:
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def test_api_key_is_a_private_file_and_required(crm: tuple[Settings, str, dict[str, str]]) -> None:
    settings, url, headers = crm
    assert api_key_path(settings).stat().st_mode & 0o777 == 0o600
    for bad in (
        {},
        {"Authorization": "Bearer nope"},
        {"Authorization": headers["Authorization"].replace("Bearer", "Basic")},
    ):
        r = httpx.get(f"{url}/crm/v3/objects/contacts", headers=bad)
        assert r.status_code == 401 and r.json()["category"] == "INVALID_AUTHENTICATION"


def test_paging_returns_every_record_once_in_updated_order(
    crm: tuple[Settings, str, dict[str, str]],
) -> None:
    settings, url, headers = crm
    for otype in ("contacts", "companies", "deals", "engagements"):
        got = _all(url, headers, otype, limit=7)
        keys = [(_ms(str(o["updatedAt"])), int(str(o["id"]))) for o in got]
        assert keys == sorted(keys) and len(set(keys)) == len(keys)
        assert [(i, ms) for ms, i in keys] == _store(settings, otype), otype
        assert all(o["archived"] is False for o in got)
    archived = _all(url, headers, "contacts", archived="true", limit=100)
    assert [int(str(o["id"])) for o in archived] == [i for i, _ in _store(settings, "contacts", 1)]


def test_incremental_windows_partition_the_records(
    crm: tuple[Settings, str, dict[str, str]],
) -> None:
    settings, url, headers = crm
    everything = {o["id"]: o["updatedAt"] for o in _all(url, headers, "engagements", limit=100)}
    now = simulated_now(settings)
    assert (
        now is not None and max(_ms(str(v)) for v in everything.values()) <= now.timestamp() * 1000
    )
    edges = [datetime(2000, 1, 1, tzinfo=now.tzinfo)] + [
        now - timedelta(days=d) for d in (40, 10, 3, 0)
    ]
    seen: list[object] = []
    for lo, hi in itertools.pairwise(edges):
        window = _all(
            url,
            headers,
            "engagements",
            limit=50,
            updatedAfter=lo.isoformat(),
            updatedBefore=hi.isoformat(),
        )
        for o in window:
            assert lo.timestamp() * 1000 < _ms(str(o["updatedAt"])) <= hi.timestamp() * 1000
        seen += [o["id"] for o in window]
    assert sorted(seen) == sorted(everything)  # (t0, t1] windows: no overlap, no gap
    epoch_ms = str(int((now - timedelta(days=10)).timestamp() * 1000))
    by_ms = _all(url, headers, "engagements", limit=100, updatedAfter=epoch_ms)
    assert {o["id"] for o in by_ms} == {
        k for k, v in everything.items() if _ms(str(v)) > int(epoch_ms)
    }


def test_paging_is_stable_while_the_world_moves(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    generate(settings, customers=500, days=15, seed=32, shop_database=None)
    url, stop = start_crm_server(settings)
    try:
        headers = {"Authorization": f"Bearer {api_key(settings)}"}
        before = {i for i, _ in _store(settings, "contacts")}
        first = httpx.get(
            f"{url}/crm/v3/objects/contacts", params={"limit": 25}, headers=headers
        ).json()
        advance(settings, days=5)  # records are added and updated between two pages
        after = first["paging"]["next"]["after"]
        rest = _all(url, headers, "contacts", limit=25, after=after)
        seen = {int(str(o["id"])) for o in first["results"] + rest}
        still_live = {i for i, _ in _store(settings, "contacts")}
        assert (before & still_live) <= seen  # nothing present throughout is skipped
        keys = [(_ms(str(o["updatedAt"])), int(str(o["id"]))) for o in rest]
        assert keys == sorted(
            keys
        )  # a record updated meanwhile may come again, later: upsert by id
    finally:
        stop()


def test_rate_limit_answers_429_with_retry_after(crm: tuple[Settings, str, dict[str, str]]) -> None:
    settings, _, headers = crm
    url, stop = start_crm_server(settings, config=CrmServerConfig(rate_limit_rps=2, burst=2))
    try:
        codes, retry = [], None
        for _ in range(6):
            r = httpx.get(f"{url}/crm/v3/objects/contacts", headers=headers)
            codes.append(r.status_code)
            if r.status_code == 429:
                retry = r.headers["Retry-After"]
                assert r.json()["category"] == "RATE_LIMITS"
        assert codes[:2] == [200, 200] and 429 in codes
        assert retry is not None and retry.isdigit() and int(retry) >= 1
        time.sleep(int(retry))
        assert httpx.get(f"{url}/crm/v3/objects/contacts", headers=headers).status_code == 200
    finally:
        stop()


def test_injected_errors_and_slow_responses(crm: tuple[Settings, str, dict[str, str]]) -> None:
    settings, _, headers = crm
    url, stop = start_crm_server(
        settings, config=CrmServerConfig(error_rate=0.5, slow_rate=0.3, slow_seconds=0.2, seed=1)
    )
    try:
        codes, slow = [], 0
        for _ in range(40):
            t0 = time.monotonic()
            r = httpx.get(f"{url}/crm/v3/objects/deals", headers=headers, timeout=5)
            slow += time.monotonic() - t0 >= 0.2
            codes.append(r.status_code)
            if r.status_code >= 500:
                assert r.status_code in (500, 502, 503, 504) and r.json()["status"] == "error"
        assert 8 <= sum(c >= 500 for c in codes) <= 32 and 200 in codes
        assert 3 <= slow <= 25
    finally:
        stop()


def test_bad_requests_and_unknown_objects(crm: tuple[Settings, str, dict[str, str]]) -> None:
    _, url, headers = crm
    for params in (
        {"limit": 0},
        {"limit": 101},
        {"after": "%%%"},
        {"updatedAfter": "yesterday"},
        {"archived": "maybe"},
    ):
        assert (
            httpx.get(f"{url}/crm/v3/objects/contacts", params=params, headers=headers).status_code
            == 400
        )
    assert httpx.get(f"{url}/crm/v3/objects/tickets", headers=headers).status_code == 404
    one = httpx.get(f"{url}/crm/v3/objects/deals", params={"limit": 1}, headers=headers).json()[
        "results"
    ][0]
    single = httpx.get(f"{url}/crm/v3/objects/deals/{one['id']}", headers=headers).json()
    assert single == one
    history = single["propertiesWithHistory"]["dealstage"]
    assert history[0]["value"] == single["properties"]["dealstage"]
    assert [h["timestamp"] for h in history] == sorted(
        (h["timestamp"] for h in history), reverse=True
    )
    assert httpx.get(f"{url}/crm/v3/objects/deals/999999999", headers=headers).status_code == 404


def test_merged_contacts_point_at_their_survivor(crm: tuple[Settings, str, dict[str, str]]) -> None:
    _, url, headers = crm
    archived = _all(url, headers, "contacts", archived="true", limit=100)
    assert archived
    live = {o["id"]: o for o in _all(url, headers, "contacts", limit=100)}
    for o in archived:
        props = o["properties"]
        survivor = live[props["hs_merged_into_object_id"]]  # type: ignore[index]
        assert o["id"] in survivor["properties"]["hs_merged_object_ids"].split(";")  # type: ignore[index, union-attr]
        assert o["archivedAt"] == o["updatedAt"]
