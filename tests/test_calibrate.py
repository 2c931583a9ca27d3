"""The fitting helpers of eval.calibrate (fast, no index)."""

from __future__ import annotations

import random

from assistant.confidence import fit
from assistant.rerank import Reranker
from eval.calibrate import Row, choose_l2, choose_threshold


def _scores(seed: int = 1) -> tuple[list[float], list[int]]:
    rng = random.Random(seed)
    pos = [min(0.99, max(0.01, rng.gauss(0.8, 0.05))) for _ in range(80)]
    neg = [min(0.99, max(0.01, rng.gauss(0.6, 0.08))) for _ in range(20)]
    return pos + neg, [1] * 80 + [0] * 20


def test_threshold_leaves_about_the_asked_share_of_answerable_below() -> None:
    scores, labels = _scores()
    for rate in (0.025, 0.05, 0.2):
        threshold = choose_threshold(scores, labels, rate)
        below = sum(s < threshold for s, y in zip(scores, labels, strict=True) if y) / 80
        assert abs(below - rate) <= 0.04, (rate, below)
    assert choose_threshold(scores, labels, 0.025) < choose_threshold(scores, labels, 0.2)


def test_one_answerable_score_falling_to_near_zero_hardly_moves_the_threshold() -> None:
    scores, labels = _scores()
    moved = [0.001 if i == 0 else s for i, s in enumerate(scores)]
    assert abs(choose_threshold(moved, labels, 0.025) - choose_threshold(scores, labels, 0.025)) < 0.01


def test_questions_the_rules_abstain_on_use_the_budget_first() -> None:
    scores, labels = _scores()
    ruled = [i < 2 for i in range(100)]  # two answerable questions abstained by a rule anyway
    assert choose_threshold(scores, labels, 0.02, ruled) == 0.0  # 2 of 80 = 2.5 %: nothing left
    assert choose_threshold(scores, labels, 0.05, ruled) < choose_threshold(scores, labels, 0.05)


def test_choose_l2_returns_out_of_fold_scores_for_every_row() -> None:
    rng = random.Random(3)
    rows = [
        Row(f"q{i:03}", "fact", [rng.random() + (0.5 if i < 60 else 0.0), rng.random()], int(i < 60))
        for i in range(80)
    ]
    l2, held_out = choose_l2(rows, grid=(0.5, 8.0))
    assert l2 in (0.5, 8.0) and set(held_out) == {r.qid for r in rows}
    # the informative feature separates the held-out rows too
    pos = sum(held_out[r.qid] for r in rows if r.label) / 60
    neg = sum(held_out[r.qid] for r in rows if not r.label) / 20
    assert pos > neg


def test_fit_learns_the_direction_of_the_evidence() -> None:
    rows = [([x / 10, 0.5], int(x >= 5)) for x in range(10)] * 3
    weights, bias = fit(rows, l2=0.5, steps=3000)
    reranker = Reranker(weights, bias)
    assert weights[0] > 0 and reranker.score([0.9, 0.5]) > reranker.score([0.1, 0.5])


def test_platt_scaling_spreads_squeezed_scores_and_keeps_their_order() -> None:
    from eval.calibrate import auc, platt, rescaled

    # squeezed around the base rate, as a strongly penalised model gives them
    scores, labels = _scores()
    squeezed = [0.75 + (s - 0.7) * 0.2 for s in scores]
    scale, shift = platt(squeezed, labels)
    calibrated = [rescaled(s, scale, shift) for s in squeezed]
    assert scale > 1.0
    assert auc(calibrated, labels) == auc(squeezed, labels)  # the same order
    answerable = sorted(c for c, y in zip(calibrated, labels, strict=True) if y)
    unanswerable = sorted(c for c, y in zip(calibrated, labels, strict=True) if not y)
    assert answerable[len(answerable) // 2] > 0.9 and unanswerable[len(unanswerable) // 2] < 0.5
    # calibrated: about as many answerable as the mean confidence says
    assert abs(sum(calibrated) / len(calibrated) - 0.8) < 0.03
