"""The curated question set: it loads, is large and balanced enough, and agrees with the real chunks."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from avtal.models import Chunk
from avtal.settings import IngestSettings
from eval.questions import (
    KINDS,
    SPLITS,
    USER_GROUPS,
    Question,
    contains,
    fact_found,
    fold,
    load_questions,
    suggest_split,
    validate,
)
from ingest.manifest import load_manifest
from ingest.pipeline import process_document
from ingest.readers import read_document

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "data" / "corpus"
DOCUMENTS = {
    "riktlinje-hok-2022",
    "nacka-tjansteskrivelse-hok-2022",
    "oversyn-overenskommelser",
    "skr-stod-lagstadgade-overenskommelser",
    "aldrecentrum-uppfoljning-samverkan-2013",
}


@pytest.fixture(scope="module")
def questions() -> list[Question]:
    return load_questions()


@pytest.fixture(scope="module")
def chunks() -> list[Chunk]:
    """The demo corpus chunked as the ingest does it, without embeddings (a few seconds)."""
    settings = IngestSettings()
    manifest = load_manifest(CORPUS)
    out: list[Chunk] = []
    for path in sorted(CORPUS.glob("*.pdf")):
        parsed = read_document(path, settings)
        entry = manifest.get(path.name) or manifest.get(path.stem)
        out.extend(process_document(parsed, entry, path, settings).chunks)
    return out


# --- the set itself --------------------------------------------------------------------------


def test_the_set_is_large_enough(questions: list[Question]) -> None:
    kinds = Counter(q.kind for q in questions)
    assert len(questions) >= 130
    assert kinds["out_of_scope"] >= 35
    assert kinds["followup"] >= 12
    assert kinds["ocr"] >= 12


def test_every_kind_user_group_and_document_is_present(questions: list[Question]) -> None:
    assert {q.kind for q in questions} == set(KINDS)
    assert {q.user_group for q in questions} == set(USER_GROUPS)
    assert {d for q in questions for d in q.gold_documents} == DOCUMENTS
    groups = Counter(q.user_group for q in questions)
    assert min(groups.values()) >= len(questions) // 6  # no user group is an afterthought


def test_splits_are_balanced(questions: list[Question]) -> None:
    def share(items: list[Question]) -> float:
        counts = Counter(q.split for q in items)
        return max(counts[s] for s in SPLITS) / len(items)

    for kind in KINDS:
        of_kind = [q for q in questions if q.kind == kind]
        assert {q.split for q in of_kind} == set(SPLITS), kind
        assert share(of_kind) <= 0.6, kind
    for group in USER_GROUPS:
        assert share([q for q in questions if q.user_group == group]) <= 0.6, group
    assert share(questions) <= 0.55


def test_validate_finds_no_problem_against_the_real_chunks(
    questions: list[Question], chunks: list[Chunk]
) -> None:
    assert len(chunks) > 150
    assert validate(questions, chunks) == []


def test_gold_answers_contain_their_own_key_facts(questions: list[Question]) -> None:
    missing = [(q.id, fact) for q in questions for fact in q.key_facts if not fact_found(q.answer, fact)]
    assert missing == []


def test_kind_specific_shapes(questions: list[Question]) -> None:
    for q in questions:
        if q.kind == "followup":
            assert q.history and q.history[-1]["role"] == "assistant", q.id
        elif q.kind != "out_of_scope":
            assert q.history == [], q.id
        if q.kind == "ocr":
            assert q.gold_documents == ["riktlinje-hok-2022"], q.id
        if q.kind == "conflict":  # sides in different clauses (the review even disagrees with itself)
            assert len(set(q.gold)) >= 2, q.id
        if q.kind == "out_of_scope":
            assert q.gold == [] and q.key_facts == [], q.id


def test_ocr_questions_are_spelled_correctly(questions: list[Question]) -> None:
    damaged = ("samradsgrupp", "tjanstemannastyrgrupp", "6verenskommelse", "hélsa", "vard ")
    for q in questions:
        if q.kind == "ocr":
            assert not any(d in q.question.lower() for d in damaged), q.id


def test_ids_are_sequential(questions: list[Question]) -> None:
    assert [q.id for q in questions] == [f"q{i:03d}" for i in range(1, len(questions) + 1)]


# --- loading errors --------------------------------------------------------------------------

VALID = {
    "id": "q001",
    "user_group": "chef",
    "kind": "fact",
    "question": "Vem?",
    "history": [],
    "answer": "Storsthlm.",
    "key_facts": [["Storsthlm"]],
    "gold": ["doc#1"],
    "split": "report",
}


def _write(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "questions.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_load_reads_a_valid_file(tmp_path: Path) -> None:
    path = _write(tmp_path, json.dumps(VALID, ensure_ascii=False), "", json.dumps({**VALID, "id": "q002"}))
    loaded = load_questions(path)
    assert [q.id for q in loaded] == ["q001", "q002"]
    assert loaded[1].line == 3


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("{not json", "invalid JSON"),
        (json.dumps({**VALID, "kind": "trivia"}), "unknown kind 'trivia'"),
        (json.dumps({**VALID, "user_group": "läkare"}), "unknown user_group"),
        (json.dumps({**VALID, "split": "test"}), "unknown split"),
        (json.dumps({k: v for k, v in VALID.items() if k != "gold"}), "missing field(s): gold"),
        (json.dumps({**VALID, "golds": []}), "unknown field(s): golds"),
        (json.dumps({**VALID, "key_facts": ["Storsthlm"]}), "key_facts"),
        (json.dumps({**VALID, "history": [{"role": "system", "content": "x"}]}), "history turn"),
        (json.dumps({**VALID, "gold": ["no-anchor"]}), "document#anchor"),
        (json.dumps({**VALID, "id": "7"}), "must look like"),
    ],
)
def test_load_names_the_line_of_a_bad_entry(tmp_path: Path, line: str, message: str) -> None:
    path = _write(tmp_path, json.dumps(VALID), line)
    with pytest.raises(ValueError) as info:
        load_questions(path)
    assert "line 2" in str(info.value)
    assert message in str(info.value)


# --- validate on a small hand-made corpus ----------------------------------------------------


def _chunk(anchor: str, text: str, order: int = 0) -> Chunk:
    return Chunk(
        doc_id="doc",
        anchor=anchor,
        title="Dokument",
        doc_type="riktlinje",
        date=None,
        section=None,
        heading=None,
        heading_path=[anchor],
        pages=[1],
        text=text,
        original_text=text,
        order=order,
    )


CHUNKS = [
    _chunk("1", "Kommunerna rapporterar problem i samverkan till Storsthlm och vårdgivare till HSF."),
    _chunk(
        "2",
        "Den samordnande vårdcentralen sammankallar till återkommande lokala samverkansmöten varje kvartal.",
    ),
]


# eight consecutive words of chunk 2
COPIED = "Stämmer det? Den samordnande vårdcentralen sammankallar till återkommande lokala samverkansmöten."


def _q(**changes: object) -> Question:
    data = {**VALID, "key_facts": [["Storsthlm"]], "gold": ["doc#1"], **changes}
    return Question(**data)  # type: ignore[arg-type]


def test_validate_accepts_a_good_question() -> None:
    assert validate([_q(), _q(id="q002", kind="out_of_scope", gold=[], key_facts=[])], CHUNKS) == []


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        (_q(gold=["doc#9"]), "unknown gold anchor doc#9"),
        (_q(key_facts=[["Storsthlm"], ["Boo vårdcentral"]]), "'Boo vårdcentral' is in no gold clause"),
        (_q(gold=[]), "without gold"),
        (_q(key_facts=[]), "without key facts"),
        (_q(kind="out_of_scope"), "out_of_scope question with gold"),
        (_q(kind="followup"), "follow-up without history"),
        (_q(kind="multi"), "two or more gold clauses"),
        (
            _q(question=COPIED),
            "copies clause text",
        ),
    ],
)
def test_validate_reports_each_kind_of_problem(question: Question, problem: str) -> None:
    problems = validate([question], CHUNKS)
    assert len(problems) == 1 and problem in problems[0], problems


def test_validate_reports_duplicate_ids() -> None:
    problems = validate([_q(), _q()], CHUNKS)
    assert problems == ["q001: duplicate id (2 questions)"]


def test_validate_matches_key_facts_folded_and_by_stem() -> None:
    q = _q(gold=["doc#2"], key_facts=[["SAMORDNANDE VARDCENTRAL"], ["sammankalla"], ["kvartal"]])
    assert validate([q], CHUNKS) == []


# --- matching helpers ------------------------------------------------------------------------


def test_fold() -> None:
    assert fold("  Överenskommelse  om HÄLSA–vård\tÅr ") == "overenskommelse om halsa-vard ar"
    assert fold("hélsa") == "helsa"


@pytest.mark.parametrize(
    ("text", "alternative", "expected"),
    [
        ("Den samordnande vårdcentralen", "samordnande vårdcentral", True),
        ("socialtjänstnätverket", "socialtjänstnätverk", True),
        ("arbetet med sjukvård", "sju", False),
        ("från 17 till sju", "sju", True),
        ("år 2017", "17", False),
        ("17 överenskommelser", "17", True),
        ("HSF:s förvaltning", "HSF", True),
        ("länssjukvårdsområde", "sjukvård", False),
        ("6–9 månader", "6-9 månader", True),
    ],
)
def test_contains_rule(text: str, alternative: str, expected: bool) -> None:
    assert contains(text, alternative) is expected


def test_suggest_split_fills_the_smaller_side() -> None:
    existing = [
        _q(id="q001", split="calibrate"),
        _q(id="q002", split="report", user_group="intranät"),
        _q(id="q003", split="calibrate", user_group="intranät"),
    ]
    assert suggest_split(existing, "fact", "chef") == "report"
    assert suggest_split(existing, "fact", "utvärderare") == "report"
    assert suggest_split(existing, "list", "chef") == "calibrate"
