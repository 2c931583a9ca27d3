"""The evaluation report: configurations, citation metrics, the LlamaIndex baseline, the files written
(result.json, report.html, plots, ragas.jsonl) and `avtal eval --out`."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

from avtal.models import Chunk
from eval.baseline import covers, gold_coverage
from eval.metrics import score, summarize
from eval.questions import KINDS, Question, load_questions
from eval.report import failure_reasons

R = "riktlinje-hok-2022"


def _question(**changes: Any) -> Question:
    data: dict[str, Any] = {
        "id": "q900",
        "user_group": "chef",
        "kind": "responsibility",
        "question": "Vem utser den samordnande vårdcentralen?",
        "history": [],
        "answer": "Den samordnande vårdcentralen; SLSO stödjer.",
        "key_facts": [["samordnande vårdcentral"], ["SLSO", "Stockholms länssjukvårdsområde"]],
        "gold": [f"{R}#7.1.2"],
        "split": "report",
    }
    data.update(changes)
    return Question(**data)


def _citation(anchor: str, text: str) -> dict[str, Any]:
    return {"document": R, "anchor": anchor, "text": text, "quote": text[:40]}


# --- the baseline's hit rule -----------------------------------------------------------------

CLAUSE = (
    "Den samordnande vårdcentralen ansvarar för att kalla till lokala samverkansmöten med kommunens "
    "samordnande funktion minst två gånger per år."
)


def test_gold_coverage_counts_words_in_order_folded_and_without_punctuation() -> None:
    assert gold_coverage(CLAUSE, "Inledning. " + CLAUSE.upper() + " Nästa stycke.") == 1.0
    words = CLAUSE.split()
    half = " ".join(words[: len(words) // 2])
    assert gold_coverage(CLAUSE, "Annat innehåll först. " + half) == pytest.approx(
        (len(words) // 2) / len(words)
    )
    # the words scattered in another order, in runs shorter than three, are chance, not the clause
    scattered = " xx ".join(reversed(words))
    assert gold_coverage(CLAUSE, scattered) == 0.0
    assert gold_coverage("", CLAUSE) == 0.0


def test_a_chunk_counts_as_a_clause_at_half_its_text_repaired_or_as_printed() -> None:
    words = CLAUSE.split()
    clause = Chunk(
        doc_id=R,
        anchor="7.1.2",
        title="Riktlinje",
        doc_type="riktlinje",
        date="2022",
        section="7.1.2",
        heading="Samverkan",
        heading_path=["Samverkan"],
        pages=[3],
        text=CLAUSE,
        original_text=CLAUSE.replace("samverkansmöten", "samvérkansmoten").replace(
            "vårdcentralen", "vardcentralen"
        ),
        order=1,
    )
    assert covers("Brödtext före. " + " ".join(words[: len(words) // 2 + 2]), clause)
    assert not covers("Brödtext före. " + " ".join(words[: len(words) // 2 - 2]), clause)
    # the baseline reads the unrepaired PDF text; its damaged words still count
    assert covers(clause.original_text, clause)


# --- citation metrics ------------------------------------------------------------------------


def test_citation_metrics_judge_the_cited_clauses_whole_text() -> None:
    question = _question()
    answer = {
        "answer": "Den samordnande vårdcentralen utses. [1]",
        "abstained": False,
        "confidence": 0.9,
        "citations": [
            _citation("9.9", "Ett avsnitt om något helt annat."),
            _citation("7.1.2", "SLSO utser den samordnande vårdcentralen i varje kommun."),
        ],
    }
    row = score(question, answer)
    assert row["gold_rank"] == 2 and row["hit@2"] and not row["hit@1"]
    assert row["cited_clauses"] == 2 and row["cited_with_fact"] == 1
    assert row["citation_fact_recall"] == 1.0  # the answer lacks SLSO; the cited clause has it
    assert row["key_fact_recall"] == 0.5
    assert row["first_citation_gold"] is False and row["cited_gold"] is True
    abstained = score(question, {"answer": "Det framgår inte.", "abstained": True, "citations": []})
    assert abstained["cited_with_fact"] is None and abstained["first_citation_gold"] is None
    assert abstained["cited_gold"] is False
    summary = summarize([row, abstained])
    assert summary["citation_precision"] == 0.5
    assert summary["first_citation_gold"] == 0.0 and summary["cited_gold"] == 0.5
    assert summary["hit@2"] == 0.5 and summary["answer_words_median"] == 5


def test_failure_reasons_name_what_went_wrong() -> None:
    question = _question()
    good = score(
        question,
        {
            "answer": "SLSO utser den samordnande vårdcentralen.",
            "abstained": False,
            "citations": [_citation("7.1.2", "SLSO utser den samordnande vårdcentralen.")],
        },
    )
    assert failure_reasons(good) == []
    wrong = score(question, {"answer": "Kommunen.", "abstained": False, "citations": [_citation("1", "x")]})
    assert failure_reasons(wrong) == ["inget guldavsnitt bland de 5 första träffarna", "saknar nyckelfakta"]
    found_not_cited = {**wrong, "hit@5": True}
    assert failure_reasons(found_not_cited) == ["citerar inget guldavsnitt", "saknar nyckelfakta"]
    oos = _question(kind="out_of_scope", key_facts=[], gold=[])
    assert failure_reasons(score(oos, {"answer": "Svar.", "abstained": False})) == [
        "svarade fast dokumenten inte svarar"
    ]
    assert failure_reasons(score(oos, {"answer": "Det framgår inte.", "abstained": True})) == []


# --- on the demo corpus ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_assistant(demo_home: Path) -> Any:
    from assistant.core import Assistant
    from avtal.settings import Settings

    return Assistant.from_settings(Settings(home=demo_home))


@pytest.mark.slow
def test_configurations_are_composed_from_outside_and_leave_the_base_alone(demo_assistant: Any) -> None:
    from eval.report import config_assistant

    lexical, history = config_assistant(demo_assistant, "lexical")
    assert lexical.retriever.modes == ("stem", "char") and history
    vectors, _ = config_assistant(demo_assistant, "vectors")
    assert vectors.retriever.modes == ("dense",)
    bare, _ = config_assistant(demo_assistant, "no-glossary")
    assert bare.glossary is None and bare.retriever is demo_assistant.retriever
    same, history = config_assistant(demo_assistant, "no-followup")
    assert same is demo_assistant and history is False
    assert demo_assistant.glossary is not None
    assert demo_assistant.retriever.modes == ("stem", "char", "dense")
    with pytest.raises(ValueError):
        config_assistant(demo_assistant, "nonsense")


@pytest.mark.slow
def test_evaluation_writes_the_result_contract_a_self_contained_report_and_ragas(
    demo_assistant: Any, tmp_path: Path
) -> None:
    from eval.report import evaluate, write_outputs

    # a third of the calibrate split, to keep the test short: every follow-up, three of each other kind
    questions, taken = [], {}
    for q in load_questions():
        if q.split == "calibrate" and (q.kind == "followup" or taken.get(q.kind, 0) < 3):
            questions.append(q)
            taken[q.kind] = taken.get(q.kind, 0) + 1
    evaluation = evaluate(
        demo_assistant, questions, "calibrate", ("hybrid", "no-followup", "lexical"), corpus=None
    )
    paths = write_outputs(evaluation, tmp_path / "out")
    result = json.loads(paths["result"].read_text(encoding="utf-8"))
    calibrate = questions
    assert result["split"] == "calibrate" and result["questions"] == len(calibrate)
    assert result["index_version"] == demo_assistant.version.version
    assert set(result["configs"]) == {"hybrid", "no-followup", "lexical"}
    for config in result["configs"].values():
        summary = config["summary"]
        for key in ("hit@1", "hit@5", "mrr", "key_fact_recall", "false_abstention", "oos_abstention"):
            assert isinstance(summary[key], float) and 0.0 <= summary[key] <= 1.0, key
        assert summary["latency_median_s"] > 0 and summary["latency_p95_s"] >= summary["latency_median_s"]
        assert set(config["per_kind"]) <= set(KINDS)
        assert sum(s["n"] for s in config["per_kind"].values()) == len(calibrate)
        assert sum(s["n"] for s in config["per_document"].values()) == len(calibrate)
    # the answer is composed from the top five retrieved clauses: a cited gold clause is among them
    for row in result["configs"]["hybrid"]["rows"]:
        if row["answerable"] and row["cited_gold"]:
            assert row["hit@5"], row["id"]
        assert len(row["retrieved"]) > 0
    # follow-ups asked without their history lose what they lean on
    followups = {q.id for q in calibrate if q.history}
    hybrid_rows = {r["id"]: r for r in result["configs"]["hybrid"]["rows"]}
    alone_rows = {r["id"]: r for r in result["configs"]["no-followup"]["rows"]}
    assert any(hybrid_rows[i]["cited"] != alone_rows[i]["cited"] for i in followups)
    assert all(hybrid_rows[i]["cited"] == alone_rows[i]["cited"] for i in hybrid_rows if i not in followups)
    # every failure is explained with the question, the answer and the citations
    assert result["failures"], "these questions have failures today; an empty table would hide them"
    for failure in result["failures"]:
        assert failure["reasons"] and failure["question"] and "citations" in failure and "answer" in failure
    assert result["sweep"][0]["threshold"] == 0.0 and result["sweep"][-1]["threshold"] == 1.0
    # the HTML loads nothing from outside; the plots are in it
    page = paths["html"].read_text(encoding="utf-8")
    assert page.count('src="data:image/png;base64,') == 3
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert "<script" not in page
    for name in ("per_kind", "threshold", "latency"):
        assert paths[f"plot_{name}"].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # RAGAS layout, one line per question in the order of the main configuration's rows
    lines = [json.loads(line) for line in paths["ragas"].read_text(encoding="utf-8").splitlines()]
    assert len(lines) == len(calibrate)
    by_id = {q.id: q for q in calibrate}
    for line, row in zip(lines, result["configs"]["hybrid"]["rows"], strict=True):
        assert set(line) == {
            "user_input",
            "retrieved_contexts",
            "reference_contexts",
            "response",
            "reference",
        }
        question = by_id[row["id"]]
        assert line["user_input"] == question.question and line["reference"] == question.answer
        assert line["retrieved_contexts"] and all(
            isinstance(c, str) and c for c in line["retrieved_contexts"]
        )
        assert len(line["reference_contexts"]) == len(question.gold)


@pytest.mark.slow
def test_llamaindex_baseline_reads_pages_splits_with_defaults_and_retrieves_two(
    demo_assistant: Any, repo_root: Path, tmp_path: Path
) -> None:
    from eval.baseline import LlamaIndexBaseline, baseline_rank

    doc = "nacka-tjansteskrivelse-hok-2022"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(repo_root / "data" / "corpus" / f"{doc}.pdf", corpus)
    baseline = LlamaIndexBaseline(corpus, demo_assistant.version.embedder, demo_assistant.version.chunks)
    import pypdf

    assert len(baseline.documents) == len(pypdf.PdfReader(corpus / f"{doc}.pdf").pages)
    assert all(
        d.metadata["file_name"] == f"{doc}.pdf" and d.metadata["page_label"] for d in baseline.documents
    )
    assert len(baseline.nodes) >= len(baseline.documents)
    clauses = [c for c in demo_assistant.version.chunks if c.doc_id == doc]
    covered = {
        cid
        for node in baseline.nodes
        for cid in baseline.covered(node.node_id, node.get_content(), f"{doc}.pdf")
    }
    assert len(covered) >= 0.8 * len(clauses)  # page chunks hold most clauses whole
    questions = [q for q in load_questions() if q.gold and q.gold_documents[0] == doc]
    ranks = []
    for question in questions:
        hits = baseline.retrieve(question.question)
        assert len(hits) == 2 and hits[0].score >= hits[1].score
        ranks.append(baseline_rank(hits, question.gold, None))
    assert any(r is not None for r in ranks)


@pytest.mark.slow
def test_cli_eval_writes_to_the_home_by_default(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from avtal.cli import app

    monkeypatch.setenv("AVTAL_HOME", str(demo_home))
    result = CliRunner().invoke(app, ["eval", "--config", "lexical", "--split", "calibrate"])
    assert result.exit_code == 0, result.output
    latest = demo_home / "eval" / "latest"
    assert f"Rapport: {latest / 'report.html'}" in result.output
    data = json.loads((latest / "result.json").read_text(encoding="utf-8"))
    assert list(data["configs"]) == ["lexical"] and data["main_config"] == "lexical"
    assert "lexical" in result.output and "hit@5" in result.output
    both = CliRunner().invoke(app, ["eval", "--config", "lexical,no-glossary", "--split", "calibrate"])
    assert both.exit_code == 0, both.output
    data = json.loads((latest / "result.json").read_text(encoding="utf-8"))
    assert list(data["configs"]) == ["lexical", "no-glossary"]
    bad = CliRunner().invoke(app, ["eval", "--config", "nonsense"])
    assert bad.exit_code == 2 and "okänd konfiguration" in bad.output
