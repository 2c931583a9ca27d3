"""Glossary of abbreviations and short names, and query expansion for the vocabulary gap.

Staff ask with the words they use ("säbo", "vem skriver under?"); the agreements write
"särskilt boende" and "undertecknas". This module closes that gap in three ways:

* **Terms from the documents themselves.** ``Glossary.build`` reads the definitions the
  corpus gives:

  - "Begrepp" lists, ``HSF = Hälso- och sjukvårdsnämndens förvaltning``, one item per line or
    run together in one paragraph (the next item starts at the next ``TERM =``); in a chunk
    headed Begrepp/Förkortningar/Ordlista also ``- HSF: ...`` lines;
  - ``X (nedan kallad Y)`` / ``(nedan kallade Y)`` / ``(nedan benämnd Y)``;
  - ``long name (ABBR)`` when ABBR's letters fit the preceding words (see ``_fits``), and the
    reverse ``ABBR (long name)``;
  - ``ABBR är förkortning för X`` (and ``ABBR står för X`` when the letters fit X).

* **A curated glossary** (``resources/glossary.json``, plus an optional extra file that
  overrides it) for terms the documents use without defining, and for facts such as renames
  (KSL → Storsthlm, SKL → SKR). A document definition wins over a curated one for the
  expansion text and the term then cites the document (``source = "doc#anchor"``). When the
  documents define a term in several ways, the one that agrees with the curated expansion
  (same stems) is chosen, written in the curated form; otherwise the most explicit kind
  (list, "nedan kallad", "förkortning för") before a parenthesis, then the most frequent.
  A curated entry with ``"prefer_curated": true`` keeps its own text.

* **Synonyms** (``resources/synonyms.json``): general groups of equivalent phrasings in
  Swedish health- and social-care language, used only by ``expand_query``.

Matching an abbreviation in a text (``find``): on word boundaries; case-insensitive and on
folded text (``index.lexical.fold``, so "sabo" finds SÄBO) unless the lower-case form is a
common Swedish word (wordfreq zipf >= 3.0 for "sv", of the form or its folded form: "vis",
"bus", "sol", "mar", "ok" for ÖK). Those match only as written in the glossary (abbreviation
or alias, e.g. "VIS", "SoL"/"SOL"). A curated entry may override the frequency test with
``"common_word": true/false`` — "lus" and "hök" are words though rarer than 3.0, and "lss"
or "vc" are frequent only because the abbreviations are written in lower case online.

Phrases (long forms and synonyms) are compared as sequences of stems of folded words,
without removing stop words ("skriva under" must keep "under").
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from functools import cache, lru_cache
from itertools import pairwise
from pathlib import Path
from typing import Any

from avtal.models import Chunk
from index.lexical import STOP_WORDS, fold, stem_word

RESOURCES = Path(__file__).parent / "resources"
CURATED_PATH = RESOURCES / "glossary.json"
SYNONYMS_PATH = RESOURCES / "synonyms.json"
CURATED_SOURCE = "kurerad"
COMMON_WORD_ZIPF = 3.0
JSON_VERSION = 1

KINDS = ("abbreviation", "short_name", "concept")

# Words a long form may contain without an abbreviation letter of their own.
FUNCTION_WORDS = frozenset(
    "och i för av om vid från med inom till på mellan samt under efter enligt hos de den det en ett "
    "som m.m. mm".split()
)
# Words that end a noun phrase when reading backwards from "(nedan kallad Y)".
_PHRASE_BOUNDARY = frozenset(
    "en ett den det de denna detta dessa mellan enligt genom till från med hos vid av finns är var "
    "att som och samt eller".split()
)
_BEGREPP_HEADING = re.compile(r"begrepp|förkortning|ordlista|definition", re.IGNORECASE)
_ABBR_TOKEN = re.compile(r"^[A-ZÅÄÖ][A-Za-zÅÄÖåäöÉé]{1,9}$")
_SFS_PAREN = re.compile(r"\(\s*(?:SFS\s*)?\d{4}:\d+\s*\)")
_CLAUSE_END = re.compile(r"[.;:!?()\[\]=\n]|\s[–—]\s")
_TOKEN = re.compile(r"\S+")
_ADDRESS = re.compile(r"(?:https?://|www\.)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.IGNORECASE)
_EDGE_PUNCT = "\"'”“»«,"
_PHRASE_WORD = re.compile(r"[^\W_]+")
_NEDAN = re.compile(
    r"\(\s*(?:nedan|härefter)\s+(?:kallad|kallade|kallat|kallas|benämnd|benämnda|benämnt|benämns)\s+"
    r"([^()]{1,60}?)\s*\)",
    re.IGNORECASE,
)
_PAREN_ABBR = re.compile(r"\(\s*([A-ZÅÄÖ][A-Za-zÅÄÖåäö]{1,9})\s*\)")
_REVERSE_PAREN = re.compile(r"(?<![\w])([A-ZÅÄÖ][A-Za-zÅÄÖåäö]{1,9})\s+\(([^()]{3,80})\)")
_FORKORTNING = re.compile(
    r"(?<![\w])([A-ZÅÄÖ][A-Za-zÅÄÖåäö]{1,9})\s+(?:är\s+(?:en\s+)?förkortning\s+(?:för|av)|(står)\s+för)\s+"
    r"([^.;\n]{3,120})"
)
_BEGREPP_ITEM = re.compile(r"\s*=\s*")
_COLON_ITEM = re.compile(r"^\s*[-•*]?\s*([A-ZÅÄÖ][A-Za-zÅÄÖåäö]{1,9})\s*:\s+(\S.{1,200})$", re.MULTILINE)

_RANK_EXPLICIT = 0  # Begrepp list, "är förkortning för"
_RANK_NEDAN = 1
_RANK_PAREN = 2


@dataclass
class Term:
    """One glossary entry.

    ``abbr`` is the term as written ("SÄBO", "SoL", "Storsthlm", or a short name such as
    "regionen"); ``expansion`` its meaning in Swedish; ``source`` the clause that defines it
    ("document#anchor") or "kurerad". ``aliases`` are other spellings of ``abbr``;
    ``variants`` other long forms (inflections, older names) that also mean the term.
    """

    abbr: str
    expansion: str
    source: str = CURATED_SOURCE
    aliases: list[str] = field(default_factory=list)
    kind: str = "abbreviation"  # "abbreviation", "short_name" (nedan kallad ...) or "concept"
    note: str = ""  # extra explanation in Swedish (history, law number)
    variants: list[str] = field(default_factory=list)
    see_also: list[str] = field(default_factory=list)  # related abbreviations (old/new names)
    common_word: bool | None = None  # None: decided by word frequency
    defined_in: list[str] = field(default_factory=list)  # chunk ids that define the term
    mentioned_in: list[str] = field(default_factory=list)  # chunk ids that use the term

    @property
    def key(self) -> str:
        return _key(self.abbr)

    @property
    def forms(self) -> list[str]:
        """Every written form the term is found by (abbr first)."""
        out: list[str] = []
        for form in [self.abbr, *self.aliases]:
            for f in (form, form.replace(" ", "")) if " " in form else (form,):
                if f and f not in out:
                    out.append(f)
        return out

    def long_forms(self) -> list[str]:
        return _unique([self.expansion, *self.variants])

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Term:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class _Definition:
    """A definition found in one chunk."""

    abbr: str
    expansion: str
    chunk_id: str
    rank: int
    kind: str = "abbreviation"
    note: str = ""
    order: int = 0


class Glossary:
    """Terms with their document definitions and usage, plus synonym groups for query expansion."""

    def __init__(self, terms: Iterable[Term] = (), synonyms: Iterable[Iterable[str]] = ()) -> None:
        self._terms: dict[str, Term] = {}
        for term in terms:
            self._terms[term.key] = term
        self._synonyms: list[list[str]] = [g for g in (list(g) for g in synonyms) if len(g) > 1]
        self._phrase_use: dict[str, int] | None = None  # set by build(): clauses using each synonym
        self._long_form_use: dict[str, int] = {}  # set by build(): clauses that spell a term out
        self._compile()

    # ------------------------------------------------------------------ building

    @classmethod
    def build(
        cls,
        chunks: Iterable[Chunk],
        curated: Path | str | None = None,
        *,
        bundled: Path | str | None = CURATED_PATH,
        synonyms: Path | str | None = SYNONYMS_PATH,
    ) -> Glossary:
        """Terms the documents define, merged with the bundled curated glossary and ``curated``.

        ``curated`` (optional) is an extra file in the format of ``resources/glossary.json``;
        its entries replace bundled entries with the same abbreviation.
        """
        chunks = list(chunks)
        curated_terms: dict[str, tuple[Term, bool]] = {}
        for path in (bundled, curated):
            if path is not None:
                for term, prefer in _read_curated(path):
                    curated_terms[term.key] = (term, prefer)
        case = _case_evidence(chunks)
        found = extract_definitions(chunks)
        by_key: dict[str, list[_Definition]] = {}
        for definition in found:
            by_key.setdefault(_key(definition.abbr), []).append(definition)

        terms: list[Term] = []
        for key in _unique([*by_key, *curated_terms]):
            terms.append(_merge(by_key.get(key, []), curated_terms.get(key), case))
        glossary = cls(terms, load_synonyms(synonyms) if synonyms is not None else ())
        glossary._index_usage(chunks)
        folded = [fold(chunk.text).lower() for chunk in chunks]

        def use(phrase: str) -> int:
            needle = fold(phrase).lower()
            return sum(needle in text for text in folded)

        glossary._phrase_use = {phrase: use(phrase) for group in glossary._synonyms for phrase in group}
        glossary._long_form_use = {term.key: use(term.expansion) for term in glossary.terms if term.expansion}
        return glossary

    def _use(self, phrase: str) -> int:
        """How many clauses use ``phrase`` as written (after folding)."""
        return (self._phrase_use or {}).get(phrase, 0)

    def _index_usage(self, chunks: list[Chunk]) -> None:
        for term in self._terms.values():
            term.mentioned_in = []
        for chunk in chunks:
            for term in self.find(chunk.text):
                term.mentioned_in.append(chunk.id)

    # ------------------------------------------------------------------ lookup

    @property
    def terms(self) -> list[Term]:
        """All terms, sorted by abbreviation (case-insensitive)."""
        return sorted(self._terms.values(), key=lambda t: (t.key, t.abbr))

    @property
    def synonyms(self) -> list[list[str]]:
        return [list(g) for g in self._synonyms]

    def __len__(self) -> int:
        return len(self._terms)

    def __contains__(self, abbr: object) -> bool:
        return isinstance(abbr, str) and self.get(abbr) is not None

    def get(self, abbr: str) -> Term | None:
        """The term written ``abbr`` (any case, with or without å/ä/ö, or an alias)."""
        term = self._terms.get(_key(abbr))
        if term is None:
            term = self._alias_keys.get(_key(abbr))
        return term

    def _compile(self) -> None:
        """Two regexes: forms matched on folded text, and common-word forms matched as written."""
        self._alias_keys: dict[str, Term] = {}
        self._folded_forms: dict[str, Term] = {}
        self._exact_forms: dict[str, Term] = {}
        for term in self._terms.values():
            for form in term.forms:
                self._alias_keys.setdefault(_key(form), term)
                if _is_common(form, term.common_word):
                    self._exact_forms.setdefault(form, term)
                    if form.islower():  # a short name may start a sentence
                        self._exact_forms.setdefault(form[:1].upper() + form[1:], term)
                else:
                    self._folded_forms.setdefault(_fold_form(form), term)
        self._folded_re = _alternation(self._folded_forms, re.IGNORECASE)
        self._exact_re = _alternation(self._exact_forms, 0)
        self._phrase_cache: dict[str, tuple[str, ...]] = {}

    def _occurrences(self, text: str) -> list[tuple[int, int, Term]]:
        """(start, end, term) for each match in ``text``, by position."""
        hits: list[tuple[int, int, Term]] = []
        if self._exact_re is not None:
            for m in self._exact_re.finditer(text):
                hits.append((m.start(), m.end(), self._exact_forms[_squash(m.group(0))]))
        if self._folded_re is not None:
            folded, positions = _fold_with_positions(text)
            for m in self._folded_re.finditer(folded):
                start, end = positions[m.start()], positions[m.end() - 1] + 1
                hits.append((start, end, self._folded_forms[_squash(m.group(0).lower())]))
        hits.sort(key=lambda h: (h[0], -h[1]))
        out: list[tuple[int, int, Term]] = []
        last_end = -1
        for hit in hits:  # drop overlaps, keep the longest match at each place
            if hit[0] >= last_end:
                out.append(hit)
                last_end = hit[1]
        return out

    def find(self, text: str) -> list[Term]:
        """Terms whose abbreviation (or alias) occurs in ``text``, in order of first occurrence."""
        seen: dict[str, Term] = {}
        for _, _, term in self._occurrences(text):
            seen.setdefault(term.key, term)
        return list(seen.values())

    # ------------------------------------------------------------------ query expansion

    def _stems(self, phrase: str) -> tuple[str, ...]:
        cached = self._phrase_cache.get(phrase)
        if cached is None:
            cached = self._phrase_cache[phrase] = phrase_stems(phrase)
        return cached

    def expand_query(self, query: str) -> str:
        """``query`` plus the long forms of its abbreviations, the abbreviations of its long
        forms, and the other phrasings of each synonym group it touches."""
        query_stems = phrase_stems(query, skip=_SENTENCE_ADVERBS)
        present = [query_stems]
        additions: list[str] = []

        def add(phrase: str) -> None:
            stems = self._stems(phrase)
            if stems and not any(_contains(p, stems) for p in present):
                additions.append(phrase)
                present.append(stems)

        found = self.find(query)
        for term in found:
            if term.kind == "concept":
                continue
            # When the documents write the abbreviation at least as often as its long form,
            # searching for it finds them and the long form only dilutes the query (measured on
            # the calibrate half: hit@1 0.64 -> 0.73 without such expansions). Abbreviations the
            # documents mostly spell out ("vc" -> vårdcentral, "dsk", "ssk") still expand, and so
            # do other names of the term (SKL -> SKR).
            if len(term.mentioned_in) < self._long_form_use.get(term.key, len(term.mentioned_in) + 1):
                add(term.expansion)
            for other in term.see_also:
                add(other)
        found_keys = {t.key for t in found}
        for term in self.terms:
            if term.kind == "concept" or term.key in found_keys:
                continue
            if any(_contains(query_stems, self._stems(f)) for f in term.long_forms() if self._stems(f)):
                add(term.abbr)
        for group in self._synonyms:
            touched = [p for p in group if self._stems(p) and _contains(query_stems, self._stems(p))]
            if not touched:
                continue
            others = [p for p in group if p not in touched]
            if self._phrase_use is not None and max(map(self._use, touched)) >= max(
                map(self._use, others), default=0
            ):
                continue  # the question already speaks the documents' usual words
            if touched:
                for phrase in group:
                    add(phrase)
        return " ".join([query, *additions])

    # ------------------------------------------------------------------ explanations

    def explain(self, term_or_abbr: Term | str) -> str | None:
        """The term as "SIP (samordnad individuell plan)"; None for an unknown abbreviation."""
        term = term_or_abbr if isinstance(term_or_abbr, Term) else self.get(term_or_abbr)
        if term is None:
            return None
        return f"{term.abbr} ({term.expansion})"

    def explain_in(self, text: str) -> str:
        """``text`` with each abbreviation's first occurrence followed by "(expansion)".

        Never inside a web or e-mail address ("www.storsthlm.se"). Left alone when the text already
        explains it: the occurrence is in or right before
        parentheses ("samordnad individuell plan (SIP)", "SIP (...)"), a long form of the
        term stands within 60 characters of it, or the next word is one of the expansion's ("VIS
        politiska styrgrupp": an explanation would split the name). Short names and concepts are
        never touched.
        """
        insertions: list[tuple[int, str]] = []
        done: set[str] = set()
        addresses = [m.span() for m in _ADDRESS.finditer(text)]
        for start, end, term in self._occurrences(text):
            if term.key in done or any(a <= start < b for a, b in addresses):
                continue  # "www.storsthlm.se": no explanation inside an address
            done.add(term.key)
            if term.kind != "abbreviation" or not term.expansion:
                continue
            if _parenthesised(text, start, end):
                continue
            window = phrase_stems(text[max(0, start - 60) : end + 60])
            if any(_contains(window, self._stems(f)) for f in term.long_forms() if self._stems(f)):
                continue
            following = phrase_stems(text[end : end + 40])[:1]
            if following and following[0] in self._stems(term.expansion):
                continue  # "VIS politiska styrgrupp": a name that goes on in the expansion's words
            while end < len(text) and text[end] in "-:" and end + 1 < len(text) and text[end + 1].isalnum():
                end += 1  # "MAS-arna", "HÖK:s": explain after the whole word
                while end < len(text) and text[end].isalnum():
                    end += 1
            insertions.append((end, f" ({term.expansion})"))
        for position, insert in sorted(insertions, reverse=True):
            text = text[:position] + insert + text[position:]
        return text

    # ------------------------------------------------------------------ persistence

    def to_json(self) -> str:
        data = {
            "version": JSON_VERSION,
            "terms": [t.to_dict() for t in self.terms],
            "synonyms": self._synonyms,
            "phrase_use": self._phrase_use,
            "long_form_use": self._long_form_use,
        }
        return json.dumps(data, ensure_ascii=False, indent=1)

    @classmethod
    def from_json(cls, data: str | dict[str, Any]) -> Glossary:
        if isinstance(data, str):
            data = json.loads(data)
        if data.get("version") != JSON_VERSION:
            raise ValueError(f"unsupported glossary version {data.get('version')!r}")
        glossary = cls([Term.from_dict(t) for t in data["terms"]], data.get("synonyms", []))
        if data.get("phrase_use") is not None:
            glossary._phrase_use = dict(data["phrase_use"])
        glossary._long_form_use = dict(data.get("long_form_use") or {})
        return glossary

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json(), encoding="utf-8")

    @classmethod
    def load(cls, path: str | Path) -> Glossary:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


# ---------------------------------------------------------------------- resources


def load_curated(path: str | Path) -> list[Term]:
    """Terms of a curated glossary file: {"terms": [{"abbr": ..., "expansion": ...}, ...]}."""
    return [term for term, _ in _read_curated(path)]


def _read_curated(path: str | Path) -> list[tuple[Term, bool]]:
    """(term, prefer_curated) for each entry of a curated glossary file."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    entries = data["terms"] if isinstance(data, dict) else data
    out = []
    for entry in entries:
        term = Term.from_dict({**entry, "source": CURATED_SOURCE})
        if term.kind not in KINDS:
            raise ValueError(f"{path}: unknown kind {term.kind!r} for {term.abbr}")
        if not term.abbr or not term.expansion:
            raise ValueError(f"{path}: an entry lacks abbr or expansion: {entry!r}")
        out.append((term, bool(entry.get("prefer_curated", False))))
    return out


def load_synonyms(path: str | Path) -> list[list[str]]:
    """Synonym groups: {"groups": [["säbo", "särskilt boende"], ...]}."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    groups = data["groups"] if isinstance(data, dict) else data
    return [list(g) for g in groups]


# ---------------------------------------------------------------------- extraction


def extract_definitions(chunks: Iterable[Chunk]) -> list[_Definition]:
    """Every definition the chunks give, in corpus order."""
    out: list[_Definition] = []
    for chunk in chunks:
        for definition in _definitions_in(chunk):
            definition.order = len(out)
            out.append(definition)
    return out


def _definitions_in(chunk: Chunk) -> Iterator[_Definition]:
    text = chunk.text
    heading = " ".join(chunk.heading_path or []) + " " + (chunk.heading or "")
    yield from _begrepp_items(text, chunk.id, bool(_BEGREPP_HEADING.search(heading)))
    for m in _NEDAN.finditer(text):
        name = m.group(1).strip(_EDGE_PUNCT + " ")
        long = _nedan_long_form(text[: m.start()], name)
        if long and _key(long) != _key(name):
            kind = "abbreviation" if looks_like_abbreviation(name) else "short_name"
            yield _Definition(name, long, chunk.id, _RANK_NEDAN, kind)
    for m in _PAREN_ABBR.finditer(text):
        abbr = m.group(1)
        if not looks_like_abbreviation(abbr):
            continue
        long = _fitting_span(text[: m.start()], abbr)
        if long:
            yield _Definition(abbr, long, chunk.id, _RANK_PAREN)
    for m in _REVERSE_PAREN.finditer(text):
        abbr, inside = m.group(1), m.group(2).strip()
        if looks_like_abbreviation(abbr) and _fits(abbr, _words(inside), allow_trailing=False):
            yield _Definition(abbr, inside, chunk.id, _RANK_PAREN)
    for m in _FORKORTNING.finditer(text):
        abbr, stands_for, long = m.group(1), m.group(2), m.group(3).strip(_EDGE_PUNCT + " ")
        if not looks_like_abbreviation(abbr):
            continue
        if stands_for:  # "står för" is also ordinary Swedish: the letters must fit
            words = _words(long)
            cut = next((i for i in range(1, len(words) + 1) if _fits(abbr, words[:i], False)), None)
            if cut is None:
                continue
            long = " ".join(words[:cut])
        yield _Definition(abbr, long, chunk.id, _RANK_EXPLICIT)


def _begrepp_items(text: str, chunk_id: str, begrepp_heading: bool) -> Iterator[_Definition]:
    """Items "TERM = definition", one per line or run together; "- ABBR: ..." under a Begrepp heading."""
    items: list[tuple[int, int, str]] = []  # (term start, definition start, term)
    for m in _BEGREPP_ITEM.finditer(text):
        before = text[: m.start()]
        line_start = before.rfind("\n") + 1
        tokens = [(t.start() + line_start, t.group(0)) for t in _TOKEN.finditer(before[line_start:])]
        if not tokens:
            continue
        term_tokens = [tokens[-1]]
        if not looks_like_abbreviation(tokens[-1][1]):
            if not tokens[-1][1][:1].isupper():
                continue
            # "Take Care =": a run of capitalised words (at most two), not an abbreviation
            if len(tokens) > 1 and tokens[-2][1][:1].isupper() and not looks_like_abbreviation(tokens[-2][1]):
                term_tokens.insert(0, tokens[-2])
        start = term_tokens[0][0]
        items.append((start, m.end(), " ".join(t for _, t in term_tokens)))
    if len(items) >= 2 or (items and begrepp_heading):
        # One item per line: no body runs past its line (the last one would take what follows).
        per_line = any("\n" in text[a[1] : b[0]] for a, b in pairwise(items))
        for i, (_, def_start, term) in enumerate(items):
            def_end = items[i + 1][0] if i + 1 < len(items) else len(text)
            body = text[def_start:def_end]
            body = re.split(r"\n\s*\n" if not per_line else r"\n", body)[0].strip().rstrip(".;, ")
            if not body:
                continue
            if looks_like_abbreviation(term):
                expansion, note = _split_note(body)
                yield _Definition(term, expansion, chunk_id, _RANK_EXPLICIT, "abbreviation", note)
            else:
                yield _Definition(term, body, chunk_id, _RANK_EXPLICIT, "concept")
    if begrepp_heading:
        for m in _COLON_ITEM.finditer(text):
            if looks_like_abbreviation(m.group(1)):
                expansion, note = _split_note(m.group(2).strip().rstrip(".;, "))
                yield _Definition(m.group(1), expansion, chunk_id, _RANK_EXPLICIT, "abbreviation", note)


def _clean_long_form(text: str) -> str:
    """Drop SFS numbers: "lagen (1988:870) om vård ..." -> "lagen om vård ..." (no nested parentheses)."""
    return _squash(_SFS_PAREN.sub(" ", text)).strip(" ,")


def _split_note(body: str) -> tuple[str, str]:
    """Split a list item: "Särskilt boende, biståndsbeslutad ..." -> (expansion, note)."""
    m = re.search(r",\s|\s\(|\s[–—-]\s", body)
    if not m:
        return body, ""
    return body[: m.start()].strip(), body[m.end() :].strip().strip("()").strip()


def _clause_tokens(before: str, max_tokens: int = 14) -> list[tuple[int, int, str]]:
    """The last words before a parenthesis, within its clause: (start, end, word) in ``before``."""
    masked = _SFS_PAREN.sub(lambda m: " " * len(m.group(0)), before)
    ends = list(_CLAUSE_END.finditer(masked))
    start = ends[-1].end() if ends else 0
    out = []
    for t in _TOKEN.finditer(masked, start):
        word = t.group(0)
        lead = len(word) - len(word.lstrip(_EDGE_PUNCT))
        word = word.strip(_EDGE_PUNCT)
        if word:
            out.append((t.start() + lead, t.start() + lead + len(word), word))
    return out[-max_tokens:]


def _fitting_span(before: str, abbr: str) -> str | None:
    """The shortest run of words right before "(ABBR)" whose initials fit ABBR, or None."""
    tokens = _clause_tokens(before)
    letters = _letters(abbr)
    if not letters:
        return None
    max_words = min(len(tokens), 2 * len(letters) + 3)
    for i in range(len(tokens) - 1, len(tokens) - 1 - max_words, -1):
        if i < 0:
            break
        if _letters(tokens[i][2])[:1] != letters[:1]:
            continue
        words = [t[2] for t in tokens[i:]]
        if _fits(abbr, words):
            return _clean_long_form(before[tokens[i][0] : tokens[-1][1]])
    return None


def _fits(abbr: str, words: list[str], allow_trailing: bool = True) -> bool:
    """Whether ABBR's letters fit ``words``, the first at the start of the first word.

    Either every letter lies, in order, inside the words and every word that is not a function
    word holds one ("Hälso- och sjukvårdsförvaltningen" for HSF, "Socialtjänstlagen" for SoL);
    or (``allow_trailing``) every letter is the initial of a distinct content word and at most
    len-1 content words have none ("lagen om vård av missbrukare i vissa fall" for LVM).
    """
    letters = _letters(abbr)
    folded = [_letters(w) for w in words]
    if not letters or not folded or not folded[0] or folded[0][0] != letters[0]:
        return False
    if any(not w for w in folded):
        return False
    content = [_letters(w) not in _FOLDED_FUNCTION_WORDS for w in words]
    if _fits_inside(letters, folded, content):
        return True
    if not allow_trailing or not content[-1]:
        return False
    initials = [w[0] for w, c in zip(folded, content, strict=True) if c]
    if not content[0] or len(initials) > 2 * len(letters) - 1:
        return False
    it = iter(initials)
    return all(ch in it for ch in letters)  # subsequence test, first initial == first letter


def _fits_inside(letters: str, words: list[str], content: list[bool]) -> bool:
    n = len(words)

    @cache
    def ok(li: int, wi: int, ci: int, covered: bool) -> bool:
        if li == len(letters):
            return (covered or not content[wi]) and not any(content[wi + 1 :])
        word = words[wi]
        for c in range(ci, len(word)):
            if word[c] == letters[li] and ok(li + 1, wi, c + 1, True):
                return True
        return wi + 1 < n and (covered or not content[wi]) and ok(li, wi + 1, 0, False)

    return ok(1, 0, 1, True)


def _nedan_long_form(before: str, name: str) -> str | None:
    """What "(nedan kallad NAME)" names: the noun phrase before it (see module docstring)."""
    tokens = _clause_tokens(before)
    if not tokens:
        return None
    start: int | None = None
    if not looks_like_abbreviation(name):
        head = phrase_stems(name)[:1]
        for i in range(len(tokens) - 1, -1, -1):  # "kommunerna i Stockholms län (nedan kallade kommunerna)"
            if phrase_stems(tokens[i][2])[:1] == head:
                start = i
                break
        if start is not None:
            som = [j for j in range(start + 1, len(tokens)) if tokens[j][2].lower() == "som"]
            tokens = tokens[: som[0]] if som else tokens  # "... omsorg som fastställer riktlinjen"
            word = tokens[start - 1][2] if start > 0 else ""
            if word[:1].isupper() and word.endswith("s") and len(word) > 2:
                start -= 1  # a genitive owner: "Storsthlms socialtjänstnätverk"
    if start is None:
        for i in range(len(tokens) - 1, max(-1, len(tokens) - 9), -1):
            if tokens[i][2].lower() in _PHRASE_BOUNDARY:
                start = i + 1
                break
        if start is None and looks_like_abbreviation(name):
            return _fitting_span(before, name)
        if start is None or start >= len(tokens):
            return None
    return _clean_long_form(before[tokens[start][0] : tokens[-1][1]])


# ---------------------------------------------------------------------- merging


def _merge(
    definitions: list[_Definition], curated_entry: tuple[Term, bool] | None, case: _CaseEvidence
) -> Term:
    curated, prefer_curated = curated_entry if curated_entry else (None, False)
    if not definitions:
        assert curated is not None
        return Term.from_dict(curated.to_dict())
    # A document definition that says the same as the curated entry (same stems, or the same
    # letters: "verksamhets förlagd") is written as the curated entry writes it.
    curated_forms = curated.long_forms() if curated else []

    def agreement(d: _Definition) -> int | None:
        for i, form in enumerate(curated_forms):
            if _same_phrase(d.expansion, form):
                return i
        return None

    agreeing = [d for d in definitions if agreement(d) is not None]
    counts = Counter(phrase_stems(d.expansion) for d in definitions)
    pool = agreeing or definitions

    def preference(d: _Definition) -> tuple[int, int, int, int, int]:
        exact = any(fold(d.expansion) == fold(f) for f in curated_forms)
        return (agreement(d) or 0, 0 if exact else 1, d.rank, -counts[phrase_stems(d.expansion)], d.order)

    chosen = min(pool, key=preference)
    written = Counter(d.abbr for d in definitions)
    abbr = curated.abbr if curated else max(written, key=lambda a: (written[a], -len(a)))
    if curated and prefer_curated:
        expansion, source = curated.expansion, CURATED_SOURCE
    elif agreeing:
        expansion, source = curated_forms[agreement(chosen) or 0], chosen.chunk_id
    else:
        expansion, source = _normalise_case(chosen.expansion, chosen.kind, case), chosen.chunk_id
    doc_forms = [_normalise_case(d.expansion, d.kind, case) for d in definitions]
    variants = [*(curated.long_forms() if curated else []), *doc_forms]
    expansion_stems = phrase_stems(expansion)
    kept_variants: list[str] = []
    seen_stems = {expansion_stems}
    for v in variants:
        s = phrase_stems(v)
        if s and s not in seen_stems:
            seen_stems.add(s)
            kept_variants.append(v)
    aliases = [*(curated.aliases if curated else []), *written]
    return Term(
        abbr=abbr,
        expansion=expansion,
        source=source,
        aliases=[a for a in _unique(aliases) if a != abbr],
        kind=curated.kind if curated else chosen.kind,
        note=(curated.note if curated and curated.note else chosen.note),
        variants=kept_variants,
        see_also=list(curated.see_also) if curated else [],
        common_word=curated.common_word if curated else None,
        defined_in=_unique(d.chunk_id for d in definitions),
    )


def _normalise_case(expansion: str, kind: str, case: _CaseEvidence) -> str:
    """Lower-case the first letter unless the expansion is a proper noun.

    Kept as written when a later word is capitalised ("Kommunförbundet Stockholms län").
    Otherwise the corpus decides: the first word occurs in lower case somewhere -> lower-case
    ("Socialtjänstlagen"); it occurs capitalised after a lower-case word, never in lower case ->
    a name, kept ("Inspektionen för vård och omsorg"). With no evidence (a list item, a small
    corpus), ordinary words (zipf >= 2.0, not a genitive in -s like "Stockholms") are lower-cased.
    Descriptions of concepts are always lower-cased ("journalsystem som används ...").
    """
    words = expansion.split()
    if not words or not words[0][:1].isupper() or words[0].isupper():
        return expansion
    lowered = expansion[:1].lower() + expansion[1:]
    if kind == "concept":
        return lowered
    if any(w[:1].isupper() for w in words[1:]):
        return expansion
    first = words[0].strip(_EDGE_PUNCT)
    if first.lower() in case.lower:
        return lowered
    if first in case.capital_mid_sentence:
        return expansion
    bare = first.lower().rstrip("-")
    return lowered if _zipf(bare) >= 2.0 and not bare.endswith("s") else expansion


@dataclass
class _CaseEvidence:
    lower: set[str]  # words seen in lower case ("hälso-" for "hälso- och")
    capital_mid_sentence: set[str]  # capitalised words seen right after a lower-case word


def _case_evidence(chunks: list[Chunk]) -> _CaseEvidence:
    lower: set[str] = set()
    capital: set[str] = set()
    for c in chunks:
        previous = ""  # the raw previous token
        for raw in c.text.split():
            token = raw.strip(_EDGE_PUNCT + ".:;!?()")
            if token[:1].islower():
                lower.add(token)
                lower.update(_PHRASE_WORD.findall(token))
            elif token[:1].isupper() and previous[:1].islower() and previous[-1] not in ".:;!?=":
                capital.add(token)
            previous = raw
    return _CaseEvidence(lower, capital)


# ---------------------------------------------------------------------- helpers


def looks_like_abbreviation(token: str) -> bool:
    """SÄBO, SoL, SiS, HÖK, FoU: 2-10 letters, at least two capitals and half of them capitals."""
    if not _ABBR_TOKEN.match(token):
        return False
    upper = sum(c.isupper() for c in token)
    return upper >= 2 and 2 * upper >= len(token)


def _key(abbr: str) -> str:
    return _squash(fold(abbr.strip()))


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text)


def _words(text: str) -> list[str]:
    """Whitespace-separated words without edge punctuation, SFS numbers in parentheses dropped."""
    masked = _SFS_PAREN.sub(" ", text)
    return [w for w in (t.strip(_EDGE_PUNCT) for t in masked.split()) if w]


def _letters(word: str) -> str:
    return "".join(c for c in fold(word) if c.isalpha())


_FOLDED_FUNCTION_WORDS = frozenset(_letters(w) for w in FUNCTION_WORDS)


def _fold_form(form: str) -> str:
    return _squash(fold(form))


@lru_cache(maxsize=4096)
def _zipf(word: str) -> float:
    from wordfreq import zipf_frequency

    return zipf_frequency(word, "sv")


def _is_common(form: str, override: bool | None) -> bool:
    """Whether a written form is also an ordinary Swedish word (then it is matched as written)."""
    if override is not None:
        return override
    if " " in form:
        return False
    lower = form.lower()
    return max(_zipf(lower), _zipf(fold(lower))) >= COMMON_WORD_ZIPF


def _alternation(forms: dict[str, Term], flags: int) -> re.Pattern[str] | None:
    if not forms:
        return None
    parts = [re.escape(f).replace(r"\ ", r"\s+") for f in sorted(forms, key=len, reverse=True)]
    return re.compile(r"(?<![\w])(?:" + "|".join(parts) + r")(?![\w])", flags)


def _fold_with_positions(text: str) -> tuple[str, list[int]]:
    """``fold`` char by char, with the index in ``text`` of each folded character."""
    folded = "".join(fold(c) for c in text)
    if len(folded) == len(text):
        return folded, list(range(len(text)))
    out: list[str] = []
    positions: list[int] = []
    for i, c in enumerate(text):
        f = fold(c)
        out.append(f)
        positions.extend([i] * len(f))
    return "".join(out), positions


def _parenthesised(text: str, start: int, end: int) -> bool:
    """Whether "(SIP)" or "SIP (...)": the occurrence is already part of an explanation."""
    before = text[:start].rstrip()
    after = text[end:].lstrip()
    return (before.endswith("(") and after.startswith(")")) or after.startswith("(")


_FOLDED_STOP_WORDS = frozenset(fold(w) for w in STOP_WORDS)


# Words that may stand between a verb and its particle ("vem skriver normalt under ...?", "tas
# den inte bort?"): a question's phrases are matched without them.
_SENTENCE_ADVERBS = frozenset(
    "normalt vanligtvis vanligen oftast alltid aldrig egentligen ocksa aven nog val ju faktiskt "
    "inte ej redan fortfarande".split()
)


def phrase_stems(text: str, skip: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Stems of the folded words of ``text`` (without the words in `skip`); function words are kept
    but not stemmed, so they match only themselves ("skriver under" -> skriv, =under; the pronoun
    "dem" never matches the stem of "demens")."""
    tokens = [t for t in _PHRASE_WORD.findall(fold(text)) if t not in skip]
    if not tokens:
        return ()
    return tuple(f"={t}" if t in _FOLDED_STOP_WORDS else stem_word(t) for t in tokens)


def _same_phrase(a: str, b: str) -> bool:
    return phrase_stems(a) == phrase_stems(b) or _letters(a) == _letters(b)


def _contains(haystack: tuple[str, ...], needle: tuple[str, ...]) -> bool:
    if not needle or len(needle) > len(haystack):
        return False
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(i for i in items if i))
