"""Content hashing for incremental runs: only new or changed texts are re-analysed.

Kept free of heavy imports so the DB glue can hash millions of rows without loading spaCy.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

_WS_RX = re.compile(r"\s+")


def normalize_text(text: str) -> str:
    """NFKC, whitespace runs collapsed to one space, ends stripped; case is kept.

    Why: re-exports that only change Unicode form or spacing must not trigger re-analysis,
    but case can change sentiment ("GREAT" vs "great"), so it stays.
    """
    return _WS_RX.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def content_hash(text: str) -> str:
    """Hex SHA-256 of the normalized text (64 chars), the key for incremental processing."""
    return hashlib.sha256(normalize_text(text).encode("utf-8")).hexdigest()
