"""Who is responsible for what: the responsibility statements of the documents, per actor and topic.

The agreements never state the division of responsibility in one place; it is spread over sentences
such as "Det gemensamma sekretariatet ansvarar för uppföljningen" or "Kommunen utser en samordnande
funktion". This module finds them with rules, no model:

1. every clause of the index is split into sentences and list items (``assistant.compose.split_units``);
2. actors are found from a curated list with aliases (kommunen/kommunerna, regionen/Region Stockholm,
   parterna/huvudmännen, Storsthlm, HSF, VIS, tjänstemannastyrgruppen, the secretariat, the
   municipality's and the region's coordinating functions, samordnande vårdcentral, MAS, ...);
3. a sentence is a responsibility statement when an actor is the subject of an obligation verb
   (ansvarar för, har ansvar, ska, bör, beslutar, utser, fastställer, följer upp, bereder, initierar,
   ...): the actor stands just before the verb (possibly coordinated with another actor, or after
   "Det är ... som"), or just after it in inverted word order ("Inför varje år beslutar
   tjänstemannastyrgruppen"), and is not the object of a preposition ("för kommunen");
4. a list introduced by such a sentence ("Sekretariatet ansvarar för:") gives one statement per item;
5. the topic is the clause's heading.

`python -m assistant.responsibility --measure` prints precision and recall against a hand-labelled
sample (``resources/responsibility_sample.jsonl``); the Ansvar view shows the same figures.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from assistant.compose import split_units
from avtal.models import Chunk

SAMPLE_FILE = Path(__file__).resolve().parent / "resources" / "responsibility_sample.jsonl"
# A second sample, drawn and labelled after the rules were written on the first one. Its first
# measurement (precision 0.71, recall 0.38) led to generic fixes (subjects behind a prepositional
# phrase, genitive roles, "hur"-clauses), so it is no longer fully held out; see the README figures.
HELDOUT_FILE = Path(__file__).resolve().parent / "resources" / "responsibility_heldout.jsonl"

# (canonical name, alias pattern). More specific actors first: "kommunens samordnande funktion" is not
# "kommunen". Patterns are matched case-insensitively on word boundaries.
ACTORS: list[tuple[str, str]] = [
    (
        "Kommunens samordnande funktion",
        r"kommunens samordnande funktion(?:er|en)?|(?:den )?kommunala samordnande funktion(?:en|erna)?",
    ),
    (
        "Regionens samordnande funktion (samordnande vårdcentral)",
        r"regionens samordnande funktion(?:er|en)?|(?:den |de )?samordnande vårdcentral(?:en|erna)?",
    ),
    ("Samordnande funktion", r"(?:den |de )?samordnande funktion(?:en|erna)?"),
    ("Tjänstemannastyrgruppen", r"tjänstemannastyrgrupp(?:en)?(?: sammanhållen vård och omsorg)?"),
    ("VIS tjänstestyrgrupp", r"VIS tjänstestyrgrupp(?:en)?"),
    ("VIS (politisk styrgrupp)", r"VIS(?: politiska styrgrupp| politisk styrgrupp)?"),
    ("Sekretariatet", r"(?:det )?(?:gemensamma |sammanhållande )?sekretariatet"),
    ("Samråds- och arbetsgrupper", r"samrådsgrupp(?:en|er|erna)?|arbetsgrupp(?:en|er|erna)?"),
    ("Storsthlm", r"storsthlm|KSL"),
    ("HSF (Hälso- och sjukvårdsförvaltningen)", r"HSF|hälso- och sjukvårdsförvaltningen"),
    ("SLSO", r"SLSO|stockholms läns sjukvårdsområde"),
    ("Stora och Lilla chefsgruppen", r"(?:stora|lilla) chefsgrupp(?:en)?|chefsgrupp(?:en|erna)?"),
    ("MAS", r"MAS|medicinskt ansvarig(?:a)? sjuksköters(?:ka|kan|kor)"),
    ("Socialnämnden", r"socialnämnd(?:en|erna)?|äldrenämnd(?:en)?|nämnd(?:en|erna)"),
    ("SKR", r"SKR|sveriges kommuner och regioner"),
    (
        "Parterna (kommunerna och regionen)",
        r"parterna|respektive part|huvudmännen|båda huvudmännen|kommuner(?:na)? och region(?:en|erna)?"
        r"|region(?:en|erna)? och kommuner(?:na)?|regioner och kommuner|kommunerna och region stockholm",
    ),
    ("Kommunen", r"kommun(?:en|erna)|varje kommun|respektive kommun|kommuner|stadsdel(?:en|arna)"),
    (
        "Regionen",
        r"region(?:en|erna)|region stockholm|regioner|landsting(?:et|en)?"
        r"|stockholms läns landsting",
    ),
    ("Vårdcentralerna", r"vårdcentral(?:en|erna)|husläkarmottagning(?:en|ar|arna)|husläkar(?:en|na)"),
    (
        "Vårdgivare och utförare",
        r"vårdgivar(?:en|na|e)|utförar(?:en|na|e)|leverantör(?:en|er|erna)",
    ),
]
_ACTOR_RES = [
    (name, re.compile(rf"(?<![\w-])(?:{pattern})(?P<genitive>s)?(?![\w-])", re.IGNORECASE))
    for name, pattern in ACTORS
]

# Verbs of obligation, decision or assigned task (present tense, as the agreements write them).
_VERB = re.compile(
    r"\b(ansvarar|ansvara|har (?:ett |det )?(?:gemensamt |yttersta |övergripande )?ansvar(?:et)?|"
    r"ska|skall|bör|måste|beslutar|utser|fastställer|följer upp|bereder|initierar|sammankallar|"
    r"kallar|leder|organiserar|samordnar|rapporterar|tar fram|stödjer|stöttar|vägleder|åligger|"
    r"förvaltar|godkänner|tecknar|undertecknar|svarar för|utarbetar|identifierar|återkopplar|"
    r"bedömer|inhämtar|analyserar|fattar|uppdrar|kan uppdra|tar ställning|förväntas|säkerställer|"
    r"utvärderar|informerar|erbjuder|planerar|genomför|driver|företräder|representerar|"
    r"vilar (?:vanligen |alltid )?på|ligger (?:hos|på)|förbinder sig|åtar sig|ansvarar gemensamt)\b",
    re.IGNORECASE,
)
_PREPOSITION = re.compile(
    r"\b(för|i|av|till|med|mellan|inom|hos|från|på|om|åt|vid|under|genom|mot|enligt|utanför|kring|"
    r"än|som|samt|både|eller|respektive|och|hur|vad|varför|vilken|vilka)\s+$",
    re.IGNORECASE,
)
_SUBJECT_GLUE = re.compile(
    r"^\s*(?:,|och|samt|eller|respektive|tillsammans|gemensamt|i samverkan|,? i \w+|"
    r"med stöd av [^,.]{0,60}|på lokal nivå|var för sig)?\s*$",
    re.IGNORECASE,
)
_NOT_NORMATIVE = re.compile(r"\b(skulle|har tagit|hade|var|ville)\b", re.IGNORECASE)
_DEFINITION = re.compile(r"^\W*med\b[^.]{0,200}?\b(?:avses|menas)\b", re.IGNORECASE)
_QUOTE_START = re.compile(r"^[”\"'–-]")
MAX_GAP_WORDS = 4


@dataclass
class Mention:
    actor: str
    start: int
    end: int
    genitive: bool = False  # "samrådsgruppernas", "kommunernas": not a subject, but may own a role


@dataclass
class Statement:
    """One sentence (or list item) that says an actor is responsible for something."""

    doc_id: str
    anchor: str
    section: str | None
    topic: str  # the clause heading
    actors: list[str]
    verb: str
    text: str  # the sentence as it stands in the clause (an exact substring of the clause text)
    pages: list[int] = field(default_factory=list)
    lead: str | None = None  # for a list item: the sentence that introduced the list

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def actor_mentions(text: str) -> list[Mention]:
    """Non-overlapping actor mentions, the most specific alias first."""
    taken: list[tuple[int, int]] = []
    found: list[Mention] = []
    for name, pattern in _ACTOR_RES:
        for match in pattern.finditer(text):
            start, end = match.span()
            if any(start < e and s < end for s, e in taken):
                continue
            taken.append((start, end))
            found.append(Mention(name, start, end, bool(match.group("genitive"))))
    return sorted(found, key=lambda m: m.start)


def _is_object(text: str, mention: Mention) -> bool:
    """The mention is governed by a preposition or is a possessive's head ("för kommunen")."""
    before = text[: mention.start]
    if not _PREPOSITION.search(before):
        return False
    # "kommunen och regionen ansvarar": a coordinated subject, not an object, when what precedes
    # the conjunction is itself an actor at the start of the clause
    glue = re.search(r"\b(och|samt|eller|respektive)\s+$", before, re.IGNORECASE)
    return glue is None


def _words_between(text: str) -> int:
    return len(re.findall(r"[^\W_]+", text))


_PASSIVE_AGENT = re.compile(
    r"\b(?:tas fram|fattas|initieras|fastställs|beslutas|utses|leds|följs upp|bereds|samordnas|"
    r"sammankallas|genomförs|utförs|godkänns|tecknas|undertecknas|ansvaras|hanteras|förvaltas)"
    r"(?: gemensamt| löpande)? av\s+$",
    re.IGNORECASE,
)
# "Samrådsgruppernas uppdrag är att ...", "har parterna gemensamt ansvar", "parternas ansvar"
_ROLE_AFTER = re.compile(
    r"^(?:s|ns|nas)?\s+(?:gemensamma |samlade |övergripande )?(?:uppdrag|ansvar|uppgift)(?:er|et|en)?\s+"
    r"(?:är|omfattar|innebär)\b|^\s+(?:gemensamt |ett |det )?(?:gemensamt )?ansvar\b",
    re.IGNORECASE,
)
_SENTENCE_START = re.compile(r"^\W*(?:den |det |de |varje |respektive |även |också )?$", re.IGNORECASE)
MAX_GAP_WORDS_AT_START = 12


def _coordinated(text: str, mentions: list[Mention], head: Mention, backwards: bool) -> list[Mention]:
    """``head`` and the actors coordinated with it ("HSF och Storsthlm", "kommunerna eller regionen")."""
    group = [head]
    ordered = sorted(mentions, key=lambda m: m.start, reverse=backwards)
    seen = False
    for m in ordered:
        if m is head:
            seen = True
            continue
        if not seen:
            continue
        left, right = (m, group[-1]) if backwards else (group[-1], m)
        if _SUBJECT_GLUE.match(text[left.end : right.start]):
            group.append(m)
        else:
            break
    return group


def responsible_actors(text: str) -> tuple[list[str], str] | None:
    """The actors a sentence makes responsible and the verb, or None when it is no such statement."""
    if _QUOTE_START.match(text.strip()):
        return None  # an interviewee's quote (the 2013 report) states no assigned responsibility
    if _DEFINITION.search(text):
        return None  # "Med X avses ...": a definition, even when it names who has what responsibility
    everything = actor_mentions(text)
    mentions = [m for m in everything if not m.genitive]
    if not everything:
        return None
    subjects: list[Mention] = []
    verbs: list[str] = []
    # passive with agent: "Förslag tas fram av tjänstemannastyrgruppen", "beslut fattas av ..."
    for m in mentions:
        passive = _PASSIVE_AGENT.search(text[: m.start])
        if passive and m not in subjects:
            subjects.extend(x for x in _coordinated(text, mentions, m, backwards=False) if x not in subjects)
            verbs.append(passive.group(0).strip().lower())
    for m in everything:
        tail = text[m.end : m.end + 60]
        role = _ROLE_AFTER.match(tail)
        if role and m not in subjects:
            subjects.append(m)
            verbs.append(role.group(0).strip().lower())
    for verb in _VERB.finditer(text):
        found: list[Mention] = []
        # actor(s) before the verb: "Kommunen och regionen ansvarar", "Det är X som fastställer"
        before = [m for m in mentions if m.end <= verb.start()]
        for k in range(len(before) - 1, -1, -1):
            last = before[k]
            if _is_object(text, last) and not _is_cleft(text, last):
                continue  # "Vårdgivare i regionen rapporterar": skip "regionen", try "Vårdgivare"
            gap = text[last.end : verb.start()]
            at_start = _SENTENCE_START.match(text[: last.start]) is not None
            limit = MAX_GAP_WORDS_AT_START if at_start else MAX_GAP_WORDS
            gap_ok = _words_between(gap) <= limit and not re.search(r"[;:]", gap)
            gap_ok = gap_ok and (at_start or "," not in gap) and not _VERB.search(gap)
            if gap_ok:
                found = _coordinated(text, mentions, last, backwards=True)
                head = min(found, key=lambda m: m.start)
                if head is not last and _is_object(text, head) and not _is_cleft(text, head):
                    found = []  # "reglerar hur landstingen och kommunerna ska": a subordinate clause
            break
        # inverted order after an adverbial: "Inför varje kalenderår beslutar tjänstemannastyrgruppen"
        if not found:
            after = [m for m in mentions if m.start >= verb.end()]
            if after:
                first = after[0]
                gap = text[verb.end() : first.start]
                preceding = text[: verb.start()].strip()
                if re.fullmatch(r"\s*(?:det |den |de |även |också |då |därför )?", gap, re.IGNORECASE) and (
                    preceding and not preceding.endswith((".", ":"))
                ):
                    found = _coordinated(text, mentions, first, backwards=False)
        if found and not _NOT_NORMATIVE.search(text[min(m.start for m in found) : verb.end() + 1]):
            subjects.extend(m for m in found if m not in subjects)
            verbs.append(verb.group(0).lower())
    if not subjects:
        return None
    names: list[str] = []
    for m in sorted(subjects, key=lambda m: m.start):
        if m.actor not in names:
            names.append(m.actor)
    return names, verbs[0]


def _is_cleft(text: str, mention: Mention) -> bool:
    """'Det är tjänstemannastyrgruppen som fastställer': the actor after 'Det är'."""
    return re.search(r"\bdet är\s+(?:\w+\s+){0,2}$", text[: mention.start], re.IGNORECASE) is not None


def extract(chunks: Iterable[Chunk]) -> list[Statement]:
    """Every responsibility statement of the chunks, in document order."""
    statements: list[Statement] = []
    for chunk in chunks:
        topic = chunk.heading or (chunk.heading_path[-1] if chunk.heading_path else chunk.title)
        lead: tuple[list[str], str, str] | None = None
        for unit in split_units(chunk.text):
            if unit.kind == "item" and lead is not None:
                actors, verb, lead_text = lead
                statements.append(
                    Statement(
                        chunk.doc_id,
                        chunk.anchor,
                        chunk.section,
                        topic,
                        actors,
                        verb,
                        unit.text.lstrip("- ").strip(),
                        list(chunk.pages),
                        lead=lead_text,
                    )
                )
                continue
            if unit.kind != "item":
                lead = None
            found = responsible_actors(unit.text)
            if found is None:
                continue
            actors, verb = found
            if unit.kind == "lead":
                lead = (actors, verb, unit.text)
                continue  # the items carry the content
            statements.append(
                Statement(
                    chunk.doc_id,
                    chunk.anchor,
                    chunk.section,
                    topic,
                    actors,
                    verb,
                    unit.text,
                    list(chunk.pages),
                )
            )
    return statements


def group(statements: Iterable[Statement]) -> dict[str, dict[str, list[Statement]]]:
    """actor -> topic -> statements (actors by number of statements, topics in document order)."""
    grouped: dict[str, dict[str, list[Statement]]] = {}
    for statement in statements:
        for actor in statement.actors:
            grouped.setdefault(actor, {}).setdefault(statement.topic, []).append(statement)
    return dict(sorted(grouped.items(), key=lambda kv: -sum(len(v) for v in kv[1].values())))


# ---------------------------------------------------------------------- measurement


@dataclass
class Measurement:
    sentences: int
    positives: int  # hand-labelled responsibility statements
    predicted: int
    true_positives: int
    actor_correct: int  # true positives whose actors match the label exactly

    @property
    def precision(self) -> float:
        return self.true_positives / self.predicted if self.predicted else 0.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.positives if self.positives else 0.0

    @property
    def actor_accuracy(self) -> float:
        return self.actor_correct / self.true_positives if self.true_positives else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "precision": round(self.precision, 3),
            "recall": round(self.recall, 3),
            "actor_accuracy": round(self.actor_accuracy, 3),
        }


def load_sample(path: Path = SAMPLE_FILE) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def measure(sample: list[dict[str, Any]] | None = None) -> tuple[Measurement, list[dict[str, Any]]]:
    """Precision and recall of :func:`responsible_actors` on the hand-labelled sample; and the errors.

    Each sample line: {"doc", "anchor", "text", "lead" (for a list item, or null), "responsibility":
    bool, "actors": [canonical names]}. A list item is judged by its lead sentence, as in extract().
    """
    sample = load_sample() if sample is None else sample
    tp = predicted = positives = actor_ok = 0
    errors: list[dict[str, Any]] = []
    for row in sample:
        judged = row.get("lead") or row["text"]
        found = responsible_actors(judged)
        gold = bool(row["responsibility"])
        positives += gold
        predicted += found is not None
        if gold and found is not None:
            tp += 1
            if set(found[0]) == set(row.get("actors", [])):
                actor_ok += 1
            else:
                errors.append({**row, "error": "wrong actor", "found": found[0]})
        elif gold:
            errors.append({**row, "error": "missed"})
        elif found is not None:
            errors.append({**row, "error": "false positive", "found": found[0]})
    return Measurement(len(sample), positives, predicted, tp, actor_ok), errors


def measure_samples() -> dict[str, Measurement]:
    """The figures on both hand-labelled samples (what the Ansvar view and --measure show)."""
    results = {"utvecklingsurval": measure(load_sample(SAMPLE_FILE))[0]}
    if HELDOUT_FILE.is_file():
        results["kontrollurval"] = measure(load_sample(HELDOUT_FILE))[0]
    return results


def main(argv: list[str]) -> int:
    if "--measure" not in argv:
        print("usage: python -m assistant.responsibility --measure [--errors]")
        return 2
    for name, path in (("development sample", SAMPLE_FILE), ("second sample", HELDOUT_FILE)):
        result, errors = measure(load_sample(path))
        print(
            f"{name}: {result.sentences} hand-checked sentences, {result.positives} responsibility "
            f"statements. Precision {result.precision:.2f} ({result.true_positives}/{result.predicted}), "
            f"recall {result.recall:.2f} ({result.true_positives}/{result.positives}), actors right in "
            f"{result.actor_correct}/{result.true_positives} found ({result.actor_accuracy:.2f})."
        )
        if "--errors" in argv:
            for error in errors:
                print(
                    f"  - {error['error']}: {error['text'][:160]} (gold {error.get('actors')}, "
                    f"found {error.get('found')})"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
