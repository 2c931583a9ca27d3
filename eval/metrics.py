"""Scoring one answer against one curated question, summaries over many, and the confidence sweep.

An answer is the Answer JSON of assistant/types.py (`answer`, `abstained`, `confidence`,
`citations[{document, anchor, ...}]`). Retrieval is judged on the citations, in order; content on
the key facts found in the answer text (see eval/SCHEMA.md for the matching rule).
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from avtal.models import Chunk
from eval.questions import Question, fact_found, fold

HIT_AT = 5  # hit@5
CITED_AT = 2  # a short answer cites at most two clauses, and the baseline retrieves two chunks: hit@2

_PART_RE = re.compile(r"^(?P<base>.+)-(?P<n>\d+)$")


# --- split parts -----------------------------------------------------------------------------


def split_part_map(chunks: Iterable[Chunk]) -> dict[str, str]:
    """Map the id of each later part of a split clause to the id of the clause's first part.

    A long clause is chunked as `x`, `x-2`, `x-3`... with the same heading path, one right after
    the other. The same `-2` suffix is also given to a different clause whose heading repeats a
    slug (`oversyn-overenskommelser#uppfoljning-2` is another section than `#uppfoljning`); those
    are not consecutive and are not mapped.
    """
    chunks = list(chunks)
    by_id = {c.id: c for c in chunks}
    parts: dict[str, str] = {}
    for chunk in chunks:
        m = _PART_RE.match(chunk.anchor)
        if not m:
            continue
        n = int(m.group("n"))
        base_id = f"{chunk.doc_id}#{m.group('base')}"
        previous_id = base_id if n == 2 else f"{base_id}-{n - 1}"
        previous = by_id.get(previous_id)
        if (
            previous is not None
            and base_id in by_id
            and previous.heading_path == chunk.heading_path
            and chunk.order == previous.order + 1
            and (n == 2 or previous_id in parts)
        ):
            parts[chunk.id] = base_id
    return parts


def matches_gold(cited: str, gold: Iterable[str], parts: Mapping[str, str] | None = None) -> bool:
    """Whether a cited clause id counts as one of the gold clauses.

    A citation of the gold clause itself counts, and so does a citation of a later part of a
    split gold clause (gold `x#7.1.2`, cited `x#7.1.2-2`). With `parts` (from `split_part_map`)
    the split parts are known exactly; without it any `-N` suffix is taken as a split part.
    """
    gold = set(gold)
    if cited in gold:
        return True
    if parts is not None:
        return parts.get(cited) in gold
    m = _PART_RE.match(cited)
    return bool(m and "#" in m.group("base") and m.group("base") in gold)


# --- one answer ------------------------------------------------------------------------------


def as_answer_dict(answer: Any) -> dict[str, Any]:
    """The Answer JSON from a dict, an Answer object (`to_dict()`) or a dataclass."""
    if isinstance(answer, Mapping):
        return dict(answer)
    to_dict = getattr(answer, "to_dict", None)
    if callable(to_dict):
        return dict(to_dict())
    raise TypeError(f"expected an Answer dict or object, got {type(answer).__name__}")


def _get(obj: Any, name: str) -> Any:
    return obj.get(name) if isinstance(obj, Mapping) else getattr(obj, name, None)


def cited_ids(answer: Mapping[str, Any]) -> list[str]:
    """`document#anchor` of each citation, in order, without repeats."""
    ids: list[str] = []
    for citation in answer.get("citations") or []:
        document, anchor = _get(citation, "document"), _get(citation, "anchor")
        if document and anchor:
            ids.append(f"{document}#{anchor}")
    return list(dict.fromkeys(ids))


def gold_rank(
    ranked: Sequence[str], gold: Iterable[str], parts: Mapping[str, str] | None = None
) -> int | None:
    """1-based position of the first ranked id that counts as gold, or None."""
    gold = list(gold)
    for position, cid in enumerate(ranked, 1):
        if matches_gold(cid, gold, parts):
            return position
    return None


def score(
    question: Question, answer: Mapping[str, Any] | Any, parts: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Score one answer to one question.

    Returns the per-question row: gold rank and hits (answerable questions; citations count
    whether or not the assistant abstained), key-fact recall on the folded answer text,
    abstention, and for out-of-scope questions whether the assistant abstained.
    """
    data = as_answer_dict(answer)
    cited = cited_ids(data)
    answer_text = str(data.get("answer") or "")
    abstained = bool(data.get("abstained"))
    confidence = data.get("confidence")
    row: dict[str, Any] = {
        "id": question.id,
        "kind": question.kind,
        "user_group": question.user_group,
        "split": question.split,
        "document": question.gold_documents[0] if question.gold else None,
        "answerable": question.answerable,
        "abstained": abstained,
        "confidence": float(confidence) if isinstance(confidence, (int, float)) else None,
        "cited": cited,
        "answer_words": len(answer_text.split()),
    }
    if question.answerable:
        rank = gold_rank(cited, question.gold, parts)
        text = fold(answer_text)
        found = [fact_found(text, fact, folded=True) for fact in question.key_facts]
        row.update(
            {
                "gold_rank": rank,
                "hit@1": rank == 1,
                f"hit@{CITED_AT}": rank is not None and rank <= CITED_AT,
                f"hit@{HIT_AT}": rank is not None and rank <= HIT_AT,
                "reciprocal_rank": 1.0 / rank if rank else 0.0,
                "key_facts_found": sum(found),
                "key_facts_total": len(found),
                "key_fact_recall": sum(found) / len(found) if found else None,
                "missing_facts": [
                    fact[0] for fact, ok in zip(question.key_facts, found, strict=True) if not ok
                ],
                "false_abstention": abstained,
                "oos_abstained": None,
                **citation_support(question, data, rank),
            }
        )
    else:
        row.update(
            {
                "gold_rank": None,
                "hit@1": None,
                f"hit@{CITED_AT}": None,
                f"hit@{HIT_AT}": None,
                "reciprocal_rank": None,
                "key_facts_found": None,
                "key_facts_total": None,
                "key_fact_recall": None,
                "missing_facts": [],
                "false_abstention": None,
                "oos_abstained": abstained,
                "cited_gold": None,
                "cited_clauses": None,
                "cited_with_fact": None,
                "citation_fact_recall": None,
                "first_citation_gold": None,
            }
        )
    return row


def citation_support(question: Question, answer: Mapping[str, Any], rank: int | None) -> dict[str, Any]:
    """How well the citations of an answer to an answerable question back it.

    Each cited clause is judged on its whole text (`citations[].text`; the quote when the text is
    missing), once per clause. `cited_gold`: whether any citation is a gold clause (False when
    nothing is cited); `cited_with_fact`: cited clauses holding at least one of the
    question's key facts (of `cited_clauses`); `citation_fact_recall`: the question's key facts
    found in the cited clauses taken together; `first_citation_gold`: whether the first citation is
    a gold clause. When the answer cites nothing (an abstention, usually) the last three are None.
    """
    texts: dict[str, str] = {}
    for citation in answer.get("citations") or []:
        document, anchor = _get(citation, "document"), _get(citation, "anchor")
        text = _get(citation, "text") or _get(citation, "quote") or ""
        key = f"{document}#{anchor}" if document and anchor else f"text:{len(texts)}"
        texts.setdefault(key, fold(str(text)))
    if not texts:
        return {
            "cited_gold": False,
            "cited_clauses": 0,
            "cited_with_fact": None,
            "citation_fact_recall": None,
            "first_citation_gold": None,
        }
    facts = question.key_facts
    with_fact = sum(any(fact_found(t, fact, folded=True) for fact in facts) for t in texts.values())
    together = " \n ".join(texts.values())
    found = sum(fact_found(together, fact, folded=True) for fact in facts)
    return {
        "cited_gold": rank is not None,
        "cited_clauses": len(texts),
        "cited_with_fact": with_fact,
        "citation_fact_recall": found / len(facts) if facts else None,
        "first_citation_gold": rank == 1,
    }


# --- summaries -------------------------------------------------------------------------------


def _mean(values: Iterable[float | bool | None]) -> float | None:
    kept = [float(v) for v in values if v is not None]
    return sum(kept) / len(kept) if kept else None


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100) of the values, or None when there are none."""
    if not values:
        return None
    ordered = sorted(values)
    index = max(0, math.ceil(p / 100 * len(ordered)) - 1)
    return ordered[index]


def summarize(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Aggregate rows of `score` (plus `latency_s` and `error` when run by eval.run)."""
    answerable = [r for r in rows if r["answerable"]]
    oos = [r for r in rows if not r["answerable"]]
    latencies = [float(r["latency_s"]) for r in rows if r.get("latency_s") is not None]
    cited = sum(r.get("cited_clauses") or 0 for r in answerable if r.get("cited_with_fact") is not None)
    with_fact = sum(r.get("cited_with_fact") or 0 for r in answerable)
    words = [r["answer_words"] for r in rows if r.get("answer_words") is not None and not r.get("abstained")]
    return {
        "n": len(rows),
        "answerable": len(answerable),
        "out_of_scope": len(oos),
        "hit@1": _mean(r["hit@1"] for r in answerable),
        f"hit@{CITED_AT}": _mean(r.get(f"hit@{CITED_AT}") for r in answerable),
        f"hit@{HIT_AT}": _mean(r[f"hit@{HIT_AT}"] for r in answerable),
        "mrr": _mean(r["reciprocal_rank"] for r in answerable),
        "key_fact_recall": _mean(r.get("key_fact_recall") for r in answerable),
        "citation_precision": with_fact / cited if cited else None,
        "citation_fact_recall": _mean(r.get("citation_fact_recall") for r in answerable),
        "first_citation_gold": _mean(r.get("first_citation_gold") for r in answerable),
        "cited_gold": _mean(r.get("cited_gold") for r in answerable),
        "answer_words_median": statistics.median(words) if words else None,
        "false_abstention": _mean(r.get("abstained") for r in answerable),
        "oos_abstention": _mean(r.get("abstained") for r in oos),
        "latency_median_s": statistics.median(latencies) if latencies else None,
        "latency_p95_s": percentile(latencies, 95),
        "errors": sum(1 for r in rows if r.get("error")),
    }


def breakdown(
    rows: Sequence[Mapping[str, Any]], key: str, order: Sequence[str] = ()
) -> dict[str, dict[str, Any]]:
    """`summarize` per value of a row field (kind, user_group, document).

    Values listed in `order` come first, in that order; others follow in first-seen order. A row
    without the field (an out-of-scope question has no gold document) is grouped as "out_of_scope".
    """
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault(str(row.get(key) or "out_of_scope"), []).append(row)
    rank = {name: i for i, name in enumerate(order)}
    names = sorted(groups, key=lambda name: rank.get(name, len(rank)))
    return {name: summarize(groups[name]) for name in names}


def confidence_sweep(
    rows: Sequence[Mapping[str, Any]], thresholds: Sequence[float] | None = None
) -> list[dict[str, Any]]:
    """What abstaining below each confidence threshold would give, for calibrating the threshold.

    Assumes the assistant abstains exactly when `confidence < threshold` (a row without a
    confidence counts as 0). Per threshold: false abstention on answerable questions, abstention
    on out-of-scope questions, how many answerable questions are answered and their hit@1.
    """
    if thresholds is None:
        thresholds = [round(i * 0.05, 2) for i in range(21)]
    answerable = [r for r in rows if r["answerable"]]
    oos = [r for r in rows if not r["answerable"]]

    def conf(row: Mapping[str, Any]) -> float:
        value = row.get("confidence")
        return float(value) if isinstance(value, (int, float)) else 0.0

    sweep: list[dict[str, Any]] = []
    for t in sorted(thresholds):
        answered = [r for r in answerable if conf(r) >= t]
        sweep.append(
            {
                "threshold": t,
                "false_abstention": (len(answerable) - len(answered)) / len(answerable)
                if answerable
                else None,
                "oos_abstention": sum(conf(r) < t for r in oos) / len(oos) if oos else None,
                "answered": len(answered),
                "answered_hit@1": _mean(r.get("hit@1") for r in answered),
            }
        )
    return sweep
