"""The baseline a user might pick instead: the LlamaIndex starter-tutorial pipeline.

    pages -> SentenceSplitter() -> VectorStoreIndex(nodes, embed_model=e5) -> as_retriever(similarity_top_k=2)

with LlamaIndex's own defaults everywhere except the embedding, which is ours (the same e5 model the
index uses, so only the pipeline differs). The tutorial reads PDFs with `SimpleDirectoryReader`,
which hands `.pdf` files to `PDFReader` from the separate `llama-index-readers-file` package: one
`Document` per page, `page.extract_text()` from pypdf, metadata `page_label` and `file_name`. That
package is not installed here, so `PagePDFReader` below does exactly that and is passed to the real
`SimpleDirectoryReader` as its `.pdf` extractor (the reader's default file metadata and the
metadata keys it excludes from embedding stay LlamaIndex's own). No `llama_index.core.Settings`
global is touched: the embedding model is passed explicitly and no LLM is used.

The baseline's chunks have no clause anchors. A retrieved chunk counts as a gold clause when it
holds at least half of that clause's text (`covers`, see `gold_coverage`).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from avtal.models import Chunk
from eval.questions import fold

TOP_K = 2  # the tutorial's similarity_top_k
COVERAGE = 0.5  # share of a gold clause's words a chunk must hold to count as that clause
MIN_BLOCK = 3  # matching runs shorter than this many words are chance (och, i, av) and not counted


def _tokens(text: str) -> list[str]:
    return fold(text).replace("-", " ").split() if text else []


def _word_tokens(text: str) -> list[str]:
    out = []
    for token in _tokens(text):
        word = "".join(ch for ch in token if ch.isalnum())
        if word:
            out.append(word)
    return out


def gold_coverage(clause_text: str, chunk_text: str) -> float:
    """Share of a clause's words that a chunk holds in the same order.

    Both texts are folded (lowercase, diacritics stripped) and split into words without
    punctuation. difflib's SequenceMatcher (autojunk off) finds the matching blocks between the two
    word lists, in order and without overlap; runs of at least MIN_BLOCK words count (shorter runs
    are common words that match anywhere). Coverage = words in those runs / words of the clause.
    """
    clause = _word_tokens(clause_text)
    chunk = _word_tokens(chunk_text)
    if not clause or not chunk:
        return 0.0
    matcher = difflib.SequenceMatcher(None, clause, chunk, autojunk=False)
    shortest = min(MIN_BLOCK, len(clause))
    matched = sum(block.size for block in matcher.get_matching_blocks() if block.size >= shortest)
    return matched / len(clause)


def covers(chunk_text: str, clause: Chunk) -> bool:
    """Whether a baseline chunk counts as a clause: it holds at least half of the clause's text,
    as indexed (OCR-repaired) or as the PDF has it (the baseline reads the unrepaired text)."""
    present = set(_word_tokens(chunk_text))
    for text in {clause.text, getattr(clause, "original_text", "") or clause.text}:
        words = _word_tokens(text)
        # cheap bound first: a chunk lacking half the clause's words cannot hold half its text
        possible = bool(words) and sum(w in present for w in words) >= COVERAGE * len(words)
        if possible and gold_coverage(text, chunk_text) >= COVERAGE:
            return True
    return False


class PagePDFReader:
    """What llama-index-readers-file's PDFReader does by default: one Document per page."""

    def __new__(cls) -> Any:  # a BaseReader subclass, built lazily so importing this module is cheap
        from llama_index.core.readers.base import BaseReader
        from llama_index.core.schema import Document

        class _Reader(BaseReader):
            def load_data(self, file: Path, extra_info: dict | None = None, fs: Any = None) -> list[Document]:
                import pypdf

                with open(file, "rb") as fp:
                    pdf = pypdf.PdfReader(fp)
                    docs = []
                    for page in range(len(pdf.pages)):
                        metadata = {"page_label": pdf.page_labels[page], "file_name": Path(file).name}
                        if extra_info is not None:
                            metadata.update(extra_info)
                        docs.append(Document(text=pdf.pages[page].extract_text(), metadata=metadata))
                    return docs

        return _Reader()


def llama_embedding(embedder: Any) -> Any:
    """Our embedder (index/embedding.py protocol) as a LlamaIndex BaseEmbedding."""
    from llama_index.core.embeddings import BaseEmbedding
    from pydantic import PrivateAttr

    class _Embedding(BaseEmbedding):
        _inner: Any = PrivateAttr()

        def __init__(self, inner: Any) -> None:
            super().__init__(model_name=str(getattr(inner, "name", "avtal-embedder")), embed_batch_size=16)
            self._inner = inner

        def _get_query_embedding(self, query: str) -> list[float]:
            return [float(x) for x in self._inner.embed_query(query)]

        def _get_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embeddings([text])[0]

        def _get_text_embeddings(self, texts: list[str]) -> list[list[float]]:
            return [[float(x) for x in row] for row in self._inner.embed_passages(list(texts))]

        async def _aget_query_embedding(self, query: str) -> list[float]:
            return self._get_query_embedding(query)

        async def _aget_text_embedding(self, text: str) -> list[float]:
            return self._get_text_embedding(text)

    return _Embedding(embedder)


@dataclass
class BaselineHit:
    text: str
    score: float
    file_name: str
    page_label: str
    covered: list[str]  # ids of the indexed clauses this chunk counts as


class LlamaIndexBaseline:
    """The tutorial pipeline over a folder of PDFs; `retrieve(question)` gives the top-2 chunks."""

    def __init__(self, corpus: str | Path, embedder: Any, clauses: Iterable[Chunk], top_k: int = TOP_K):
        from llama_index.core import SimpleDirectoryReader, VectorStoreIndex
        from llama_index.core.node_parser import SentenceSplitter

        self.corpus = Path(corpus)
        reader = SimpleDirectoryReader(
            input_dir=str(self.corpus), required_exts=[".pdf"], file_extractor={".pdf": PagePDFReader()}
        )
        self.documents = reader.load_data()
        self.nodes = SentenceSplitter().get_nodes_from_documents(self.documents)
        self.index = VectorStoreIndex(self.nodes, embed_model=llama_embedding(embedder))
        self.retriever = self.index.as_retriever(similarity_top_k=top_k)
        self.top_k = top_k
        self.clauses = list(clauses)
        self._by_file: dict[str, list[Chunk]] = {}
        for clause in self.clauses:
            self._by_file.setdefault(clause.doc_id, []).append(clause)
        self._covered: dict[str, list[str]] = {}

    def covered(self, node_id: str, text: str, file_name: str) -> list[str]:
        """Ids of the clauses (of the same document) that a chunk counts as; memoised per chunk."""
        if node_id not in self._covered:
            doc_id = Path(file_name).stem
            candidates = self._by_file.get(doc_id) or self.clauses
            self._covered[node_id] = [c.id for c in candidates if covers(text, c)]
        return self._covered[node_id]

    def retrieve(self, question: str) -> list[BaselineHit]:
        hits: list[BaselineHit] = []
        for scored in self.retriever.retrieve(question):
            node = scored.node
            text = node.get_content()
            meta = node.metadata or {}
            file_name = str(meta.get("file_name", ""))
            hits.append(
                BaselineHit(
                    text=text,
                    score=float(scored.score or 0.0),
                    file_name=file_name,
                    page_label=str(meta.get("page_label", "")),
                    covered=self.covered(node.node_id, text, file_name),
                )
            )
        return hits


def baseline_rank(
    hits: Sequence[BaselineHit], gold: Iterable[str], parts: dict[str, str] | None
) -> int | None:
    """1-based position of the first retrieved chunk that counts as a gold clause, or None."""
    from eval.metrics import matches_gold

    gold = list(gold)
    for position, hit in enumerate(hits, 1):
        if any(matches_gold(cid, gold, parts) for cid in hit.covered):
            return position
    return None
