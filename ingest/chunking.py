"""Sections to chunks: one chunk per clause; long clauses split with overlap; tiny fragments joined.

Anchors are unique within a document and stable across re-ingests: the section number ("7.1.2")
where there is one, else a slug of the heading ("uppfoljning"), else "start" for text before the
first heading. The parts of a split clause are `anchor`, `anchor-2`, `anchor-3`, ...
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

from avtal.models import Chunk, DocumentMeta
from avtal.settings import IngestSettings
from ingest.segment import LEAD_IN_ENDINGS, Line, Section, is_double_spaced

# The code and data that decide chunk boundaries and texts. Their digest is part of the chunking
# signature, so a change to any of them re-processes documents (embeddings of unchanged texts still
# come from the cache) instead of silently keeping chunks made by older code.
_SHAPING_SOURCES = ("readers.py", "clean.py", "ocr_repair.py", "segment.py", "chunking.py", "resources")


@lru_cache(maxsize=1)
def code_digest() -> str:
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for name in _SHAPING_SOURCES:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if file.suffix in {".py", ".tsv", ".txt", ".json"}:
                digest.update(file.name.encode())
                digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


_BULLET = re.compile(r"^-\s")
_SENTENCE_END = re.compile(r"[.!?:;]\s*$")
# "HSF = Hälso- och sjukvårdsnämndens förvaltning": a glossary entry keeps its own line
DEFINITION_ENTRY = re.compile(r"^[\w\-ÅÄÖåäö]+(?: [\w\-ÅÄÖåäö]+)? +=\s")


def chunking_signature(settings: IngestSettings) -> str:
    """What shapes the chunks: part of the index's shape hash."""
    return (
        f"chunker={code_digest()};max={settings.max_chunk_words};"
        f"overlap={settings.chunk_overlap_words};min={settings.min_chunk_words};"
        f"repair={settings.ocr_repair}"
    )


def slugify(text: str, max_words: int = 6) -> str:
    """'Uppföljning av lokal samverkan' -> 'uppfoljning-av-lokal-samverkan'."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    words = re.findall(r"[a-z0-9]+", text)
    return "-".join(words[:max_words]) or "avsnitt"


def join_lines(lines: list[str], double_spaced: bool) -> str:
    """Lines to readable text: lines of a paragraph joined by spaces, list items on lines of their own,
    paragraphs separated by a blank line (unless the extraction double-spaced every line)."""
    out: list[str] = []
    current = ""
    for raw in lines:
        line = raw.strip()
        if not line:
            if not double_spaced and current:
                out.append(current)
                out.append("")
                current = ""
            continue
        if _BULLET.match(line) or DEFINITION_ENTRY.match(line):
            if current:
                out.append(current)
            current = line
        elif current and DEFINITION_ENTRY.match(current) and not line[:1].islower():
            out.append(current)
            current = line
        elif current and _BULLET.match(current) and not line[:1].islower() and not _leads_on(current):
            # a list item continues only with a lower-case line, or after a word that leads on
            # ("... personlig assistans eller" / "LSS-boende"); "Sedan 2010 har ..." starts anew
            out.append(current)
            current = line
        elif current:
            current = f"{current} {line}"
        else:
            current = line
    if current:
        out.append(current)
    text = "\n".join(out)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def _leads_on(text: str) -> bool:
    """Whether a line ends in a word that leads on to more ("och", "eller", "för", "i")."""
    last = text.split()[-1:] if text else []
    return bool(last) and last[0].lower() in LEAD_IN_ENDINGS


def without_soft_breaks(lines: list[Line]) -> list[Line]:
    """The lines without blank lines that fall inside a sentence (the line before ends no sentence,
    the next begins in lower case): the PDF's line spacing inside a sentence or a list item ("- ...
    mellan hälso- och" / "" / "sjukvårdsförvaltningen ..."). Decided on the repaired text and
    applied to both texts, so a clause's repaired and original wording keep the same paragraphs."""
    out: list[Line] = []
    for i, line in enumerate(lines):
        if not line.text and out and out[-1].text and not _SENTENCE_END.search(out[-1].text):
            following = next((other.text for other in lines[i + 1 :] if other.text), "")
            # "- ... för personer i personlig assistans eller" / "" / "LSS-boende": a list item cut
            # after a word that leads on carries on whatever the case of the next line (in prose
            # such a cut is more often a diagram's box dropped into the sentence)
            start = len(out) - 1
            while start > 0 and out[start - 1].text:
                start -= 1
            in_item = bool(_BULLET.match(out[start].text))
            if following[:1].islower() or (
                in_item and _leads_on(out[-1].text) and not _BULLET.match(following)
            ):
                continue
        out.append(line)
    return out


def _words(lines: list[Line]) -> int:
    return sum(len(line.text.split()) for line in lines)


def _begins_sentence(lines: list[Line], i: int) -> bool:
    """Whether line `i` begins a sentence: the line before is blank or ends one."""
    return i == 0 or not lines[i - 1].text or bool(_SENTENCE_END.search(lines[i - 1].text))


def _split_lines(lines: list[Line], max_words: int, overlap: int) -> list[list[Line]]:
    """Split a long clause at line boundaries, preferring ends of sentences; parts overlap."""
    if _words(lines) <= max_words:
        return [lines]
    parts: list[list[Line]] = []
    start = 0
    n = len(lines)
    while start < n:
        count = 0
        end = start
        best_break = None
        while end < n and (count + len(lines[end].text.split()) <= max_words or end == start):
            count += len(lines[end].text.split())
            end += 1
            at_sentence_end = _SENTENCE_END.search(lines[end - 1].text) or not lines[end - 1].text
            if at_sentence_end and count >= max_words * 0.6:
                best_break = end
        if end < n and best_break is not None:
            end = best_break
        parts.append(lines[start:end])
        if end >= n:
            break
        # overlap: step back over whole lines worth about `overlap` words, then on to the start
        # of a sentence if one is within another `overlap` words (a part that begins
        # "pengar (5 kap. 9 a § SoL ...)." cannot be quoted or read on its own)
        back = end
        shared = 0
        while back > start + 1 and shared < overlap:
            back -= 1
            shared += len(lines[back].text.split())
        begin, extra = back, 0
        while begin > start + 1 and extra < overlap and not _begins_sentence(lines, begin):
            begin -= 1
            extra += len(lines[begin].text.split())
        if _begins_sentence(lines, begin):
            back = begin
        start = back if back > start else end
    # a tiny tail joins the part before it
    if len(parts) > 1 and _words(parts[-1]) < max_words * 0.25:
        tail = parts.pop()
        prev = parts[-1]
        parts[-1] = prev + [line for line in tail if line not in prev]
    return parts


def chunk_sections(
    sections: list[Section], meta: DocumentMeta, settings: IngestSettings, double_spaced: bool | None = None
) -> list[Chunk]:
    """Turn sections into chunks with anchors, pages and the text before repair."""
    if double_spaced is None:
        double_spaced = is_double_spaced([line for s in sections for line in s.lines])

    # 1. A clause with a heading is a chunk however short ("Ekonomiska konsekvenser" may be one line);
    #    a headless fragment shorter than min_chunk_words joins the next clause.
    final: list[Section] = []
    carry: list[Line] = []
    for section in sections:
        lines = [*carry, *section.lines]
        carry = []
        if _words(lines) == 0:
            continue
        if section.heading is None and _words(lines) < settings.min_chunk_words:
            carry = lines
            continue
        final.append(Section(section.number, section.heading, section.path, lines, section.heading_pages))
    if carry:
        if final:
            final[-1].lines.extend(carry)
        else:
            final.append(Section(None, None, [], carry))

    # 2. Anchors and size splitting.
    chunks: list[Chunk] = []
    used: set[str] = set()
    for section in final:
        base = section.number or (slugify(section.heading) if section.heading else "start")
        base = base.replace("§", "par").replace(" ", "")
        anchor = base
        if anchor in used:
            parent = slugify(section.path[-2]) if len(section.path) > 1 else ""
            anchor = f"{parent}-{base}" if parent else base
            k = 2
            while anchor in used:
                anchor = f"{base}-{k}"
                k += 1
        parts = _split_lines(section.lines, settings.max_chunk_words, settings.chunk_overlap_words)
        for n, part in enumerate(parts, start=1):
            part_anchor = anchor if n == 1 else f"{anchor}-{n}"
            while part_anchor in used:
                part_anchor = f"{part_anchor}b"
            used.add(part_anchor)
            joined = without_soft_breaks(part)
            text = join_lines([line.text for line in joined], double_spaced)
            original = join_lines([line.orig for line in joined], double_spaced)
            heading_pages = set(section.heading_pages) if n == 1 else set()
            pages = sorted({line.page for line in part if line.text} | heading_pages)
            chunks.append(
                Chunk(
                    doc_id=meta.doc_id,
                    anchor=part_anchor,
                    title=meta.title,
                    doc_type=meta.doc_type,
                    date=meta.date,
                    section=section.number,
                    heading=section.heading,
                    heading_path=list(section.path),
                    pages=pages,
                    text=text,
                    original_text=original,
                    order=len(chunks),
                    repaired_words=sum(
                        1
                        for line in part
                        for a, b in zip(line.orig.split(), line.text.split(), strict=False)
                        if a != b
                    ),
                )
            )
    return chunks
