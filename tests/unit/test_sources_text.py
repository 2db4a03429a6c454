"""Free-text generation: topics, sentiment, typos and contact details in comments."""

from __future__ import annotations

import random
import re

from cxw.sources import text as tx
from cxw.sources.config import TOPICS

EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")
PHONE_RE = re.compile(r"\(?\d{3}\)?[ .-]?\d{3}[ .-]\d{4}")


def test_every_taxonomy_topic_has_positive_negative_and_neutral_phrases() -> None:
    assert set(tx.PHRASES) == set(TOPICS)
    for topic, (pos, neg, neu) in tx.PHRASES.items():
        assert len(pos) >= 3 and len(neg) >= 4 and len(neu) >= 2, topic
        assert not set(pos) & set(neg)


def test_clauses_follow_the_requested_sentiment() -> None:
    rt = random.Random(5)
    pos_bank = {p for v in tx.PHRASES.values() for p in v[0]}
    neg_bank = {p for v in tx.PHRASES.values() for p in v[1]}
    for sentiment in (-1, 0, 1):
        for _ in range(300):
            topics = tx.pick_topics(rt, "relationship")
            text = tx.compose(rt, topics, sentiment).lower()
            n_pos = sum(p.lower() in text for p in pos_bank)
            n_neg = sum(p.lower() in text for p in neg_bank)
            if sentiment > 0:
                assert n_pos > n_neg
            elif sentiment < 0:
                assert n_neg > n_pos
            else:
                assert n_pos == n_neg


def test_pick_topics_gives_one_to_three_distinct_topics_including_the_required_one() -> None:
    rt = random.Random(6)
    sizes = set()
    for _ in range(500):
        topics = tx.pick_topics(rt, "post_purchase", must="delivery")
        assert topics[0] == "delivery" and len(set(topics)) == len(topics)
        sizes.add(len(topics))
    assert sizes == {1, 2, 3}


def test_pii_flag_matches_the_text() -> None:
    rt = random.Random(7)
    flagged = 0
    for _ in range(2000):
        text, has_pii = tx.comment(
            rt, ["delivery"], 1, 0.3, 0.2, "jane.doe@gmail.com", "555.123.4567"
        )
        found = bool(EMAIL_RE.search(text) or PHONE_RE.search(text))
        assert found == has_pii, text
        assert "\n" not in text
        flagged += has_pii
    assert 300 < flagged < 500  # rate 0.2 of 2000


def test_typos_change_the_text_at_their_rate() -> None:
    changed = 0
    for k in range(2000):  # same stream with and without typos: only the typos differ
        clean = tx.comment(random.Random(k), ["packaging", "delivery"], -1, 0.0, 0.0, None, None)[0]
        messy = tx.comment(random.Random(k), ["packaging", "delivery"], -1, 1.0, 0.0, None, None)[0]
        sometimes = tx.comment(
            random.Random(k), ["packaging", "delivery"], -1, 0.25, 0.0, None, None
        )[0]
        assert messy != clean
        changed += sometimes != clean
    assert abs(changed - 500) < 4 * (2000 * 0.25 * 0.75) ** 0.5


def test_ticket_messages_without_an_order_reference_read_cleanly() -> None:
    rt = random.Random(9)
    for topic in tx.CUSTOMER_OPENERS:
        for _ in range(30):
            msg = tx.customer_message(rt, topic, None, 0.0)
            assert (
                "{order}" not in msg and "None" not in msg and "  " not in msg and "()" not in msg
            )
            with_ref = tx.customer_message(rt, topic, "#1234", 0.0)
            assert "None" not in with_ref
