"""Documents and clauses as the API shows them: metadata, validity, clause text and links."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from api.errors import UnknownClause, UnknownDocument

if TYPE_CHECKING:
    from assistant.core import Assistant
    from avtal.models import Chunk

_META_FIELDS = (
    "title",
    "doc_type",
    "issuer",
    "date",
    "date_precision",
    "valid_from",
    "valid_to",
    "supersedes",
    "source_url",
    "pages",
    "ocr",
)


def document_or_404(assistant: Assistant, doc_id: str) -> dict[str, Any]:
    doc = assistant.version.documents.get(doc_id)
    if doc is None:
        raise UnknownDocument(f"Dokumentet {doc_id!r} finns inte i indexet.")
    return doc


def chunks_of(assistant: Assistant, doc_id: str) -> list[Chunk]:
    return sorted((c for c in assistant.version.chunks if c.doc_id == doc_id), key=lambda c: c.order)


def original_file(doc: dict[str, Any]) -> Path | None:
    """The original file as ingested, when it is still on disk."""
    source = doc.get("source_path")
    if not source:
        return None
    path = Path(source)
    return path if path.is_file() else None


def file_url(doc_id: str, doc: dict[str, Any], page: int | None = None) -> str | None:
    """``/filer/{id}.pdf#page=N`` (or the original's own extension), when the file is available."""
    path = original_file(doc)
    if path is None:
        return None
    url = f"/filer/{quote(doc_id)}{path.suffix.lower()}"
    if page and path.suffix.lower() == ".pdf":
        url += f"#page={page}"
    return url


def page_url(doc_id: str, anchor: str | None = None) -> str:
    url = f"/dokument/{quote(doc_id)}"
    return url + (f"#{quote(anchor, safe='.-_~')}" if anchor else "")


def validity(assistant: Assistant, doc_id: str, doc: dict[str, Any]) -> dict[str, Any]:
    today = dt.date.today().isoformat()
    superseded_by = [
        other_id
        for other_id, other in assistant.version.documents.items()
        if doc_id in (other.get("supersedes") or [])
    ]
    expired = bool(doc.get("valid_to")) and str(doc["valid_to"]) < today
    not_yet = bool(doc.get("valid_from")) and str(doc["valid_from"]) > today
    notes = assistant.document_notes(doc_id)
    return {
        "in_force": not (expired or not_yet or superseded_by),
        "expired": expired,
        "superseded_by": superseded_by,
        "warnings": notes,
    }


def document_summary(assistant: Assistant, doc_id: str) -> dict[str, Any]:
    doc = document_or_404(assistant, doc_id)
    data: dict[str, Any] = {"id": doc_id}
    data.update({k: doc.get(k) for k in _META_FIELDS})
    data["chunks"] = sum(1 for c in assistant.version.chunks if c.doc_id == doc_id)
    data["validity"] = validity(assistant, doc_id, doc)
    data["links"] = {"page": page_url(doc_id), "file": file_url(doc_id, doc)}
    return data


def clause_outline(chunk: Chunk) -> dict[str, Any]:
    return {
        "anchor": chunk.anchor,
        "id": chunk.id,
        "section": chunk.section,
        "heading": chunk.heading,
        "pages": chunk.pages,
    }


def document_detail(assistant: Assistant, doc_id: str) -> dict[str, Any]:
    data = document_summary(assistant, doc_id)
    data["clauses"] = [clause_outline(c) for c in chunks_of(assistant, doc_id)]
    return data


def clause_detail(assistant: Assistant, doc_id: str, anchor: str) -> dict[str, Any]:
    doc = document_or_404(assistant, doc_id)
    chunks = chunks_of(assistant, doc_id)
    index = next((i for i, c in enumerate(chunks) if c.anchor == anchor), None)
    if index is None:
        raise UnknownClause(f"Avsnittet {anchor!r} finns inte i dokumentet {doc_id!r}.")
    chunk = chunks[index]
    first_page = chunk.pages[0] if chunk.pages else None
    return {
        "document": doc_id,
        "anchor": chunk.anchor,
        "id": chunk.id,
        "title": doc.get("title") or chunk.title,
        "doc_type": chunk.doc_type,
        "date": chunk.date,
        "section": chunk.section,
        "heading": chunk.heading,
        "section_path": list(chunk.heading_path),
        "pages": chunk.pages,
        "text": chunk.text,
        "previous": clause_outline(chunks[index - 1]) if index > 0 else None,
        "next": clause_outline(chunks[index + 1]) if index + 1 < len(chunks) else None,
        "validity": validity(assistant, doc_id, doc),
        "links": {
            "page": page_url(doc_id, chunk.anchor),
            "file": file_url(doc_id, doc, first_page),
            "source_url": doc.get("source_url"),
        },
    }
