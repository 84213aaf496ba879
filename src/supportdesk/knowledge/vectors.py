"""Embeddings for the knowledge base: the indexing job embeds passages (in batches, off the request
path); a search embeds its query once, and only when the model is already loaded in this process.

The model is ai/embeddings.py's process-wide MiniLM (384-d unit vectors, so cosine distance is
1 − dot product). Vectors travel to PostgreSQL as pgvector text literals (`'[0.1,…]'::vector`).
When the model cannot be loaded at all (package missing, weights unreadable), passages are stored
without an embedding and search stays lexical.
"""

import asyncio
import logging
import threading
from collections.abc import Sequence

import numpy as np

from supportdesk.ai import embeddings

log = logging.getLogger(__name__)

BATCH_SIZE = 32

_unavailable = False
_loader: threading.Thread | None = None
_loader_lock = threading.Lock()


def to_literal(vector: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.6g}" for x in vector.tolist()) + "]"


def _load() -> bool:
    """Loads the model; False, once and for all, when it cannot be loaded."""
    global _unavailable
    if _unavailable:
        return False
    try:
        embeddings.get_model()
    except (ImportError, OSError, RuntimeError, ValueError):
        log.exception("the embedding model cannot be loaded: knowledge-base search stays lexical")
        _unavailable = True
        return False
    return True


def is_loaded() -> bool:
    return embeddings._model is not None  # noqa: SLF001 (ai/embeddings has no public probe)


def embed_passages(texts: Sequence[str]) -> list[str | None]:
    """The passages' embeddings as literals, or None each when there is no model (blocking: CPU)."""
    if not texts or not _load():
        return [None] * len(texts)
    return [to_literal(vector) for vector in embeddings.embed(list(texts), batch_size=BATCH_SIZE)]


def _warm_up() -> None:
    """Loads the model in a background thread, once; searches meanwhile are lexical."""
    global _loader
    with _loader_lock:
        if _loader is None and not _unavailable:
            _loader = threading.Thread(target=_load, name="embedding-model-loader", daemon=True)
            _loader.start()


async def query_vector(query: str) -> str | None:
    """The query's embedding as a literal; None when the model is unavailable or still loading (then
    the loading starts, and the search is lexical: a request never waits for a model to load)."""
    if _unavailable:
        return None
    if not is_loaded():
        _warm_up()
        return None
    vector = await asyncio.to_thread(embeddings.embed_one, query)
    return to_literal(vector)
