"""Generation of the file and CRM systems (no database): determinism, increments, truth, defects.

The validators here are written from SCHEMAS.md, independently of the generator: they decide
which drop lines are invalid, and the test checks that exactly those are listed in defects.csv.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import sqlite3
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cxw.config import Settings
from cxw.sources import MessConfig
from cxw.sources.api import advance, generate, read_state

MESS = MessConfig(late_arrival=0.1, resend=0.1, out_of_order=0.1)
DEFECTS = 0.08
QUEUES = {"orders", "billing", "returns", "technical", "sales"}
CRM_ENUMS = {
    "contacts": (
        "lifecyclestage",
        {
            "subscriber",
            "lead",
            "marketingqualifiedlead",
            "salesqualifiedlead",
            "opportunity",
            "customer",
            "evangelist",
            "other",
        },
    ),
    "companies": (
        "industry",
        {
            "RETAIL",
            "HOSPITALITY",
            "HEALTH_WELLNESS_AND_FITNESS",
            "CONSTRUCTION",
            "MARKETING_AND_ADVERTISING",
            "COMPUTER_SOFTWARE",
            "REAL_ESTATE",
            "FOOD_BEVERAGES",
            "LEGAL_SERVICES",
            "EDUCATION_MANAGEMENT",
        },
    ),
    "deals": (
        "dealstage",
        {
            "appointmentscheduled",
            "qualifiedtobuy",
            "presentationscheduled",
            "decisionmakerboughtin",
            "contractsent",
            "closedwon",
            "closedlost",
        },
    ),
    "engagements": ("hs_engagement_type", {"EMAIL", "CALL", "MEETING"}),
}


def _settings(home: Path) -> Settings:
    return Settings(home=home)


def _hashes(settings: Settings) -> dict[str, str]:
    out = {}
    for p in sorted(settings.sources_dir.rglob("*")):
        rel = p.relative_to(settings.sources_dir)
        if p.is_file() and rel.parts[0] not in ("state", "crm") and p.name != "state.json":
            out[str(rel)] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def _crm_rows(settings: Settings) -> list[tuple[object, ...]]:
    with sqlite3.connect(settings.sources_dir / "crm" / "crm.sqlite") as conn:
        return conn.execute("select * from objects order by type, id").fetchall()


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = _settings(tmp_path_factory.mktemp("world"))
    generate(
        settings, customers=4000, days=30, seed=11, defects=DEFECTS, mess=MESS, shop_database=None
    )
    return settings


@pytest.fixture(scope="module")
def defects(world: Settings) -> list[dict[str, str]]:
    with (world.truth_dir / "defects.csv").open() as fh:
        return list(csv.DictReader(fh))


# ---- independent validators (SCHEMAS.md sections 3, 4, 7) -------------------------------------
def _ts(value: str, fmt: str | None = None) -> datetime | None:
    try:
        if fmt:
            return datetime.strptime(value, fmt).replace(tzinfo=UTC)
        d = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return d if d.tzinfo else None
    except ValueError:
        return None


def call_ok(header: list[str], fields: list[str]) -> bool:
    if len(fields) != len(header):
        return False
    r = dict(zip(header, fields, strict=True))
    if not r["call_id"].isdigit() or r["queue"] not in QUEUES:
        return False
    if r["abandoned"] not in ("true", "false") or r["transferred"] not in ("true", "false"):
        return False
    if not (r["hold_seconds"].isdigit() and r["wrap_seconds"].isdigit()):
        return False
    if r["ticket_id"] and not r["ticket_id"].isdigit():
        return False
    offered, ended = _ts(r["offered_at"]), _ts(r["ended_at"])
    if offered is None or ended is None:
        return False
    if (r["answered_at"] == "") != (r["abandoned"] == "true"):
        return False
    answered = _ts(r["answered_at"]) if r["answered_at"] else offered
    return answered is not None and offered <= answered <= ended


def ticket_ok(line: str) -> bool:
    try:
        obj = json.loads(line)
    except json.JSONDecodeError:
        return False
    if not isinstance(obj.get("id"), int):
        return False
    if obj.get("channel") not in ("phone", "chat", "email") or obj.get("priority") not in (
        "low",
        "normal",
        "high",
        "urgent",
    ):
        return False
    if obj.get("status") not in ("new", "open", "pending", "solved", "closed"):
        return False
    created, updated = _ts(obj.get("created_at", "")), _ts(obj.get("updated_at", ""))
    return created is not None and updated is not None and created <= updated


def response_ok(header: list[str], fields: list[str], scales: dict[str, tuple[int, int]]) -> bool:
    if len(fields) != len(header):
        return False
    r = dict(zip(header, fields, strict=True))
    if not r["ResponseId"] or r["Finished"] not in ("0", "1"):
        return False
    if r["DistributionChannel"] not in ("email", "anonymous", "sms"):
        return False
    if _ts(r["RecordedDate"], "%Y-%m-%d %H:%M:%S") is None:
        return False
    for col, (lo, hi) in scales.items():
        if r[col] and not (r[col].lstrip("-").isdigit() and lo <= int(r[col]) <= hi):
            return False
    return True


def _scales(settings: Settings) -> dict[str, dict[str, tuple[int, int]]]:
    out = {}
    for p in (settings.sources_dir / "survey" / "surveys").glob("*.json"):
        d = json.loads(p.read_text())
        out[d["id"]] = {
            q["export_column"]: (q["scale"]["min"], q["scale"]["max"])
            for q in d["questions"]
            if "scale" in q
        }
    return out


def _scan(settings: Settings) -> dict[str, list[tuple[str, bool, object]]]:
    """Every data line of every drop: (locator, valid, parsed record)."""
    src = settings.sources_dir
    scales = _scales(settings)
    out: dict[str, list[tuple[str, bool, object]]] = defaultdict(list)
    for f in sorted(src.glob("contact_center/*/calls.csv")):
        lines = f.read_text().splitlines()
        header = next(csv.reader([lines[0]]))
        for n, line in enumerate(lines[1:], start=2):
            fields = next(csv.reader([line]))
            out["calls"].append(
                (
                    f"{f.relative_to(src)}:line {n}",
                    call_ok(header, fields),
                    dict(zip(header, fields, strict=False)),
                )
            )
    for f in sorted(src.glob("contact_center/*/tickets.jsonl")):
        for n, line in enumerate(f.read_text().splitlines(), start=1):
            ok = ticket_ok(line)
            out["tickets"].append(
                (f"{f.relative_to(src)}:line {n}", ok, json.loads(line) if ok else None)
            )
    for f in sorted(src.glob("survey/*/responses_*.csv")):
        sid = f.stem.removeprefix("responses_")
        lines = f.read_text().splitlines()
        header = next(csv.reader([lines[0]]))
        for n, line in enumerate(lines[3:], start=4):
            fields = next(csv.reader([line]))
            rec = dict(zip(header, fields, strict=False))
            out["responses"].append(
                (f"{f.relative_to(src)}:line {n}", response_ok(header, fields, scales[sid]), rec)
            )
    return out


# ---- tests ---------------------------------------------------------------------------------
def test_same_arguments_give_byte_identical_sources(tmp_path: Path) -> None:
    a, b, c = (_settings(tmp_path / x) for x in "abc")
    for s, seed in ((a, 5), (b, 5), (c, 6)):
        generate(s, customers=300, days=20, seed=seed, defects=0.05, shop_database=None)
    assert _hashes(a) == _hashes(b)
    assert _crm_rows(a) == _crm_rows(b)
    assert _hashes(a) != _hashes(c)


def test_generate_then_advance_equals_one_longer_generate(tmp_path: Path) -> None:
    once, steps = _settings(tmp_path / "once"), _settings(tmp_path / "steps")
    generate(once, customers=600, days=30, seed=8, defects=0.05, mess=MESS, shop_database=None)
    generate(steps, customers=600, days=21, seed=8, defects=0.05, mess=MESS, shop_database=None)
    advance(steps, days=4)
    summary = advance(steps, days=5)
    assert summary.end_date == read_state(once)["end_date"] == "2025-11-30"
    assert _hashes(steps) == _hashes(once)
    assert _crm_rows(steps) == _crm_rows(once)


def test_defect_locators_are_exactly_the_invalid_lines(
    world: Settings, defects: list[dict[str, str]]
) -> None:
    scanned = _scan(world)
    invalid = {loc for rows in scanned.values() for loc, ok, _ in rows if not ok}
    listed = {
        d["locator"]
        for d in defects
        if d["category"] == "invalid_record" and not d["locator"].startswith(("shop.", "crm."))
    }
    assert invalid == listed
    # invalid / valid per stream follows Binomial(valid, DEFECTS)
    for stream, rows in scanned.items():
        n_valid = sum(ok for _, ok, _ in rows)
        n_bad = len(rows) - n_valid
        sd = math.sqrt(n_valid * DEFECTS * (1 - DEFECTS))
        assert abs(n_bad - n_valid * DEFECTS) <= 4 * sd + 2, stream
    kinds = Counter(d["kind"] for d in defects if d["category"] == "invalid_record")
    assert {"null_key", "impossible_date", "unknown_enum", "malformed_line"} <= set(kinds)


def test_crm_defects_break_their_rule(world: Settings, defects: list[dict[str, str]]) -> None:
    ids = {
        (d["stream"].split(".")[1], int(d["locator"].split("=")[1])): d["kind"]
        for d in defects
        if d["stream"].startswith("crm.")
    }
    with sqlite3.connect(world.sources_dir / "crm" / "crm.sqlite") as conn:
        rows = conn.execute("select type, id, body from objects").fetchall()
    n_valid = 0
    for otype, oid, body in rows:
        obj = json.loads(body)
        props = obj["properties"]
        broken = props.get("hs_object_id") != obj["id"]
        if otype in ("deals", "engagements"):
            broken |= not obj.get("associations", {}).get("contacts", {}).get("results")
        if otype == "deals":
            broken |= float(props["amount"]) < 0
        for col in ("createdate", "closedate", "hs_timestamp"):
            if props.get(col) is not None:
                broken |= _ts(props[col]) is None
        enum_col, allowed = CRM_ENUMS[otype]
        broken |= props[enum_col] not in allowed
        assert broken == ((otype, oid) in ids), (otype, oid)
        n_valid += (otype, oid) not in ids
    assert abs(len(ids) - n_valid * DEFECTS) <= 4 * math.sqrt(n_valid * DEFECTS) + 2


def test_schema_drift_appears_from_its_day_on(
    world: Settings, defects: list[dict[str, str]]
) -> None:
    drift = {d["kind"]: d for d in defects if d["category"] == "schema_drift"}
    assert set(drift) == {"column_added", "column_renamed"}
    day = drift["column_added"]["locator"].split("/")[1]
    for f in sorted(world.sources_dir.glob("contact_center/*/calls.csv")):
        header = f.read_text().splitlines()[0].split(",")
        assert ("recording_url" in header) == (f.parent.name >= day)
    renamed_day = sorted(
        d["locator"].split("/")[1] for d in defects if d["kind"] == "column_renamed"
    )[0]
    for f in sorted(world.sources_dir.glob("survey/*/responses_*.csv")):
        header = f.read_text().splitlines()[0].split(",")
        assert ("OrderID" in header) == (f.parent.name >= renamed_day) and (
            ("order_id" in header) != ("OrderID" in header)
        )


def test_identity_links_cover_every_drop_record_exactly_once(world: Settings) -> None:
    with (world.truth_dir / "identity_links.csv").open() as fh:
        links = list(csv.DictReader(fh))
    keys = Counter((r["source"], r["source_record_id"]) for r in links)
    assert max(keys.values()) == 1
    by_source: dict[str, set[str]] = defaultdict(set)
    for source, rid in keys:
        by_source[source].add(rid)
    scanned = _scan(world)
    calls = {rec["call_id"] for _, ok, rec in scanned["calls"] if ok}
    tickets = {str(rec["id"]) for _, ok, rec in scanned["tickets"] if ok}
    responses = {rec["ResponseId"] for _, ok, rec in scanned["responses"] if ok}
    assert calls == by_source["contact_center_call"] and calls
    assert tickets == by_source["contact_center_ticket"] and tickets
    assert responses == by_source["survey_response"] and responses
    with sqlite3.connect(world.sources_dir / "crm" / "crm.sqlite") as conn:
        contacts = {
            str(r[0]) for r in conn.execute("select id from objects where type = 'contacts'")
        }
    with (world.truth_dir / "defects.csv").open() as fh:
        bad = {
            r["locator"].split("=")[1] for r in csv.DictReader(fh) if r["stream"] == "crm.contacts"
        }
    assert contacts - bad == by_source["crm_contact"]
    with (world.truth_dir / "persons.csv").open() as fh:
        persons = {r["person_id"] for r in csv.DictReader(fh)}
    assert {r["person_id"] for r in links} <= persons


def test_late_and_resent_lines_follow_their_rates(world: Settings) -> None:
    """Share of lines whose event day precedes the drop day = (late + resend) / (1 + resend)."""
    scanned = _scan(world)
    early = total = 0
    for stream, field, fmt in (
        ("calls", "offered_at", None),
        ("tickets", "updated_at", None),
        ("responses", "RecordedDate", "%Y-%m-%d %H:%M:%S"),
    ):
        for loc, ok, rec in scanned[stream]:
            if not ok:
                continue
            event = _ts(rec[field], fmt).astimezone(UTC).date().isoformat()  # type: ignore[index, union-attr]
            folder = re.search(r"/(\d{4}-\d{2}-\d{2})/", "/" + loc).group(1)  # type: ignore[union-attr]
            assert event <= folder
            early += event < folder
            total += 1
    expected = (MESS.late_arrival + MESS.resend) / (1 + MESS.resend)
    assert abs(early / total - expected) < 4 * math.sqrt(expected * (1 - expected) / total) + 0.01


def test_ticket_versions_keep_growing_and_keep_their_identity(world: Settings) -> None:
    versions: dict[int, list[dict[str, object]]] = defaultdict(list)
    for _, ok, rec in _scan(world)["tickets"]:
        if ok:
            versions[rec["id"]].append(rec)  # type: ignore[index]
    multi = [v for v in versions.values() if len({x["updated_at"] for x in v}) > 1]
    assert multi, "tickets changing on several days appear in several drops"
    for vs in multi:
        vs.sort(key=lambda x: x["updated_at"])  # type: ignore[arg-type, return-value]
        assert len({x["created_at"] for x in vs}) == 1
        counts = [len(x["status_events"]) for x in vs]  # type: ignore[arg-type]
        assert counts == sorted(counts)


def test_timestamps_carry_the_documented_zones(world: Settings) -> None:
    scanned = _scan(world)
    offsets = {rec["offered_at"][-6:] for _, ok, rec in scanned["calls"] if ok}
    assert offsets <= {"-06:00", "-05:00"} and offsets
    assert all(rec["updated_at"].endswith("Z") for _, ok, rec in scanned["tickets"] if ok)
    assert all(
        re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", rec["StartDate"])
        for _, ok, rec in scanned["responses"]
        if ok
    )


def test_comment_truth_matches_the_survey_text(world: Settings) -> None:
    with (world.truth_dir / "comments.csv").open() as fh:
        truth = {r["source_record_id"]: r for r in csv.DictReader(fh)}
    texts, scores = {}, {}
    for _, ok, rec in _scan(world)["responses"]:
        if ok:
            text = next((v for k, v in rec.items() if k.endswith("_TEXT") and v), "")
            if text:
                texts[rec["ResponseId"]] = text
                scores[rec["ResponseId"]] = int(rec["QID1"])
    assert set(truth) == set(texts)
    email_or_phone = re.compile(r"@|\d{3}[ .)-]+\d{3}[ .-]\d{4}|\+1\d{10}")
    for rid, row in truth.items():
        assert (row["has_pii"] == "true") == bool(email_or_phone.search(texts[rid]))
        assert row["topics"] and row["sentiment"] in ("-1", "0", "1")
    mean = {
        s: sum(scores[r] for r in truth if truth[r]["sentiment"] == s)
        / max(1, sum(truth[r]["sentiment"] == s for r in truth))
        for s in ("-1", "1")
    }
    assert mean["1"] > mean["-1"]


def test_crm_store_holds_nothing_after_now(world: Settings) -> None:
    now_ms = int(datetime.fromisoformat(read_state(world)["now"]).timestamp() * 1000)
    with sqlite3.connect(world.sources_dir / "crm" / "crm.sqlite") as conn:
        latest = conn.execute("select max(updated_ms), count(*) from objects").fetchone()
        archived = conn.execute(
            "select body from objects where type = 'contacts' and archived = 1"
        ).fetchall()
    assert latest[0] < now_ms and latest[1] > 0
    assert archived, "some duplicate contacts were merged (archived)"
    for (body,) in archived:
        props = json.loads(body)["properties"]
        assert props["hs_merged_into_object_id"]


def test_bad_arguments_are_one_line_errors(tmp_path: Path) -> None:
    from cxw.errors import CxwError

    s = _settings(tmp_path)
    for kwargs in (
        {"customers": 0},
        {"days": 0},
        {"start_date": "2025-02-30"},
        {"defects": 0.9},
        {"seed": -1},
    ):
        with pytest.raises(CxwError) as info:
            generate(s, shop_database=None, **kwargs)  # type: ignore[arg-type]
        assert "\n" not in str(info.value)
    with pytest.raises(CxwError, match="generate"):
        advance(s)
