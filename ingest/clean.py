"""Clean raw page text before clause segmentation.

``clean_pages`` is pure: it returns new ``Page`` objects with the same page numbers and one line
per line (blank lines between paragraphs), and

- drops running headers and footers (lines at the top or bottom of pages that repeat, digits
  ignored, on at least three pages and at least half of them) and lone page-number lines;
- moves footnotes out of the body into ``Page.footnotes`` when markers glued to words in the text
  ("hälsa 20191", "överenskommelsen2", "(SKR)2") confirm them, and drops those markers;
- joins words hyphenated across line breaks ("sam-" / "verkan" -> "samverkan"), also across a page
  break, but keeps "hälso- och sjukvård" and writes "PDF-" / "dokument" as "PDF-dokument";
- normalises whitespace, ligatures and bullets ("•", "", "–" ... -> "- ").
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass, field

from avtal.models import Page

# How many non-blank lines at the top and at the bottom of a page may be a header or footer.
EDGE_LINES = 3
# A footnote may run over at most this many lines after its first one.
MAX_FOOTNOTE_CONTINUATION = 8
# Footnote markers are looked for on the footnote's page and up to this many pages before it.
FOOTNOTE_LOOKBACK_PAGES = 3

_LIGATURES = str.maketrans(
    {"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st", "Ĳ": "IJ", "ĳ": "ij"}
)
_INVISIBLE = re.compile("[\u00ad\u200b\u200c\u200d\u2060\ufeff]")
_SPACES = re.compile("[\t\u00a0\u2000-\u200a\u202f\u205f\u3000]")

_PAGE_NUMBER = re.compile(
    r"^(?:(?:sida|sid\.?|s\.|page)\s*)?[-–—]?\s*\d{1,4}\s*[-–—]?"
    r"(?:\s*(?:\(\s*\d{1,4}\s*\)|(?:/|av|of)\s*\d{1,4}))?$",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"^[_\-–—=]{5,}$")
_BULLET = re.compile("^(?:[•●▪◦○■□☐❑➢➤►▸‣⁃∙·\uf0b7\uf0a7\uf0d8]\\s*|[¢*–—-]\\s+)(?=\\S)")
# A bullet glyph alone on its line belongs to the next line ("-" or "–" alone may be a table cell).
# OCR reads a round bullet as "e" or "o": a line starting "e vara kontaktperson" or "e Länssamverkan
# om ..." (no Swedish word is a lone "e", and "o" is not a word of running prose) is a list item.
_OCR_BULLET = re.compile(r"^[eo]\s+(?=[A-Za-zÅÄÖåäö][a-zåäö])")
_LONE_BULLET = re.compile("^[•●▪◦○■□☐❑➢➤►▸‣⁃∙·\uf0b7\uf0a7\uf0d8]$")
_FOOTNOTE_START = re.compile(r"^(\d{1,3})(?:\s+(\S.*)|(?=[^\W\d_])(.*))$")

# A word split by a hyphen at the end of a line: the fragment, with a letter or digit before "-".
_HYPHEN_END = re.compile(r"(\S*[^\W_])-$")
# Next words after which "hälso-" is a real hyphen ("hälso- och sjukvård").
_KEEP_HYPHEN_BEFORE = {"och", "eller", "respektive", "resp", "liksom", "el", "&", "+"}
# Next words that may also end a split word ("gemen-" / "samt", "in-" / "till"): joined only when
# the joined word is a known Swedish word (wordfreq), else the hyphen is kept.
_AMBIGUOUS_AFTER_HYPHEN = {"samt", "till", "som", "men", "o"}


@dataclass
class _Marker:
    page: int
    line: int
    start: int
    end: int


@dataclass
class _Cursor:
    """Position after the last confirmed footnote marker in the document."""

    page: int = 0
    line: int = 0
    column: int = 0


@dataclass
class _Footnote:
    number: int
    lines: list[str] = field(default_factory=list)


def clean_pages(pages: list[Page]) -> list[Page]:
    """Return cleaned copies of the pages (same numbers; one line per line)."""
    bodies = [_normalise_lines(page.text) for page in pages]
    bodies = _drop_running_lines(bodies)
    bodies, footnotes = _move_footnotes(bodies)
    bodies = [_join_hyphenated(lines) for lines in bodies]
    _join_hyphenated_across_pages(bodies)
    bodies = [_collapse_blank_lines(_normalise_bullets(lines)) for lines in bodies]
    return [
        Page(number=page.number, text="\n".join(body), footnotes=[*page.footnotes, *notes])
        for page, body, notes in zip(pages, bodies, footnotes, strict=True)
    ]


# --------------------------------------------------------------------------------------------
# Characters and whitespace
# --------------------------------------------------------------------------------------------


def normalise_line(line: str) -> str:
    """Ligatures, invisible characters and spaces of one line; single spaces, no edges."""
    line = _INVISIBLE.sub("", line.translate(_LIGATURES))
    return " ".join(_SPACES.sub(" ", line).split())


def _normalise_lines(text: str) -> list[str]:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n")
    lines = [normalise_line(line) for line in text.split("\n")]
    return _collapse_blank_lines(lines)


def _collapse_blank_lines(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if not line and (not out or not out[-1]):
            continue
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


# --------------------------------------------------------------------------------------------
# Running headers, footers and page numbers
# --------------------------------------------------------------------------------------------


def is_page_number_line(line: str) -> bool:
    """A line that is only a page number: "3", "3 (11)", "Sida 3 av 11", "- 3 -", "3/11"."""
    return bool(_PAGE_NUMBER.match(line.strip()))


def _edge_key(line: str) -> str:
    return re.sub(r"\d+", "#", " ".join(line.lower().split()))


def _edge_indices(lines: list[str], from_top: bool) -> list[int]:
    """Indices of the lines that may be a header (from the top) or footer (from the bottom).

    On a short page the zones shrink so that they do not overlap (half the lines each, at least one).
    """
    indices = [i for i, line in enumerate(lines) if line]
    size = min(EDGE_LINES, max(1, len(indices) // 2))
    return indices[:size] if from_top else indices[::-1][:size]


def _drop_running_lines(bodies: list[list[str]]) -> list[list[str]]:
    pages_with_text = sum(1 for lines in bodies if any(lines))
    threshold = max(3, math.ceil(pages_with_text / 2))
    running: dict[bool, set[str]] = {}
    for from_top in (True, False):
        counts: Counter[str] = Counter()
        for lines in bodies:
            counts.update({_edge_key(lines[i]) for i in _edge_indices(lines, from_top)})
        running[from_top] = {key for key, count in counts.items() if count >= threshold}

    cleaned: list[list[str]] = []
    for lines in bodies:
        drop: set[int] = set()
        for from_top in (True, False):
            for index in _edge_indices(lines, from_top):
                line = lines[index]
                if _edge_key(line) in running[from_top] or is_page_number_line(line):
                    drop.add(index)
                else:
                    break
        kept = [line for i, line in enumerate(lines) if i not in drop]
        while kept and not kept[0]:
            kept.pop(0)
        cleaned.append(_collapse_blank_lines(kept))
    return cleaned


# --------------------------------------------------------------------------------------------
# Footnotes
# --------------------------------------------------------------------------------------------


def _footnote_start(line: str) -> tuple[int, str] | None:
    match = _FOOTNOTE_START.match(line)
    if not match:
        return None
    number = int(match.group(1))
    if number == 0:
        return None
    return number, (match.group(2) or match.group(3) or "").strip()


def _parse_footnote_block(lines: list[str], first: int) -> list[_Footnote] | None:
    """Footnotes from line ``first`` to the end of the page, or None if they do not look like a block.

    A footnote starts with its number, either before its text ("1 Länk till ...") or alone on a
    line with the text on the next one (superscript numbers often come out that way).
    """
    notes: list[_Footnote] = []
    continuation = 0
    index = first
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        expected = notes[-1].number if notes else None
        parsed = _footnote_start(line)
        lone = line.isdigit() and len(line) <= 3 and int(line) > 0
        number = parsed[0] if parsed else int(line) if lone else None
        starts = number is not None and (expected is None or expected < number <= expected + 2)
        if starts and lone:
            following = next((i for i in range(index, len(lines)) if lines[i]), None)
            if following is None or lines[following].isdigit():
                starts = False
            else:
                line = f"{line} {lines[following]}"
                index = following + 1
        if starts and number is not None:
            notes.append(_Footnote(number, [line]))
            continuation = 0
            continue
        if not notes:
            return None
        continuation += 1
        if continuation > MAX_FOOTNOTE_CONTINUATION:
            return None
        notes[-1].lines.append(line)
    return notes or None


def _marker_patterns(number: int) -> list[re.Pattern[str]]:
    end = r"(?=[\s.,;:!?)\]”\"’']|$)"
    return [
        re.compile(rf"(?<=[^\W\d_]){number}{end}"),  # glued to a word: "överenskommelsen2"
        re.compile(rf"(?<=[)\]”\"’]){number}{end}"),  # after a bracket or quote: "(SKR)2", "”9"
        re.compile(rf"(?<=\b(?:19|20)\d\d){number}{end}"),  # glued to a year: "hälsa 20191"
        re.compile(rf"(?<=\d{{4}}/\d){number}{end}"),  # glued to a number: "Meddelandeblad 2010/116"
    ]


def _find_marker(
    bodies: list[list[str]], number: int, cursor: _Cursor, page: int, last_line: int, previous: _Marker | None
) -> _Marker | None:
    """A marker for ``number`` after the cursor: on ``page`` above line ``last_line``, else before."""
    if previous is not None:
        # A marker right after the previous one: "(UPH)3 4" or "3,4".
        line = bodies[previous.page][previous.line]
        follow = re.compile(rf"[ ,]\s?{number}(?=[\s.,;:!?)]|$)").match(line, previous.end)
        if follow:
            return _Marker(previous.page, previous.line, follow.start(), follow.end())
    patterns = _marker_patterns(number)
    first_page = max(cursor.page, page - FOOTNOTE_LOOKBACK_PAGES)
    # The footnote's own page first, then the pages before it (a marker may sit a page earlier).
    for page_index in [page, *range(first_page, page)]:
        if page_index < cursor.page:
            continue
        lines = bodies[page_index]
        stop = last_line if page_index == page else len(lines)
        for line_index in range(min(stop, len(lines))):
            if (page_index, line_index) < (cursor.page, cursor.line):
                continue
            begin = cursor.column if (page_index, line_index) == (cursor.page, cursor.line) else 0
            text = lines[line_index]
            found = [m for m in (p.search(text, begin) for p in patterns) if m is not None]
            if found:
                match = min(found, key=lambda m: m.start())
                return _Marker(page_index, line_index, match.start(), match.end())
    return None


def _move_footnotes(bodies: list[list[str]]) -> tuple[list[list[str]], list[list[str]]]:
    bodies = [list(lines) for lines in bodies]
    footnotes: list[list[str]] = [[] for _ in bodies]
    cursor = _Cursor()
    last_number = 0
    for page_index, lines in enumerate(bodies):
        for first in range(len(lines)):
            block = _parse_footnote_block(lines, first)
            if block is None or not _plausible_numbering(block, last_number):
                continue
            markers = _confirm_markers(bodies, block, cursor, page_index, first)
            if markers is None:
                continue
            _remove_markers(bodies, markers)
            footnotes[page_index] = [_join_footnote(note.lines) for note in block]
            kept = lines[:first]
            while kept and (not kept[-1] or _SEPARATOR.match(kept[-1])):
                kept.pop()
            bodies[page_index] = kept
            last = max(markers, key=lambda m: (m.page, m.line, m.start))
            cursor = _Cursor(last.page, last.line, last.start)
            last_number = block[-1].number
            break
    return bodies, footnotes


def _plausible_numbering(block: list[_Footnote], last_number: int) -> bool:
    """Footnote numbers go on from the previous block (a few may be missed), or restart at 1."""
    first = block[0].number
    if last_number < first <= last_number + 3:
        return True
    return first == 1 and len(block) >= 2


def _confirm_markers(
    bodies: list[list[str]], block: list[_Footnote], cursor: _Cursor, page: int, first: int
) -> list[_Marker] | None:
    """Markers for the block's footnotes; None unless the first and most of them are confirmed."""
    markers: list[_Marker] = []
    previous: _Marker | None = None
    position = _Cursor(cursor.page, cursor.line, cursor.column)
    for index, note in enumerate(block):
        marker = _find_marker(bodies, note.number, position, page, first, previous)
        if marker is None:
            if index == 0:
                return None
            previous = None
            continue
        markers.append(marker)
        previous = marker
        position = _Cursor(marker.page, marker.line, marker.end)
    if len(markers) * 2 < len(block):
        return None
    return markers


def _remove_markers(bodies: list[list[str]], markers: list[_Marker]) -> None:
    for marker in sorted(markers, key=lambda m: (m.page, m.line, m.start), reverse=True):
        line = bodies[marker.page][marker.line]
        bodies[marker.page][marker.line] = (line[: marker.start] + line[marker.end :]).rstrip()


def _join_footnote(lines: list[str]) -> str:
    joined = _join_hyphenated([line for line in lines if line])
    return " ".join(line for line in joined if line)


# --------------------------------------------------------------------------------------------
# Hyphenation
# --------------------------------------------------------------------------------------------


def _hyphen_join(line: str, next_line: str) -> tuple[str, str] | None:
    """The two lines after joining a word hyphenated at the end of ``line``, or None to keep them."""
    match = _HYPHEN_END.search(line)
    if not match or not next_line:
        return None
    fragment = match.group(1)
    word, _, rest = next_line.partition(" ")
    bare = word.strip(".,;:!?()”\"'").lower()
    if not word[0].isalnum() or bare in _KEEP_HYPHEN_BEFORE or bare.startswith(("och/", "eller/")):
        return None
    if bare in _AMBIGUOUS_AFTER_HYPHEN and not _is_known_word(fragment + bare):
        return None
    if "://" in fragment or fragment.startswith("www.") or fragment.startswith("http"):
        joined = line + word  # a URL broken after a hyphen
    elif fragment[-1].isdigit() or word[0].isupper() or _is_acronym(fragment) or len(fragment) == 1:
        joined = line + word  # "18-20", "Tio-Hundraprojektet", "PDF-dokument", "e-post"
    else:
        joined = line[:-1] + word  # "sam-" + "verkan"
    return joined, rest.strip()


def _is_known_word(word: str) -> bool:
    """Whether a word is common Swedish (wordfreq); False when wordfreq is not installed."""
    try:
        from wordfreq import zipf_frequency
    except ImportError:
        return False
    return zipf_frequency(word.lower(), "sv") >= 2.5


def _is_acronym(fragment: str) -> bool:
    letters = [char for char in fragment.split("-")[-1] if char.isalpha()]
    return len(letters) >= 2 and all(char.isupper() for char in letters)


def _join_hyphenated(lines: list[str]) -> list[str]:
    out = list(lines)
    index = 0
    while index < len(out) - 1:
        following = index + 1
        if not out[following] and following + 1 < len(out) and out[following + 1][:1].islower():
            following += 1  # a blank line inside a hyphenated word (double-spaced extraction)
        joined = _hyphen_join(out[index], out[following])
        if joined is not None:
            out[index], out[following] = joined
            if not out[following]:
                del out[following]
            if following != index + 1:
                del out[index + 1]
        index += 1
    return out


def _join_hyphenated_across_pages(bodies: list[list[str]]) -> None:
    """Move the rest of a word hyphenated at the end of a page up from the next page."""
    for page_index in range(len(bodies) - 1):
        lines, next_lines = bodies[page_index], bodies[page_index + 1]
        if not lines or not next_lines:
            continue
        last = max(i for i, line in enumerate(lines) if line) if any(lines) else None
        first = next(i for i, line in enumerate(next_lines) if line) if any(next_lines) else None
        if last is None or first is None or not next_lines[first][:1].islower():
            continue
        joined = _hyphen_join(lines[last], next_lines[first])
        if joined is not None:
            lines[last], next_lines[first] = joined
            if not next_lines[first]:
                del next_lines[first]


# --------------------------------------------------------------------------------------------
# Bullets
# --------------------------------------------------------------------------------------------


def _normalise_bullets(lines: list[str]) -> list[str]:
    out: list[str] = []
    pending_bullet = False
    for line in lines:
        if _LONE_BULLET.match(line):
            pending_bullet = True
            continue
        if pending_bullet and line:
            line = "- " + _BULLET.sub("", line)
            pending_bullet = False
        else:
            line = _OCR_BULLET.sub("- ", _BULLET.sub("- ", line))
        out.append(line)
    return out
