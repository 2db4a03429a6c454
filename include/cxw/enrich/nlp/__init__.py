"""Voice-of-customer text enrichment: PII redaction, sentiment and aspects with spaCy.

Public API (spaCy and scikit-learn load only when a function needing them is first used):

- ``analyze_texts(texts, batch_size=256) -> Iterator[dict]``: streaming analysis.
- ``analyze_records(pairs, batch_size=256) -> Iterator[(key, dict)]``: same, keys passed.
- ``content_hash(text) -> str``: SHA-256 of the normalized text, for incremental runs.
- ``pipeline_version() -> str``: changes whenever model, data, taxonomy or redaction change.
- ``redact_text(text) -> str`` / ``find_pii(text)``: the regex redaction alone.
- ``build_pipeline(...)`` / ``get_pipeline(...)``: the spaCy ``Language`` object.
- ``evaluate_domains(datasets_dir) -> dict``: leave-one-domain-out accuracy and macro-F1.
- ``bench_nlp(n_texts=10000) -> dict``: texts per second on generated comments.
"""

from __future__ import annotations

import importlib
from typing import Any

from .hashing import content_hash, normalize_text
from .redact import PiiSpan, find_pii, redact_text

_LAZY = {
    "analyze_texts": "pipeline",
    "analyze_records": "pipeline",
    "build_pipeline": "pipeline",
    "get_pipeline": "pipeline",
    "pipeline_version": "pipeline",
    "bench_nlp": "pipeline",
    "generate_comments": "pipeline",
    "evaluate_domains": "sentiment",
    "load_or_train": "sentiment",
    "SentimentModel": "sentiment",
    "load_taxonomy": "aspects",
}

__all__ = [
    "PiiSpan",
    "content_hash",
    "find_pii",
    "normalize_text",
    "redact_text",
    *_LAZY,
]


def __getattr__(name: str) -> Any:
    """Import heavy submodules on first use, so hashing and redaction stay cheap."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
