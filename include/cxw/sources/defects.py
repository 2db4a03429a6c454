"""Invalid records injected at the `--defects` rate, one broken rule each (see SCHEMAS.md).

Every function takes a valid record of its stream, a random stream and a fresh id, and returns
the invalid copy plus the defect kind and a short detail. Invalid records are extra records:
the valid one they were copied from is still emitted, and the truth never counts them.
"""

from __future__ import annotations

import json
import random
from typing import Any

KINDS = (
    "null_key",
    "negative_amount",
    "impossible_date",
    "unknown_enum",
    "malformed_line",
    "out_of_range",
)

# stream -> kinds that stream can carry
SHOP_KINDS: dict[str, tuple[str, ...]] = {
    "customers": ("impossible_date", "unknown_enum"),
    "products": ("negative_amount", "unknown_enum"),
    "orders": ("negative_amount", "impossible_date", "unknown_enum"),
    "order_lines": ("null_key", "negative_amount"),
    "refunds": ("null_key", "negative_amount"),
    "transactions": ("null_key", "negative_amount", "unknown_enum"),
    "abandoned_checkouts": ("negative_amount", "impossible_date"),
}
CRM_KINDS: dict[str, tuple[str, ...]] = {
    "contacts": ("null_key", "impossible_date", "unknown_enum"),
    "companies": ("null_key", "unknown_enum"),
    "deals": ("null_key", "negative_amount", "impossible_date", "unknown_enum"),
    "engagements": ("null_key", "impossible_date", "unknown_enum"),
}
CALL_KINDS = ("null_key", "negative_amount", "impossible_date", "unknown_enum", "malformed_line")
TICKET_KINDS = ("null_key", "impossible_date", "unknown_enum", "malformed_line")
SURVEY_KINDS = ("null_key", "out_of_range", "impossible_date", "unknown_enum", "malformed_line")


def _bad_iso(value: str) -> str:
    """Same text with an impossible calendar date (month 13)."""
    return value[:5] + "13" + value[7:] if len(value) >= 10 else "2025-13-01"


def shop_row(
    table: str, row: dict[str, Any], rd: random.Random, new_id: int
) -> tuple[dict[str, Any], str, str]:
    """An invalid copy of a shop row (timestamps stay valid text so incremental reads find it)."""
    bad = dict(row)
    bad["id"] = new_id
    kind = rd.choice(SHOP_KINDS[table])
    if kind == "null_key":
        bad["order_id"] = None
        detail = "order_id is null"
    elif kind == "negative_amount":
        col = {
            "products": "price",
            "orders": "total_price",
            "order_lines": "price",
            "refunds": "amount",
            "transactions": "amount",
            "abandoned_checkouts": "total_price",
        }[table]
        bad[col] = "-" + str(bad[col]).lstrip("-") if bad[col] not in (None, "0.00") else "-1.00"
        if table == "orders":
            bad["subtotal_price"] = "-" + str(bad["subtotal_price"]).lstrip("-")
        detail = f"{col} < 0"
    elif kind == "impossible_date":
        # created after its own last update: the row cannot have existed in that order
        bad["created_at"] = "2099-01-01 00:00:00.000+00"
        detail = "created_at > updated_at"
    else:
        col, value = {
            "customers": ("state", "zombie"),
            "products": ("status", "limbo"),
            "orders": ("financial_status", "paid_twice"),
            "transactions": ("kind", "chargeback_x"),
        }[table]
        bad[col] = value
        detail = f"{col}={value}"
    return bad, kind, detail


def crm_object(
    otype: str, obj: dict[str, Any], rd: random.Random, new_id: int
) -> tuple[dict[str, Any], str, str]:
    """An invalid copy of a CRM object (top-level id and timestamps stay valid)."""
    bad = json.loads(json.dumps(obj))
    bad["id"] = str(new_id)
    bad["properties"]["hs_object_id"] = str(new_id)
    kind = rd.choice(CRM_KINDS[otype])
    props = bad["properties"]
    if kind == "null_key":
        if otype in ("contacts", "companies"):
            props["hs_object_id"] = None
            detail = "properties.hs_object_id is null"
        else:
            bad["associations"] = {"contacts": {"results": []}}
            detail = "no associated contact"
    elif kind == "negative_amount":
        props["amount"] = "-" + (props.get("amount") or "1.00").lstrip("-")
        detail = "amount < 0"
    elif kind == "impossible_date":
        col = {"contacts": "createdate", "deals": "closedate", "engagements": "hs_timestamp"}[otype]
        props[col] = _bad_iso(props.get(col) or bad["createdAt"])
        detail = f"{col} is not a valid date"
    else:
        col, value = {
            "contacts": ("lifecyclestage", "prospect_x"),
            "companies": ("industry", "ALCHEMY"),
            "deals": ("dealstage", "maybe_later"),
            "engagements": ("hs_engagement_type", "FAX"),
        }[otype]
        props[col] = value
        detail = f"{col}={value}"
    return bad, kind, detail


def call_row(
    cols: list[str], row: list[str], rd: random.Random, new_id: int
) -> tuple[list[str], str, str]:
    """An invalid call-log line (its fields; a malformed line has too few)."""
    bad = list(row)
    idx = {c: k for k, c in enumerate(cols)}
    bad[idx["call_id"]] = str(new_id)
    kind = rd.choice(CALL_KINDS)
    if kind == "null_key":
        bad[idx["call_id"]] = ""
        return bad, kind, "call_id is empty"
    if kind == "negative_amount":
        col = rd.choice(("hold_seconds", "wrap_seconds"))
        bad[idx[col]] = str(-rd.randint(5, 600))
        return bad, kind, f"{col} < 0"
    if kind == "impossible_date":
        if rd.random() < 0.5:
            bad[idx["offered_at"]] = _bad_iso(bad[idx["offered_at"]])
            return bad, kind, "offered_at is not a valid date"
        bad[idx["ended_at"]] = "2000-01-01T00:00:00-06:00"
        return bad, kind, "ended_at < offered_at"
    if kind == "unknown_enum":
        if rd.random() < 0.5:
            bad[idx["queue"]] = "vip_platinum"
            return bad, kind, "queue=vip_platinum"
        bad[idx["abandoned"]] = "maybe"
        return bad, kind, "abandoned=maybe"
    cut = rd.randint(2, len(bad) - 2)
    return bad[:cut], kind, f"{cut} fields instead of {len(cols)}"


def ticket_line(line: str, rd: random.Random, new_id: int) -> tuple[str, str, str]:
    """An invalid tickets.jsonl line (a JSON object breaking one rule, or broken JSON)."""
    obj = json.loads(line)
    obj["id"] = new_id
    kind = rd.choice(TICKET_KINDS)
    if kind == "null_key":
        obj["id"] = None
        detail = "id is null"
    elif kind == "impossible_date":
        if rd.random() < 0.5:
            obj["created_at"] = _bad_iso(obj["created_at"])
            detail = "created_at is not a valid date"
        else:
            obj["updated_at"] = "2000-01-01T00:00:00Z"
            detail = "updated_at < created_at"
    elif kind == "unknown_enum":
        col, value = rd.choice(
            (("channel", "fax"), ("priority", "critical"), ("status", "archived"))
        )
        obj[col] = value
        detail = f"{col}={value}"
    else:
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        return text[: rd.randint(10, max(11, len(text) - 5))], kind, "truncated JSON"
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")), kind, detail


def survey_row(
    cols: list[str],
    row: list[str],
    score_col: str,
    scale: tuple[int, int],
    rd: random.Random,
    new_id: str,
) -> tuple[list[str], str, str]:
    """An invalid survey-export line (its fields; a malformed line has too few)."""
    bad = list(row)
    idx = {c: k for k, c in enumerate(cols)}
    bad[idx["ResponseId"]] = new_id
    kind = rd.choice(SURVEY_KINDS)
    if kind == "null_key":
        bad[idx["ResponseId"]] = ""
        return bad, kind, "ResponseId is empty"
    if kind == "out_of_range":
        value = rd.choice((scale[1] + 1, scale[0] - 1, 99))
        bad[idx[score_col]] = str(value)
        return bad, kind, f"{score_col}={value} outside {scale[0]}-{scale[1]}"
    if kind == "impossible_date":
        bad[idx["RecordedDate"]] = _bad_iso(bad[idx["RecordedDate"]])
        return bad, kind, "RecordedDate is not a valid date"
    if kind == "unknown_enum":
        if rd.random() < 0.5:
            bad[idx["Finished"]] = "2"
            return bad, kind, "Finished=2"
        bad[idx["DistributionChannel"]] = "pigeon"
        return bad, kind, "DistributionChannel=pigeon"
    cut = rd.randint(3, len(bad) - 3)
    return bad[:cut], kind, f"{cut} fields instead of {len(cols)}"
