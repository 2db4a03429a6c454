"""VoC text in the warehouse: only new or changed texts are analysed; only redacted text is kept."""

from __future__ import annotations

import re

import pytest

from cxw.enrich.text import enrich_texts

REL = "staging.test_voc_texts"
TEXTS = [
    ("t1", "survey", "Delivery was late again and nobody answered, email me at jane.doe@gmail.com"),
    (
        "t2",
        "ticket",
        "Agent Mike was super helpful, refund processed in 2 days. Call +1 (555) 123-4567",
    ),
    ("t3", "survey", "love the product, but the app keeps crashing"),
]


@pytest.fixture
def texts(conn):
    conn.execute(f"drop table if exists {REL}")
    conn.execute(
        f"create table {REL} (text_id text, text_source text, body text, created_at timestamptz)"
    )
    for t in TEXTS:
        conn.execute(f"insert into {REL} values (%s, %s, %s, now())", t)
    conn.execute("delete from enrich.text_insights where text_id in ('t1', 't2', 't3')")
    conn.commit()
    yield REL
    conn.execute(f"drop table if exists {REL}")
    conn.execute("delete from enrich.text_insights where text_id in ('t1', 't2', 't3')")
    conn.commit()


def test_texts_are_analysed_once_and_again_only_when_changed(conn, texts, warehouse):
    first = enrich_texts(warehouse, relation=texts)
    assert first["processed"] == 3
    rows = dict(
        conn.execute("select text_id, sentiment_label from enrich.text_insights").fetchall()
    )
    assert rows["t1"] == "negative" and rows["t2"] == "positive"
    assert enrich_texts(warehouse, relation=texts)["processed"] == 0  # nothing new
    conn.execute(f"update {REL} set body = 'Great service, thank you!' where text_id = 't1'")
    conn.commit()
    again = enrich_texts(warehouse, relation=texts)
    assert again["processed"] == 1
    label = conn.execute("select sentiment_label from enrich.text_insights where text_id='t1'")
    assert label.fetchone() == ("positive",)


def test_only_redacted_text_is_stored(conn, texts, warehouse):
    enrich_texts(warehouse, relation=texts)
    stored = [r[0] for r in conn.execute("select redacted_text from enrich.text_insights")]
    joined = "\n".join(stored)
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", joined)
    assert "555" not in joined and "4567" not in joined
    aspects = conn.execute("select aspects from enrich.text_insights where text_id = 't3'")
    topics = {a["topic"]: a["sentiment"] for a in aspects.fetchone()[0]}
    assert topics["product_quality"] > 0 > topics["website_app"]  # each clause its own sign
