"""A small learned reranker over the fused candidates (pointwise logistic regression).

Reciprocal rank fusion treats the three rankings alike; on this corpus the lexical rankings are
more often right than the dense one, and how much of the question a clause (and its headings)
covers is a strong signal of its own. The reranker weighs these per candidate. Its weights are
fitted on the `calibrate` half of eval/questions.jsonl by `python -m eval.calibrate` and stored in
assistant/resources/reranker.json; without that file the fused order stands.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from assistant.compose import SPECIFIC_KINDS, Idf, coverage, type_match, unit_coverage
from assistant.types import Source

RESOURCE = Path(__file__).resolve().parent / "resources" / "reranker.json"
FEATURES = (
    "fused",
    "inv_rank_stem",
    "inv_rank_char",
    "inv_rank_dense",
    "dense",
    "coverage_clause",
    "coverage_heading",
    "coverage_carried",
    "length",
    "document_named",
    "holds_asked_kind",
    "coverage_sentence",
    "coverage_pair",
)
CANDIDATES = 20  # fused candidates the reranker orders


def features(
    source: Source,
    top_fused: float,
    stems: Sequence[str],
    carried: Sequence[str],
    clause_stems: set[str],
    heading_stems: set[str],
    idf: Idf,
    named_documents: set[str] | frozenset[str] = frozenset(),
    qtype: str = "other",
    unit_stems: Sequence[set[str]] = (),
) -> list[float]:
    signals = source.signals
    # how much of the question one sentence (or two in a row) of the clause covers: an answer
    # usually stands in one place, where a long clause may cover the words scattered
    single = [unit_coverage(stems, u, idf) for u in unit_stems]
    pairs = [unit_coverage(stems, a | b, idf) for a, b in pairwise(unit_stems)]

    def inv(mode: str) -> float:
        rank = signals.get(f"rank_{mode}", 0.0)
        return 1.0 / rank if rank > 0 else 0.0

    fused = signals.get("fused", source.score)
    return [
        fused / top_fused if top_fused else 0.0,
        inv("stem"),
        inv("char"),
        inv("dense"),
        float(signals.get("score_dense", 0.0)),
        unit_coverage(stems, clause_stems, idf),
        unit_coverage(stems, heading_stems, idf),
        coverage(carried, clause_stems, idf) if carried else 0.0,
        min(len(source.chunk.text.split()), 400) / 400,
        1.0 if source.chunk.doc_id in named_documents else 0.0,
        # a "hur ofta" / "när" / "hur många" question: does the clause hold a frequency, date, number?
        1.0 if qtype in SPECIFIC_KINDS and type_match(qtype, source.chunk.text) else 0.0,
        max(single, default=0.0),
        max(pairs, default=max(single, default=0.0)),
    ]


def document_aliases(documents: dict[str, dict[str, object]]) -> dict[str, tuple[str, bool]]:
    """Stems by which a question may name one document, each with whether it needs the definite
    form to count: its type and the first word of its title name it only as "riktlinjen",
    "översynens", "tjänsteskrivelsen" (the indefinite "en riktlinje" is a concept); the rare proper
    names of its issuer ("Äldrecentrum", "SKR") name it anywhere. Kept only where they name one
    document alone."""
    from wordfreq import zipf_frequency

    from index.lexical import stem_tokens

    owners: dict[tuple[str, bool], set[str]] = {}

    def add(word: str, doc_id: str, definite: bool) -> None:
        for stem in stem_tokens(word):
            if len(stem) >= 3:
                owners.setdefault((stem, definite), set()).add(doc_id)

    for doc_id, doc in documents.items():
        if doc.get("doc_type"):
            add(str(doc["doc_type"]), doc_id, True)
        title = str(doc.get("title") or "").split()
        if title and zipf_frequency(title[0].lower().strip(":,"), "sv") < 3.5:
            add(title[0].strip(":,"), doc_id, True)
        for word in re.findall(r"\b[A-ZÅÄÖ][\wåäöÅÄÖ]+", str(doc.get("issuer") or "")):
            if zipf_frequency(word.lower(), "sv") < 3.5:
                add(word, doc_id, False)
    return {stem: (next(iter(ids)), definite) for (stem, definite), ids in owners.items() if len(ids) == 1}


_DEFINITE = re.compile(r"(en|n|ens|ns|et|ets)$")


def named_documents(question: str, aliases: dict[str, tuple[str, bool]]) -> set[str]:
    """The documents a question names ("enligt riktlinjen", "i Äldrecentrums rapport")."""
    from index.lexical import stem_tokens, words

    named: set[str] = set()
    for word in words(question):
        for stem in stem_tokens(word):
            if stem in aliases:
                doc_id, definite = aliases[stem]
                if not definite or (_DEFINITE.search(word) and word != stem):
                    named.add(doc_id)
    return named


@dataclass
class Reranker:
    weights: list[float]
    bias: float

    def score(self, x: Sequence[float]) -> float:
        z = self.bias + sum(w * v for w, v in zip(self.weights, x, strict=True))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))

    def to_json(self) -> dict[str, object]:
        return {"features": list(FEATURES), "weights": self.weights, "bias": self.bias}


@lru_cache(maxsize=4)
def load_reranker(path: Path = RESOURCE) -> Reranker | None:
    if not path.is_file():
        return None
    data = json.loads(path.read_text(encoding="utf-8"))
    if list(data.get("features", [])) != list(FEATURES):
        return None  # written for other features: the fused order stands until recalibrated
    return Reranker([float(w) for w in data["weights"]], float(data["bias"]))
