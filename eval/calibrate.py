"""Fit the abstention model on the `calibrate` half of the question set (never on `report`).

    python -m eval.calibrate            # fits, prints the figures, writes assistant/resources/confidence.json
    python -m eval.calibrate --dry-run  # prints only

Features are the evidence signals of `assistant.confidence` for each question; the label is 1 for an
answerable question and 0 for an out-of-scope one. The threshold is the highest that keeps false
abstention on the calibrate half at or under `--max-false-abstention` (default 4 %, under the 5 %
target, to leave room for the report half).
"""

from __future__ import annotations

import argparse
import json
import math
from dataclasses import dataclass

from assistant.confidence import FEATURES, RESOURCE, ConfidenceModel, fit
from assistant.core import Assistant
from eval.questions import Question, load_questions


@dataclass
class Row:
    qid: str
    kind: str
    features: list[float]
    label: int


def collect(assistant: Assistant, questions: list[Question]) -> list[Row]:
    rows = []
    for q in questions:
        prepared = assistant.prepare(q.question, [dict(t) for t in q.history])
        _, evidence = assistant.assess(prepared)
        rows.append(Row(q.id, q.kind, evidence.vector(), 0 if q.kind == "out_of_scope" else 1))
    return rows


def auc(scores: list[float], labels: list[int]) -> float:
    pos = [s for s, y in zip(scores, labels, strict=True) if y == 1]
    neg = [s for s, y in zip(scores, labels, strict=True) if y == 0]
    if not pos or not neg:
        return float("nan")
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


def choose_threshold(scores: list[float], labels: list[int], max_false_abstention: float) -> float:
    """The highest threshold whose false abstention (answerable below it) stays within the limit."""
    answerable = sorted(s for s, y in zip(scores, labels, strict=True) if y == 1)
    if not answerable:
        return 0.5
    allowed = math.floor(max_false_abstention * len(answerable))
    # threshold just above the `allowed`-th lowest answerable score
    cut = answerable[allowed] if allowed < len(answerable) else answerable[-1]
    return max(0.0, cut - 1e-6)


def rates(scores: list[float], labels: list[int], threshold: float) -> tuple[float, float]:
    ans = [s for s, y in zip(scores, labels, strict=True) if y == 1]
    oos = [s for s, y in zip(scores, labels, strict=True) if y == 0]
    false_abst = sum(s < threshold for s in ans) / max(len(ans), 1)
    oos_abst = sum(s < threshold for s in oos) / max(len(oos), 1)
    return false_abst, oos_abst


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-false-abstention", type=float, default=0.04)
    parser.add_argument("--dry-run", action="store_true")
    args = parser.parse_args()

    assistant = Assistant.from_settings()
    questions = load_questions()
    calib = collect(assistant, [q for q in questions if q.split == "calibrate"])
    report = collect(assistant, [q for q in questions if q.split == "report"])
    weights, bias = fit([(r.features, r.label) for r in calib])
    model = ConfidenceModel(weights, bias, 0.5)
    scores = [model_score(model, r) for r in calib]
    labels = [r.label for r in calib]
    model.threshold = choose_threshold(scores, labels, args.max_false_abstention)
    print(
        "features:",
        ", ".join(f"{n}={w:+.2f}" for n, w in zip(FEATURES, weights, strict=True)),
        f"bias={bias:+.2f}",
    )
    for name, rows in (("calibrate", calib), ("report", report)):
        s = [model_score(model, r) for r in rows]
        y = [r.label for r in rows]
        fa, oa = rates(s, y, model.threshold)
        print(
            f"{name:9} n={len(rows):3} AUC={auc(s, y):.3f} threshold={model.threshold:.3f} "
            f"false abstention={fa:.3f} out-of-scope abstained={oa:.3f}"
        )
        for i, feature in enumerate(FEATURES):
            print(f"   AUC of {feature} alone: {auc([r.features[i] for r in rows], y):.3f}")
    if not args.dry_run:
        RESOURCE.parent.mkdir(parents=True, exist_ok=True)
        RESOURCE.write_text(json.dumps(model.to_json(), indent=1) + "\n", encoding="utf-8")
        print(f"written: {RESOURCE}")


def model_score(model: ConfidenceModel, row: Row) -> float:
    z = model.bias + sum(w * x for w, x in zip(model.weights, row.features, strict=True))
    return 1.0 / (1.0 + math.exp(-z))


if __name__ == "__main__":
    main()
