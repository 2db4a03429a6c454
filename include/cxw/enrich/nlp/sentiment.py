"""Sentence sentiment: lexicon features plus a linear classifier trained on shipped data.

Why: plain VADER reaches about 0.80 macro-F1 on short review sentences. Feeding its scores,
a second lexicon (Pattern adjectives), review idioms, ratings and negation-aware word and
character n-grams into one logistic regression trained on labelled sentences does better
across domains (see dbt_project/DECISIONLOG_nlp.md). Everything it needs ships with the
project (``data/``) or inside the vaderSentiment wheel: nothing is downloaded at run time.

The fitted model is cached as a pickle under a cache directory (``$CXW_HOME/models`` or a
per-user temp dir) keyed by a fingerprint of code version, scikit-learn version and data, so
the first pipeline build trains it (a few seconds) and later builds load it.
"""

from __future__ import annotations

import hashlib
import math
import os
import pickle
import re
import stat
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).with_name("data")
DOMAIN_FILES: dict[str, str] = {
    "amazon": "amazon_cells_labelled.txt",
    "imdb": "imdb_labelled.txt",
    "yelp": "yelp_labelled.txt",
}
EVIDENCE_MIN_VALENCE = 1.0
# Bump when features or training change: it is part of the cache key and of NLP_VERSION.
MODEL_VERSION = "sentiment-3"
# Texts whose first-stage P(positive) lies within this distance of 0.5 are re-scored with a
# sentence embedding added (about a quarter of review sentences; see DECISIONLOG_nlp.md).
ENCODER_BAND = 0.3

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_TOKEN_RX = re.compile(r"[a-z0-9]+(?:['\-][a-z0-9]+)*|[.,;:!?]")
_CLAUSE_BREAK = frozenset(".,;:!?") | {"but", "however", "although", "though", "yet"}
_EXTRA_NEGATORS = frozenset({"no", "nobody", "lack", "lacks", "lacking", "lacked"})
# Phrases that contain a negator but are not negations ("nothing short of amazing").
_NOT_NEGATION_RX = re.compile(
    r"\b(?:nothing short of|never ceases? to|not only|no doubt|no wonder|without a doubt"
    r"|can't wait|cannot wait|can not wait|couldn't be|could not be|not bad|hard not to)\b"
)
_NEGATOR_WORDS_RX = re.compile(r"\b(?:nothing|never|not|no|cannot)\b|n't")
_RATING_RX = re.compile(r"(?<![\d.])(\d+(?:\.\d+)?)\s*(?:/|out of)\s*(\d+)(?!\d)")
_STARS_RX = re.compile(r"(?<![a-z\d])(\d|zero|no|one|two|three|four|five)\s*-?\s*stars?\b")
_STAR_WORDS = {"zero": 0, "no": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_NEGATOR_BEFORE_RX = re.compile(
    r"\b(?:not|no|never|nobody|hardly|dont|wont|cant|isnt|wasnt|didnt|doesnt|wouldnt)\b|n't"
)
_PRE_CLAUSE_SPLIT_RX = re.compile(r"[.,;!?]| but ")


def normalize_for_model(text: str) -> str:
    """Lower-case and unify apostrophes, so "Don’t" and "don't" are one feature."""
    return text.translate(_APOSTROPHES).lower()


@lru_cache(maxsize=1)
def _vader() -> Any:
    """The VADER analyzer (its lexicon ships inside the vaderSentiment wheel)."""
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    # a private copy of the lexicon, extended (and in a few cases overridden) for CX text
    lexicon = dict(analyzer.lexicon)
    with open(DATA_DIR / "cx_lexicon.txt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            word, value = line.rstrip("\n").split("\t")
            lexicon[word] = float(value)
    analyzer.lexicon = lexicon
    return analyzer


@lru_cache(maxsize=1)
def _negators() -> frozenset[str]:
    from vaderSentiment.vaderSentiment import NEGATE

    return frozenset(NEGATE) | _EXTRA_NEGATORS


@lru_cache(maxsize=1)
def _pattern_lexicon() -> dict[str, float]:
    """Pattern adjective polarities, rescaled to VADER's [-4, 4] range."""
    out: dict[str, float] = {}
    with open(DATA_DIR / "pattern_en_polarity.txt", encoding="utf-8") as fh:
        for line in fh:
            if line.startswith("#") or not line.strip():
                continue
            word, value = line.rstrip("\n").split("\t")
            out[word] = float(value) * 4.0
    return out


@lru_cache(maxsize=1)
def _idioms() -> tuple[re.Pattern[str], dict[str, int]]:
    """One regex over all review idioms (longest first) and each idiom's polarity."""
    import yaml

    with open(DATA_DIR / "idioms.yml", encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    polarity: dict[str, int] = {}
    for phrase in raw.get("positive", []):
        polarity[normalize_for_model(str(phrase)).strip()] = 1
    for phrase in raw.get("negative", []):
        polarity[normalize_for_model(str(phrase)).strip()] = -1
    alternatives = sorted(polarity, key=len, reverse=True)
    rx = re.compile(
        r"(?<![a-z0-9])(?:" + "|".join(re.escape(a) for a in alternatives) + r")(?![a-z])"
    )
    return rx, polarity


def idiom_hits(norm: str) -> list[int]:
    """Polarity (+1/-1) of each review idiom in normalised text, negated positives flipped."""
    rx, polarity = _idioms()
    hits: list[int] = []
    for m in rx.finditer(norm):
        pol = polarity[m.group(0)]
        if pol > 0:
            before = _PRE_CLAUSE_SPLIT_RX.split(norm[max(0, m.start() - 25) : m.start()])[-1]
            if _NEGATOR_BEFORE_RX.search(before):
                pol = -pol
        hits.append(pol)
    return hits


def rating_feature(norm: str) -> tuple[float, float]:
    """Ratings like "9/10", "4 out of 5", "two stars" as a value in [-1, 1] and a flag."""
    total, found = 0.0, 0.0
    for num, den in _RATING_RX.findall(norm):
        a, b = float(num), float(den)
        if b in (5.0, 10.0, 100.0) and a <= b:
            total += (a / b - 0.5) * 2
            found = 1.0
    for word in _STARS_RX.findall(norm):
        n = _STAR_WORDS[word] if word in _STAR_WORDS else int(word)
        if n <= 5:
            total += (n / 5 - 0.5) * 2
            found = 1.0
    return max(-1.0, min(1.0, total)), found


def negation_marked_tokens(norm: str) -> list[str]:
    """Tokens with NOT_ prefixed inside a negation's scope (up to punctuation or "but")."""
    norm = _NOT_NEGATION_RX.sub(lambda m: _NEGATOR_WORDS_RX.sub(" ", m.group(0)), norm)
    negators = _negators()
    out: list[str] = []
    negated = False
    for tok in _TOKEN_RX.findall(norm):
        if tok in _CLAUSE_BREAK:
            negated = False
            out.append(tok)
        elif tok in negators or tok.endswith("n't"):
            negated = True
            out.append(tok)
        else:
            out.append("NOT_" + tok if negated else tok)
    return out


def _lexicon_sums(tokens: Sequence[str], lexicon: dict[str, float]) -> tuple[float, float, float]:
    """Positive sum, negative sum and length-damped net valence; negation dampens and flips."""
    pos = neg = 0.0
    n = 0
    for tok in tokens:
        negated = tok.startswith("NOT_")
        value = lexicon.get(tok[4:] if negated else tok)
        if value is None:
            continue
        n += 1
        if negated:
            value = -0.74 * value  # VADER's negation scalar
        if value > 0:
            pos += value
        else:
            neg += value
    return pos / 4, neg / 4, (pos + neg) / 4 / math.sqrt(n + 1)


def _strong_word(tokens: Sequence[str], *lexicons: dict[str, float]) -> bool:
    """Any token with |valence| >= 1 (VADER scale): weak ones like "want" are not opinions."""
    for tok in tokens:
        base = tok[4:] if tok.startswith("NOT_") else tok
        for lex in lexicons:
            value = lex.get(base)
            if value is not None and abs(value) >= EVIDENCE_MIN_VALENCE:
                return True
    return False


def _after_last_but(norm: str) -> str | None:
    idx = norm.rfind(" but ")
    return norm[idx + 5 :] if idx >= 0 else None


def extract(text: str) -> tuple[list[str], list[float], bool]:
    """Negation-marked tokens (plus idiom tokens), dense features, and opinion evidence.

    Evidence means a lexicon word, an idiom or a rating was found: without it a text is
    probably factual ("my order number is ...") and the pipeline pulls its score to 0.
    """
    norm = normalize_for_model(text)
    tokens = negation_marked_tokens(norm)
    vader = _vader()
    vlex: dict[str, float] = vader.lexicon
    plex = _pattern_lexicon()
    scores = vader.polarity_scores(text)
    tail = _after_last_but(norm)
    if tail is not None:
        tail_tokens = negation_marked_tokens(tail)
        tail_compound = vader.polarity_scores(tail)["compound"]
    else:
        tail_tokens = tokens
        tail_compound = scores["compound"]
    hits = idiom_hits(norm)
    n_pos = float(sum(1 for h in hits if h > 0))
    n_neg = float(len(hits) - n_pos)
    rating, has_rating = rating_feature(norm)
    dense = [
        scores["compound"],
        scores["pos"],
        scores["neg"],
        tail_compound,
        float("!" in text),
        float(tail is not None),
    ]
    for lex in (vlex, plex):
        dense.extend(_lexicon_sums(tokens, lex))
        dense.append(_lexicon_sums(tail_tokens, lex)[2])
    dense.extend([n_pos, n_neg, n_pos - n_neg, rating, has_rating])
    evidence = bool(hits) or has_rating > 0 or _strong_word(tokens, vlex, plex)
    tokens = tokens + ["IDIOM_POS" if h > 0 else "IDIOM_NEG" for h in hits]
    return tokens, dense, evidence


def _identity(tokens: list[str]) -> list[str]:
    return tokens


class SentimentModel:
    """Two-stage logistic regression over negation-marked word/char TF-IDF and lexicon features.

    Stage one uses the sparse features only. Where it is unsure (P(positive) within
    ``encoder_band`` of 0.5), a second model that also sees the text's MiniLM sentence
    embedding decides; confident texts never pay for the encoder. ``encoder_band=0`` turns
    the second stage off (faster, less accurate across domains).
    """

    def __init__(self, c: float = 3.0, encoder_band: float = ENCODER_BAND) -> None:
        self.c = c
        self.encoder_band = encoder_band
        self._word: Any = None
        self._char: Any = None
        self._clf: Any = None
        self._clf_encoded: Any = None
        self.encoded_texts = 0
        self.scored_texts = 0

    def _matrix(self, texts: Sequence[str], fit: bool) -> Any:
        return self._matrix_and_evidence(texts, fit)[0]

    def _matrix_and_evidence(self, texts: Sequence[str], fit: bool) -> tuple[Any, list[bool]]:
        from scipy.sparse import csr_matrix, hstack

        extracted = [extract(t) for t in texts]
        tokens = [e[0] for e in extracted]
        joined = [" ".join(t for t in toks if not t.startswith("IDIOM_")) for toks in tokens]
        dense = csr_matrix(np.asarray([e[1] for e in extracted], dtype=float))
        if fit:
            words = self._word.fit_transform(tokens)
            chars = self._char.fit_transform(joined)
        else:
            words = self._word.transform(tokens)
            chars = self._char.transform(joined)
        return hstack([words, chars, dense]).tocsr(), [e[2] for e in extracted]

    @staticmethod
    def _with_embeddings(x: Any, texts: Sequence[str]) -> Any:
        from scipy.sparse import csr_matrix, hstack

        from .encoder import get_encoder

        return hstack([x, csr_matrix(get_encoder().encode(texts))]).tocsr()

    def fit(self, texts: Sequence[str], labels: Sequence[int]) -> SentimentModel:
        """Fit on texts with labels 1 (positive) / 0 (negative)."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        texts = list(texts)
        y = np.asarray(labels)
        self._word = TfidfVectorizer(analyzer=_identity, sublinear_tf=True)
        # "char", not "char_wb": n-grams may span a word boundary ("t bad", "y good"), which
        # carries short phrases; chosen by the mean of the three leave-one-domain-out folds.
        self._char = TfidfVectorizer(
            analyzer="char", ngram_range=(2, 5), min_df=2, sublinear_tf=True
        )
        x = self._matrix(texts, fit=True)
        self._clf = LogisticRegression(C=self.c, max_iter=3000).fit(x, y)
        self._clf_encoded = None
        if self.encoder_band > 0:
            self._clf_encoded = LogisticRegression(C=self.c, max_iter=5000).fit(
                self._with_embeddings(x, texts), y
            )
        self.encoded_texts = self.scored_texts = 0
        return self

    def _proba(self, x: Any, texts: Sequence[str]) -> np.ndarray:
        proba = self._clf.predict_proba(x)[:, 1]
        self.scored_texts += len(texts)
        if self._clf_encoded is not None:
            unsure = np.flatnonzero(np.abs(proba - 0.5) < self.encoder_band)
            if unsure.size:
                second = self._with_embeddings(x[unsure], [texts[i] for i in unsure])
                proba[unsure] = self._clf_encoded.predict_proba(second)[:, 1]
                self.encoded_texts += int(unsure.size)
        return proba

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """P(positive) for each text."""
        if self._clf is None:
            raise RuntimeError("SentimentModel is not fitted")
        if not texts:
            return np.zeros(0)
        texts = list(texts)
        return self._proba(self._matrix(texts, fit=False), texts)

    def score(self, texts: Sequence[str]) -> np.ndarray:
        """Sentiment in [-1, 1]: 2 * P(positive) - 1."""
        return 2.0 * self.predict_proba(texts) - 1.0

    def score_with_evidence(self, texts: Sequence[str]) -> tuple[np.ndarray, list[bool]]:
        """Scores in [-1, 1] and, per text, whether it has any opinion evidence."""
        if self._clf is None:
            raise RuntimeError("SentimentModel is not fitted")
        if not texts:
            return np.zeros(0), []
        texts = list(texts)
        x, evidence = self._matrix_and_evidence(texts, fit=False)
        return 2.0 * self._proba(x, texts) - 1.0, evidence


def label_for(score: float, neutral_band: float) -> str:
    """positive / negative outside (-band, band), neutral inside it."""
    if score >= neutral_band:
        return "positive"
    if score <= -neutral_band:
        return "negative"
    return "neutral"


def read_labelled(path: Path) -> tuple[list[str], list[int]]:
    """Read a UCI ``sentence<TAB>label`` file (split on \\n only: imdb contains U+0085)."""
    texts: list[str] = []
    labels: list[int] = []
    with open(path, encoding="utf-8", newline="\n") as fh:
        for line in fh:
            line = line.rstrip("\r\n")
            if not line.strip():
                continue
            sentence, _, label = line.rpartition("\t")
            texts.append(sentence.strip())
            labels.append(int(label))
    return texts, labels


def load_domains(folder: Path | str | None = None) -> dict[str, tuple[list[str], list[int]]]:
    """The three labelled domains from ``folder`` (or its ``sentiment/``); default: shipped."""
    base = Path(folder) if folder is not None else DATA_DIR
    if not (base / DOMAIN_FILES["amazon"]).exists() and (base / "sentiment").is_dir():
        base = base / "sentiment"
    missing = [f for f in DOMAIN_FILES.values() if not (base / f).is_file()]
    if missing:
        raise FileNotFoundError(f"sentiment data not found in {base}: missing {missing}")
    return {name: read_labelled(base / fname) for name, fname in DOMAIN_FILES.items()}


def evaluate_domains(datasets_dir: Path | str) -> dict[str, dict[str, Any]]:
    """Leave-one-domain-out accuracy and macro-F1: train on two domains, test on the third.

    Accepts the shared datasets folder or its ``sentiment/`` folder. The held-out domain is
    never seen in training (not even its vocabulary). A text counts as positive when its
    score is > 0, i.e. the neutral band is ignored (the data have no neutral class).
    """
    from sklearn.metrics import accuracy_score, f1_score

    domains = load_domains(datasets_dir)
    results: dict[str, dict[str, Any]] = {}
    for held_out, (test_x, test_y) in domains.items():
        train_names = [d for d in domains if d != held_out]
        train_x = [t for d in train_names for t in domains[d][0]]
        train_y = [y for d in train_names for y in domains[d][1]]
        model = SentimentModel().fit(train_x, train_y)
        pred = (model.predict_proba(test_x) > 0.5).astype(int)
        vader = _vader()
        vader_pred = [int(vader.polarity_scores(t)["compound"] >= 0.05) for t in test_x]
        results[held_out] = {
            "accuracy": float(accuracy_score(test_y, pred)),
            "macro_f1": float(f1_score(test_y, pred, average="macro")),
            "n": len(test_y),
            "train_domains": train_names,
            "vader_macro_f1": float(f1_score(test_y, vader_pred, average="macro")),
        }
    return results


def default_cache_dir() -> Path:
    """``$CXW_HOME/models`` if CXW_HOME is set, else a per-user folder in the temp dir."""
    home = os.environ.get("CXW_HOME")
    if home:
        return Path(home) / "models"
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"cxw-models-{uid}"


def training_fingerprint() -> str:
    """Hash of everything the fitted model depends on: the cache key."""
    import sklearn

    h = hashlib.sha256()
    from .encoder import encoder_fingerprint

    h.update(f"{MODEL_VERSION}|sklearn={sklearn.__version__}|{encoder_fingerprint()}|".encode())
    files = [*DOMAIN_FILES.values(), "idioms.yml", "pattern_en_polarity.txt", "cx_lexicon.txt"]
    for name in files:
        h.update(name.encode())
        h.update((DATA_DIR / name).read_bytes())
    return h.hexdigest()[:16]


def _safe_to_load(path: Path) -> bool:
    """Only unpickle files we own and nobody else can write (pickle runs code on load)."""
    try:
        st = path.stat()
        dir_st = path.parent.stat()
    except OSError:
        return False
    if hasattr(os, "getuid") and (st.st_uid != os.getuid() or dir_st.st_uid != os.getuid()):
        return False
    unsafe = stat.S_IWGRP | stat.S_IWOTH
    return not (st.st_mode & unsafe or dir_st.st_mode & unsafe)


def load_or_train(cache_dir: Path | str | None = None) -> SentimentModel:
    """The production model (trained on all three shipped domains), cached on disk."""
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    path = folder / f"sentiment-{training_fingerprint()}.pkl"
    if path.is_file() and _safe_to_load(path):
        try:
            with open(path, "rb") as fh:
                model = pickle.load(fh)
            if isinstance(model, SentimentModel):
                return model
        except Exception:  # a corrupt cache is retrained, not fatal
            pass
    domains = load_domains()
    texts = [t for d in domains.values() for t in d[0]]
    labels = [y for d in domains.values() for y in d[1]]
    model = SentimentModel().fit(texts, labels)
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        with open(tmp, "wb") as fh:
            pickle.dump(model, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except OSError:
        pass  # read-only cache dir: keep the in-memory model
    return model
