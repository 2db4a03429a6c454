"""Salted hashes and masked forms of personal identifiers.

The same hash is computed in SQL by the dbt macro `pii_hash` (built-in `sha256()`: pgcrypto is
not available), so Python and the marts agree: sha256(salt || kind || ':' || normalized value).
"""

from __future__ import annotations

import hashlib


def hash_identifier(salt: str, kind: str, normalized: str) -> str:
    """Hex sha256 of a normalized identifier (email lower-cased and trimmed, phone E.164)."""
    return hashlib.sha256(f"{salt}{kind}:{normalized}".encode()).hexdigest()


def mask_email(email: str | None) -> str | None:
    """`jane.doe@example.com` -> `j***@example.com`."""
    if not email or "@" not in email:
        return None
    local, _, domain = email.strip().partition("@")
    return f"{local[:1]}***@{domain.lower()}"


def mask_phone(e164: str | None) -> str | None:
    """`+15551234567` -> `+1 ***-***-4567` (country code and the last four digits only)."""
    if not e164 or not e164.startswith("+") or len(e164) < 8:
        return None
    import phonenumbers

    try:
        cc = phonenumbers.parse(e164).country_code
    except phonenumbers.NumberParseException:
        return None
    return f"+{cc} ***-***-{e164[-4:]}"
