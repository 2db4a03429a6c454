"""Right-to-be-forgotten erasure (`cxw erase` -> DAG `cx_privacy_erase`).

1. find_person: the e-mail address (normalized) or customer_key -> the person's customer keys
   and every source record of theirs (through `enrich.identity_assignments`), plus every record
   that carries the address itself.
2. suppress_and_delete: in one transaction, add the person's own identifiers (hashed; shared
   mailboxes and placeholders excluded, or other people would vanish too) to the suppression
   list the loaders apply, and delete their rows from `raw_*`, `enrich`, snapshots and the
   quarantine (`cxw_meta.rejected_rows` payloads can hold the address).
3. rebuild_and_publish: rebuild the transform (dbt, identities, enrichment), gate and publish,
   so `analytics` no longer holds the person; the erasure is logged by hash only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from cxw.config import Settings, get_settings
from cxw.errors import ConfigError, CxwError
from cxw.privacy.hashing import hash_identifier

log = logging.getLogger("cxw.privacy")
OBSERVATIONS = "staging.stg_identity__observations"

# identity source -> raw rows that belong to such a record: (table, key expression as text)
RECORD_ROWS: dict[str, list[tuple[str, str]]] = {
    "crm_contact": [("raw_crm.contacts", "id")],
    "shop_customer": [("raw_shop.customers", "id::text")],
    "shop_order": [
        ("raw_shop.orders", "id::text"),
        ("raw_shop.order_lines", "order_id::text"),
        ("raw_shop.refunds", "order_id::text"),
        ("raw_shop.transactions", "order_id::text"),
    ],
    "shop_checkout": [("raw_shop.abandoned_checkouts", "id::text")],
    "contact_center_call": [("raw_contact_center.calls", "call_id::text")],
    "contact_center_ticket": [("raw_contact_center.tickets", "id::text")],
    "survey_response": [("raw_survey.responses", "response_id")],
}


def find_person(params: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Resolve the request to customer keys, records and identifiers (nothing deleted yet)."""
    from cxw.enrich.normalize import normalize_email
    from cxw.warehouse import connect

    settings = settings or get_settings()
    email, key = params.get("email"), params.get("customer_key")
    if bool(email) == bool(key):
        raise ConfigError("give exactly one of email or customer_key")
    with connect(settings) as conn:
        keys: set[str] = set()
        records: set[tuple[str, str]] = set()
        if email:
            norm = normalize_email(email)
            if norm is None:
                raise ConfigError(f"not an e-mail address: {email!r}")
            local = norm.canonical.split("@")[0]
            for source, rid, value in conn.execute(
                f"select source, source_record_id, value from {OBSERVATIONS} "
                "where kind = 'email' and lower(value) like %s",
                (f"%{local}%",),
            ):
                n = normalize_email(value)
                if n is not None and n.canonical == norm.canonical:
                    records.add((source, rid))
            if records:
                keys |= {
                    r[0]
                    for r in conn.execute(
                        "select distinct customer_key from enrich.identity_assignments "
                        "where (source, source_record_id) in (select * from unnest(%s::text[], %s::text[]))",
                        ([s for s, _ in records], [r for _, r in records]),
                    )
                }
        else:
            keys.add(str(key))
        if keys:
            records |= set(
                conn.execute(
                    "select source, source_record_id from enrich.identity_assignments "
                    "where customer_key = any(%s)",
                    (list(keys),),
                ).fetchall()
            )
        if not records:
            raise CxwError("no records found for that person: nothing to erase")
        identifiers = _identifiers(conn, settings, records)
    return {
        "customer_keys": sorted(keys),
        "records": sorted([list(r) for r in records]),
        "identifiers": identifiers,
        "request_kind": "email" if email else "customer_key",
        "request_hash": hash_identifier(settings.salt(), "email", norm.canonical)
        if email
        else hash_identifier(settings.salt(), "customer_key", str(key)),
    }


def _identifiers(conn, settings: Settings, records: set[tuple[str, str]]) -> dict[str, Any]:
    """The person's identifiers: raw values (to scrub quarantine payloads) and hashes to suppress."""
    from cxw.enrich.normalize import (
        is_placeholder_email,
        is_placeholder_phone,
        is_role_email,
        normalize_email,
        normalize_phone,
    )

    raw_values: set[str] = set()
    hashes: dict[str, str] = {}
    shared = (
        {r[0] for r in conn.execute("select identifier_hash from enrich.identity_suppressed")}
        if conn.execute("select to_regclass('enrich.identity_suppressed')").fetchone()[0]
        else set()
    )
    salt = settings.salt()
    for kind, value in conn.execute(
        f"select kind, value from {OBSERVATIONS} where kind in ('email', 'phone') and "
        "(source, source_record_id) in (select * from unnest(%s::text[], %s::text[]))",
        ([s for s, _ in records], [r for _, r in records]),
    ):
        if not value:
            continue
        if kind == "email":
            n = normalize_email(value)
            if n is None or is_placeholder_email(n.canonical) or is_role_email(n.canonical):
                continue
            norm = n.canonical
        else:
            norm = normalize_phone(value)
            if norm is None or is_placeholder_phone(norm):
                continue
        h = hash_identifier(salt, kind, norm)
        if h in shared:
            continue
        hashes[h] = kind
        raw_values.add(value.strip())
        raw_values.add(norm)
    return {"hashes": hashes, "raw_values": sorted(raw_values)}


def suppress_and_delete(person: dict[str, Any], settings: Settings | None = None) -> dict[str, Any]:
    """Suppress the identifiers and delete the person's rows everywhere but the marts, atomically."""
    from cxw.warehouse import connect

    settings = settings or get_settings()
    by_source: dict[str, list[str]] = {}
    for source, rid in person["records"]:
        by_source.setdefault(source, []).append(rid)
    deleted: dict[str, int] = {}
    with connect(settings) as conn, conn.transaction():
        for h, kind in person["identifiers"]["hashes"].items():
            conn.execute(
                "insert into cxw_meta.suppression_list (identifier_hash, identifier_kind) "
                "values (%s, %s) on conflict do nothing",
                (h, kind),
            )
        for source, ids in by_source.items():
            for table, key in RECORD_ROWS.get(source, []):
                if _exists(conn, table):
                    n = conn.execute(f"delete from {table} where {key} = any(%s)", (ids,)).rowcount
                    deleted[table] = deleted.get(table, 0) + n
        contacts = by_source.get("crm_contact", [])
        for table in ("raw_crm.engagements", "raw_crm.deals"):
            if contacts and _exists(conn, table):
                n = conn.execute(
                    f"delete from {table} where string_to_array(contact_ids, ';') <@ %s::text[]",
                    (contacts,),
                ).rowcount
                deleted[table] = deleted.get(table, 0) + n
        keys = person["customer_keys"]
        for table in ("enrich.clv_predictions", "enrich.identity_assignments"):
            if keys and _exists(conn, table):
                deleted[table] = conn.execute(
                    f"delete from {table} where customer_key = any(%s)", (keys,)
                ).rowcount
        raw_values = person["identifiers"]["raw_values"]
        if raw_values:
            patterns = [f"%{v}%" for v in raw_values]
            deleted["cxw_meta.rejected_rows"] = conn.execute(
                "delete from cxw_meta.rejected_rows where payload ilike any(%s)", (patterns,)
            ).rowcount
            for (table,) in conn.execute(
                "select table_schema||'.'||table_name from information_schema.tables "
                "where table_schema = 'snapshots'"
            ).fetchall():
                deleted[table] = conn.execute(
                    f"delete from {table} t where to_jsonb(t)::text ilike any(%s)", (patterns,)
                ).rowcount
        erasure_id = conn.execute(
            "insert into cxw_meta.erasure_log (identifier_kind, identifier_hash, rows_deleted) "
            "values (%s, %s, %s) returning erasure_id",
            (person["request_kind"], person["request_hash"], json.dumps(deleted)),
        ).fetchone()[0]
    log.warning("erasure %s: deleted %s rows", erasure_id, sum(deleted.values()))
    return {"erasure_id": erasure_id, "rows_deleted": deleted, "customer_keys": keys}


def _exists(conn, table: str) -> bool:
    return conn.execute("select to_regclass(%s)", (table,)).fetchone()[0] is not None


def rebuild_and_publish(
    deleted: dict[str, Any], context: dict[str, Any] | None = None, settings: Settings | None = None
) -> dict[str, Any]:
    """Rebuild everything downstream of raw and publish through the gate; close the log entry."""
    from cxw.transform import rebuild
    from cxw.warehouse import connect

    settings = settings or get_settings()
    run_id = str((context or {}).get("run_id") or f"erase-{deleted['erasure_id']}")
    # full refresh: incremental models would not notice rows deleted from raw
    result = rebuild(settings, run_id=run_id, full_refresh=True)
    with connect(settings) as conn:
        conn.execute(
            "update cxw_meta.erasure_log set completed_at = now() where erasure_id = %s",
            (deleted["erasure_id"],),
        )
    return {**deleted, "rebuild": result}
