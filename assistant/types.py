"""The answer contract shared by the CLI, the API, the UI and the evaluation.

Field names and types are fixed (later issues may add fields, never rename these); `to_dict()`
is the JSON the CLI prints with `--json` and the HTTP API returns.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from avtal.models import Chunk

Audience = Literal["kort", "utförlig"]
AUDIENCES: tuple[str, ...] = ("kort", "utförlig")


@dataclass
class Turn:
    """One earlier turn of the conversation."""

    role: Literal["user", "assistant"]
    content: str


@dataclass
class Source:
    """A retrieved clause with its fused score and the signals behind it."""

    chunk: Chunk
    score: float
    signals: dict[str, float] = field(default_factory=dict)


@dataclass
class Citation:
    n: int
    document: str  # doc id
    title: str
    doc_type: str | None
    date: str | None
    section: str | None
    heading: str | None
    pages: list[int]  # every page the clause spans
    quote: str  # the words used: an exact substring of `text`
    text: str  # the whole clause text (repaired)
    anchor: str
    score: float
    # The words used as separate runs, each an exact substring of `text`: `quote` spans them all
    # (with any sentence skipped between them); this marks only what the answer uses.
    quotes: list[str] = field(default_factory=list)


@dataclass
class Answer:
    id: str
    answer: str
    abstained: bool
    confidence: float  # 0-1; what abstention thresholds act on
    audience: str
    citations: list[Citation] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
