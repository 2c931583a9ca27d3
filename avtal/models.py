"""Plain data shared by ingest/, index/, assistant/ and ui/. No framework types here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

DOC_TYPES = ("överenskommelse", "riktlinje", "rutin", "vägledning", "rapport", "tjänsteskrivelse")


@dataclass
class DocumentMeta:
    """What a manifest (or the document itself) says about a document."""

    doc_id: str
    title: str
    doc_type: str | None = None
    issuer: str | None = None
    date: str | None = None
    date_precision: str | None = None
    valid_from: str | None = None
    valid_to: str | None = None
    supersedes: list[str] = field(default_factory=list)
    source_url: str | None = None
    file: str | None = None
    missing_fields: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Page:
    """One page of a document: its 1-based number and its text (as read, before cleaning)."""

    number: int
    text: str
    footnotes: list[str] = field(default_factory=list)  # footnote lines moved out of the body by cleaning


@dataclass
class ParsedDocument:
    """A document as read from disk, page by page."""

    path: str
    pages: list[Page]
    ocr: bool = False  # text came from Tesseract, not from a text layer
    headings: list[str] = field(default_factory=list)  # heading lines known from the format (docx styles)


@dataclass
class Chunk:
    """One clause (or one part of a long clause) with exact provenance."""

    doc_id: str
    anchor: str  # unique within the document, stable across re-ingests ("7.1.2", "uppfoljning-2")
    title: str
    doc_type: str | None
    date: str | None
    section: str | None  # section number as printed ("7.1.2"), or None
    heading: str | None  # the clause's own heading
    heading_path: list[str]  # headings from the top of the document down to this clause
    pages: list[int]  # every page the chunk spans, ascending
    text: str  # cleaned and repaired text, used for search and display
    original_text: str  # cleaned text before OCR repair (equal to text when nothing was repaired)
    order: int  # position of the chunk in its document
    repaired_words: int = 0

    @property
    def id(self) -> str:
        """Global name of the clause: ``document#anchor``."""
        return f"{self.doc_id}#{self.anchor}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Chunk:
        return cls(**data)
