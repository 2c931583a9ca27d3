"""The curated evaluation questions: loading, validation and the text matching they rely on.

The schema is documented in eval/SCHEMA.md. In short: one JSON object per line of
eval/questions.jsonl, with a gold answer, the key facts an answer must contain (each a list of
accepted alternatives) and the clauses (`document#anchor`) that answer it.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from avtal.models import Chunk

DEFAULT_PATH = Path(__file__).resolve().parent / "questions.jsonl"

USER_GROUPS: tuple[str, ...] = ("undersköterska", "chef", "intranät", "utvärderare")
KINDS: tuple[str, ...] = (
    "fact",
    "responsibility",
    "definition",
    "list",
    "number",
    "multi",
    "followup",
    "ocr",
    "out_of_scope",
    "conflict",
)
SPLITS: tuple[str, ...] = ("calibrate", "report")
ROLES: tuple[str, ...] = ("user", "assistant")

REQUIRED_FIELDS: tuple[str, ...] = (
    "id",
    "user_group",
    "kind",
    "question",
    "history",
    "answer",
    "key_facts",
    "gold",
    "split",
)
OPTIONAL_FIELDS: tuple[str, ...] = ("notes",)

COPY_RUN_WORDS = 8  # a question sharing this many consecutive words with a clause is copied text
SHORT_ALTERNATIVE = 3  # alternatives this short (folded) must match a whole word

_ID_RE = re.compile(r"^q\d{3,}$")
_DASHES = str.maketrans(
    {"\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u2014": "-", "\u2212": "-"}
)


@dataclass(frozen=True)
class Question:
    """One curated question with its gold answer, key facts and gold clauses."""

    id: str
    user_group: str
    kind: str
    question: str
    history: list[dict[str, str]]
    answer: str
    key_facts: list[list[str]]
    gold: list[str]
    split: str
    notes: str | None = None
    line: int = field(default=0, compare=False)  # 1-based line in the file it was loaded from

    @property
    def answerable(self) -> bool:
        """Whether the documents answer the question (everything but out_of_scope)."""
        return self.kind != "out_of_scope"

    @property
    def gold_documents(self) -> list[str]:
        """Documents of the gold clauses, in order, without repeats."""
        return list(dict.fromkeys(g.split("#", 1)[0] for g in self.gold))

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": self.id,
            "user_group": self.user_group,
            "kind": self.kind,
            "question": self.question,
            "history": [dict(t) for t in self.history],
            "answer": self.answer,
            "key_facts": [list(f) for f in self.key_facts],
            "gold": list(self.gold),
            "split": self.split,
        }
        if self.notes:
            data["notes"] = self.notes
        return data


# --- text matching ---------------------------------------------------------------------------


def fold(text: str) -> str:
    """Lowercase, strip diacritics (å/ä→a, ö→o, é→e), unify dashes and collapse whitespace."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.translate(_DASHES).split())


def _alternative_pattern(alternative: str) -> re.Pattern[str]:
    folded = fold(alternative)
    # Words may be inflected ("vårdcentral" matches "vårdcentralen") but must start at a word
    # boundary; numbers and very short words must match whole ("17" not in "2017", "sju" not in
    # "sjukvård").
    whole = folded[-1:].isdigit() or len(folded) <= SHORT_ALTERNATIVE
    return re.compile(r"(?<!\w)" + re.escape(folded) + (r"(?!\w)" if whole else ""))


def contains(text: str, alternative: str, *, folded: bool = False) -> bool:
    """Whether `alternative` occurs in `text` under the key-fact matching rule (see SCHEMA.md)."""
    if not alternative.strip():
        return False
    haystack = text if folded else fold(text)
    return _alternative_pattern(alternative).search(haystack) is not None


def fact_found(text: str, fact: Sequence[str], *, folded: bool = False) -> bool:
    """Whether any alternative of one key fact occurs in `text`."""
    haystack = text if folded else fold(text)
    return any(contains(haystack, alt, folded=True) for alt in fact)


def words(text: str) -> list[str]:
    """Folded word tokens."""
    return re.findall(r"\w+", fold(text))


def _ngrams(tokens: Sequence[str], n: int) -> set[tuple[str, ...]]:
    return {tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1)}


# --- loading ---------------------------------------------------------------------------------


def _fail(path: Path, line: int, message: str) -> ValueError:
    return ValueError(f"{path}, line {line}: {message}")


def _parse(data: Any, path: Path, line: int) -> Question:
    if not isinstance(data, dict):
        raise _fail(path, line, "expected a JSON object")
    missing = [f for f in REQUIRED_FIELDS if f not in data]
    if missing:
        raise _fail(path, line, f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(data) - set(REQUIRED_FIELDS) - set(OPTIONAL_FIELDS))
    if unknown:
        raise _fail(path, line, f"unknown field(s): {', '.join(unknown)}")
    for name in ("id", "user_group", "kind", "question", "answer", "split"):
        if not isinstance(data[name], str) or not data[name].strip():
            raise _fail(path, line, f"field {name!r} must be a non-empty string")
    if not _ID_RE.match(data["id"]):
        raise _fail(path, line, f"id {data['id']!r} must look like 'q001'")
    for name, allowed in (("user_group", USER_GROUPS), ("kind", KINDS), ("split", SPLITS)):
        if data[name] not in allowed:
            raise _fail(path, line, f"unknown {name} {data[name]!r} (allowed: {', '.join(allowed)})")
    history = data["history"]
    if not isinstance(history, list):
        raise _fail(path, line, "field 'history' must be a list")
    for turn in history:
        if (
            not isinstance(turn, dict)
            or set(turn) != {"role", "content"}
            or turn["role"] not in ROLES
            or not isinstance(turn["content"], str)
            or not turn["content"].strip()
        ):
            raise _fail(path, line, "each history turn must be {'role': 'user'|'assistant', 'content': str}")
    facts = data["key_facts"]
    if not isinstance(facts, list) or not all(
        isinstance(f, list) and f and all(isinstance(a, str) and a.strip() for a in f) for f in facts
    ):
        raise _fail(path, line, "field 'key_facts' must be a list of non-empty lists of non-empty strings")
    gold = data["gold"]
    if not isinstance(gold, list) or not all(isinstance(g, str) and "#" in g for g in gold):
        raise _fail(path, line, "field 'gold' must be a list of 'document#anchor' strings")
    notes = data.get("notes")
    if notes is not None and not isinstance(notes, str):
        raise _fail(path, line, "field 'notes' must be a string")
    return Question(
        id=data["id"],
        user_group=data["user_group"],
        kind=data["kind"],
        question=data["question"],
        history=[dict(t) for t in history],
        answer=data["answer"],
        key_facts=[list(f) for f in facts],
        gold=list(gold),
        split=data["split"],
        notes=notes or None,
        line=line,
    )


def load_questions(path: str | Path = DEFAULT_PATH) -> list[Question]:
    """Read a questions file. Raises ValueError naming the line of a malformed entry."""
    path = Path(path)
    questions: list[Question] = []
    with path.open(encoding="utf-8") as fh:
        for number, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                data = json.loads(raw)
            except json.JSONDecodeError as exc:
                raise _fail(path, number, f"invalid JSON ({exc.msg})") from exc
            questions.append(_parse(data, path, number))
    return questions


# --- validation ------------------------------------------------------------------------------


def validate(questions: Iterable[Question], chunks: Iterable[Chunk]) -> list[str]:
    """Problems with the question set against the indexed clauses; an empty list means none.

    Checks: duplicate ids, unknown gold anchors, key-fact alternatives that occur in no gold
    clause, answerable questions without gold or key facts, out-of-scope questions with gold,
    multi and conflict questions with fewer than two gold clauses, follow-ups without history,
    and questions that copy a run of COPY_RUN_WORDS consecutive words from any clause.
    """
    questions = list(questions)
    by_id: dict[str, Chunk] = {c.id: c for c in chunks}
    folded_text = {cid: fold(c.text) for cid, c in by_id.items()}
    grams: set[tuple[str, ...]] = set()
    for chunk in by_id.values():
        grams |= _ngrams(words(chunk.text), COPY_RUN_WORDS)

    problems: list[str] = []
    for qid, count in Counter(q.id for q in questions).items():
        if count > 1:
            problems.append(f"{qid}: duplicate id ({count} questions)")
    for q in questions:
        where = f"{q.id} (line {q.line})" if q.line else q.id
        unknown = [g for g in q.gold if g not in by_id]
        for g in unknown:
            problems.append(f"{where}: unknown gold anchor {g}")
        if q.answerable:
            if not q.gold:
                problems.append(f"{where}: answerable question ({q.kind}) without gold")
            if not q.key_facts:
                problems.append(f"{where}: answerable question ({q.kind}) without key facts")
        elif q.gold:
            problems.append(f"{where}: out_of_scope question with gold {q.gold}")
        if q.kind in ("multi", "conflict") and len(set(q.gold)) < 2:
            problems.append(f"{where}: {q.kind} question needs two or more gold clauses")
        if q.kind == "followup" and not q.history:
            problems.append(f"{where}: follow-up without history")
        known = [folded_text[g] for g in q.gold if g in by_id]
        if known:
            for fact in q.key_facts:
                for alt in fact:
                    if not any(contains(text, alt, folded=True) for text in known):
                        problems.append(f"{where}: key fact alternative {alt!r} is in no gold clause")
        copied = _ngrams(words(q.question), COPY_RUN_WORDS) & grams
        if copied:
            run = " ".join(sorted(copied)[0])
            problems.append(f"{where}: question copies clause text ({COPY_RUN_WORDS}+ words: '{run}')")
    return problems


def suggest_split(questions: Iterable[Question], kind: str, user_group: str) -> str:
    """The split for a new question: the smaller one among its kind and user group (ties: calibrate)."""
    same = [q for q in questions if q.kind == kind]
    pair = Counter(q.split for q in same if q.user_group == user_group)
    if pair["calibrate"] != pair["report"]:
        return "calibrate" if pair["calibrate"] < pair["report"] else "report"
    total = Counter(q.split for q in same)
    return "report" if total["report"] < total["calibrate"] else "calibrate"
