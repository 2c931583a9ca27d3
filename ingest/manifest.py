"""Document metadata from an optional `manifest.json` beside the documents.

The manifest has the keys of the county corpus manifest (`title`, `doc_type`, `issuer`, `date`,
`date_precision`) plus `valid_from`, `valid_to`, `supersedes` and `source_url`:

    {"documents": [{"file": "riktlinje-hok-2022.pdf", "title": "...", "doc_type": "riktlinje", ...}]}

Without an entry, the title comes from the document's first heading and the missing fields are
listed so the summary can say so.
"""

from __future__ import annotations

import json
import re
import unicodedata
from pathlib import Path
from typing import Any

from avtal.errors import ConfigurationError
from avtal.models import DOC_TYPES, DocumentMeta

MANIFEST_NAME = "manifest.json"
META_FIELDS = ("title", "doc_type", "issuer", "date")
_OPTIONAL = ("date_precision", "valid_from", "valid_to", "source_url")


def doc_id_for(path: Path) -> str:
    """A stable document id from the file name: 'Riktlinje HÖK 2022.pdf' -> 'riktlinje-hok-2022'."""
    text = unicodedata.normalize("NFKD", path.stem.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-") or "dokument"


def load_manifest(folder: Path) -> dict[str, dict[str, Any]]:
    """Entries of `folder/manifest.json` keyed by file name, and by file stem for convenience."""
    path = folder / MANIFEST_NAME
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ConfigurationError(
            f"Manifestet {path} kunde inte läsas: {exc}.",
            "Rätta JSON-filen (den ska ha en lista 'documents' med ett objekt per fil) eller ta bort den.",
            file=str(path),
        ) from exc
    documents = data.get("documents") if isinstance(data, dict) else data
    if not isinstance(documents, list):
        raise ConfigurationError(
            f"Manifestet {path} saknar listan 'documents'.",
            'Skriv manifestet som {"documents": [{"file": "namn.pdf", "title": "..."}]}.',
            file=str(path),
        )
    entries: dict[str, dict[str, Any]] = {}
    for entry in documents:
        if isinstance(entry, dict) and isinstance(entry.get("file"), str):
            entries[entry["file"]] = entry
            entries.setdefault(Path(entry["file"]).stem, entry)
    return entries


def build_meta(path: Path, entry: dict[str, Any] | None, fallback_title: str | None) -> DocumentMeta:
    """DocumentMeta from a manifest entry (or none), noting which fields are missing."""
    entry = entry or {}
    title = entry.get("title") or fallback_title or path.stem
    supersedes = entry.get("supersedes") or []
    if isinstance(supersedes, str):
        supersedes = [supersedes]
    meta = DocumentMeta(
        doc_id=doc_id_for(path),
        title=str(title),
        doc_type=entry.get("doc_type"),
        issuer=entry.get("issuer"),
        date=_str_or_none(entry.get("date")),
        supersedes=[str(s) for s in supersedes],
        file=path.name,
        **{k: _str_or_none(entry.get(k)) for k in _OPTIONAL},
    )
    meta.missing_fields = [f for f in META_FIELDS if not entry.get(f)]
    if meta.doc_type is not None and meta.doc_type not in DOC_TYPES:
        meta.missing_fields.append("doc_type")
        meta.doc_type = None
    return meta


def _str_or_none(value: Any) -> str | None:
    return None if value in (None, "") else str(value)
