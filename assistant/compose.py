"""Extractive answers: the sentences of the top clauses that answer the question, with citations.

Nothing here embeds anything: sentences are scored lexically (IDF-weighted overlap of stems with
the question, plus cues for the kind of question: who, when, how often, how many, what is), so
the per-question cost stays at a few milliseconds.
"""

from __future__ import annotations

import bisect
import datetime as dt
import json
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from assistant.retrieval import QUESTION_WORDS, content_words
from assistant.types import Source
from avtal.models import Chunk
from index.lexical import fold, stem_tokens, words
from ingest.chunking import DEFINITION_ENTRY

# Abbreviations that end in a period without ending a sentence.
_ABBREV_END = re.compile(
    r"\b(t\.ex|bl\.a|s\.k|m\.m|m\.fl|o\.s\.v|osv|dvs|d\.v\.s|ca|kap|nr|resp|inkl|exkl|jfr|enl|"
    r"fr\.o\.m|t\.o\.m|sid|s|st|p|f\.d|bl|a\.a)\.$",
    re.IGNORECASE,
)
_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[A-ZÅÄÖ0-9\"”(])")
_MONTHS = "januari|februari|mars|april|maj|juni|juli|augusti|september|oktober|november|december"
# A year, not a law's number ("SFS 2001:453", "prop. 2008/09:193").
_A_YEAR = r"\b(?<![:/])(19|20)\d\d\b(?![:/]\d)"
_DATE = re.compile(
    rf"\b(19|20)\d\d-\d\d-\d\d\b|\b\d{{1,2}}\s+({_MONTHS})(\s+(19|20)\d\d)?\b"
    rf"|\b({_MONTHS})\s+(19|20)\d\d\b|{_A_YEAR}",
    re.IGNORECASE,
)
_MONTH = re.compile(rf"\b({_MONTHS}|årsskifte\w*|vecka \d+)\b", re.IGNORECASE)
_NUMBER = re.compile(
    r"\b\d+\b|\b(två|tre|fyra|fem|sex|sju|åtta|nio|tio|elva|tolv|tjugo|hundra|tusen)\b", re.I
)
_FREQUENCY = re.compile(
    r"\b(årlig\w*|varje (år|månad|vecka|kvartal|kalenderår)|kvartalsvis|månadsvis|veckovis|"
    r"gång(er)? (per|om|i) \w+|löpande|regelbundet|\w+ gånger|halvår\w*|vartannat|varannan|inför varje|"
    r"vid behov|dagligen|kontinuerligt|tertial\w*)\b",
    re.IGNORECASE,
)
_RESPONSIBILITY = re.compile(
    r"\b(ansvar\w*|utser|utses|utse|utsedd\w*|utsågs|beslutar|beslut|fastställ\w*|ska|skall|leder|kallar|"
    r"samordna\w*|rapporterar|följer upp|tar fram|åligger|uppdra\w*)\b",
    re.IGNORECASE,
)
_DEFINITION = re.compile(r"\b(avses|menas|innebär|betyder|är en|är ett|nedan kallad\w*|förkortning|=)", re.I)


@dataclass
class Unit:
    """A sentence or list item of a clause: an exact span of the clause text."""

    start: int
    end: int
    text: str
    kind: str  # "sentence" | "item" | "lead" (a sentence that introduces a list)
    stems: set[str] = field(default_factory=set)
    noise: bool = False  # OCR'd diagram text, not prose: never shown as an answer
    paragraph: int = 0  # the line (paragraph or list item) it is on: an index of `lines_of(text)`
    # the unit gives the date/number/frequency asked for and an earlier unit says what of: the
    # sentence before it ("Personer som missbrukar ... (5 kap. 9 a § SoL)." then "Lagstadgat sedan
    # 2013.") or its paragraph's first ("I Skånes län finns ... Därtill finns det åtta ..."); the
    # index of that unit, shown with it
    context: int | None = None


# A token that is no word: a stray letter ("t t läsa"), a run of symbols ("_—_———mm", "<:>").
_STRAY = re.compile(r"^(?:[^\W\d_]|[^\w\s]+|\S*[^\w\s–\-.,:;()/%]{3,}\S*)$")
_NOT_STRAY = frozenset({"i", "å", "ö", "–", "-", "—", "&", "+", "=", "§"})


def is_noise(text: str) -> bool:
    """Whether a unit reads as text scraped from a diagram (boxes and arrows run through OCR)
    rather than prose: several stray letters or symbol runs, at least one token in twelve."""
    tokens = text.split()
    stray = sum(1 for t in tokens if t.lower() not in _NOT_STRAY and _STRAY.match(t))
    return stray >= 3 and stray >= len(tokens) / 12


def _sentence_spans(block: str) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(block):
        if _ABBREV_END.search(block[start : match.start()]):
            continue  # "t.ex. Region" does not end a sentence
        spans.append((start, match.start()))
        start = match.end()
    spans.append((start, len(block)))
    # "... sedan beslutet. (intervju handläggare HSF) För säbos del ...": the source of a quote
    # closes the sentence before it, and the next sentence begins after it
    joined: list[tuple[int, int]] = []
    for a, b in spans:
        source = _TRAILING_SOURCE.match(block, a, b)
        if source and joined:
            joined[-1] = (joined[-1][0], source.end(1))
            a = source.end()
        if a < b:
            joined.append((a, b))
    return joined


# a parenthesis that opens in lower case after a sentence: "(intervju MAS)", "(s.20)"; or a
# reference to a work: "(Uvhagen 2010)", "(Österman & Karp 2012)"
_TRAILING_SOURCE = re.compile(
    r"(\([a-zåäö][^()\n]{0,80}\)|\([A-ZÅÄÖ][^()\n]{0,60}\b(?:19|20)\d\d[a-z]?\))"
    r"(?:\s+(?=[A-ZÅÄÖ0-9\"”])|\s*$)"
)


_NUMBERED = re.compile(r"^(\d{1,2})[.)]\s+(?=[A-ZÅÄÖ])")
_NUMBER_MARK = re.compile(r"(?<=\s)(\d{1,2})[.)]\s+(?=[A-ZÅÄÖa-zåäö])")
# "... sju rekommendationer till huvudmännen att gemensamt: 1. ta fram ... 2. säkerställa ...":
# a numbered list run into the sentence that announces it
_INLINE_LIST = re.compile(r":\s+(?=1[.)]\s+\w)")


def _numbered_spans(block: str, start: int = 0) -> list[tuple[int, int]]:
    """The part of a block from `start` (a numbered point) cut where the next number in sequence
    begins ("1. A. 2. B." -> "1. A.", "2. B."); stripped spans, offsets in `block`."""
    first = re.match(r"\s*(\d{1,2})[.)]\s", block[start:])
    expected = int(first.group(1)) + 1 if first else 0
    cuts = [start]
    for match in _NUMBER_MARK.finditer(block, start):
        if int(match.group(1)) == expected:
            cuts.append(match.start())
            expected += 1
    cuts.append(len(block))
    spans = []
    for a, b in pairwise(cuts):
        part = block[a:b]
        lead = len(part) - len(part.lstrip())
        if part.strip():
            spans.append((a + lead, a + lead + len(part.strip())))
    return spans


def lines_of(text: str) -> list[str]:
    """A clause text's lines and the line breaks between them; `Unit.paragraph` indexes it."""
    return re.split(r"(\n+)", text)


def split_units(text: str) -> list[Unit]:
    """Sentences and list items of a clause text, as exact spans."""
    units: list[Unit] = []
    offset = 0
    for paragraph, block in enumerate(lines_of(text)):
        if not block.strip() or block.startswith("\n"):
            offset += len(block)
            continue
        first = len(units)
        if block.startswith("- "):
            units.append(Unit(offset, offset + len(block), block, "item"))
        elif _NUMBERED.match(block):
            # "1. Gemensam arbetsgrupp – ..." on its own line, or "1. Mall. 2. Principer. 3. ..." run
            # together: each numbered point is an item of a list
            for start, end in _numbered_spans(block):
                units.append(Unit(offset + start, offset + end, block[start:end], "item"))
        else:
            inline = _INLINE_LIST.search(block)
            items = _numbered_spans(block, inline.end()) if inline else []
            if len(items) < 3:  # "1." alone after a colon is no list
                items, prose = [], block
            else:
                prose = block[: inline.start() + 1]
            for start, end in _sentence_spans(prose):
                part = prose[start:end]
                stripped = part.strip()
                if stripped:
                    s = offset + start + (len(part) - len(part.lstrip()))
                    units.append(Unit(s, s + len(stripped), stripped, "sentence"))
            for start, end in items:
                units.append(Unit(offset + start, offset + end, block[start:end], "item"))
        for unit in units[first:]:
            unit.paragraph = paragraph
        offset += len(block)
    for i, unit in enumerate(units):
        introduces_list = unit.text.endswith(":") or not unit.text.endswith((".", "!", "?"))
        if unit.kind == "sentence" and introduces_list and i + 1 < len(units) and units[i + 1].kind == "item":
            unit.kind = "lead"  # "Parterna ska:" or "Samrådsgruppernas syfte är att" before a list
        unit.stems = set(stem_tokens(unit.text))
        unit.noise = is_noise(unit.text) or bool(_ENUMERATOR.fullmatch(unit.text))  # a stray "6."
    return units


# Words a spoken question may open with before its question word ("ok och när ...?").
_FILLERS = r"(?:(?:och|men|sa|ok|okej|jaha|aha|hmm)[ ,]+)*"
# Verbs of deciding and doing: "vilka utser ...?" asks who does it, not for a list of things.
_WHO_VERBS = (
    r"(?:utser|utsag|bestammer|bestamde|beslutar|beslutade|faststaller|faststallde|leder|ansvarar|"
    r"ansvarade|godkanner|fattar|kallar|sammankallar|pekar ut|valjer|betalar|finansierar|utfor|"
    r"tar fram|tog fram|har (?:det )?ansvar)"
)


# "o spel om pengar då, när kom det in?": "när" and a verb after a comma asks when; "när" and a
# subject ("vem ansvarar, när patienten skrivs ut?") tells of an occasion
_WHEN_VERB = (
    r"(?:kom|kommer|borja\w*|galler|gallde|trad\w*|blev|blir|infordes|beslutades|antogs|startade|"
    r"tillkom|hande|ska|skall|ar|var|e)"
)


def question_type(question: str) -> str:
    """A coarse kind of question: who, when, how_often, how_many, why, list, task (what someone is to
    do), definition or other."""
    q = fold(question)
    if re.search(r"\bhur ofta\b|\bhur manga ganger\b|\bintervall", q):
        return "how_often"
    if re.search(
        rf"^{_FILLERS}(?:sedan |sen |fran |fram till |ungefar )?nar\b"
        rf"|[,;] *(?:sedan |sen )?nar {_WHEN_VERB}\b"
        r"|\bvilket datum\b|\bfran och med\b|\bvilk(et|a) ar(en)?\b|\bdatum\b|\bi kraft\b"
        r"|\bhur lang tid (sen|sedan)\b"
        r"|\bvilk(a|en|et) (manad\w*|vecka|veckor|period|tidpunkt)\b|\bvilken tid pa aret\b",
        q,
    ):
        return "when"
    if re.search(r"\b(hur|lika) manga\b|\bantal\b|\bhur mycket\b|\bhur lang\b|\bhur stor\b", q):
        return "how_many"
    if re.search(r"\bvarfor\b|\bav vilken anledning\b|\bvad (ar|var) (syftet|anledningen|skalet|malet)\b", q):
        return "why"
    if re.search(
        r"\bexempel\b|\bvad for (\w*uppgifter|saker|grejer)\b|\b(ska|bor) (finnas med|innehalla)\b"
        r"|^.*\bvad\b.*\bansvara for\W*$",
        q,
    ):
        # "vad är exempel på ...", "vad för uppgifter får ...", "vad föreslår SKR ska finnas med i
        # ...", "vad ska funktionen ansvara för?": several things, as the documents list them
        return "list"
    if _TASK_ASKED.search(q):
        return "task"
    if re.search(
        r"\bvad (ar|e|betyder|menas|innebar|star .* for)\b|\bforkortning"
        r"|\bhur (definieras|definierar|beskrivs|beskriver|skiljer)\b"
        r"|\bdefinition(en)? (av|pa)\b",
        q,
    ):
        return "definition"
    if re.match(rf"{_FILLERS}(vems?|vilk(a|en|et) {_WHO_VERBS})\b", q):
        # "vem pekar ut vilka som sitter med ...?", "vilka utser kommunernas representanter?" ask
        # who, not for a list
        return "who"
    if re.search(
        r"\bvilka\b|\bvad (ska|bor|behover)\b|\bvad ingar\b|\bvilka uppgifter\b|\blista\b|\bvad forvantas\b"
        r"|\bvad (gor|gjorde|har) (den|det|de|dom|en|ett|kommunens|regionens)\b",
        q,
    ):
        return "list"
    if re.search(r"\bvem\b|\bvilken (part|aktor|funktion|instans|niva)\b|\bvems\b", q):
        return "who"
    return "other"


# "vad ska dom göra då?", "vad e det den personen ska göra?", "vad gör samordnaren?", "vilka
# uppgifter har MAS?", "vad förväntas funktionen göra?" (folded): what someone is to do
_TASK_ASKED = re.compile(
    r"\bvad\b.*\b(ska|skall|bor|maste|behover|forvantas)\b.*\bgora\b"
    # "vad ansvarar det gemensamma sekretariatet för?", "vad har MAS för ansvar?"
    r"|\bvad (ansvarar|ansvarade) (\w+ ){1,4}for\b|\bvad har (\w+ ){1,4}for (ansvar|uppgifter|uppdrag)\b"
    r"|\bvad (gor|gjorde) (den|det|de|dom|en|ett|kommunens|regionens)\b"
    r"|\bvilka (arbets)?uppgifter (har|ska|skall)\b|\bvad forvantas\b"
)
_TASK_LEAD = re.compile(
    r"\b(förväntas|ska|skall|ansvarar för|ansvara för|åligger|uppgift\w*|uppdrag\w*|bland annat)"
    r"(\s+att)?\s*:\s*$",
    re.IGNORECASE,
)
_WHY = re.compile(
    r"\b(för att|eftersom|syfte\w*|syftar|behov\w*|behövs|därför|anledning\w*|skäl\w*|mål(et)?|"
    r"bakgrund\w*)\b",
    re.IGNORECASE,
)
_CUES = {
    "why": _WHY,
    "how_often": _FREQUENCY,
    "when": re.compile(f"{_DATE.pattern}|{_MONTH.pattern}", re.IGNORECASE),
    "how_many": _NUMBER,
    "who": _RESPONSIBILITY,
    "definition": _DEFINITION,
}


_ENUMERATOR = re.compile(r"^\s*\d{1,2}[.)](\s|$)", re.MULTILINE)  # "9." before a numbered point
_ISO_DATE = re.compile(r"\b(19|20)\d\d-\d\d-\d\d\b")
_YEAR_IN_TEXT = re.compile(r"\b(19|20)\d\d\b")

# Kinds of question whose answer must hold a particular thing: a frequency, a date, a number.
SPECIFIC_KINDS = frozenset({"how_often", "when", "how_many"})


# A unit that defines a term: "- Rutiner: En rutin beskriver ...", "Med lokal nivå avses ...",
# "SIP = Samordnad individuell plan".
_DEFINED_HEAD = (
    re.compile(r"^-\s*([^:\n]{2,40}?):\s+\S"),
    re.compile(r"^Med (.{2,40}?) (?:avses|menas)\b"),
    re.compile(r"^([^=\n]{2,40}?) += \S"),
)


_DEFINITION_ASKED = re.compile(
    r"\b(?:vad (?:är|e|betyder|menas med|avses med|innebär|står)|hur definieras|definition(?:en)? (?:av|på))"
    r"\s+(.+?)(?=\s+(?:i|enligt|inom|hos|på|för|när|som|egentligen|då)\b|\s*[?.!]|$)",
    re.IGNORECASE,
)


# "vad är skillnaden mellan en rutin och en riktlinje?": both terms are asked about
_DIFFERENCE_ASKED = re.compile(
    r"\b(?:skillnad(?:en|er|erna)?|skiljer(?: sig)?(?: \S+){0,3}?) (?:på|mellan) "
    r"(.+?)(?=\s+(?:i|enligt|inom|hos|när|som|egentligen|då)\b|\s*[?.!]|$)",
    re.IGNORECASE,
)


def compares(question: str) -> bool:
    """Whether a question asks how two things differ: each is to be answered."""
    return _DIFFERENCE_ASKED.search(question) is not None or bool(
        re.search(r"\btill skillnad från\b|\bskiljer\b", question, re.IGNORECASE)
    )


def definition_target(question: str) -> str:
    """What a definition question asks about: "Hur definieras en samverkansöverenskommelse i
    SKR:s begreppslista?" -> "en samverkansöverenskommelse" (not SKR); "Vad är skillnaden mellan
    en rutin och en riktlinje?" -> "en rutin och en riktlinje"; the whole question when it is not
    phrased so."""
    match = _DIFFERENCE_ASKED.search(question) or _DEFINITION_ASKED.search(question)
    return match.group(1) if match else question


def defined_terms(text: str) -> list[tuple[list[str], str]]:
    """The terms a clause text defines, each as the stems of its name (the head noun last) and the
    defining unit. A "- Name: ..." item defines Name only when its text names it again ("- Rutiner:
    En rutin beskriver ..."), not a finding under a label ("- Struktur: Det finns 17 ...")."""
    out = []
    for unit in split_units(text):
        for n, pattern in enumerate(_DEFINED_HEAD):
            match = pattern.match(unit.text)
            if not match or len(match.group(1).split()) > 4:
                continue
            stems = stem_tokens(match.group(1))
            body = stem_tokens(" ".join(unit.text[match.end(1) :].split()[:6]))
            if stems and (n > 0 or set(stems) & set(body)):
                out.append((stems, unit.text))
            break
    return out


def type_match(qtype: str, text: str) -> bool:
    """Whether a text holds what the kind of question asks for (a date, a number, an actor...)."""
    cue = _CUES.get(qtype)
    if cue is None:
        return True
    if qtype == "how_many":
        # "9. Det är önskvärt ...": a list's number; "2022-03-16", "i september 2022": a date or a
        # year. None of them is a count.
        text = _YEAR_IN_TEXT.sub("", _ISO_DATE.sub("", _ENUMERATOR.sub("", text)))
    return bool(cue.search(text))


class Idf:
    """Inverse document frequency of stems over the indexed clauses."""

    def __init__(self, chunks: Iterable[Chunk]) -> None:
        df: Counter[str] = Counter()
        n = 0
        chunks_list = list(chunks)
        for chunk in chunks_list:
            n += 1
            df.update(set(stem_tokens(f"{' '.join(chunk.heading_path)} {chunk.text}")))
        self.n = max(n, 1)
        self.df = df
        self.known = set(df)
        self._folded_words: set[str] = set()
        for chunk in chunks_list:
            self._folded_words.update(words(f"{' '.join(chunk.heading_path)} {chunk.text}"))
        self._sorted_words = sorted(self._folded_words)
        self.max = math.log(1 + (self.n + 0.5) / 0.5)  # the IDF of a stem no clause contains
        self._parts: dict[str, tuple[str, ...]] = {}

    def is_known_word(self, word: str, other_forms: bool = False) -> bool:
        """Whether a folded word occurs in the corpus: as itself, by its stem, or as a compound of
        two corpus words ("spelberoende" = "spel" + "beroende"; "omvarldsanalysen" = "omvarld(en)"
        + "s" + "analys"). With `other_forms`, also as another form of a corpus word: all but its
        last three letters, at least five, begin one ("jamfordes" and "jamfort"; a typo at a
        word's end too, so not for deciding what to correct)."""
        if word in self._folded_words or any(s in self.known for s in stem_tokens(word)):
            return True
        if len(word) < 7:
            return False
        if other_forms and self._begins_a_word(word[: len(word) - 3]):
            return True
        for cut in range(3, len(word) - 2):
            head, tail = word[:cut], word[cut:]
            stem = head.rstrip("s")
            head_known = head in self._folded_words or (len(stem) >= 4 and self._is_word_or_form(stem))
            if head_known and self._is_word_or_form(tail):
                return True
        return False

    def compound_parts(self, stem: str) -> tuple[str, ...]:
        """The stems of the two corpus words a stem no clause has is composed of
        ("egenvardsoverenskomm" -> "egenvard", "overenskomm": the documents write "överenskommelsen
        om egenvård"); () for a corpus stem or one that is no such compound. Memoised."""
        cached = self._parts.get(stem)
        if cached is not None:
            return cached
        parts: tuple[str, ...] = ()
        if stem not in self.known and len(stem) >= 8:
            for cut in range(len(stem) - 4, 3, -1):  # the longest tail first: "egenvard|s|overenskomm"
                head, tail = stem[:cut], stem[cut:]
                head_stems = stem_tokens(head.removesuffix("s")) if len(head) >= 4 else []
                tail_stems = stem_tokens(tail)
                if (
                    len(head_stems) == 1
                    and len(tail_stems) == 1
                    and head_stems[0] in self.known
                    and tail_stems[0] in self.known
                    and len(head_stems[0]) >= 4
                    and len(tail_stems[0]) >= 4
                ):
                    parts = (head_stems[0], tail_stems[0])
                    break
        if len(self._parts) > 4096:
            self._parts.clear()
        self._parts[stem] = parts
        return parts

    def _is_word_or_form(self, word: str) -> bool:
        return word in self._folded_words or any(s in self.known for s in stem_tokens(word))

    def _begins_a_word(self, prefix: str) -> bool:
        """Whether some corpus word begins with `prefix` (of at least five letters)."""
        if len(prefix) < 5:
            return False
        i = bisect.bisect_left(self._sorted_words, prefix)
        return i < len(self._sorted_words) and self._sorted_words[i].startswith(prefix)

    def __call__(self, stem: str) -> float:
        return math.log(1 + (self.n - self.df.get(stem, 0) + 0.5) / (self.df.get(stem, 0) + 0.5))


def query_stems(terms: Sequence[str]) -> list[str]:
    """Stems of folded query terms, in order, without duplicates."""
    out: list[str] = []
    for term in terms:
        for stem in stem_tokens(term):
            if stem not in out:
                out.append(stem)
    return out


def coverage(stems: Sequence[str], have: set[str], idf: Idf) -> float:
    """IDF-weighted share of the query stems present in `have`."""
    total = sum(idf(s) for s in stems)
    if total == 0:
        return 0.0
    return sum(idf(s) for s in stems if s in have) / total


def _related(stem: str, have: set[str]) -> bool:
    """Whether a word of `have` is the same word with a derivational ending ("plan" for
    "planering", "sammanställ" for "sammanställning"): one stem starts with the other, of at
    least four letters."""
    return any((h.startswith(stem) and len(stem) >= 4) or (stem.startswith(h) and len(h) >= 4) for h in have)


def unsaid(stems: Sequence[str], have: set[str]) -> list[str]:
    """The stems that `have` says neither as they are nor in a related form."""
    return [s for s in stems if s not in have and not _related(s, have)]


def _compound_of(stem: str, have: set[str]) -> str | None:
    """A word of `have` that is a compound whose last part (the kind of thing it is) is `stem`:
    "arbetsuppgifter" are "uppgifter", "hemtjänstpersonal" is "personal" (five letters or more)."""
    if len(stem) < 5:
        return None
    return next((h for h in have if len(h) > len(stem) + 2 and h.endswith(stem)), None)


def unit_coverage(stems: Sequence[str], have: set[str], idf: Idf) -> float:
    """`coverage` for choosing sentences: a derived form of a question word counts two thirds, and
    so does a compound of it, weighed as the rarer of the two words (a compound of a common word
    says little more of the question than the word would)."""
    total = sum(idf(s) for s in stems)
    if total == 0:
        return 0.0

    def credit(stem: str) -> float:
        if stem in have:
            return idf(stem)
        if _related(stem, have):
            return (2 / 3) * idf(stem)
        compound = _compound_of(stem, have)
        return (2 / 3) * min(idf(stem), idf(compound)) if compound else 0.0

    return sum(credit(s) for s in stems) / total


def score_units(
    units: list[Unit],
    stems: Sequence[str],
    qtype: str,
    idf: Idf,
    secondary: Sequence[str] = (),
    counted: Sequence[str] = (),
    listed: Sequence[str] = (),
) -> list[float]:
    """Score each unit: coverage of the question's stems, a little for stems carried from earlier
    turns (`secondary`), and cues for the kind of question; for "hur många X" (`counted`: X) a unit
    that counts X ("Det finns 17 överenskommelser") over one with any number; for "vilka X"
    (`listed`: the stems of X) names in a series where X is said."""
    scores = []
    for i, unit in enumerate(units):
        if unit.noise:
            scores.append(-1.0)
            continue
        score = unit_coverage(stems, unit.stems, idf)
        matches = type_match(qtype, unit.text)
        if qtype in SPECIFIC_KINDS and matches:
            # the sentence before, or the paragraph's first, may say what the figure is of
            before = {i - 1, next(j for j in range(i + 1) if units[j].paragraph == unit.paragraph)} - {i}
            windows = [
                (0.9 * unit_coverage(stems, unit.stems | units[j].stems, idf), j)
                for j in before
                if j >= 0 and not units[j].noise
            ]
            window, j = max(windows, default=(0.0, 0))
            if window > score + 0.1:
                unit.context = j
            score = max(score, window)
        if secondary:
            score += 0.3 * coverage(secondary, unit.stems, idf)
        if matches and qtype != "other":
            score += 0.15
        elif qtype in SPECIFIC_KINDS:
            score *= 0.6  # "hur många", "när", "hur ofta": a sentence without a number, date or
            # frequency cannot be the answer, however many of the question's words it has
        if qtype in ("list", "task") and unit.kind == "lead":
            score += 0.2
            if _enumerates(unit.text, stems):
                score += 0.4  # "... finns följande samrådsgrupper:" for "vilka samrådsgrupper finns?"
        elif qtype in ("list", "task") and _enumerates(unit.text, stems, inline=True):
            score += 0.6  # a list run into a sentence: "... rör målgrupperna: personer med ..."
        elif listed and unit.kind == "sentence" and _NAMED_SERIES.search(unit.text):
            # names in a series, in a sentence that says what they are ("... i tre andra län ...;
            # Västra Götaland, Skåne och Östergötland.") or after one ("... hur tre andra län
            # hanterar ...", "Analysen omfattar Västra Götaland, Skåne och Östergötland.")
            j = i - 1
            before = j >= 0 and units[j].paragraph == unit.paragraph and not units[j].noise
            if _says(listed, unit.stems):
                score += 0.6
            elif before and _says(listed, units[j].stems):
                score = max(score, 0.9 * unit_coverage(stems, unit.stems | units[j].stems, idf)) + 0.6
                unit.context = j
        if counted and _count_of(unit.text, counted):
            score += 0.2
        if i == 0:
            score += 0.03  # a clause usually states its point first
        if len(unit.text.split()) < 4 and not (
            qtype in ("when", "how_many") and type_match(qtype, unit.text)
        ):
            score -= 0.2
        scores.append(score)
    return scores


def _says(stems: Sequence[str], have: set[str]) -> bool:
    """Whether `have` has one of `stems`, or a compound of one ("målgrupperna" for "grupper")."""
    return any(s in have or _compound_of(s, have) for s in stems)


_EXAMPLES = re.compile(r"\s*exempel på\b", re.IGNORECASE)
# three or more names in a series: "Västra Götaland, Skåne och Östergötland"
_NAME = r"[A-ZÅÄÖ][\wåäö-]+(?: [A-ZÅÄÖ][\wåäö-]+)*"
_NAMED_SERIES = re.compile(rf"\b(?:{_NAME}, )+{_NAME},? (?:och|samt) {_NAME}")


def _enumerates(lead: str, stems: Sequence[str], inline: bool = False) -> bool:
    """Whether a list's lead-in announces an enumeration of something the question names:
    "följande X" with X (or the word after it: "följande tre samrådsgrupper") among the
    question's stems (or a compound of one: "följande målgrupper" for "vilka grupper"); not a verb
    further on ("följande delar föreslås ingå"). With `inline`, a list run into a sentence: X just
    before a colon with words after it ("... rör målgrupperna: personer med ..."), or X the
    sentence's subject ("De samverkansöverenskommelser som ... rör målgrupperna: ...")."""

    def asked(named: Sequence[str]) -> bool:
        # the word itself or a compound of it: "målgrupperna" for "vilka grupper"
        return any(s in stems or _compound_of(q, {s}) for s in named for q in stems)

    if inline:
        colon = re.search(r"(\w+)\s*:\s*\w", lead)
        if not colon:
            # "Exempel på arbetsuppgifter som ... är att överlämna läkemedel, ge ögondroppar och ..."
            opening = stem_tokens(" ".join(lead.split()[:3]))
            return bool(_EXAMPLES.match(lead)) and "," in lead and asked(opening)
        return asked(stem_tokens(colon.group(1))) or asked(stem_tokens(" ".join(lead.split()[:3])))
    tokens = fold(lead).split()
    for i, token in enumerate(tokens):
        if token == "foljande":
            return asked(stem_tokens(" ".join(tokens[i + 1 : i + 3])))
    return False


@dataclass
class Selection:
    """The units chosen from one clause for the answer."""

    source: Source
    units: list[Unit]  # what answers the question (the evidence rests on these)
    score: float
    extra: list[Unit] = field(default_factory=list)  # shown too: context that carries on the point

    @property
    def shown(self) -> list[Unit]:
        """The units the answer shows, in clause order."""
        return sorted([*self.units, *self.extra], key=lambda u: u.start)

    @property
    def quotes(self) -> list[str]:
        """The shown units as runs of adjacent sentences, each an exact substring of the clause
        text: what the answer uses, without the sentences it skips."""
        text = self.source.chunk.text
        runs: list[list[Unit]] = []
        for unit in self.shown:
            if runs and not text[runs[-1][-1].end : unit.start].strip():
                runs[-1].append(unit)
            else:
                runs.append([unit])
        return [text[run[0].start : run[-1].end] for run in runs]

    @property
    def quote(self) -> str:
        """The words used, as an exact substring of the clause text (a contiguous span)."""
        shown = self.shown
        text = self.source.chunk.text
        first, last = shown[0], shown[-1]
        span = text[first.start : last.end]
        used = sum(len(u.text.split()) for u in shown)
        if len(span.split()) <= max(120, used + 5):
            return span  # every sentence used, with what stands between them in the clause
        return max(self.units, key=lambda u: len(u.text)).text  # the longest sentence that answers


def listed_asked(question: str) -> list[str]:
    """The stems of what a "vilka" question asks to be listed: the words right after it ("Vilka tre
    huvudkategorier ..." -> tre, huvudkategori), or after "exempel på" ("vad är exempel på uppgifter
    som ..." -> uppgift)."""
    m = re.search(r"\b(?:vilk(?:a|en|et)|exempel pa)\s+((?:\S+\s+){0,2}\S+)", fold(question))
    return query_stems(content_words(m.group(1))) if m else []


def lists(selection: Selection, stems: Sequence[str]) -> bool:
    """Whether the units chosen from a clause hold a list announced as one of `stems` ("följande
    samrådsgrupper:", "... rör målgrupperna: personer med ...")."""
    return any(
        (u.kind == "lead" and _enumerates(u.text, stems)) or _enumerates(u.text, stems, inline=True)
        for u in selection.units
    )


def lists_tasks(selection: Selection, stems: Sequence[str]) -> bool:
    """Whether the units chosen from a clause hold a list of what someone the question names is to
    do: a lead-in such as "Sekretariatet ansvarar för:" for "vad ansvarar det gemensamma
    sekretariatet för?" (a word of the lead-in besides its verb among the question's stems)."""
    for unit in selection.units:
        lead = _TASK_LEAD.search(unit.text) if unit.kind == "lead" else None
        if lead is not None and set(stem_tokens(unit.text[: lead.start()])) & set(stems):
            return True
    return False


def select_units(
    source: Source,
    stems: Sequence[str],
    qtype: str,
    idf: Idf,
    max_words: int,
    want_list: bool,
    secondary: Sequence[str] = (),
    counted: Sequence[str] = (),
    allowed: Callable[[Unit], bool] | None = None,
    subject: Sequence[str] = (),
    holds: Callable[[str], bool] | None = None,
    listed: Sequence[str] = (),
) -> Selection | None:
    """The best sentence(s) of a clause; a whole list (with its lead-in) when the question asks for one.
    With `allowed`, only units it accepts are chosen or shown (None when it accepts none). `subject`:
    the stems of the question a follow-up leans on. `holds`: whether a unit's text holds the thing
    the question asks for (see `asked_thing`); such a unit is chosen first. `listed`: what a "vilka"
    question asks to be listed (see `listed_asked`)."""
    units = split_units(source.chunk.text)
    # units not allowed stay in `units` (a list's lead-in and items are found by position) but
    # never score
    kept = [allowed is None or allowed(u) for u in units]
    if not any(kept):
        return None
    scores = [
        score if keep else -1.0
        for score, keep in zip(
            score_units(units, stems, qtype, idf, secondary, counted, listed), kept, strict=True
        )
    ]
    best = max(range(len(units)), key=lambda i: scores[i])
    if counted or holds is not None:
        # "Hur många överenskommelser finns det?": a sentence that counts them is the answer, however
        # many more of the question's words another one has ("Det finns 17 överenskommelser ..."); so
        # is one that holds what is asked ("Dnr: ÄLN 2021/194" for "vilket diarienummer ...?")
        def has(text: str) -> bool:
            return (bool(counted) and _count_of(text, counted)) or (holds is not None and holds(text))

        counting = [i for i, u in enumerate(units) if kept[i] and not u.noise and has(u.text)]
        if counting and best not in counting:
            best = max(counting, key=lambda i: scores[i])
    leads = [i for i, u in enumerate(units) if u.kind == "lead"]
    # a sentence that lists the names asked for ("Analysen omfattar Västra Götaland, Skåne och
    # Östergötland.") is a list of its own
    series = bool(listed) and units[best].kind == "sentence" and _NAMED_SERIES.search(units[best].text)
    if want_list and leads and units[best].kind == "sentence" and not series:
        # a list question: the clause's best-scoring list, if it has one
        def list_score(lead: int) -> float:
            """The lead-in's score plus the mean of its own items' (not those of later lists)."""
            end = lead + 1
            while end < len(units) and units[end].kind == "item":
                end += 1
            items = scores[lead + 1 : end]
            return scores[lead] + (sum(items) / len(items) if items else 0.0)

        # only a list whose lead-in is about the question ("Sekretariatet ansvarar för:" does not
        # answer "Vad ingår i tjänstemannastyrgruppens uppdrag?" however its items score)
        about = [
            i
            for i in leads
            if kept[i]
            and (
                unit_coverage(stems, units[i].stems, idf) > 0
                or _enumerates(units[i].text, stems)
                # or it announces what someone is to do, of whom the question leaned on asked:
                # "Den kommunala samordnande funktionen förväntas:" for "vad ska den personen göra
                # då?" after "vem är kommunens samordnande funktion?", not after "vilken vårdcentral
                # är samordnande?"
                or (
                    qtype == "task"
                    and _TASK_LEAD.search(units[i].text) is not None
                    and coverage(subject, units[i].stems, idf) >= 0.5
                )
            )
        ]
        if about:
            best = max(about, key=list_score)
    context = units[best].context
    pair_words = len(units[best].text.split()) + (
        len(units[context].text.split()) if context is not None else 0
    )
    chosen = [context, best] if context is not None and pair_words <= max_words else [best]
    if want_list or (units[best].kind in ("lead", "item") and qtype != "definition"):
        # take the whole list the best unit belongs to, with its lead-in sentence
        lead = best
        while lead > 0 and units[lead].kind == "item":
            lead -= 1
        if units[lead].kind == "lead" or (lead + 1 < len(units) and units[lead + 1].kind == "item"):
            end = lead + 1
            while end < len(units) and units[end].kind == "item":
                end += 1
            if end - lead > 1:
                chosen = list(range(lead, end))
            size = sum(len(units[i].text.split()) for i in chosen)
            if not want_list and size > max_words:
                # the question does not ask for the list: its lead-in and the best points of it,
                # within the word budget
                keep = {best, lead} if units[lead].kind == "lead" else {best}
                used = sum(len(units[i].text.split()) for i in keep)
                for i in sorted(chosen, key=lambda j: -scores[j]):
                    n_words = len(units[i].text.split())
                    if i not in keep and scores[i] >= 0.6 * scores[best] and used + n_words <= max_words:
                        keep.add(i)
                        used += n_words
                chosen = sorted(keep)
    if (
        qtype == "definition"
        and chosen == [best]
        and units[best].kind == "sentence"
        and best + 1 < len(units)
        and units[best + 1].kind == "lead"
        and unit_coverage(stems, units[best + 1].stems, idf) > 0
    ):
        # "... Nära vård som innebär ett förändrat förhållningssätt." then "I Nära vård:" and its
        # points: the list carries the definition on, and is given in full
        end = best + 2
        while end < len(units) and units[end].kind == "item":
            end += 1
        chosen = list(range(best, end))
    if len(chosen) == 1:
        # other sentences of the clause that also answer join, best first, within the word budget
        words_used = len(units[best].text.split())
        for i in sorted(range(len(units)), key=lambda j: -scores[j]):
            # a term list's other entries may define what is asked too ("- Rutiner: ..." beside "-
            # Regional riktlinje: ..." for "skillnaden mellan en rutin och en riktlinje")
            entry = (
                qtype == "definition" and units[i].kind == "item" and _DEFINED_HEAD[0].match(units[i].text)
            )
            if i == best or (units[i].kind != "sentence" and not entry) or not is_sentence(units[i].text):
                continue
            n_words = len(units[i].text.split())
            if scores[i] < max(0.6 * scores[best], 0.25) or words_used + n_words > max_words:
                continue
            chosen.append(i)
            words_used += n_words
    chosen.sort()
    extra: list[Unit] = []
    if len(chosen) == 1 or not want_list:
        # The sentence right after the best one usually carries on its point: it is shown when it
        # fits the budget. It is not evidence (the confidence rests on the chosen units only).
        nxt = best + 1
        words_used = sum(len(units[i].text.split()) for i in chosen)
        if (
            nxt < len(units)
            and nxt not in chosen
            and kept[nxt]
            and units[nxt].kind == "sentence"
            and not units[nxt].noise
            and is_sentence(units[nxt].text)  # not a diagram's label ("Ta fram förslag i arbetsgrupp")
            and not DEFINITION_ENTRY.match(units[nxt].text)  # "SLSO = ...": the next term, not more
            and words_used + len(units[nxt].text.split()) <= max_words
        ):
            extra.append(units[nxt])
        # what is left of the budget goes to the clause's other sentences that share a word with
        # the question, best first: shown, not evidence
        words_used += sum(len(u.text.split()) for u in extra)
        for i in sorted(range(len(units)), key=lambda j: -scores[j]):
            unit = units[i]
            n_words = len(unit.text.split())
            if (
                i in chosen
                or not kept[i]
                or unit in extra
                or unit.kind != "sentence"
                or unit.noise
                or not is_sentence(unit.text)
                or unit_coverage(stems, unit.stems, idf) <= 0.0
                or DEFINITION_ENTRY.match(unit.text)
                or words_used + n_words > max_words
            ):
                continue
            extra.append(unit)
            words_used += n_words
    return Selection(source, [units[i] for i in chosen], scores[best], extra)


# ---------------------------------------------------------------------- answer types
# Some questions ask for a particular kind of thing: an amount of money, a contact detail or an
# opening time, a count of something. When the chosen sentences hold no such thing, the documents
# most likely talk about the topic without giving what was asked ("Hur många ledamöter har VIS
# politiska styrgrupp?" - the clause describes the group but never counts its members).

_NUMBER_WORDS = (
    "en|ett|två|tva|tre|fyra|fem|sex|sju|åtta|atta|nio|tio|elva|tolv|tretton|fjorton|femton|sexton|"
    "sjutton|arton|nitton|tjugo|trettio|fyrtio|femtio|hundra|tusen|ingen|inga|inget|samtliga|alla|"
    "hälften|halften|majoriteten"
)
# "ett 20-tal", "ett tiotal", "ett fåtal": a round count; not "avtal", "samtal"
_COUNT_TOKEN = re.compile(
    rf"^(\d+([.,]\d+)?%?|{_NUMBER_WORDS}|(\d+-?|tio|tjugo|trettio|fyrtio|femtio|hundra|tusen|fa)tal(et)?)$",
    re.IGNORECASE,
)
_YEAR = re.compile(r"^(19|20)\d\d$")


def _is_count(token: str, text: str) -> bool:
    """Whether a folded word of `text` is a count, not a year: "17", "sju", "ett 20-tal", "inga"
    (but not "ingå", which folds to the same word)."""
    if not _COUNT_TOKEN.match(token) or _YEAR.match(token):
        return False
    return token != "inga" or re.search(r"\binga\b", text, re.IGNORECASE) is not None


_HOW_MANY = re.compile(r"\b(?:hur|lika) manga ((?:\w+ ){0,2}\w+)")
# Auxiliary and modal verbs (folded): no counted thing after "hur många", no action after "hur".
_AUXILIARIES = frozenset(
    "ar e var har hade kan kunde ska skall far fick blir blev maste bor borde vill ville kommer skulle "
    "brukar behover".split()
)
_NOT_COUNTED = _AUXILIARIES | frozenset(
    "finns fanns gav ger som av de den det dom vi ni man gang ganger procent".split()
)
_MONEY_ASKED = re.compile(
    r"\b(vad|hur mycket) (kostar|kostade|kommer .* kosta|tjanar)\b|\bhur (mycket|stor\w*) "
    r"(pengar|budget|ersattning|lon|avgift|arvode|betalt|belopp|summa)\b"
    r"|\bhur mycket .*\b(betalt|betala|betalar|betalas|betalade|pengar|kronor|ersattning\w*|arvode|lon|"
    r"avgift|\w*bidrag|"
    r"(stimulans|stats|utvecklings|projekt)?(medel|medlen))\b"
    r"|\b(loneniva\w*|lon|lonen|loner|lonerna|maxtaxa\w*|taxan|budgeten|budget)\b"
    r"|\bvad (ar|blir) (priset|kostnaden|avgiften)\b"
)
# A penalty asked for (folded), and the words that name one.
_SANCTION_ASKED = re.compile(r"\b(sanktion\w*|vite|viten|vitet|boter|straff\w*|bestraff\w*)\b")
_SANCTION = re.compile(r"\b(sanktion\w*|vite\w*|boter|straff\w*|forelagg\w*|sanktionsavgift\w*)\b")
_HOW_MUCH = re.compile(r"\bhur mycket\b(?! tid)")
_MONEY = re.compile(r"\b(kr|kronor|tkr|mkr|sek|miljon\w*|miljard\w*|euro)\b|\d\s*(kr\b|:-)", re.IGNORECASE)
_CONTACT_ASKED = re.compile(
    r"\b(telefon\w*|ringa|ringer|mejla\w*|e-post\w*|epost\w*|mailadress\w*|adress\w*|kontaktuppgift\w*|"
    r"oppettid\w*|oppet|oppna|(direkt|telefon|mobil|vaxel|kontakt)(nummer|numret|numren)|numret till)\b"
)
_CONTACT = re.compile(
    r"\b\d{2,4}[- ]\d{2,3} ?\d{2} ?\d{2}\b|@|www\.|\bkl\.? ?\d|\b\d{1,2}[.:]\d{2}\b|\.se\b", re.IGNORECASE
)
# a telephone number asked for (folded) is not given by a web address; an e-mail address is only
# given by one
_PHONE_ASKED = re.compile(
    r"\b(telefon\w*|ringa|ringer|(direkt|mobil|vaxel)(nummer|numret|numren)|numret till)\b"
)
_PHONE = re.compile(
    r"\b\d{2,4}[- ]\d{2,3} ?\d{2} ?\d{2}\b|\b\d{3}[- ]?\d{3} ?\d{2} ?\d{2}\b|\b1177\b|\b112\b"
)
_MAIL_ASKED = re.compile(r"\b(mejl\w*|mail\w*|e-post\w*|epost\w*)\b")


_CASE_NUMBER_ASKED = re.compile(r"\b(diarienumm\w*|dnr|arendenumm\w*)\b")
_CASE_NUMBER = re.compile(r"\b\d{2,4}/\d{1,6}\b")  # "Dnr: ÄLN 2021/194"


def asked_thing(question: str) -> Callable[[str], bool] | None:
    """A test of whether a text holds the particular thing a question asks for, when it asks for one
    that a clause's best-matching sentence may well lack: a case number."""
    if _CASE_NUMBER_ASKED.search(fold(question)):
        return lambda text: _CASE_NUMBER.search(text) is not None
    return None


def counted_nouns(question: str) -> list[str]:
    """The words after "hur många" that name what is counted ("hur många ledamöter" -> ledamoter)."""
    match = _HOW_MANY.search(fold(question))
    if not match:
        return []
    nouns: list[str] = []
    for word in match.group(1).split():
        if word in _NOT_COUNTED:  # "hur många har Skåne?": the counted thing is not named
            break
        if len(word) > 2:
            nouns.append(word)
        if not word.endswith(("a", "e")):
            # a noun ends what is counted; an adjective ("länsövergripande", "sådana") goes before
            # one, and a verb after it is no counted thing ("hur många överenskommelser föreslår")
            break
    return nouns[:2]


def _count_of(text: str, nouns: Sequence[str], window: int = 4) -> bool:
    """Whether a number (not a year) stands within `window` content words before one of the counted
    nouns ("sju rekommendationer") or within three after it ("överenskommelser - totalt ett 20-tal")."""
    wanted = {s for n in nouns for s in stem_tokens(n)[:1]}
    tokens = words(text)
    for i, token in enumerate(tokens):
        if not _is_count(token, text):
            continue
        near = [*tokens[max(0, i - 3) : i], *tokens[i + 1 : i + 1 + window]]
        if any(
            s in wanted
            or _related(s, wanted)
            or _compound_of(s, wanted)
            or any(_compound_of(w, {s}) for w in wanted)
            for t in near
            for s in stem_tokens(t)[:1]
        ):  # "åtta samverkansöverenskommelser" count "överenskommelser", and "tolv överenskommelser"
            # "samverkansöverenskommelser"
            return True
    return False


@lru_cache(maxsize=2)
def _names_pattern(key: str) -> str:
    """resources/places.json's folded names under `key`, longest first, as an alternation."""
    data = json.loads((Path(__file__).parent / "resources" / "places.json").read_text(encoding="utf-8"))
    return "|".join(re.escape(n) for n in sorted(data[key], key=len, reverse=True))


@lru_cache(maxsize=1)
def _place_pattern() -> re.Pattern[str]:
    return re.compile(rf"\b({_names_pattern('places')})s?\b")


@lru_cache(maxsize=1)
def _municipality_pattern() -> re.Pattern[str]:
    return re.compile(
        rf"\b({_names_pattern('municipalities')})s?\b|\b(samtliga|alla|lanets) (\d+ )?kommuner\b"
    )


# A time given relative to something: "efter ikraftträdandet", "inför varje år"; "vid", "när" and
# "under" also tell of an occasion or a place in a text ("Vid workshopen framfördes ...").
_FIRM_TIME = (
    r"efter|före|innan|inom|senast|i samband med|inför|tills|varje|årlig\w*|tidigast|i början av|i slutet av"
)
_RELATIVE_TIME = re.compile(rf"\b({_FIRM_TIME}|vid|när|under)\b", re.IGNORECASE)
_TELLS_WHEN = re.compile(rf"\b({_FIRM_TIME})\b", re.IGNORECASE)


def tells_when(text: str) -> bool:
    """Whether a text gives a time: a date, month or year, a duration, or a firm relative time."""
    return type_match("when", text) or bool(_DURATION.search(text) or _TELLS_WHEN.search(text))


_MUNICIPALITY_ASKED = re.compile(r"\bvilk(en|a) (kommun|kommuner|stadsdel|stadsdelar)\b")
_NOT = re.compile(r"\b(inte|ej|icke|saknar)\b")
# A day asked for ("vilket datum", "vilken dag") and a day given: "2022-07-01", "den 14 oktober".
_DAY_ASKED = re.compile(r"\b(vilket datum|vilken dag|vilka datum)\b")
_DAY_DATE = re.compile(rf"\b(19|20)\d\d-\d\d-\d\d\b|\b\d{{1,2}}(:e|:a)?\s+({_MONTHS})\b", re.IGNORECASE)
# A person's name asked for: "vad heter ordföranden?", "vem är ordförande i VIS just nu?", "vilka
# politiker sitter i styrgruppen?", "vem var projektledare?". A role ("en ansvarig projektledare",
# "kommunens samordnande funktion") does not answer; a name ("Anna Berg") does.
_ROLE = (
    r"(ordforande\w*|ledamot\w*|ledamoter\w*|politiker\w*|projektledare\w*|chef\w*|direktor\w*|"
    r"samordnare\w*|handlaggare\w*|sjukskoterska\w*|mas\w*|lakare\w*|sekreterare\w*|forfattare\w*|"
    r"utredare\w*|kontaktperson\w*|personen)"
)
_PERSON_ASKED = re.compile(
    rf"\bvad heter (han|hon|hen|(\w+ ){{0,3}}{_ROLE})\b"
    rf"|\b(vem|vilka) (ar|e|var|sitter|blir)\b.*\b{_ROLE}\b.*\b(just nu|nu|idag|i dag|for narvarande)\b"
    r"|\bvilka (politiker|personer|ledamoter) (sitter|ingar|ar)\b"
    # "vem är (utsedd) projektledare?", "vem har utsetts till ordförande?"
    r"|\bvem (ar|e|var|blir|blev|har) (\w+ ){0,2}(ordforande|projektledare|forfattare|chef|direktor)\b"
)
# "vem e MAS i nacka?", "vem är samordnare hos oss?": who holds a role in one place is a person
_ROLE_HOLDER_ASKED = re.compile(rf"\b(vem|vilka) (ar|e|var|sitter|blir)\b.*\b{_ROLE}\b")
_HERE = re.compile(r"\b(hos (oss|er|mig)|har hos|i (var|er) kommun)\b")
_PERSON_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-ZÅÄÖ][a-zåäöé]+ (?:[A-ZÅÄÖ]\. )?[A-ZÅÄÖ][a-zåäöé]+\b")


def _names_person(text: str) -> bool:
    """Whether a text has what reads as a person's name: two capitalised words, not a place ("Nacka
    Kommun", "i Nacka Nacka kommun") nor one word twice."""
    for match in _PERSON_NAME.finditer(text):
        first, *_, last = match.group(0).split()
        place = _municipality_pattern().search(fold(match.group(0))) or _place_pattern().search(
            fold(match.group(0))
        )
        if first != last and not place:
            return True
    return False


# "Hur loggar man in i WebCare?", "hur söker man färdtjänst?": how to do something; an answer that
# never speaks of doing it ("logga", "söka", "ansökan") does not tell how.
_HOW_TO = re.compile(rf"^{_FILLERS}hur (\w+) (man|jag|vi|ni|dom|de)\b")
_NOT_AN_ACTION = _AUXILIARIES | frozenset(
    "gor gjorde gar gick funkar fungerar ser sag manga mycket lange ofta".split()
)
# An IT system, program or service asked for by name ("vilket journalsystem ska vi använda?",
# "vilken AI-tjänst användes?"): a name ("WebCare", "TakeCare") the question does not already say.
_SYSTEM_ASKED = re.compile(
    r"\bvilk(et|en|a) [\w-]*(system|program|app|appar|applikation\w*|verktyg|plattform\w*|tjanst|tjanster|"
    r"databas\w*)\b"
)
_NAME = re.compile(r"(?<![.!?:]\s)(?<!^)\b[A-ZÅÄÖ][\wåäöÅÄÖ-]*[A-ZÅÄÖa-zåäö]\b")
# "När är nästa möte?": a coming event has a date, not "ett par möten per år".
_NEXT_ASKED = re.compile(r"\bnasta\b")
# "Vad säger / ändras i den nya socialtjänstlagen om X?": what a law says of a topic
_LAW_CONTENT_ASKED = re.compile(r"\bvad (sager|andras|forandras|innebar|star det)\b")
_NEW_LAW = re.compile(r"\bnya?\s+(?:\w+\s+)?\w*lag(?:en)?\b")  # folded: "den nya socialtjänstlagen"
_LAW = re.compile(r"^(\w*lag(en|ar|arna)?|sol|hsl|lss|lvu|lvm|sfs|forordning\w*)$")
_NOT_A_TOPIC = frozenset(
    "ny nya nytt den det sager andras forandras innebar star paragraf paragrafer trad tradde trader kraft "
    "galla galler borjar juli januari for kring om med till inom".split()
)


def _law_topic(question: str) -> list[str]:
    """The topic a question asks a law about ("vad säger den nya socialtjänstlagen om samverkan med
    regionen?" -> samverkan, regionen); [] when it names no law or asks of nothing but the law."""
    q = fold(question)
    tokens = words(q)
    if not _LAW_CONTENT_ASKED.search(q) or not any(_LAW.match(t) for t in tokens):
        return []
    return [
        t
        for t in tokens
        if not _LAW.match(t) and t not in _NOT_A_TOPIC and t not in QUESTION_WORDS and not t[:1].isdigit()
    ]


_YEAR_NOT_LAW = re.compile(_A_YEAR)
# A body that decides ("kommunstyrelsen", "Storsthlms styrelse", "äldrenämnden", "VIS politiska
# styrgrupp"): when the question asks when it did something, a date of another body's decision
# does not answer ("kommunstyrelsen" is not "styrelse").
_BODY = re.compile(r"\b\w*(styrelse|namnd|fullmaktige|styrgrupp)\w*\b|\b(regeringen|riksdagen)\b")
# What a study found ("vad visade utvärderingen?", "vad kom kartläggningen fram till?", "vilka
# resultat ..."), when the documents only say it is to be reported ("kommer under 2014 att redovisa")
_RESULT_ASKED = re.compile(r"\b(vad|vilka) (visade|visar|kom\b.{0,80}\bfram till|resultat)")
_STUDY = re.compile(r"\b(utvardering|studie|undersokning|enkat|kartlaggning|analys|forsok)")
_FUTURE = re.compile(r"\bkommer\b.{0,40}\batt\b|\bska\b.{0,30}\bredovisas?\b|\bplaneras\b")
# When something takes effect: a date alone (a letterhead's) does not say it, a sentence must.
_TAKES_EFFECT = re.compile(r"\b(gall(er|a|de)|trad(er|de|a) i kraft|ikrafttrad\w*|borja(de|r)? galla)\b")
# a date said of something taking effect: "börjar gälla 2022-07-01", "träder i kraft", "Lagstadgad sedan 2010"
_IN_FORCE = re.compile(
    r"\b(gall\w*|trad(er|de|a)?|i kraft|ikrafttrad\w*|borja\w*|sedan|fran och med|infor(des|t)|"
    r"antogs|antagits|lagstadga\w*)\b"
)
_DURATION_ASKED = re.compile(r"\bhur (lang tid|lange|lang)\b(?! (tid )?(sen|sedan)\b)|\binom hur lang\b")
_DURATION = re.compile(
    r"\b(\d+([–-]\d+)?|en|ett|två|tre|fyra|fem|sex|sju|åtta|nio|tio|tolv|några|flera|par)\s+"
    r"(sekunder|minuter|timm\w*|dygn\w*|dag(ar)?|veck\w*|månad\w*|år|åren|kvartal\w*)\b"
    r"|\b\w+årig\w*|\btills vidare\b|\bmandatperiod\w*|\bhalvår\w*",
    re.IGNORECASE,
)


def places_named(question: str) -> list[str]:
    """Places outside Stockholm county that the question names ("Skånes", "i Västra Götaland")."""
    return list(dict.fromkeys(m.group(1) for m in _place_pattern().finditer(fold(question))))


# A question that asks to name one thing ("vilken vårdcentral ...", "vad heter ...") or for a
# figure: a clause on every municipality does not give it for the one the question names.
_ONE_THING_ASKED = re.compile(r"\b(vilken|vilket|vad heter|hur manga|hur mycket)\b")


# "Vilken vårdcentral är samordnande i Nacka?" asks for one by name: "Boo vårdcentral"
_CLINIC_ASKED = re.compile(r"\bvilken (vardcentral|vc)\b")
_CLINIC_NAME = re.compile(
    r"(?<![.!?:]\s)(?<!^)\b[A-ZÅÄÖ][\wåäö-]+ (vårdcentral|VC)\b|\bvårdcentralen [A-ZÅÄÖ]"
)


def municipalities_named(question: str) -> list[str]:
    """The county's municipalities a question names (folded). Stockholm is left out: it is also the
    name of the county and the region."""
    named = (m.group(1) for m in _municipality_pattern().finditer(fold(question)) if m.group(1))
    return [n for n in dict.fromkeys(named) if n != "stockholm"]


def municipalities_not_covered(question: str, where: str) -> list[str]:
    """The county's municipalities the question names that the folded text `where` never mentions."""
    return [n for n in municipalities_named(question) if not re.search(rf"\b{re.escape(n)}", where)]


def _coming_date(text: str) -> bool:
    """Whether a text gives a date of this year or later: the time of a coming event ("nästa
    möte"), not one the documents report as past."""
    this_year = dt.date.today().year
    years = [int(m.group(0)[-4:]) for m in _YEAR_NOT_LAW.finditer(text)]
    return any(year >= this_year for year in years)


def _bodies(folded: str) -> list[str]:
    """The stems of the deciding bodies a folded text names."""
    return [stem for m in _BODY.finditer(folded) for stem in stem_tokens(m.group(0))[:1]]


def asks_when_in_force(question: str) -> bool:
    """Whether a question asks when something takes or took effect ("när börjar X gälla?")."""
    return question_type(question) == "when" and bool(_TAKES_EFFECT.search(fold(question)))


# a diagram's label cut off where its box ends: "Beslut om att inleda arbete i" (then "VIS")
_DANGLING = re.compile(
    r"\b(i|om|och|att|av|till|på|med|för|som|från|eller|samt|en|ett|den|det|de|vid|inom|mellan)\s*$",
    re.IGNORECASE,
)


def is_sentence(text: str) -> bool:
    """A sentence ("Återstår att göra."), or a sentence's worth of words that does not break off
    at a preposition or conjunction; no letterhead, no diagram label."""
    text = text.rstrip()
    return text.endswith((".", "!", "?")) or (len(text.split()) >= 6 and not _DANGLING.search(text))


def answer_type_missing(
    question: str, text: str, context: str = "", counted: Sequence[str] | None = None
) -> str | None:
    """The kind of thing the question asks for that `text` lacks: "money", "contact", "case_number",
    "action" (what "hur gör man X" does), "name" (of a system), "person" (a name), "count", "amount",
    "frequency", "time", "duration", "municipality", "actor" (the deciding body a "när" question
    names), "result" (of a study the text only says is to come); or that neither `text` nor its
    clause and document (`context`) have: "place" (a region or town outside the county that the
    question names, or one of its municipalities when the question asks to name one thing or a
    figure there), "year" (a year it names). None when nothing
    is missing. `counted`: what a "hur många" question counts, in all its words (default: the words
    after "hur många")."""
    q = fold(question)
    where = fold(f"{text} {context}")
    if any(not re.search(rf"\b{re.escape(p)}", where) for p in places_named(question)):
        return "place"  # "Vad säger Skånes överenskommelse ...?" about a clause on Stockholm
    if _ONE_THING_ASKED.search(q) and municipalities_not_covered(question, where):
        return "place"  # "vilken vårdcentral är samordnande i Huddinge?" and Huddinge is never named
    if _CLINIC_ASKED.search(q) and municipalities_named(question) and not _CLINIC_NAME.search(text):
        return "name"  # "vilken vårdcentral är samordnande i Täby?" and a report on Täby names none
    if any(year not in where for year in re.findall(r"\b(?:19|20)\d\d\b", question)):
        return "year"  # "... uppföljningen av HÖK 2023?" where nothing in the clause is from 2023
    if _MONEY_ASKED.search(q) and not _MONEY.search(text):
        return "money"
    if _SANCTION_ASKED.search(q) and not _SANCTION.search(fold(text)):
        return "sanction"  # "vilka viten kan IVO besluta om?" and only that IVO may check in its tillsyn
    if _CONTACT_ASKED.search(q) and not _CONTACT.search(text):
        return "contact"
    if _PHONE_ASKED.search(q) and not _PHONE.search(text):
        return "contact"  # "vilket nummer ringer man till Storsthlm på?" and "www.storsthlm.se"
    if _MAIL_ASKED.search(q) and "@" not in text:
        return "contact"
    if (holds := asked_thing(question)) is not None and not holds(text):
        return "case_number"  # "vad har tjänsteskrivelsen för dnr?" and "Äldrenämnden föreslår ..."
    how_to = _HOW_TO.search(q)
    if how_to and how_to.group(1) not in _NOT_AN_ACTION:
        action = stem_tokens(how_to.group(1))[0]
        if len(action) >= 3 and not any(w.startswith((action, f"an{action}")) for w in words(text)):
            return "action"  # "hur loggar man in i WebCare?" and nothing about logging in
    if _SYSTEM_ASKED.search(q) and not any(fold(m.group(0)) not in q for m in _NAME.finditer(text)):
        return "name"  # "vilket journalsystem ska vi använda?" and "journalsystemen måste samordnas"
    topic = query_stems(_law_topic(question))
    if topic:
        if _NEW_LAW.search(q):
            # what the new law says of it stands in a sentence on the new law, not beside one: "Den 1
            # juli 2025 träder en helt ny socialtjänstlag i kraft" followed by a sentence on the
            # regions says nothing of "samverkan med regionen" (nor does the present law's wording)
            text = " ".join(s for s in re.split(r"(?<=[.!?])\s+", text) if _NEW_LAW.search(fold(s)))
        said = set(stem_tokens(text))
        if not any(s in said or _related(s, said) for s in topic):
            return "topic"  # "vad säger nya socialtjänstlagen om hemtjänsten?" and only when it takes effect
    in_one_place = bool(municipalities_named(question) or _HERE.search(q))
    person_asked = _PERSON_ASKED.search(q) or (in_one_place and _ROLE_HOLDER_ASKED.search(q))
    if person_asked and not _names_person(text):
        return "person"  # "vem är ordförande i VIS just nu?" and "den politiska styrgruppen beslutar"
    nouns = counted_nouns(question) if counted is None else counted
    if nouns and not _count_of(_ENUMERATOR.sub(" ", text), nouns):  # "5. Ny indelning ..." counts nothing
        return "count"
    undated = _DAY_DATE.sub(" ", text)  # "1 mars 2013" is no amount
    if _HOW_MUCH.search(q) and not any(_is_count(t, undated) for t in words(undated)):
        return "amount"  # "hur mycket stimulansmedel ...?" with no figure at all
    if question_type(question) == "how_often" and not _FREQUENCY.search(text):
        return "frequency"  # "hur ofta ska vi ha samverkansmöten?" and no "årligen", "varje månad" ...
    if question_type(question) == "when" and not (
        type_match("when", text) or _DURATION.search(text) or _RELATIVE_TIME.search(text)
    ):
        return "time"  # "När är nästa möte?" and no date, month, year or "efter ..."
    if question_type(question) == "when" and _TAKES_EFFECT.search(q) and not is_sentence(text):
        return "time"  # "Från vilket datum gäller HÖK?" and a letterhead's "Nacka Kommun 2022-03-16"
    if asks_when_in_force(question):
        # sentences and list items (the caller may have joined them with spaces)
        pieces = re.split(r"(?<=[.!?:])\s+|\s+-\s+", text)
        dated = [p for p in pieces if type_match("when", p)]
        if dated and not any(_IN_FORCE.search(fold(d)) for d in dated):
            return "time"  # "när börjar X gälla?" and "slutleverans från Bearing point AB 2022"
    if _DAY_ASKED.search(q) and not _DAY_DATE.search(text):
        return "time"  # "Vilket datum fattades beslutet?" and only "under 2025"
    study = _STUDY.search(q) if _RESULT_ASKED.search(q) else None
    if study:
        on_it = [p for p in re.split(r"(?<=[.!?])\s+", text) if study.group(1) in fold(p)]
        if all(_FUTURE.search(fold(p)) for p in on_it):  # or no word of it at all
            return "result"  # "Vad visade utvärderingen?" and "ARC kommer 2014 att redovisa en utvärdering"
    when = question_type(question) == "when" or _DAY_ASKED.search(q)
    if when and _NEXT_ASKED.search(q) and not _coming_date(text):
        return "time"  # "När är nästa samverkansmöte?" and "vi har ett par möten per år" or "våren 2013"
    bodies = set(_bodies(q))
    dated = [u.text for u in split_units(text) if type_match("when", u.text)]
    if when and bodies and dated and not any(bodies <= set(_bodies(fold(d))) for d in dated):
        return "actor"  # "När beslutade kommunstyrelsen ...?" and "Storsthlms styrelse beslutade ..."
    if _DURATION_ASKED.search(q) and not _DURATION.search(text):
        return "duration"  # "hur lång är kön till säbo?" and no "tre veckor", "tills vidare" ...
    asked = _MUNICIPALITY_ASKED.search(q)
    folded = fold(text)
    named = [m.group(1) for m in _municipality_pattern().finditer(folded) if m.group(1)]
    if asked and asked.group(1) == "a" and _NOT.search(q):
        # "vilka kommuner har inte antagit HÖK?": the exceptions are named, or none ("samtliga
        # kommuner har antagit den"); "länets kommuner" (or "Stockholms län") are no answer
        if not (
            {n for n in named if n != "stockholm"} or re.search(r"\b(samtliga|alla)( \d+)? kommuner", folded)
        ):
            return "municipality"
    elif asked and not (named if asked.group(1) == "en" else _municipality_pattern().search(folded)):
        # "vilka kommuner ingår i ...?" and no municipality named; "vilken kommun har inte ...?"
        # and only "25 av länets kommuner": one is asked for, so one must be named
        return "municipality"
    return None
