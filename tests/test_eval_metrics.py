"""Scoring answers against curated questions, the run over a split, the report and the sweep."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.types import Answer, Citation
from avtal.models import Chunk
from eval.metrics import confidence_sweep, gold_rank, percentile, score, split_part_map, summarize
from eval.questions import Question
from eval.run import format_report, run, run_retrieval

R = "riktlinje-hok-2022"
OV = "oversyn-overenskommelser"


def _question(qid: str = "q001", kind: str = "responsibility", **changes: Any) -> Question:
    data: dict[str, Any] = {
        "id": qid,
        "user_group": "chef",
        "kind": kind,
        "question": f"fråga {qid}",
        "history": [],
        "answer": "Den samordnande vårdcentralen; SLSO stödjer.",
        "key_facts": [["samordnande vårdcentral"], ["SLSO", "Stockholms länssjukvårdsområde"]],
        "gold": [f"{R}#7.1.2"],
        "split": "report",
    }
    if kind == "out_of_scope":
        data.update(gold=[], key_facts=[])
    data.update(changes)
    return Question(**data)


def _answer(*cited: str, text: str = "", abstained: bool = False, confidence: float = 0.8) -> dict[str, Any]:
    citations = []
    for n, cid in enumerate(cited, 1):
        document, anchor = cid.split("#", 1)
        citations.append({"n": n, "document": document, "anchor": anchor, "quote": "", "score": 1.0})
    return {"answer": text, "abstained": abstained, "confidence": confidence, "citations": citations}


# --- retrieval ranks -------------------------------------------------------------------------


def test_gold_at_rank_two() -> None:
    row = score(_question(), _answer(f"{R}#7.1.1", f"{R}#7.1.2", f"{R}#8"))
    assert row["gold_rank"] == 2
    assert row["hit@1"] is False and row["hit@5"] is True
    assert row["reciprocal_rank"] == 0.5


def test_gold_beyond_five_and_no_citation() -> None:
    far = score(_question(), _answer(*[f"{R}#{a}" for a in ("1", "2", "3", "4", "5", "7.1.2")]))
    assert far["gold_rank"] == 6 and far["hit@5"] is False and far["reciprocal_rank"] == pytest.approx(1 / 6)
    none = score(_question(), _answer())
    assert none["gold_rank"] is None and none["hit@1"] is False and none["reciprocal_rank"] == 0.0


def test_repeated_citation_of_one_clause_counts_once() -> None:
    row = score(_question(), _answer(f"{R}#7.1.1", f"{R}#7.1.1", f"{R}#7.1.2"))
    assert row["gold_rank"] == 2
    assert row["cited"] == [f"{R}#7.1.1", f"{R}#7.1.2"]


def test_a_split_part_of_the_gold_clause_counts() -> None:
    row = score(_question(), _answer(f"{R}#7.1.2-2"))
    assert row["gold_rank"] == 1
    # but not the other way round: gold names a part, the citation is another part
    part_gold = _question(gold=[f"{R}#7.1.2-2"])
    assert score(part_gold, _answer(f"{R}#7.1.2"))["gold_rank"] is None


def _chunk(anchor: str, heading: str, order: int) -> Chunk:
    return Chunk(
        doc_id=OV,
        anchor=anchor,
        title="Översyn",
        doc_type="rapport",
        date=None,
        section=None,
        heading=heading,
        heading_path=[heading],
        pages=[1],
        text=heading,
        original_text=heading,
        order=order,
    )


def test_split_parts_from_chunks_tell_parts_from_repeated_headings() -> None:
    chunks = [
        _chunk("uppfoljning", "Uppföljning", 0),
        _chunk("uppfoljning-2", "Uppföljning", 7),  # another section with the same heading
        _chunk("malgrupp", "Målgrupp", 8),
        _chunk("malgrupp-2", "Målgrupp", 9),
        _chunk("malgrupp-3", "Målgrupp", 10),
    ]
    parts = split_part_map(chunks)
    assert parts == {f"{OV}#malgrupp-2": f"{OV}#malgrupp", f"{OV}#malgrupp-3": f"{OV}#malgrupp"}
    q = _question(gold=[f"{OV}#uppfoljning"])
    assert score(q, _answer(f"{OV}#uppfoljning-2"), parts)["gold_rank"] is None
    assert score(q, _answer(f"{OV}#uppfoljning-2"))["gold_rank"] == 1  # the suffix-only fallback
    assert gold_rank([f"{OV}#x", f"{OV}#malgrupp-3"], [f"{OV}#malgrupp"], parts) == 2


# --- key facts -------------------------------------------------------------------------------


def test_key_facts_match_folded_text_with_or_without_diacritics() -> None:
    q = _question()
    ascii_answer = _answer(
        f"{R}#7.1.2",
        text="Det gor den SAMORDNANDE VARDCENTRALEN, med stod fran stockholms lanssjukvardsomrade.",
    )
    row = score(q, ascii_answer)
    assert row["key_fact_recall"] == 1.0 and row["missing_facts"] == []
    half = score(q, _answer(f"{R}#7.1.2", text="Samordnande vårdcentral."))
    assert half["key_fact_recall"] == 0.5
    assert half["missing_facts"] == ["SLSO"]


def test_short_and_numeric_alternatives_match_whole_words() -> None:
    q = _question(key_facts=[["sju"], ["17"]])
    assert score(q, _answer(text="Hälso- och sjukvård sedan 2017."))["key_fact_recall"] == 0.0
    assert score(q, _answer(text="Från 17 till sju."))["key_fact_recall"] == 1.0


# --- abstention ------------------------------------------------------------------------------


def test_abstaining_on_an_answerable_question_is_a_false_abstention() -> None:
    row = score(
        _question(),
        _answer(f"{R}#7.1.2", text="Dokumenten svarar inte på det.", abstained=True, confidence=0.2),
    )
    assert row["abstained"] is True and row["false_abstention"] is True
    assert row["gold_rank"] == 1  # citations still count for retrieval
    assert row["key_fact_recall"] == 0.0
    assert row["oos_abstained"] is None


def test_out_of_scope_rows() -> None:
    q = _question(kind="out_of_scope")
    good = score(q, _answer(text="Det framgår inte av dokumenten.", abstained=True, confidence=0.1))
    bad = score(q, _answer(f"{R}#5.1", text="Budgeten är 2 miljoner.", confidence=0.7))
    assert good["oos_abstained"] is True and bad["oos_abstained"] is False
    for row in (good, bad):
        assert row["gold_rank"] is None and row["hit@1"] is None and row["key_fact_recall"] is None
    summary = summarize([good, bad, score(_question(), _answer(f"{R}#7.1.2", abstained=True))])
    assert summary["oos_abstention"] == 0.5
    assert summary["false_abstention"] == 1.0
    assert summary["answerable"] == 1 and summary["out_of_scope"] == 2


def test_an_answer_object_is_accepted() -> None:
    citation = Citation(
        n=1,
        document=R,
        title="Riktlinje",
        doc_type="riktlinje",
        date="2022-02-23",
        section="7.1.2",
        heading="Regionens samordnande funktion",
        pages=[6],
        quote="samordnande vårdcentral",
        text="...",
        anchor="7.1.2",
        score=0.9,
    )
    answer = Answer(
        id="a1",
        answer="Den samordnande vårdcentralen.",
        abstained=False,
        confidence=0.9,
        audience="kort",
        citations=[citation],
    )
    row = score(_question(), answer)
    assert row["gold_rank"] == 1 and row["key_fact_recall"] == 0.5


# --- the run ---------------------------------------------------------------------------------


def _questions() -> list[Question]:
    return [
        _question("q001"),
        _question(
            "q002",
            kind="followup",
            user_group="undersköterska",
            history=[{"role": "user", "content": "vem?"}, {"role": "assistant", "content": "Boo."}],
        ),
        _question("q003", kind="out_of_scope", user_group="intranät"),
        _question("q004", kind="list", split="calibrate"),
        _question("q005", kind="fact", user_group="utvärderare"),
    ]


def test_run_scores_the_split_and_breaks_results_down() -> None:
    calls: list[tuple[str, list[dict[str, str]], str]] = []

    def ask(question: str, history: list[dict[str, str]], audience: str) -> dict[str, Any]:
        calls.append((question, history, audience))
        if question == "fråga q003":
            return _answer(text="Det framgår inte.", abstained=True, confidence=0.1)
        if question == "fråga q005":
            raise RuntimeError("boom")
        return _answer(f"{R}#8", f"{R}#7.1.2", text="Samordnande vårdcentral, SLSO.")

    report = run(ask, _questions(), split="report")
    assert [c[0] for c in calls] == ["fråga q001", "fråga q002", "fråga q003", "fråga q005"]
    assert calls[1][1] == [{"role": "user", "content": "vem?"}, {"role": "assistant", "content": "Boo."}]
    assert {c[2] for c in calls} == {"kort"}

    overall = report["overall"]
    assert overall["n"] == 4 and overall["answerable"] == 3
    assert overall["hit@1"] == 0.0
    assert overall["hit@5"] == pytest.approx(2 / 3)
    assert overall["mrr"] == pytest.approx((0.5 + 0.5 + 0) / 3)
    assert overall["key_fact_recall"] == pytest.approx(2 / 3)
    assert overall["false_abstention"] == pytest.approx(1 / 3)  # the failed question
    assert overall["oos_abstention"] == 1.0
    assert overall["errors"] == 1
    assert overall["latency_median_s"] is not None and overall["latency_p95_s"] >= overall["latency_median_s"]

    assert list(report["by_kind"]) == ["fact", "responsibility", "followup", "out_of_scope"]
    assert list(report["by_user_group"]) == ["undersköterska", "chef", "intranät", "utvärderare"]
    assert report["by_kind"]["followup"]["hit@5"] == 1.0
    assert report["by_document"][R]["n"] == 3
    error_row = next(r for r in report["rows"] if r["id"] == "q005")
    assert "RuntimeError: boom" in error_row["error"] and error_row["abstained"] is True

    everything = run(ask, _questions(), split=None)
    assert everything["overall"]["n"] == 5 and everything["split"] == "all"


def test_run_retrieval_scores_ranked_ids_for_answerable_questions() -> None:
    def search(question: str, history: list[dict[str, str]]) -> list[str]:
        return [f"{R}#7.1.2"] if question == "fråga q001" else [f"{R}#1", f"{R}#1", f"{R}#7.1.2-2"]

    report = run_retrieval(search, _questions(), split=None)
    assert report["overall"]["n"] == 4  # the out-of-scope question is skipped
    assert report["overall"]["hit@1"] == 0.25
    assert report["overall"]["mrr"] == pytest.approx((1 + 0.5 + 0.5 + 0.5) / 4)
    text = format_report(report)
    assert "retrieval" in text and "ALLA" in text and "fAbs" not in text


def test_format_report_is_a_compact_table() -> None:
    report = run(
        lambda q, h, a: _answer(f"{R}#7.1.2", text="samordnande vårdcentral"), _questions(), split=None
    )
    text = format_report(report)
    lines = text.splitlines()
    assert lines[2].startswith("ALLA") and "100" in lines[2]
    for expected in ("-- kind", "-- user group", "-- document", "followup", "undersköterska", R[:26]):
        assert expected in text
    assert max(len(line) for line in lines[:-1]) < 90


def test_confidence_sweep_is_monotonic() -> None:
    rows = [
        score(_question("q1"), _answer(f"{R}#7.1.2", confidence=0.9)),
        score(_question("q2"), _answer(f"{R}#8", confidence=0.4)),
        score(_question("q3", kind="out_of_scope"), _answer(confidence=0.3)),
        score(_question("q4", kind="out_of_scope"), _answer(confidence=0.6)),
    ]
    sweep = confidence_sweep(rows, [0.0, 0.35, 0.5, 0.95])
    assert [s["threshold"] for s in sweep] == [0.0, 0.35, 0.5, 0.95]
    assert [s["false_abstention"] for s in sweep] == [0.0, 0.0, 0.5, 1.0]
    assert [s["oos_abstention"] for s in sweep] == [0.0, 0.5, 0.5, 1.0]
    assert sweep[2]["answered"] == 1 and sweep[2]["answered_hit@1"] == 1.0
    assert sweep[3]["answered_hit@1"] is None
    assert len(confidence_sweep(rows)) == 21


def test_percentile_nearest_rank() -> None:
    assert percentile([], 95) is None
    assert percentile([3.0, 1.0, 2.0], 50) == 2.0
    assert percentile([float(i) for i in range(1, 21)], 95) == 19.0
