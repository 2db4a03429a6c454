"""Aspect taxonomy: loading taxonomy.yml and building spaCy matchers for its terms.

Why two matchers: the PhraseMatcher on LOWER catches exact words and listed misspellings
("delivary"); the PhraseMatcher on LEMMA (lookup lemmas, lower-cased) catches inflections
("refunded", "deliveries") without listing every form in the taxonomy.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

TAXONOMY_PATH = Path(__file__).with_name("taxonomy.yml")


@dataclass(frozen=True)
class Topic:
    """One aspect topic: stable id (warehouse key), display label and its match terms."""

    id: str
    label: str
    terms: tuple[str, ...]


def load_taxonomy(path: Path | str | None = None) -> list[Topic]:
    """Topics from a taxonomy YAML file (default: the packaged taxonomy.yml)."""
    import yaml

    with open(path or TAXONOMY_PATH, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    topics = raw.get("topics") or {}
    if not isinstance(topics, dict) or not topics:
        raise ValueError(f"taxonomy {path or TAXONOMY_PATH} has no topics")
    out: list[Topic] = []
    for topic_id, spec in topics.items():
        terms = tuple(str(t).strip() for t in (spec or {}).get("terms", []) if str(t).strip())
        if not terms:
            raise ValueError(f"taxonomy topic {topic_id!r} has no terms")
        out.append(Topic(str(topic_id), str((spec or {}).get("label", topic_id)), terms))
    return out


@lru_cache(maxsize=1)
def lemma_table() -> Any:
    """spaCy's English lookup lemma table (from spacy-lookups-data, installed locally)."""
    from spacy.lookups import load_lookups

    return load_lookups("en", ["lemma_lookup"]).get_table("lemma_lookup")


def build_matchers(nlp: Any, topics: list[Topic]) -> tuple[Any, Any]:
    """Two PhraseMatchers keyed by topic id: one on LOWER, one on LEMMA.

    The lemma patterns are built from each term word's lookup lemma, the same table the
    pipeline's lemmatizer uses, so "refunded" in a comment meets "refund" in the taxonomy.
    """
    from spacy.matcher import PhraseMatcher
    from spacy.tokens import Doc

    lemmas = lemma_table()
    lower = PhraseMatcher(nlp.vocab, attr="LOWER")
    lemma = PhraseMatcher(nlp.vocab, attr="LEMMA")
    for topic in topics:
        docs = [nlp.make_doc(term) for term in topic.terms]
        lower.add(topic.id, docs)
        lemma_docs = []
        for doc in docs:
            words = [t.text for t in doc]
            lemma_words = [lemmas.get(t.lower_, t.lower_) for t in doc]
            lemma_docs.append(Doc(nlp.vocab, words=words, lemmas=lemma_words))
        lemma.add(topic.id, lemma_docs)
    return lower, lemma
