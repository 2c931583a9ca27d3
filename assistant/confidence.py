"""Evidence signals for abstention, and the calibrated model that turns them into a confidence.

Top-1 similarity alone does not separate out-of-scope questions here (FINDINGS.md: AUC 0.54), so
the confidence rests on evidence: how much of the question's content the best clause and its best
sentence cover, whether the lexical and dense rankings agree on it, whether the clause holds what
the kind of question asks for (a date for "när", a frequency for "hur ofta"), and the dense score.

The weights are fitted by logistic regression on the `calibrate` half of eval/questions.jsonl
(`python -m eval.calibrate`) and stored in assistant/resources/confidence.json.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

RESOURCE = Path(__file__).resolve().parent / "resources" / "confidence.json"
FEATURES = (
    "coverage_clause",
    "coverage_sentence",
    "agreement",
    "type_match",
    "dense",
    "coverage_top3",
    "missing_idf",
    "unknown_share",
    "specific_missing",
    "answer_type_missing",
)


@dataclass
class Evidence:
    coverage_clause: float  # IDF-weighted share of question stems in the best clause (text + headings)
    coverage_sentence: float  # ... in its best sentence
    agreement: float  # 1 when the best clause is top-3 in both lexical and dense rankings, 0.5 in one
    type_match: float  # 1 when the clause holds what the kind of question asks for
    dense: float  # cosine of the best clause in the dense ranking (0 when absent)
    coverage_top3: float  # share of question stems found in any of the three best clauses
    missing_idf: float  # the rarest question stem absent from the three best clauses (IDF, 0-1)
    unknown_share: float  # IDF-weighted share of question stems that occur nowhere in the corpus
    specific_missing: float = 0.0  # 1 when a date, number or frequency is asked and the answer has none
    answer_type_missing: float = 0.0  # 1 when an amount, contact detail or count is asked and not given

    def vector(self) -> list[float]:
        return [float(getattr(self, name)) for name in FEATURES]

    def to_dict(self) -> dict[str, float]:
        return asdict(self)


@dataclass
class ConfidenceModel:
    weights: list[float]
    bias: float
    threshold: float

    def __call__(self, evidence: Evidence) -> float:
        z = self.bias + sum(w * x for w, x in zip(self.weights, evidence.vector(), strict=True))
        return 1.0 / (1.0 + math.exp(-z))

    def to_json(self) -> dict[str, object]:
        return {
            "features": list(FEATURES),
            "weights": self.weights,
            "bias": self.bias,
            "threshold": self.threshold,
        }


# Before calibration: a hand-set model that leans on coverage (replaced by the fitted file).
DEFAULT = ConfidenceModel(
    weights=[5.0, 2.0, 1.0, 1.0, 3.0, 1.0, -2.0, -3.0, -1.0, -2.0], bias=-6.0, threshold=0.35
)


@lru_cache(maxsize=4)
def load_model(path: Path = RESOURCE) -> ConfidenceModel:
    if not path.is_file():
        return DEFAULT
    data = json.loads(path.read_text(encoding="utf-8"))
    if list(data.get("features", [])) != list(FEATURES):
        return DEFAULT
    return ConfidenceModel(list(map(float, data["weights"])), float(data["bias"]), float(data["threshold"]))


def fit(
    rows: list[tuple[list[float], int]], l2: float = 2.0, steps: int = 20000, lr: float = 1.0
) -> tuple[list[float], float]:
    """Logistic regression by full-batch gradient descent (few features, few rows).

    `rows` are (features, label); `l2` is the ridge penalty on the weights (not the bias),
    relative to the number of rows.
    """
    import numpy as np

    if not rows:
        return list(DEFAULT.weights), DEFAULT.bias
    x = np.asarray([r[0] for r in rows], dtype=float)
    y = np.asarray([r[1] for r in rows], dtype=float)
    n, dim = x.shape
    weights = np.zeros(dim)
    bias = 0.0
    for _ in range(steps):
        z = np.clip(bias + x @ weights, -30.0, 30.0)
        residual = 1.0 / (1.0 + np.exp(-z)) - y
        weights -= lr * (x.T @ residual / n + l2 * weights / n)
        bias -= lr * float(residual.mean())
    return [float(w) for w in weights], float(bias)
