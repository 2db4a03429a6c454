"""Tests for the voice-of-customer text pipeline (cxw.enrich.nlp) and `cxw nlp analyze`."""

from __future__ import annotations

import json
import random
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cxw.enrich.nlp import content_hash, find_pii, normalize_text, redact_text

REPO_ROOT = Path(__file__).resolve().parents[2]

# Macro-F1 floor for the leave-one-domain-out evaluation: the goal, 0.85, in every domain.
# Reached (model sentiment-3, two stages with the MiniLM encoder): amazon 0.894, imdb 0.865,
# yelp 0.904. See dbt_project/DECISIONLOG_nlp.md.
MIN_MACRO_F1 = {"amazon": 0.85, "imdb": 0.85, "yelp": 0.85}

# Independent of the implementation: anything e-mail-like, and runs of 7+ digits once
# common phone separators are ignored.
INDEPENDENT_EMAIL_RX = re.compile(r"[^\s@]+@[^\s@]+\.[a-z]{2,}", re.IGNORECASE)
INDEPENDENT_DIGITS_RX = re.compile(r"\+?\d(?:[\s().\-]{0,3}\d){6,}")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh model cache: the first pipeline build trains on the shipped data."""
    return tmp_path_factory.mktemp("cxw-models")


@pytest.fixture(scope="session")
def nlp(model_cache: Path) -> Any:
    from cxw.enrich.nlp import get_pipeline

    return get_pipeline(model_cache)


def _analyze(nlp: Any, texts: list[str], **kw: Any) -> list[dict[str, Any]]:
    from cxw.enrich.nlp import analyze_texts

    return list(analyze_texts(texts, nlp=nlp, **kw))


# ---------------------------------------------------------------- pipeline structure


def test_pipeline_is_blank_english_with_registered_factories(nlp: Any) -> None:
    from spacy.language import Language

    assert nlp.lang == "en"
    assert nlp.pipe_names == [
        "cxw_pii_redactor",
        "sentencizer",
        "cxw_lemmatizer",
        "cxw_sentiment",
        "cxw_aspects",
    ]
    for name in ("cxw_pii_redactor", "cxw_lemmatizer", "cxw_sentiment", "cxw_aspects"):
        assert Language.has_factory(name)
    assert nlp.config["components"]["cxw_sentiment"]["neutral_band"] == pytest.approx(0.25)
    assert nlp.config["components"]["cxw_pii_redactor"]["card_luhn"] is False


def test_model_is_cached_on_disk(nlp: Any, model_cache: Path) -> None:
    from cxw.enrich.nlp.sentiment import load_or_train

    cached = list(model_cache.glob("sentiment-*.pkl"))
    assert len(cached) == 1
    assert load_or_train(model_cache).predict_proba(["great"]).shape == (1,)


# ---------------------------------------------------------------- redaction

FIRST = ["jane", "john", "mary", "li", "omar", "zoë", "ana-maria", "k"]
LAST = ["doe", "smith", "o'neil", "nguyen", "mueller", "x"]
DOMAINS = ["gmail.com", "example.co.uk", "mail.company.org", "yahoo.fr", "outlook.com"]


def _emails(rng: random.Random, n: int) -> list[str]:
    out = []
    for i in range(n):
        first, last, dom = rng.choice(FIRST), rng.choice(LAST).replace("'", ""), DOMAINS[i % 5]
        style = i % 4
        local = [f"{first}.{last}", f"{first}_{last}{i}", f"{first}+shop{i}", f"{last}{i}"][style]
        out.append(f"{local}@{dom}" if i % 3 else f"{local.upper()}@{dom.upper()}")
    return out


def _phones(rng: random.Random) -> list[str]:
    def d(n: int) -> str:
        return "".join(str(rng.randint(0, 9)) for _ in range(n))

    return [
        f"+1 ({d(3)}) {d(3)}-{d(4)}",
        f"{d(3)}.{d(3)}.{d(4)}",
        f"{d(3)}-{d(3)}-{d(4)}",
        f"+44 20 {d(4)} {d(4)}",
        "0000000000",
        f"({d(3)}) {d(3)}-{d(4)}",
        f"+1-800-{d(3)}-{d(4)}",
        f"1-800-{d(3)}-{d(4)}",
        f"+49 30 {d(7)}",
        f"+33 1 {d(2)} {d(2)} {d(2)} {d(2)}",
        f"+91 {d(5)} {d(5)}",
        f"{d(3)} {d(3)} {d(4)}",
        f"07{d(3)} {d(6)}",
        f"0044 20 {d(4)} {d(4)}",
        f"+61 2 {d(4)} {d(4)}",
        f"{d(10)}",
        f"+{d(11)}",
        f"{d(3)}-{d(4)}",
    ]


SENTENCE_TEMPLATES = [
    "Delivery was late again and nobody answered my emails at {email}!!",
    "pls call me back on {phone} asap",
    "My number is {phone}, email {email}. Thanks",
    "I rang {phone} three times,no answer.also wrote to {email}",
    "contact: {email} / {phone}",
    "Agent said to reach her at {email} or {phone} but it bounced",
    "({phone}) is my mobile; {email} is my work mail.",
    "Refund still missing!!! {email}",
    "tel:{phone}",
    "Reach me at <{email}> or call {phone}.",
]


@pytest.fixture(scope="module")
def pii_corpus() -> tuple[list[str], list[str]]:
    """Dozens of comments with planted e-mails and phone numbers in many formats."""
    rng = random.Random(7)
    emails = _emails(rng, 40)
    phones = [p for _ in range(3) for p in _phones(rng)]
    texts, planted = [], []
    for i in range(max(len(emails), len(phones))):
        email, phone = emails[i % len(emails)], phones[i % len(phones)]
        template = SENTENCE_TEMPLATES[i % len(SENTENCE_TEMPLATES)]
        texts.append(template.format(email=email, phone=phone))
        planted.extend([email] * template.count("{email}") + [phone] * template.count("{phone}"))
    assert len(texts) >= 50
    return texts, planted


def _assert_clean(redacted: list[str], planted: list[str]) -> None:
    joined = "\n".join(redacted)
    for pii in planted:
        assert pii not in joined, pii
        assert pii.lower() not in joined.lower(), pii
    for line in redacted:
        assert not INDEPENDENT_EMAIL_RX.search(line), line
        assert not INDEPENDENT_DIGITS_RX.search(line), line


def test_redact_text_removes_all_planted_pii(pii_corpus: tuple[list[str], list[str]]) -> None:
    texts, planted = pii_corpus
    redacted = [redact_text(t) for t in texts]
    _assert_clean(redacted, planted)
    n_emails = sum(1 for p in planted if "@" in p)
    assert sum(r.count("[EMAIL]") for r in redacted) == n_emails >= 40
    assert sum(r.count("[PHONE]") for r in redacted) == len(planted) - n_emails >= 40


def test_analyze_texts_output_never_contains_pii(
    nlp: Any, pii_corpus: tuple[list[str], list[str]]
) -> None:
    texts, planted = pii_corpus
    results = _analyze(nlp, texts, batch_size=16)
    assert len(results) == len(texts)
    _assert_clean([r["redacted"] for r in results], planted)
    dumped = json.dumps(results, ensure_ascii=False)
    for pii in planted:
        assert pii not in dumped


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("card 4111 1111 1111 1111 exp 12/27", "card [CARD] exp 12/27"),
        ("paid with 4111-1111-1111-1111", "paid with [CARD]"),
        ("amex 3782 822463 10005.", "amex [CARD]."),
        ("number 5500000000000004", "number [CARD]"),
        ("where is order #1234?", "where is order [ORDER]?"),
        ("order 123456 never came", "order [ORDER] never came"),
        ("ORD-12345 was damaged", "[ORDER] was damaged"),
        ("Order No. 98765 is late", "Order No. [ORDER] is late"),
        ("orders #55512 and #55513", "orders [ORDER] and [ORDER]"),
        ("write to jane [at] gmail [dot] com", "write to [EMAIL]"),
    ],
)
def test_cards_orders_and_obfuscated_emails(text: str, expected: str) -> None:
    assert redact_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "I waited 2 hours and paid $1,299.99 on 12/05/2023 for 3 items",
        "Refund of 45.99 EUR on 2024-01-15 at 10:30",
        "2019-2023 were good years, version 2.3.1",
        "rated it 9/10, took 10-15 minutes, items 1 2 3 4 5",
    ],
)
def test_numbers_that_are_not_pii_are_kept(text: str) -> None:
    assert redact_text(text) == text


def test_card_luhn_option() -> None:
    assert redact_text("4111 1111 1111 1111", card_luhn=True) == "[CARD]"
    assert luhn_fails("4111 1111 1111 1112")
    assert "[CARD]" not in redact_text("4111 1111 1111 1112", card_luhn=True)
    assert redact_text("4111 1111 1111 1112") == "[CARD]"


def luhn_fails(number: str) -> bool:
    from cxw.enrich.nlp.redact import luhn_ok

    return not luhn_ok(re.sub(r"\D", "", number))


def test_doc_extensions_and_spans(nlp: Any) -> None:
    text = "Call +1 (555) 123-4567 or mail jane.doe@gmail.com about order #4521."
    doc = nlp(text)
    assert doc._.redacted == "Call [PHONE] or mail [EMAIL] about order [ORDER]."
    labels = [p["label"] for p in doc._.pii]
    assert labels == ["PHONE", "EMAIL", "ORDER"]
    for p in doc._.pii:
        assert set(p) == {"start", "end", "label"}  # offsets only, never the PII text
    assert text[doc._.pii[1]["start"] : doc._.pii[1]["end"]] == "jane.doe@gmail.com"
    assert [s.label_ for s in doc.spans["pii"]] == labels
    spans = find_pii(text)
    assert [(s.start, s.end) for s in spans] == [(p["start"], p["end"]) for p in doc._.pii]


# ---------------------------------------------------------------- sentiment


@pytest.mark.parametrize(
    ("text", "label"),
    [
        ("Delivery was late again and nobody answered my emails!!", "negative"),
        ("Agent Mike was super helpful, refund processed in 2 days", "positive"),
        ("Great service, will order again", "positive"),
        ("Worst customer service ever", "negative"),
        ("I have been on hold for 45 minutes", "negative"),
        ("The staff were rude and unhelpful", "negative"),
        ("Excellent value for money", "positive"),
        ("not happy with the delivary", "negative"),
        ("Not bad at all, pretty good actually", "positive"),
        ("Don't waste your money", "negative"),
        ("My order number is 12345.", "neutral"),
        ("Can I pay with PayPal?", "neutral"),
    ],
)
def test_sentiment_labels_on_customer_comments(nlp: Any, text: str, label: str) -> None:
    result = _analyze(nlp, [text])[0]
    assert result["label"] == label, result
    assert -1.0 <= result["sentiment"] <= 1.0


def test_labels_agree_with_hand_labelled_comments(nlp: Any) -> None:
    from cxw.enrich.nlp.sentiment import DATA_DIR

    rows = [
        line.rstrip("\n").split("\t")
        for line in (DATA_DIR / "cx_label_checks.txt").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    ]
    results = _analyze(nlp, [text for text, _ in rows])
    agree = sum(r["label"] == label for r, (_, label) in zip(results, rows, strict=True))
    assert len(rows) >= 50
    assert agree / len(rows) >= 0.75, agree


def test_negation_and_intensity(nlp: Any) -> None:
    good, not_good, very_good = (
        r["sentiment"] for r in _analyze(nlp, ["good", "not good", "very very good!!"])
    )
    assert not_good < 0 < good <= very_good


def test_evaluate_domains_leave_one_domain_out(datasets_dir: Path) -> None:
    from cxw.enrich.nlp import evaluate_domains

    results = evaluate_domains(datasets_dir)
    assert set(results) == {"amazon", "imdb", "yelp"}
    report = {d: (round(r["accuracy"], 3), round(r["macro_f1"], 3)) for d, r in results.items()}
    print(f"\nleave-one-domain-out (accuracy, macro-F1): {report}")
    for domain, r in results.items():
        assert domain not in r["train_domains"] and len(r["train_domains"]) == 2
        assert r["n"] == 1000
        assert r["macro_f1"] >= MIN_MACRO_F1[domain], (domain, r)
        assert r["macro_f1"] > r["vader_macro_f1"] + 0.03, (domain, r)


def test_encoder_embeds_meaning_not_strings() -> None:
    """Unit-length 384-d rows, independent of batch order; paraphrases lie closer than
    unrelated sentences (the general knowledge the second stage relies on)."""
    from cxw.enrich.nlp.encoder import get_encoder

    texts = [
        "The parcel arrived two days late.",
        "My delivery came late.",
        "The agent was friendly and helpful.",
        "",
    ]
    enc = get_encoder()
    vectors = enc.encode(texts)
    assert vectors.shape == (4, 384)
    assert vectors[:3] == pytest.approx(enc.encode(texts[2::-1])[::-1], abs=1e-5)
    assert (vectors[:3] ** 2).sum(axis=1) == pytest.approx([1.0, 1.0, 1.0], abs=1e-4)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    assert enc.encode([]).shape == (0, 384)


def test_encoder_band_zero_skips_the_second_stage(model_cache: Path) -> None:
    from cxw.enrich.nlp import build_pipeline

    fast = build_pipeline(model_cache, encoder_band=0.0)
    model = fast.get_pipe("cxw_sentiment").model
    _analyze(fast, ["A film.", "It was fine I guess, nothing special."])
    assert model.scored_texts > 0 and model.encoded_texts == 0
    with pytest.raises(ValueError, match="encoder_band"):
        build_pipeline(model_cache, encoder_band=0.7)


def test_repeated_sentences_are_scored_once(model_cache: Path) -> None:
    """Transcripts repeat greetings: a sentence seen before is served from the scorer's cache,
    with the same score as when computed, and the cache survives being cleared when full."""
    from cxw.enrich.nlp import build_pipeline

    nlp = build_pipeline(model_cache)
    scorer = nlp.get_pipe("cxw_sentiment")
    text = "How can I help? The refund never arrived and I am furious."
    first = _analyze(nlp, [text])[0]
    scored = scorer.model.scored_texts
    again = _analyze(nlp, [text, text])
    assert scorer.model.scored_texts == scored  # nothing new reached the model
    assert again[0]["sentiment"] == again[1]["sentiment"] == first["sentiment"]
    scorer.CACHE_SIZE = 1  # every batch now clears the cache first
    assert _analyze(nlp, [text])[0]["sentiment"] == first["sentiment"]
    assert scorer.model.scored_texts > scored


def test_encoder_refuses_an_unexpected_model_file(tmp_path: Path) -> None:
    from cxw.enrich.nlp.encoder import SentenceEncoder

    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not the pinned model")
    with pytest.raises(RuntimeError, match="SHA-256"):
        SentenceEncoder(fake)


def test_second_stage_only_rescores_unsure_texts(model_cache: Path) -> None:
    """Confident texts keep the first-stage score; the encoder sees only the unsure ones."""
    from cxw.enrich.nlp.sentiment import load_or_train

    model = load_or_train(model_cache)
    texts = ["I love it, excellent service!", "Terrible, broken on arrival.", "A film."]
    first = model._clf.predict_proba(model._matrix(texts, fit=False))[:, 1]
    before = model.encoded_texts
    final = model.predict_proba(texts)
    unsure = abs(first - 0.5) < model.encoder_band
    assert unsure.any() and not unsure.all(), first
    assert model.encoded_texts - before == int(unsure.sum())
    assert final[~unsure] == pytest.approx(first[~unsure])


# ---------------------------------------------------------------- aspects


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("The delivery was two days late", "delivery"),
        ("Deliveries always arrive on time", "delivery"),
        ("the delivary guy threw the parcel", "delivery"),
        ("I was overcharged on my last invoice", "price_billing"),
        ("Way too expensive for what you get", "price_billing"),
        ("The product broke after a week", "product_quality"),
        ("poor quality fabric", "product_quality"),
        ("Agent Mike was super helpful", "support_agent"),
        ("customer service was useless", "support_agent"),
        ("I waited on hold for an hour", "wait_time"),
        ("the app keeps crashing", "website_app"),
        ("couldn't log in to the website", "website_app"),
        ("they refunded me quickly", "returns_refunds"),
        ("Returns are a nightmare", "returns_refunds"),
        ("the box was crushed, terrible packaging", "packaging"),
        ("size M was out of stock again", "stock_availability"),
        ("nobody answered my emails", "communication"),
    ],
)
def test_sentences_map_to_topics(nlp: Any, text: str, topic: str) -> None:
    topics = [a["topic"] for a in _analyze(nlp, [text])[0]["aspects"]]
    assert topic in topics, topics


def test_taxonomy_has_required_topics() -> None:
    from cxw.enrich.nlp import load_taxonomy

    ids = {t.id for t in load_taxonomy()}
    assert {
        "delivery",
        "price_billing",
        "product_quality",
        "support_agent",
        "wait_time",
        "website_app",
        "returns_refunds",
        "packaging",
        "stock_availability",
        "communication",
    } <= ids


def test_aspect_sentiment_follows_its_sentence(nlp: Any) -> None:
    text = (
        "The delivery was fast and the driver was lovely. "
        "The refund took forever and the website is a mess."
    )
    doc = nlp(text)
    pos_sent, neg_sent = doc._.sentence_sentiments
    assert pos_sent > 0 > neg_sent
    aspects = {a["topic"]: a for a in doc._.aspects}
    assert aspects["delivery"]["sentiment"] == pytest.approx(pos_sent)
    assert aspects["returns_refunds"]["sentiment"] == pytest.approx(neg_sent)
    assert aspects["website_app"]["sentiment"] == pytest.approx(neg_sent)
    assert aspects["delivery"]["mentions"] == 2  # "delivery" and "driver"


def test_aspect_mentions_are_counted_and_averaged(nlp: Any) -> None:
    doc = nlp("The delivery was great. The delivery box was wet. Delivery was awful.")
    delivery = next(a for a in doc._.aspects if a["topic"] == "delivery")
    assert delivery["mentions"] == 3
    mean = sum(doc._.sentence_sentiments) / 3
    assert delivery["sentiment"] == pytest.approx(mean, abs=1e-3)


def test_contrastive_clauses_split_aspect_sentiment(nlp: Any) -> None:
    result = _analyze(nlp, ["love the product, but the app keeps crashing"])[0]
    aspects = {a["topic"]: a["sentiment"] for a in result["aspects"]}
    assert aspects["product_quality"] > 0 > aspects["website_app"]


# ---------------------------------------------------------------- API and streaming


def test_analyze_texts_contract_and_order(nlp: Any) -> None:
    texts = ["love it", "", "hate it", "   ", "ok"] * 3
    results = _analyze(nlp, texts, batch_size=4)
    assert len(results) == len(texts)
    for r in results:
        assert set(r) == {"sentiment", "label", "aspects", "redacted"}
        assert isinstance(r["sentiment"], float) and -1 <= r["sentiment"] <= 1
        assert r["label"] in {"positive", "neutral", "negative"}
        for a in r["aspects"]:
            assert set(a) == {"topic", "sentiment", "mentions"}
    assert [r["label"] for r in results[:4]] == ["positive", "neutral", "negative", "neutral"]
    assert results[1]["sentiment"] == 0.0 and results[1]["redacted"] == ""


def test_analyze_texts_streams(nlp: Any) -> None:
    from cxw.enrich.nlp import analyze_texts

    pulled = 0

    def source() -> Iterator[str]:
        nonlocal pulled
        for i in range(10_000):
            pulled += 1
            yield f"comment {i}: the delivery was late"

    first = next(analyze_texts(source(), batch_size=8, nlp=nlp))
    assert first["aspects"]
    assert pulled < 100  # lazily consumed, not read whole


def test_analyze_records_passes_keys(nlp: Any) -> None:
    from cxw.enrich.nlp import analyze_records

    out = list(analyze_records([(10, "great"), ("b", "awful"), (None, "")], nlp=nlp))
    assert [k for k, _ in out] == [10, "b", None]
    assert out[0][1]["label"] == "positive" and out[1][1]["label"] == "negative"


def test_content_hash() -> None:
    h = content_hash("Delivery was late")
    assert re.fullmatch(r"[0-9a-f]{64}", h)
    assert content_hash("  Delivery   was\tlate\n") == h
    assert content_hash("Delivery was late") == content_hash("Delivery\u00a0was late")  # NFKC
    assert content_hash("Delivery was LATE") != h
    assert normalize_text(" a \n b ") == "a b"


def test_pipeline_version_is_stable() -> None:
    from cxw.enrich.nlp import pipeline_version

    assert pipeline_version() == pipeline_version()
    assert pipeline_version().startswith("sentiment-")


def test_bench_nlp_small(nlp: Any, model_cache: Path) -> None:
    from cxw.enrich.nlp import bench_nlp, generate_comments

    comments = generate_comments(50)
    assert len(set(comments)) > 20
    result = bench_nlp(n_texts=200, cache_dir=model_cache)
    assert result["n_texts"] == 200
    assert result["texts_per_sec"] > 0 and result["texts_per_sec_uncached"] > 0
    assert result["sentiment_units"] >= 200
    assert 0 < result["repeated_unit_share"] < 1  # templates repeat sentences
    assert 0 < result["second_stage_share"] < 1


# ---------------------------------------------------------------- CLI


def test_cli_analyze_file_one_json_per_line(tmp_path: Path, model_cache: Path) -> None:
    from typer.testing import CliRunner

    from cxw.cli.nlp import app

    lines = [
        "Delivery was late again and nobody answered my emails at jane.doe@gmail.com!!",
        "love the product, but the app keeps crashing",
        "",
        "Agent Mike was super helpful, refund processed in 2 days",
    ]
    src = tmp_path / "comments.txt"
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze", str(src), "--cache-dir", str(model_cache)])
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(lines)
    assert all(set(r) == {"sentiment", "label", "aspects", "redacted"} for r in rows)
    assert "jane.doe@gmail.com" not in result.stdout
    assert rows[0]["label"] == "negative" and rows[3]["label"] == "positive"


def test_cli_analyze_stdin(model_cache: Path) -> None:
    from typer.testing import CliRunner

    from cxw.cli.nlp import app

    result = CliRunner().invoke(
        app, ["analyze", "-", "--cache-dir", str(model_cache)], input="great\ncall 555-123-4567\n"
    )
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["redacted"] for r in rows] == ["great", "call [PHONE]"]


def test_cli_missing_file_is_one_line_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    code = "from cxw.cli.nlp import app; app()"
    proc = subprocess.run(
        [sys.executable, "-c", code, "analyze", str(missing)],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO_ROOT / "include"), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.returncode != 0
    assert proc.stdout == ""
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "nope.txt" in proc.stderr


def test_cli_module_does_not_import_heavy_libraries() -> None:
    code = (
        "import sys; import cxw.cli.nlp; "
        "print(any(m in sys.modules for m in ('spacy', 'sklearn', 'numpy')))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(REPO_ROOT / "include"), "PATH": "/usr/bin:/bin"},
        timeout=60,
    )
    assert proc.stdout.strip() == "False", proc.stderr
