import asyncio

import numpy as np

from supportdesk.ai import embeddings


def test_vectors_are_normalized_384d():
    v = embeddings.embed(["My card has not arrived yet", "hello"])
    assert v.shape == (2, 384)
    assert v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-4)


def test_similar_sentences_score_higher():
    a, b, c = embeddings.embed(
        [
            "I still haven't received my new card",
            "My card has not arrived yet",
            "What's the weather in Paris?",
        ]
    )
    assert a @ b > a @ c + 0.3


def test_empty_and_model_is_shared():
    assert embeddings.embed([]).shape == (0, 384)
    assert embeddings.get_model() is embeddings.get_model()
    assert embeddings.embed_one("x").shape == (384,)


async def test_a_new_process_loads_the_model_while_it_starts_serving(monkeypatch):
    monkeypatch.setattr(embeddings, "_model", None)  # as in a process that has not embedded anything
    async with embeddings.loading():
        deadline = asyncio.get_running_loop().time() + 120
        while embeddings._model is None:  # nothing asked for an embedding
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)


def test_the_traced_graph_gives_sentence_transformers_own_vectors():
    from sentence_transformers import SentenceTransformer

    reference = SentenceTransformer(embeddings.model_path(), device="cpu", local_files_only=True)
    texts = ["My card has not arrived yet", "", "  padded  ", "word " * 400, "Ünïcödé “quotes” 😀", "a"] * 3
    expected = reference.encode(texts, batch_size=4, normalize_embeddings=True, convert_to_numpy=True)
    assert np.abs(embeddings.embed(texts, batch_size=4) - expected).max() < 1e-5
    assert np.abs(embeddings.embed(texts[:1])[0] - expected[0]).max() < 1e-5


def test_threads_embedding_at_once_get_the_vectors_each_would_alone():
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"ticket number {i}: my parcel {'never ' * (i % 7)}arrived" for i in range(40)]
    alone = embeddings.embed(texts)
    with ThreadPoolExecutor(max_workers=4) as pool:
        together = list(pool.map(lambda text: embeddings.embed([text])[0], texts))
    assert np.abs(np.stack(together) - alone).max() < 1e-5
