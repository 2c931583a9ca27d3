"""Dense vectors in Chroma, written through LlamaIndex's ``ChromaVectorStore``.

Collections are always created with ``embedding_function=None`` (Chroma's default would try
to download an ONNX model) and cosine space.

``VectorStore.query`` is an exact cosine search over the collection's vectors, read from Chroma
once per open collection, not Chroma's HNSW search. Embedded Chroma (1.5) persists its HNSW graph
only after ``sync_threshold`` (1000) vectors; below that, every process that opens the folder
rebuilds the graph from Chroma's write-ahead log, inserting in parallel in a per-process order.
The approximate graph search then gave different top lists in different processes (and on
identical vectors, a different order). An exact search over a few hundred clauses costs well
under a millisecond and ranks the same everywhere; equal scores are ordered by id.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np

from avtal.errors import IndexError_

COLLECTION_PREFIX = "clauses_"

_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def shape_hash(embedder_name: str, chunking_signature: str) -> str:
    """First 12 hex digits of sha256 over everything that shapes the vectors."""
    return hashlib.sha256(f"{embedder_name}\0{chunking_signature}".encode()).hexdigest()[:12]


def collection_name(shape: str, version: str | None = None) -> str:
    """``clauses_<shape>``; in server mode also the index version, so versions never share one."""
    name = COLLECTION_PREFIX + shape
    if version:
        name += "_" + "".join(c if c.isalnum() else "-" for c in version)
    return name[:63]


def _client_settings() -> Any:
    import chromadb.config

    return chromadb.config.Settings(anonymized_telemetry=False, allow_reset=False)


def persistent_client(path: str | Path, create: bool = True) -> Any:
    """One ``PersistentClient`` per folder and process (Chroma refuses two with other settings).

    With ``create=False`` a missing folder is an error instead of a new, empty database.
    """
    key = str(Path(path).resolve())
    with _clients_lock:
        client = _clients.get(key)
        if client is None:
            import chromadb

            if not create and not Path(key).is_dir():
                raise IndexError_(f"Vektorindexet saknas: {key}")
            Path(key).mkdir(parents=True, exist_ok=True)
            client = chromadb.PersistentClient(path=key, settings=_client_settings())
            _clients[key] = client
        return client


def forget_persistent_client(path: str | Path) -> None:
    """Close our client on a folder: after a write (so everything is on disk) or before it goes."""
    key = str(Path(path).resolve())
    with _clients_lock:
        client = _clients.pop(key, None)
    close = getattr(client, "close", None)
    if close is not None:
        with contextlib.suppress(Exception):  # best effort: the folder is complete or going away
            close()


def http_client(url: str) -> Any:
    """A client for a Chroma server, cached per URL."""
    with _clients_lock:
        client = _clients.get(url)
        if client is None:
            import chromadb

            parsed = urlparse(url)
            if not parsed.hostname:
                raise IndexError_(
                    f"Ogiltig adress till Chroma-servern: {url!r}.",
                    hint="Ange den som http://värd:port i AVTAL_INDEX__CHROMA_URL.",
                )
            ssl = parsed.scheme == "https"
            client = chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if ssl else 8000),
                ssl=ssl,
                settings=_client_settings(),
            )
            _clients[url] = client
        return client


def _flat(value: Any) -> str | int | float | bool | None:
    """Chroma metadata allows only scalars: lists and dicts become JSON strings."""
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return json.dumps(value, ensure_ascii=False)


@dataclass
class VectorRecord:
    id: str
    doc_id: str  # stored by LlamaIndex as doc_id / document_id / ref_doc_id (keys it reserves)
    text: str
    embedding: np.ndarray
    metadata: dict[str, Any]


class VectorStore:
    """One Chroma collection of clause vectors."""

    def __init__(self, collection: Any) -> None:
        from llama_index.vector_stores.chroma import ChromaVectorStore

        self.collection = collection
        self._store = ChromaVectorStore(chroma_collection=collection)
        self._ids: list[str] | None = None  # sorted; row i of _unit is the vector of _ids[i]
        self._unit: np.ndarray | None = None

    @classmethod
    def create(cls, client: Any, name: str) -> VectorStore:
        collection = client.create_collection(
            name=name, embedding_function=None, metadata={"hnsw:space": "cosine"}
        )
        return cls(collection)

    @classmethod
    def open(cls, client: Any, name: str) -> VectorStore:
        try:
            collection = client.get_collection(name=name, embedding_function=None)
        except Exception as exc:
            raise IndexError_(f"Vektorindexet {name!r} saknas eller kan inte läsas: {exc}") from exc
        return cls(collection)

    def add(self, records: list[VectorRecord]) -> None:
        if not records:
            return
        from llama_index.core.schema import NodeRelationship, RelatedNodeInfo, TextNode

        reserved = {"doc_id", "document_id", "ref_doc_id", "_node_content", "_node_type"}
        nodes = [
            TextNode(
                id_=r.id,
                text=r.text,
                embedding=np.asarray(r.embedding, dtype=np.float32).tolist(),
                metadata={k: _flat(v) for k, v in r.metadata.items() if k not in reserved},
                relationships={NodeRelationship.SOURCE: RelatedNodeInfo(node_id=r.doc_id)},
            )
            for r in records
        ]
        self._store.add(nodes)
        self._ids = self._unit = None  # read again at the next query

    def count(self) -> int:
        return int(self.collection.count())

    def _matrix(self) -> tuple[list[str], np.ndarray]:
        """All ids (sorted) and their unit vectors, read from Chroma on first use."""
        if self._ids is None or self._unit is None:
            got = self.collection.get(include=["embeddings"])
            ids = list(got["ids"])
            if not ids:
                self._ids, self._unit = [], np.zeros((0, 0), dtype=np.float32)
                return self._ids, self._unit
            vectors = np.asarray(got["embeddings"], dtype=np.float32).reshape(len(ids), -1)
            order = sorted(range(len(ids)), key=ids.__getitem__)
            vectors = vectors[order]
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            norms[norms == 0] = 1.0
            self._unit = np.ascontiguousarray(vectors / norms, dtype=np.float32)
            self._ids = [ids[i] for i in order]
        return self._ids, self._unit

    def query(self, embedding: np.ndarray, k: int) -> list[tuple[str, float]]:
        """Up to ``k`` (id, cosine similarity) pairs, most similar first, equal scores by id."""
        ids, unit = self._matrix()
        k = min(k, len(ids))
        if k <= 0:
            return []
        vector = np.asarray(embedding, dtype=np.float32).ravel()
        norm = float(np.linalg.norm(vector))
        if vector.shape[0] != unit.shape[1]:
            raise IndexError_(f"Frågevektorn har {vector.shape[0]} dimensioner men indexet {unit.shape[1]}.")
        scores = unit @ (vector / norm if norm else vector)
        top = np.argsort(-scores, kind="stable")[:k]  # stable: rows are sorted by id
        return [(ids[i], float(scores[i])) for i in top]
