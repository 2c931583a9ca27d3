"""A versioned clause index under ``settings.index_dir``, switched atomically.

Layout::

    index/
      CURRENT                 name of the version readers use (replaced atomically)
      .write.lock             writers take an exclusive flock on it
      versions/<version>/     chunks.jsonl, documents.json, lexical/, chroma/, meta.json

A write builds a complete new version beside the old ones, then replaces ``CURRENT``
(temp file + fsync + ``os.replace``), then prunes versions beyond ``keep_versions``. A reader
in another process therefore sees either the old index or the new one, never half of one.
Passage vectors come from a SQLite cache under ``settings.cache_dir`` shared by all versions,
so re-indexing unchanged clauses costs no embedding calls.
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import json
import os
import secrets
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from avtal.errors import AvtalError, IndexError_, NoIndex
from avtal.models import Chunk
from avtal.settings import Settings

from .embedding import CachedEmbedder, Embedder, make_embedder
from .lexical import TOKENIZER_VERSION, LexicalIndex
from .vector import (
    VectorRecord,
    VectorStore,
    collection_name,
    forget_persistent_client,
    http_client,
    persistent_client,
    shape_hash,
)

FORMAT = 1
# The passage format is part of what shapes the vectors: bump it when passage_text changes.
PASSAGE_FORMAT = "p1:title\\nheading-path\\ntext"
CURRENT_FILE = "CURRENT"
LOCK_FILE = ".write.lock"
CACHE_FILE = "embeddings.sqlite3"


def passage_text(chunk: Chunk) -> str:
    """The text embedded and indexed lexically for a clause.

    Three lines: the document title, the heading path joined with " > " (the clause's own
    heading when the path is empty), then the clause text. Empty parts are left out.
    Example: "Överenskommelse om hemsjukvård\\n7 Uppföljning > 7.1 Rapportering\\nRegionen ...".
    """
    path = [h for h in chunk.heading_path if h] or ([chunk.heading] if chunk.heading else [])
    parts = [chunk.title or "", " > ".join(path), chunk.text]
    return "\n".join(p.strip() for p in parts if p and p.strip())


def _index_shape(embedder_name: str, chunking_signature: str) -> str:
    return shape_hash(embedder_name, f"{chunking_signature}\0{PASSAGE_FORMAT}\0tokens={TOKENIZER_VERSION}")


@dataclass(frozen=True)
class WriteResult:
    version: str
    embedded: int  # passages sent to the model (cache misses)
    seconds: float


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


class IndexVersion:
    """A read-only view of one complete index version. Cheap to open: no model is loaded,
    Chroma is opened at the first vector search."""

    def __init__(
        self, path: Path, settings: Settings, embedder: Callable[[], Embedder] | Embedder | None = None
    ) -> None:
        self.path = path
        self.version = path.name
        self._settings = settings
        self._embedder_source = embedder
        self._embedder: Embedder | None = None
        self.meta: dict[str, Any] = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        if self.meta.get("format") != FORMAT:
            raise IndexError_(
                f"Indexversionen {self.version} har ett format som den här versionen inte läser."
            )
        self.documents: dict[str, dict[str, Any]] = json.loads(
            (path / "documents.json").read_text(encoding="utf-8")
        )
        with open(path / "chunks.jsonl", encoding="utf-8") as fh:
            self.chunks: list[Chunk] = [Chunk.from_dict(json.loads(line)) for line in fh if line.strip()]
        self._by_id = {c.id: c for c in self.chunks}
        # Loaded now (small numpy files), so the view survives the pruning of its folder.
        self.lexical = LexicalIndex.load(path / "lexical")
        self._vector: VectorStore | None = None

    def __repr__(self) -> str:
        return f"IndexVersion({self.version!r}, chunks={len(self.chunks)})"

    @property
    def shape_hash(self) -> str:
        return str(self.meta["shape_hash"])

    def chunk(self, chunk_id: str) -> Chunk:
        try:
            return self._by_id[chunk_id]
        except KeyError:
            raise KeyError(f"no clause {chunk_id!r} in index version {self.version}") from None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            source = self._embedder_source
            if source is None:
                self._embedder = make_embedder(self._settings.index)
            elif hasattr(source, "embed_query"):  # not isinstance: on 3.11 it would read .dim
                self._embedder = source  # type: ignore[assignment]
            else:
                self._embedder = source()  # type: ignore[operator]
        if self._embedder.name != self.meta["embedder"]:
            raise IndexError_(
                f"Indexet byggdes med embeddingmodellen {self.meta['embedder']!r}, men nu är "
                f"{self._embedder.name!r} vald.",
                hint=(
                    "Läs in dokumenten på nytt med `avtal ingest data/corpus`, eller välj samma modell igen."
                ),
            )
        return self._embedder

    def _vector_store(self) -> VectorStore:
        if self._vector is None:
            vector = self.meta["vector"]
            if vector["mode"] == "server":
                url = self._settings.index.chroma_url or vector.get("url")
                client = http_client(url)
            else:
                if not (self.path / "chroma").is_dir():
                    raise self._gone()
                client = persistent_client(self.path / "chroma", create=False)
            self._vector = VectorStore.open(client, vector["collection"])
        return self._vector

    def _gone(self) -> IndexError_:
        return IndexError_(
            f"Indexversionen {self.version} har ersatts och tagits bort.",
            hint="Öppna indexet på nytt (det senaste indexet används då).",
        )

    def vector_search_embedding(self, vector: np.ndarray, k: int = 10) -> list[tuple[str, float]]:
        """Up to ``k`` (chunk id, cosine similarity) pairs for a query vector."""
        try:
            return self._vector_store().query(vector, k)
        except AvtalError:
            raise
        except Exception as exc:
            if not (self.path / "meta.json").exists():
                raise self._gone() from exc
            raise IndexError_(f"Vektorsökningen misslyckades: {exc}") from exc

    def vector_search(self, query_text: str, k: int = 10) -> list[tuple[str, float]]:
        """Embeds the query with the index's embedder (loaded on first use), then searches."""
        return self.vector_search_embedding(self.embedder.embed_query(query_text), k)


class IndexStore:
    """Reads and writes the versioned index of one AVTAL_HOME."""

    def __init__(
        self,
        settings: Settings,
        embedder: Embedder | None = None,
        *,
        chunking_signature: str | None = None,
        prune_grace_seconds: float = 120.0,
    ) -> None:
        self.settings = settings
        self.prune_grace_seconds = prune_grace_seconds
        self.root = settings.index_dir
        self.versions_dir = self.root / "versions"
        self.chunking_signature = chunking_signature
        self._embedder = embedder
        self._cached: CachedEmbedder | None = None
        self._open_versions: dict[str, IndexVersion] = {}

    # ------------------------------------------------------------------ embedder

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = make_embedder(self.settings.index)
        return self._embedder

    @property
    def cached_embedder(self) -> CachedEmbedder:
        if self._cached is None:
            self._cached = CachedEmbedder(
                self.embedder,
                self.settings.cache_dir / CACHE_FILE,
                batch_size=self.settings.index.embed_batch_size,
            )
        return self._cached

    @property
    def shape_hash(self) -> str:
        if self.chunking_signature is None:
            raise ValueError("IndexStore needs a chunking_signature to compute the shape hash")
        return _index_shape(self.embedder.name, self.chunking_signature)

    # ------------------------------------------------------------------ reading

    def current_name(self) -> str | None:
        try:
            name = (self.root / CURRENT_FILE).read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        return name or None

    def current(self) -> IndexVersion | None:
        """The version ``CURRENT`` names, or None when nothing was indexed yet."""
        for _ in range(3):  # CURRENT may move (and its old target be pruned) while we read
            name = self.current_name()
            if name is None:
                return None
            cached = self._open_versions.get(name)
            if cached is not None:
                return cached
            try:
                version = IndexVersion(self.versions_dir / name, self.settings, lambda: self.cached_embedder)
            except FileNotFoundError:
                if self.current_name() != name:
                    continue
                raise IndexError_(
                    f"Indexversionen {name!r} som CURRENT pekar på saknas eller är ofullständig."
                ) from None
            self._open_versions = {name: version}
            return version
        raise IndexError_("Indexet byts ut just nu; försök igen om en stund.", hint="Försök igen.")

    def open(self) -> IndexVersion:
        """The current version; NoIndex when there is none, IndexError_ when it is stale."""
        version = self.current()
        if version is None:
            raise NoIndex("Det finns inget index ännu.")
        if self.chunking_signature is not None and version.shape_hash != self.shape_hash:
            raise IndexError_(
                "Indexet byggdes med andra inställningar (embeddingmodell eller styckeindelning) "
                "än de som gäller nu.",
                hint="Läs in dokumenten på nytt: `avtal ingest data/corpus`.",
            )
        return version

    def versions(self) -> list[str]:
        """Names of complete versions on disk, oldest first."""
        if not self.versions_dir.is_dir():
            return []
        return sorted(p.name for p in self.versions_dir.iterdir() if (p / "meta.json").is_file())

    # ------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def _write_lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / LOCK_FILE, "a+") as fh:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    def write(
        self,
        documents: dict[str, dict[str, Any]],
        chunks: list[Chunk],
        progress: Callable[[int], None] | None = None,
    ) -> WriteResult:
        """Build a new version from all ``chunks``, switch ``CURRENT`` to it, prune old ones.

        ``progress(n_done)`` reports passages embedded or found in the cache so far.
        """
        started = time.perf_counter()
        shape = self.shape_hash
        ids = [c.id for c in chunks]
        duplicates = sorted(i for i, n in Counter(ids).items() if n > 1)
        if duplicates:
            raise IndexError_(f"Samma klausul-id förekommer flera gånger: {', '.join(duplicates[:5])}.")
        embedder = self.cached_embedder
        embedded_before = embedder.embedded
        with self._write_lock():
            self.versions_dir.mkdir(parents=True, exist_ok=True)
            self._remove_incomplete()
            version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ") + "-" + secrets.token_hex(3)
            vdir = self.versions_dir / version
            server_url = self.settings.index.chroma_url
            collection = collection_name(shape, version if server_url else None)
            try:
                vdir.mkdir()
                self._build(vdir, version, shape, collection, documents, chunks, progress)
                _fsync_dir(vdir)
                self._switch(version)
            except BaseException as exc:
                self._discard(vdir, collection if server_url else None)
                if isinstance(exc, AvtalError) or not isinstance(exc, Exception):
                    raise
                raise IndexError_(f"Indexet kunde inte skrivas: {exc}") from exc
            self._prune()
        return WriteResult(
            version=version,
            embedded=embedder.embedded - embedded_before,
            seconds=time.perf_counter() - started,
        )

    def _build(
        self,
        vdir: Path,
        version: str,
        shape: str,
        collection: str,
        documents: dict[str, dict[str, Any]],
        chunks: list[Chunk],
        progress: Callable[[int], None] | None,
    ) -> None:
        _write_file(
            vdir / "chunks.jsonl",
            "".join(json.dumps(c.to_dict(), ensure_ascii=False) + "\n" for c in chunks),
        )
        _write_file(vdir / "documents.json", json.dumps(documents, ensure_ascii=False, indent=1))
        passages = [passage_text(c) for c in chunks]
        LexicalIndex.build([c.id for c in chunks], passages).save(vdir / "lexical")

        embedder = self.cached_embedder
        vectors = embedder.embed_passages(passages, progress=progress)

        server_url = self.settings.index.chroma_url
        client = http_client(server_url) if server_url else persistent_client(vdir / "chroma")
        try:
            store = VectorStore.create(client, collection)
            store.add(
                [
                    VectorRecord(id=c.id, doc_id=c.doc_id, text=p, embedding=v, metadata=_chunk_metadata(c))
                    for c, p, v in zip(chunks, passages, vectors, strict=True)
                ]
            )
            if store.count() != len(chunks):
                raise IndexError_("Vektorindexet fick fel antal klausuler.")
        finally:
            if not server_url:
                forget_persistent_client(vdir / "chroma")  # closes it: everything is on disk

        meta = {
            "format": FORMAT,
            "version": version,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "shape_hash": shape,
            "embedder": embedder.name,
            "dim": int(vectors.shape[1]) if len(chunks) else None,
            "chunking_signature": self.chunking_signature,
            "passage_format": PASSAGE_FORMAT,
            "counts": {"documents": len(documents), "chunks": len(chunks)},
            "vector": {"mode": "server" if server_url else "embedded", "collection": collection}
            | ({"url": server_url} if server_url else {}),
        }
        _write_file(vdir / "meta.json", json.dumps(meta, ensure_ascii=False, indent=1))

    def _switch(self, version: str) -> None:
        tmp = self.root / f".{CURRENT_FILE}.{secrets.token_hex(4)}.tmp"
        try:
            _write_file(tmp, version + "\n")
            os.replace(tmp, self.root / CURRENT_FILE)
        finally:
            tmp.unlink(missing_ok=True)
        _fsync_dir(self.root)

    def _discard(self, vdir: Path, server_collection: str | None) -> None:
        forget_persistent_client(vdir / "chroma")
        shutil.rmtree(vdir, ignore_errors=True)
        if server_collection and self.settings.index.chroma_url:
            with contextlib.suppress(Exception):
                http_client(self.settings.index.chroma_url).delete_collection(server_collection)

    def _remove_incomplete(self) -> None:
        """Folders without meta.json left by a writer that died (we hold the lock: none is live)."""
        current = self.current_name()
        for path in self.versions_dir.iterdir():
            if path.is_dir() and path.name != current and not (path / "meta.json").is_file():
                shutil.rmtree(path, ignore_errors=True)

    def _prune(self) -> None:
        """Delete versions beyond ``keep_versions``, but only those replaced more than
        ``prune_grace_seconds`` ago, so a reader that opened one just before a write (or a few
        quick writes) can finish with it."""
        keep = max(1, self.settings.index.keep_versions)
        current = self.current_name()
        names = self.versions()
        kept = set(names[-keep:]) | ({current} if current else set())
        now = time.time()
        for older, newer in itertools.pairwise(names):
            if older in kept:
                continue
            replaced_at = (self.versions_dir / newer / "meta.json").stat().st_mtime
            if now - replaced_at < self.prune_grace_seconds:
                continue
            self._delete_version(older)

    def _delete_version(self, name: str) -> None:
        path = self.versions_dir / name
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
        vector = meta.get("vector", {})
        if vector.get("mode") == "server" and self.settings.index.chroma_url:
            with contextlib.suppress(Exception):
                http_client(self.settings.index.chroma_url).delete_collection(vector["collection"])
        # Remove meta.json first, so the folder no longer counts as a complete version.
        (path / "meta.json").unlink(missing_ok=True)
        shutil.rmtree(path, ignore_errors=True)


def _chunk_metadata(chunk: Chunk) -> dict[str, Any]:
    return {  # doc_id is stored by LlamaIndex from the node's source relationship
        "anchor": chunk.anchor,
        "title": chunk.title,
        "doc_type": chunk.doc_type,
        "date": chunk.date,
        "section": chunk.section,
        "heading": chunk.heading,
        "pages": chunk.pages,  # JSON-encoded by the vector store (Chroma takes scalars only)
        "order": chunk.order,
    }
