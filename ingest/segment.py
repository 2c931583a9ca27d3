"""Clause segmentation: cleaned pages to sections that follow the document's own structure.

A section starts at a heading: a numbered heading ("5.2", "7.1.1 Kommunens samordnande funktion"),
a paragraph sign ("3 §"), "Bilaga", or an unnumbered heading line. A table of contents, where the
document has one, decides which lines are headings (and gives their correct spelling); without one,
a leading number counts as a section number only when it continues the numbering hierarchy and the
line has the shape of a heading (short, no sentence punctuation), so numbered list items and
footnotes are not sections.

Plain functions over plain data; `chunk_sections` then sizes the sections into chunks.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from dataclasses import dataclass, field

from avtal.models import Page

# "7.1.2 Regionens ..." / "2. Prioriterade ..." / "5.4  Lokal ..."
_NUMBERED = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.*)$")
_PARAGRAPH_SIGN = re.compile(r"^(\d{1,3}\s?[a-z]?\s?§)\s*(.*)$")
_BILAGA = re.compile(r"^(Bilaga\s+\d+[A-Za-z]?)\b[\s:.–-]*(.*)$", re.IGNORECASE)
_TOC_TITLE = re.compile(r"^(innehall|innehallsforteckning|innehall och disposition)$")
_TOC_ENTRY = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,3})\.?\s+(\S.*?)(?:\s*\.{2,}\s*\d+|\s{2,}\d+)?\s*$")
_SENTENCE_END = re.compile(r"[.;,:!]$")
_BULLET = re.compile(r"^[-•]\s")
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)
# A line ending in one of these leads into what follows (a list, a sentence): not a heading.
LEAD_IN_ENDINGS = frozenset(
    (
        "att och eller for för fran från med om av till i pa på som kan antingen inkluderar ar är ska "
        "samt den det de en ett vid under mellan genom enligt"
    ).split()
)


def _fold_words(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(re.sub(r"[^a-z0-9]+", " ", text).split())


@dataclass
class Line:
    page: int
    text: str  # repaired text
    orig: str  # text before OCR repair (same line)


@dataclass
class TocEntry:
    number: str | None
    title: str


@dataclass
class Section:
    """One clause before sizing: its number, heading, path and body lines."""

    number: str | None
    heading: str | None
    path: list[str]
    lines: list[Line] = field(default_factory=list)
    heading_pages: list[int] = field(default_factory=list)


def _lines(pages: list[Page], original: list[Page] | None) -> list[Line]:
    out: list[Line] = []
    for i, page in enumerate(pages):
        texts = page.text.split("\n")
        origs = original[i].text.split("\n") if original is not None else texts
        if len(origs) != len(texts):  # repair must keep the line structure; fall back safely
            origs = texts
        for text, orig in zip(texts, origs, strict=True):
            out.append(Line(page.number, text.strip(), orig.strip()))
    return out


def find_toc(lines: list[Line]) -> tuple[list[TocEntry], set[int]]:
    """The table of contents (entries and the indexes of its lines), or ([], set())."""
    for i, line in enumerate(lines):
        if not _TOC_TITLE.match(_fold_words(line.text)):
            continue
        entries: list[TocEntry] = []
        used = {i}
        misses = 0
        j = i + 1
        while j < len(lines) and misses <= 3:
            text = lines[j].text
            m = _TOC_ENTRY.match(text)
            if not text:
                used.add(j)
            elif m and _looks_like_title(m.group(2)):
                entries.append(TocEntry(m.group(1), m.group(2).strip()))
                used.add(j)
                misses = 0
            elif entries and len(text.split()) > 12:
                # a sentence that some tables of contents carry under an entry
                used.add(j)
            else:
                misses += 1
            j += 1
        if len(entries) >= 3:
            # drop trailing blank/garbage lines that were only tentatively used
            return entries, used
    return [], set()


def _looks_like_title(text: str) -> bool:
    text = text.strip()
    return bool(text) and (text[0].isupper() or text[0].isdigit()) and len(text.split()) <= 16


def _number_tuple(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.split("."))


def _continues(prev: tuple[int, ...] | None, new: tuple[int, ...]) -> bool:
    """Whether `new` can follow `prev` in a numbering hierarchy (child, sibling or uncle)."""
    if prev is None:
        return all(p == 1 for p in new)
    if new == (*prev, 1):
        return True
    return any(new == (*prev[:depth], prev[depth] + 1) for depth in range(len(prev)))


def _is_heading_shape(text: str, max_words: int = 12) -> bool:
    words = text.split()
    if not words or len(words) > max_words or len(text) > 110:
        return False
    if _SENTENCE_END.search(text) or "=" in text:
        return False
    if ". " in text or re.search(r"\.\s+[A-ZÅÄÖ]", text):
        return False
    first = text.lstrip("(")[:1]
    return first.isupper() or first.isdigit()


def _similar(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, _fold_words(a), _fold_words(b)).ratio()


def _next_nonblank(lines: list[Line], i: int) -> int | None:
    for j in range(i + 1, min(len(lines), i + 4)):
        if lines[j].text:
            return j
    return None


def _prev_nonblank(lines: list[Line], i: int) -> int | None:
    for j in range(i - 1, max(-1, i - 4), -1):
        if lines[j].text:
            return j
    return None


def _is_all_caps(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 4 and all(c.isupper() for c in letters)


@dataclass
class _Heading:
    index: int  # line index of the heading's first line
    consumed: list[int]  # line indexes the heading occupies
    number: str | None
    title: str
    level: int


def _toc_heading(lines: list[Line], i: int, toc: list[TocEntry], used_numbers: set[str]) -> _Heading | None:
    text = lines[i].text
    m = _NUMBERED.match(text)
    if m:
        number, title = m.group(1), m.group(2).strip()
        entry = next((e for e in toc if e.number == number), None)
        if entry is None or number in used_numbers:
            return None
        # The heading may wrap onto following lines: take them while it brings us closer to the TOC title.
        consumed = [i]
        best = _similar(title, entry.title)
        j = i
        while True:
            k = _next_nonblank(lines, j)
            if k is None or k - j > 2:
                break
            candidate = f"{title} {lines[k].text}"
            score = _similar(candidate, entry.title)
            if score > best + 0.02 and len(candidate) <= len(entry.title) + 8:
                title, best, j = candidate, score, k
                consumed.append(k)
            else:
                break
        if best < 0.45:
            return None
        return _Heading(i, consumed, number, entry.title, number.count(".") + 1)
    for entry in toc:
        if entry.number is None and _similar(text, entry.title) > 0.85:
            return _Heading(i, [i], None, entry.title, 1)
    return None


def _heuristic_heading(
    lines: list[Line],
    i: int,
    prev_number: tuple[int, ...] | None,
    known: list[str],
    *,
    double_spaced: bool,
    title_end: int,
    heading_lines: set[int] | None = None,
) -> _Heading | None:
    text = lines[i].text
    if not text or _BULLET.match(text):
        return None
    for heading in known:
        if _fold_words(heading) == _fold_words(text):
            return _Heading(i, [i], None, text, 2)
    m = _PARAGRAPH_SIGN.match(text)
    if m and (not m.group(2) or _is_heading_shape(m.group(2))):
        return _Heading(i, [i], m.group(1).replace(" ", " "), m.group(2).strip() or m.group(1), 2)
    m = _BILAGA.match(text)
    if m and (not m.group(2) or _is_heading_shape(m.group(2))):
        return _Heading(i, [i], None, text, 1)
    nxt = _next_nonblank(lines, i)
    next_text = lines[nxt].text if nxt is not None else ""
    m = _NUMBERED.match(text)
    if m:
        number, title = m.group(1), m.group(2).strip()
        if not _continues(prev_number, _number_tuple(number)) or not _is_heading_shape(title):
            return None
        consumed = [i]
        # a wrapped heading: a short lowercase continuation followed by a new sentence
        if nxt is not None and next_text[:1].islower() and len(next_text.split()) <= 5:
            after = _next_nonblank(lines, nxt)
            if not _SENTENCE_END.search(next_text) and (after is None or lines[after].text[:1].isupper()):
                title = f"{title} {next_text}"
                consumed.append(nxt)
            else:
                return None
        elif nxt is not None and next_text[:1].islower():
            return None
        return _Heading(i, consumed, number, title, number.count(".") + 1)
    if _is_all_caps(text) and len(text.split()) <= 8 and not re.search(r"\d", text):
        return _Heading(i, [i], None, text, 1)
    if not _is_heading_shape(text.rstrip("?"), max_words=9) or len(text) < 4:
        return None
    words = _WORD.findall(text)
    if not any(len(w) >= 4 for w in words) or words[-1].lower() in LEAD_IN_ENDINGS:
        return None
    prev = _prev_nonblank(lines, i)
    if prev is not None and lines[prev].page == lines[i].page and prev >= title_end:
        prev_text = lines[prev].text
        blank_before = prev < i - 1 and not double_spaced
        after_heading = heading_lines is not None and prev in heading_lines
        ends_sentence = re.search(r"[.!?:]$", prev_text) or _BULLET.match(prev_text)
        if not (ends_sentence or blank_before or after_heading):
            return None
        last = _WORD.findall(prev_text)[-1:]
        if last and last[0].lower() in LEAD_IN_ENDINGS and not re.search(r"[.!?:]$", prev_text):
            return None  # "- Ansvarsfördelning ... för personer i personlig assistans eller" / "LSS-boende"
    if nxt is None:
        return None
    consumed = [i]
    if next_text[:1].islower():
        # "Vad står i de övergripande texterna om / samverkansöverenskommelsernas innehåll?"
        after = _next_nonblank(lines, nxt)
        if (
            len(next_text.split()) <= 5
            and not re.search(r"[.;,:]$", next_text)
            and after is not None
            and lines[after].text[:1].isupper()
        ):
            consumed.append(nxt)
            text = f"{text} {next_text}"
        else:
            return None
    elif not (next_text[:1].isupper() or next_text[:1].isdigit() or _BULLET.match(next_text)):
        return None
    elif _BULLET.match(next_text) and nxt == i + 1 and not double_spaced:
        return None  # "I ”Nära vård”" directly above a list leads into it
    return _Heading(i, consumed, None, text.strip(), 2)


# Section names that open a document's body rather than name the document.
_GENERIC_HEADINGS = frozenset(
    ["sammanfattning", "forord", "inledning", "bakgrund", "syfte", "ingress", "forslag till beslut"]
)


def _is_generic_heading(text: str) -> bool:
    """The first line of a document is its title, unless it is a generic section name ("Förord")."""
    folded = _fold_words(text)
    return folded in _GENERIC_HEADINGS


def is_double_spaced(lines: list[Line]) -> bool:
    """Whether text extraction put a blank line after nearly every line (blank lines then mean nothing)."""
    nonblank = [i for i, line in enumerate(lines) if line.text]
    if len(nonblank) < 20:
        return False
    followed = sum(1 for i in nonblank if i + 1 < len(lines) and not lines[i + 1].text)
    return followed / len(nonblank) > 0.6


def segment(
    pages: list[Page],
    original: list[Page] | None = None,
    known_headings: list[str] | None = None,
) -> list[Section]:
    """Split cleaned (and repaired) pages into sections following the document's own headings.

    `original` holds the same pages before OCR repair (same line structure); `known_headings`
    are heading lines the format told us about (docx styles, markdown '#').
    """
    lines = _lines(pages, original)
    toc, toc_lines = find_toc(lines)
    known = known_headings or []

    headings: list[_Heading] = []
    used_numbers: set[str] = set()
    prev_number: tuple[int, ...] | None = None
    skip: set[int] = set(toc_lines)
    first_text = next((i for i, line in enumerate(lines) if line.text and i not in skip), None)
    nonblank = [i for i, line in enumerate(lines) if line.text and i not in skip]
    # The first lines of a document are its title block: what follows them may be a heading.
    title_end = nonblank[min(3, len(nonblank) - 1)] if nonblank else 0
    double_spaced = is_double_spaced(lines)
    for i, line in enumerate(lines):
        if i in skip or not line.text:
            continue
        heading = _toc_heading(lines, i, toc, used_numbers) if toc else None
        # with a table of contents, only it names headings; the first line is the title
        starts_document = i == first_text and not _NUMBERED.match(line.text)
        if heading is None and not toc and (not starts_document or _is_generic_heading(line.text)):
            heading = _heuristic_heading(
                lines,
                i,
                prev_number,
                known,
                double_spaced=double_spaced,
                title_end=title_end,
                heading_lines=skip,
            )
        if heading is None:
            continue
        if heading.number and heading.number[0].isdigit() and "§" not in heading.number:
            used_numbers.add(heading.number)
            prev_number = _number_tuple(heading.number)
        headings.append(heading)
        skip.update(heading.consumed)

    # Build sections with heading paths.
    sections: list[Section] = []
    stack: list[tuple[int, str]] = []
    current = Section(None, None, [])
    heading_at = {h.index: h for h in headings}
    for i, line in enumerate(lines):
        if i in toc_lines:
            continue
        heading = heading_at.get(i)
        if heading is not None:
            if current.lines or current.heading is not None:
                sections.append(current)
            label = f"{heading.number} {heading.title}" if heading.number else heading.title
            while stack and stack[-1][0] >= heading.level:
                stack.pop()
            stack.append((heading.level, label))
            current = Section(
                heading.number,
                heading.title,
                [label for _, label in stack],
                heading_pages=sorted({lines[k].page for k in heading.consumed}),
            )
            continue
        if i in skip:
            continue
        current.lines.append(line)
    if current.lines or current.heading is not None:
        sections.append(current)
    return sections
