"""Build the demo corpus: one PDF per text in data/text, byte for byte deterministic.

Each data/text/<stem>.txt was extracted page by page from a published PDF; a line that begins with
a single space marks where a page of the original began. This script turns every such source page
into exactly one PDF page (shrinking the font until the page fits), adds a running header (the
document's short title) and a footer ("Sida N av M") so that the ingest cleaner meets real running
headers and footers, and writes data/corpus/<stem>.pdf plus data/corpus/manifest.json.

Usage:
    python data/make_pdfs.py            # (re)generate data/corpus
    python data/make_pdfs.py --check    # regenerate into a temp dir; exit 1 if anything differs

Determinism: reportlab's ``invariant=1`` fixes dates and document ids, page compression is off
(zlib implementations differ between platforms), and the font is reportlab's own Vera.ttf. A
different reportlab release may still lay out bytes differently; the Creator field records the
version used.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import reportlab
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont, TTFontFile
from reportlab.pdfgen import canvas

DATA_DIR = Path(__file__).resolve().parent
TEXT_DIR = DATA_DIR / "text"
CORPUS_DIR = DATA_DIR / "corpus"

FONT_NAME = "AvtalVera"
FONT_PATH = Path(reportlab.__file__).resolve().parent / "fonts" / "Vera.ttf"

PAGE_WIDTH, PAGE_HEIGHT = A4
MARGIN_X = 50.0
BODY_TOP = PAGE_HEIGHT - 62.0  # below the running header
BODY_BOTTOM = 54.0  # above the footer
BODY_WIDTH = PAGE_WIDTH - 2 * MARGIN_X
HEADER_Y = PAGE_HEIGHT - 38.0
FOOTER_Y = 30.0
HEADER_SIZE = 8.0

MAX_FONT_SIZE = 10.0
MIN_FONT_SIZE = 3.0
WRAP_BELOW = 6.0  # shrink for width only down to this size; below it, wrap overlong lines
SIZE_STEP = 0.25
LEADING = 1.22  # line height as a multiple of the font size

# A document counts as "double spaced" when most text lines are followed by a blank line (an
# artefact of how the text was extracted). There, a single blank line means nothing and only a
# run of two or more blank lines marks a paragraph break.
DOUBLE_SPACED_SHARE = 0.8

PAGE_START = re.compile(r"^ \S")

# Characters in the texts that Vera.ttf lacks, mapped to the closest glyph it has.
FALLBACK_CHARS: dict[str, str] = {
    "\uf0b7": "•",  # Symbol-font bullet from Word
    "□": "•",  # check-box bullet in checklists
    "☐": "•",
    "\u00a0": " ",
    "\t": " ",
}

# The running header of each document: a short form of its title.
SHORT_TITLES: dict[str, str] = {
    "oversyn-overenskommelser": "Översyn av länsövergripande överenskommelser",
    "skr-stod-lagstadgade-overenskommelser": "Stöd vid framtagande av lagstadgade överenskommelser",
    "riktlinje-hok-2022": "Riktlinje för länsövergripande samverkan (HÖK)",
    "nacka-tjansteskrivelse-hok-2022": "Tjänsteskrivelse HÖK, Nacka kommun",
    "aldrecentrum-uppfoljning-samverkan-2013": "Uppföljning av samverkan kring äldre (2013)",
}

# What the texts themselves say about validity. None of the five documents states its own date
# of entry into force (HÖK's dates in the Nacka memo and the review concern HÖK, which is not in
# the corpus), so valid_from stays empty; no source addresses are known.
EXTRA_META: dict[str, dict[str, Any]] = {}


@dataclass
class SourceDocument:
    stem: str
    text_path: Path
    meta: dict[str, Any]


def split_pages(text: str) -> list[list[str]]:
    """Split a source text into pages of lines; a line matching ``^ \\S`` starts a page."""
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    pages: list[list[str]] = []
    for index, line in enumerate(lines):
        if PAGE_START.match(line):
            pages.append([line[1:]])
        elif index == 0 or not pages:
            pages.append([line])
        else:
            pages[-1].append(line)
    return pages


def expected_page_count(text: str) -> int:
    """Page starts in the text, plus one when the text does not begin with one."""
    lines = text.split("\n")
    starts = sum(1 for line in lines if PAGE_START.match(line))
    first = lines[0] if lines else ""
    return starts + (0 if PAGE_START.match(first) else 1)


def is_double_spaced(pages: list[list[str]]) -> bool:
    lines = [line for page in pages for line in page]
    followed = [not lines[i + 1].strip() for i in range(len(lines) - 1) if lines[i].strip()]
    return bool(followed) and sum(followed) / len(followed) >= DOUBLE_SPACED_SHARE


def map_characters(text: str, covered: set[int]) -> str:
    """Replace characters the font lacks; fail loudly on one without a fallback."""
    out: list[str] = []
    for char in text:
        if char in FALLBACK_CHARS:
            out.append(FALLBACK_CHARS[char])
        elif char == "\n" or ord(char) in covered:
            out.append(char)
        else:
            raise SystemExit(f"make_pdfs: the font lacks {char!r} (U+{ord(char):04X}); add a fallback")
    return "".join(out)


def page_rows(lines: list[str], double_spaced: bool) -> list[str]:
    """Rows to draw on one page: text lines, and "" for a paragraph gap."""
    rows: list[str] = []
    blank_run = 0
    for raw in lines:
        line = " ".join(raw.split())
        if not line:
            blank_run += 1
            continue
        if rows and blank_run >= (2 if double_spaced else 1):
            rows.append("")
        blank_run = 0
        rows.append(line)
    return rows


def wrap_row(row: str, size: float) -> list[str]:
    """Hard-wrap one row at the body width, at a space where possible."""
    parts: list[str] = []
    rest = row
    while rest and pdfmetrics.stringWidth(rest, FONT_NAME, size) > BODY_WIDTH:
        cut = len(rest)
        while cut > 1 and pdfmetrics.stringWidth(rest[:cut], FONT_NAME, size) > BODY_WIDTH:
            cut -= 1
        space = rest.rfind(" ", 0, cut + 1)
        if space > 0:
            parts.append(rest[:space])
            rest = rest[space + 1 :]
        else:
            parts.append(rest[:cut])
            rest = rest[cut:]
    if rest:
        parts.append(rest)
    return parts


def fit_page(rows: list[str]) -> tuple[float, list[str]]:
    """The largest font size (in steps) at which the rows fit the body, wrapping only if unavoidable."""
    size = MAX_FONT_SIZE
    while size >= MIN_FONT_SIZE:
        fits_width = all(pdfmetrics.stringWidth(row, FONT_NAME, size) <= BODY_WIDTH for row in rows)
        if fits_width or size <= WRAP_BELOW:
            laid = rows if fits_width else [part for row in rows for part in (wrap_row(row, size) or [""])]
            if len(laid) * size * LEADING <= BODY_TOP - BODY_BOTTOM:
                return size, laid
        size -= SIZE_STEP
    raise SystemExit("make_pdfs: a page does not fit even at the smallest font size")


def render_pdf(doc: SourceDocument, out_path: Path, covered: set[int]) -> int:
    """Write one PDF; return its page count."""
    text = doc.text_path.read_text(encoding="utf-8")
    pages = [[map_characters(line, covered) for line in page] for page in split_pages(text)]
    double_spaced = is_double_spaced(pages)
    title = SHORT_TITLES.get(doc.stem, str(doc.meta.get("title", doc.stem)))
    creator = f"Avtalsassistenten data/make_pdfs.py (reportlab {reportlab.Version})"

    pdf = canvas.Canvas(str(out_path), pagesize=A4, invariant=1, pageCompression=0)
    pdf.setTitle(str(doc.meta.get("title", title)))
    pdf.setAuthor(str(doc.meta.get("issuer") or ""))
    pdf.setSubject(title)
    pdf.setCreator(creator)
    total = len(pages)
    for number, lines in enumerate(pages, start=1):
        pdf.setFont(FONT_NAME, HEADER_SIZE)
        pdf.drawString(MARGIN_X, HEADER_Y, title)
        pdf.setLineWidth(0.4)
        pdf.line(MARGIN_X, HEADER_Y - 5, PAGE_WIDTH - MARGIN_X, HEADER_Y - 5)
        size, rows = fit_page(page_rows(lines, double_spaced))
        pdf.setFont(FONT_NAME, size)
        y = BODY_TOP - size
        for row in rows:
            if row:
                pdf.drawString(MARGIN_X, y, row)
            y -= size * LEADING
        pdf.setFont(FONT_NAME, HEADER_SIZE)
        pdf.drawCentredString(PAGE_WIDTH / 2, FOOTER_Y, f"Sida {number} av {total}")
        pdf.showPage()
    pdf.save()
    return total


def load_sources() -> tuple[dict[str, Any], list[SourceDocument]]:
    manifest = json.loads((TEXT_DIR / "manifest.json").read_text(encoding="utf-8"))
    by_file = {entry["file"]: entry for entry in manifest["documents"]}
    docs: list[SourceDocument] = []
    for text_path in sorted(TEXT_DIR.glob("*.txt")):
        meta = by_file.get(text_path.name)
        if meta is None:
            raise SystemExit(f"make_pdfs: {text_path.name} is missing from data/text/manifest.json")
        docs.append(SourceDocument(stem=text_path.stem, text_path=text_path, meta=meta))
    return manifest, docs


def corpus_manifest(manifest: dict[str, Any], docs: list[SourceDocument]) -> dict[str, Any]:
    """The text manifest with PDF file names and the validity keys added, in the text manifest's order."""
    stems = {doc.stem for doc in docs}
    entries: list[dict[str, Any]] = []
    for source in manifest["documents"]:
        stem = Path(source["file"]).stem
        if stem not in stems:
            continue
        entry: dict[str, Any] = {key: value for key, value in source.items() if key != "note"}
        entry["file"] = f"{stem}.pdf"
        entry.setdefault("valid_from", None)
        entry.setdefault("valid_to", None)
        entry.setdefault("supersedes", [])
        entry.setdefault("source_url", None)
        entry.update(EXTRA_META.get(stem, {}))
        if "note" in source:
            entry["note"] = source["note"]
        entries.append(entry)
    about = (
        "Demo corpus of Avtalsassistenten, generated by data/make_pdfs.py from data/text/*.txt "
        "(do not edit by hand): one PDF page per page of the source text, with a running header "
        "(a short title) and a footer 'Sida N av M'. riktlinje-hok-2022.pdf keeps the OCR damage of "
        "its source (e.g. 'hélsa' for 'hälsa'). Titles, types and dates were read from the documents "
        "themselves; 'approx' marks a date inferred from the text. None of the documents states its "
        "own date of entry into force, so valid_from is empty."
    )
    return {"about": about, "documents": entries}


def register_font() -> set[int]:
    """Register Vera.ttf once; return the code points it covers."""
    if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(FONT_NAME, str(FONT_PATH)))
    return set(TTFontFile(str(FONT_PATH)).charToGlyph)


def generate(out_dir: Path) -> dict[str, int]:
    """Write every PDF and the manifest into out_dir; return page counts by file name."""
    covered = register_font()
    manifest, docs = load_sources()
    out_dir.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    for doc in docs:
        counts[f"{doc.stem}.pdf"] = render_pdf(doc, out_dir / f"{doc.stem}.pdf", covered)
    data = corpus_manifest(manifest, docs)
    (out_dir / "manifest.json").write_text(
        json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return counts


def verify(out_dir: Path) -> list[str]:
    """Check page counts and that Swedish letters survive text extraction; return problems."""
    from pypdf import PdfReader

    problems: list[str] = []
    _, docs = load_sources()
    for doc in docs:
        pdf_path = out_dir / f"{doc.stem}.pdf"
        text = doc.text_path.read_text(encoding="utf-8")
        reader = PdfReader(pdf_path)
        expected = expected_page_count(text)
        if len(reader.pages) != expected:
            problems.append(f"{pdf_path.name}: {len(reader.pages)} pages, expected {expected}")
        extracted = "".join(page.extract_text() for page in reader.pages)
        for letter in "åäöÅÄÖé":
            if letter in text and letter not in extracted:
                problems.append(f"{pdf_path.name}: {letter!r} lost in text extraction")
    return problems


def differences(a: Path, b: Path) -> list[str]:
    names = sorted({p.name for p in a.iterdir()} | {p.name for p in b.iterdir()})
    diffs: list[str] = []
    for name in names:
        pa, pb = a / name, b / name
        if not pa.exists() or not pb.exists() or pa.read_bytes() != pb.read_bytes():
            diffs.append(name)
    return diffs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the demo-corpus PDFs in data/corpus.")
    parser.add_argument(
        "--check", action="store_true", help="regenerate into a temporary folder; exit 1 on any difference"
    )
    parser.add_argument("--out", type=Path, default=CORPUS_DIR, help="output folder (default data/corpus)")
    args = parser.parse_args(argv)

    if args.check:
        with tempfile.TemporaryDirectory() as tmp:
            generate(Path(tmp))
            if not args.out.is_dir():
                print(f"make_pdfs --check: {args.out} does not exist", file=sys.stderr)
                return 1
            diffs = differences(Path(tmp), args.out)
        if diffs:
            print(
                f"make_pdfs --check: differs from {args.out}: {', '.join(diffs)} "
                f"(generated with reportlab {reportlab.Version}; run `python data/make_pdfs.py`)",
                file=sys.stderr,
            )
            return 1
        print(f"make_pdfs --check: {args.out} is up to date")
        return 0

    counts = generate(args.out)
    problems = verify(args.out)
    for name, count in counts.items():
        print(f"{args.out / name}: {count} pages")
    for problem in problems:
        print(f"make_pdfs: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
