"""Plain clause search, for people who want to read the clause rather than ask.

The same hybrid retrieval and reranker as the answerer, without composition or abstention: a
ranked list of clauses with a short snippet around the words that matched. Shared by the API's
`GET /api/search` and the Streamlit search tab.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from assistant.retrieval import build_query, content_words
from avtal.errors import InvalidRequest
from avtal.privacy import MASK, mask_personal_ids
from index.lexical import fold, stem_tokens

if TYPE_CHECKING:
    from assistant.core import Assistant

MAX_QUERY_CHARS = 500
SNIPPET_WORDS = 40
_TOKEN = re.compile(r"[^\W_]+(?:[-:.][^\W_]+)*")


@dataclass
class SearchHit:
    document: str
    anchor: str
    title: str
    section: str | None
    heading: str | None
    pages: list[int]
    score: float
    snippet: str  # plain text
    highlights: list[tuple[int, int]] = field(default_factory=list)  # [start, end) in `snippet`

    @property
    def snippet_html(self) -> str:
        """The snippet, HTML-escaped, with the matched words in <mark>."""
        out, last = [], 0
        for start, end in self.highlights:
            out.append(html.escape(self.snippet[last:start]))
            out.append(f"<mark>{html.escape(self.snippet[start:end])}</mark>")
            last = end
        out.append(html.escape(self.snippet[last:]))
        return "".join(out)

    def to_dict(self) -> dict[str, Any]:
        return {
            "document": self.document,
            "anchor": self.anchor,
            "id": f"{self.document}#{self.anchor}",
            "title": self.title,
            "section": self.section,
            "heading": self.heading,
            "pages": self.pages,
            "score": round(self.score, 4),
            "snippet": self.snippet,
            "snippet_html": self.snippet_html,
            "highlights": [list(h) for h in self.highlights],
        }


def _matches(token: str, stems: set[str], folded_words: set[str]) -> bool:
    folded = fold(token)
    if folded in folded_words:
        return True
    token_stems = stem_tokens(token)
    return bool(token_stems) and token_stems[0] in stems


def snippet(
    text: str, stems: set[str], folded_words: set[str], size: int = SNIPPET_WORDS
) -> tuple[str, list[tuple[int, int]]]:
    """The window of ``size`` words with the most matching words, and the matches' offsets in it."""
    tokens = list(_TOKEN.finditer(text))
    if not tokens:
        return text[:300], []
    hits = [_matches(t.group(), stems, folded_words) for t in tokens]
    best, best_count = 0, -1
    running = sum(hits[:size])
    for start in range(max(1, len(tokens) - size + 1)):
        if start:
            running += (hits[start + size - 1] if start + size - 1 < len(tokens) else 0) - hits[start - 1]
        if running > best_count:
            best, best_count = start, running
    first, last = tokens[best], tokens[min(len(tokens), best + size) - 1]
    begin, end = first.start(), last.end()
    prefix = "… " if begin > 0 else ""
    suffix = " …" if end < len(text) else ""
    body = " ".join(text[begin:end].split())
    out = prefix + body + suffix
    marks: list[tuple[int, int]] = []
    offset = len(prefix)
    for match in _TOKEN.finditer(body):
        if _matches(match.group(), stems, folded_words):
            marks.append((offset + match.start(), offset + match.end()))
    return out, marks


def search(
    assistant: Assistant, query: str, k: int = 10, documents: Sequence[str] | None = None
) -> list[SearchHit]:
    """Ranked clauses for a search query (masked; folded and expanded like a question)."""
    if not isinstance(query, str) or not query.strip():
        raise InvalidRequest(
            "Sökningen är tom.", "Skriv ett eller flera sökord, till exempel: samordnande funktion."
        )
    if len(query) > MAX_QUERY_CHARS:
        raise InvalidRequest(
            f"Sökningen är för lång ({len(query)} tecken).", f"Skriv högst {MAX_QUERY_CHARS} tecken."
        )
    if documents:
        unknown = sorted(set(documents) - set(assistant.version.documents))
        if unknown:
            raise InvalidRequest(f"Okänt dokument: {', '.join(unknown)}.", "Välj bland dokumenten i indexet.")
    masked, _ = mask_personal_ids(query.strip())
    searched = masked.replace(MASK, " ").strip()
    if not searched:
        return []
    k = max(1, min(int(k), 50))
    search_query = build_query(searched, [], assistant.glossary)
    sources = assistant.retriever.retrieve(search_query, k=max(k, 30), documents=documents)
    sources = assistant.rerank(search_query, sources)[:k]
    terms = content_words(searched) or [fold(w) for w in searched.split()]
    stems = set(stem_tokens(" ".join(terms)))
    folded_words = set(terms)
    hits = []
    for source in sources:
        chunk = source.chunk
        text, marks = snippet(chunk.text, stems, folded_words)
        hits.append(
            SearchHit(
                document=chunk.doc_id,
                anchor=chunk.anchor,
                title=chunk.title,
                section=chunk.section,
                heading=chunk.heading,
                pages=list(chunk.pages),
                score=float(source.score),
                snippet=text,
                highlights=marks,
            )
        )
    return hits
