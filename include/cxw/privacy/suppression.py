"""The erasure suppression list, applied at load so erased people do not come back."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import psycopg

from cxw.config import Settings
from cxw.privacy.hashing import hash_identifier


def normalized(kind: str, value: Any) -> str | None:
    """The normalized form an identifier is hashed in (same rules as identity resolution)."""
    from cxw.enrich.normalize import normalize_email, normalize_phone

    if value is None or str(value).strip() == "":
        return None
    if kind == "email":
        norm = normalize_email(str(value))
        return norm.canonical if norm else None
    if kind == "phone":
        return normalize_phone(str(value))
    return str(value).strip()


def identifier_hashes(
    settings: Settings, record: Mapping[str, Any], fields: tuple[tuple[str, str], ...]
) -> set[str]:
    salt = settings.salt()
    out = set()
    for name, kind in fields:
        norm = normalized(kind, record.get(name))
        if norm:
            out.add(hash_identifier(salt, kind, norm))
    return out


def load_suppressor(
    conn: psycopg.Connection, settings: Settings, source: str
) -> Callable[..., bool] | None:
    """A predicate over (spec, record), or None when nobody has been erased."""
    hashes = {r[0] for r in conn.execute("select identifier_hash from cxw_meta.suppression_list")}
    if not hashes:
        return None

    def suppressed(record: Mapping[str, Any], fields: tuple[tuple[str, str], ...]) -> bool:
        return bool(identifier_hashes(settings, record, fields) & hashes)

    return suppressed
