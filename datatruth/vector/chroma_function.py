"""The chromadb EmbeddingFunction around the installed MiniLM model (chroma's downloading default is never used).

Importing this module imports chromadb, which takes seconds: only the vector index imports it, when it opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from chromadb.api.types import EmbeddingFunction

from datatruth.vector.embedder import MODEL_ID, Embedder, default_embedder

if TYPE_CHECKING:  # a type alias of recent chromadb releases, needed only by the checker
    from chromadb.api.types import Space


class MiniLMEmbeddingFunction(EmbeddingFunction):
    """chromadb EmbeddingFunction around the installed MiniLM model (used instead of chroma's downloading default)."""

    def __init__(self, embedder: Embedder | None = None) -> None:
        self._embedder = embedder

    @property
    def embedder(self) -> Embedder:
        """The embedder, loaded on first use."""
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def __call__(self, input: Sequence[str]) -> list[np.ndarray]:  # noqa: A002 - chromadb's parameter name
        """Embed documents for chromadb."""
        return list(self.embedder.embed(list(input)))

    @staticmethod
    def name() -> str:
        """The name chromadb stores in the collection configuration."""
        return "datatruth-minilm-int8"

    def default_space(self) -> Space:
        """Vectors are unit length, so cosine is the natural distance."""
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        """Distances that make sense for unit vectors."""
        return ["cosine", "ip", "l2"]

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> MiniLMEmbeddingFunction:
        """Rebuild from a stored collection configuration (no settings needed: the model is fixed)."""
        return MiniLMEmbeddingFunction()

    def get_config(self) -> dict[str, Any]:
        """Configuration chromadb stores with the collection."""
        return {"model": MODEL_ID}


def _register() -> None:
    from chromadb.utils.embedding_functions import register_embedding_function

    try:
        register_embedding_function(MiniLMEmbeddingFunction)
    except ValueError:  # already registered (module reloaded in tests)
        return


_register()
