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
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from assistant.compose import Idf, coverage
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
) -> list[float]:
    signals = source.signals

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
        coverage(stems, clause_stems, idf),
        coverage(stems, heading_stems, idf),
        coverage(carried, clause_stems, idf) if carried else 0.0,
        min(len(source.chunk.text.split()), 400) / 400,
    ]


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
