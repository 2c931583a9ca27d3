"""Read a document from disk into pages of raw text: PDF, DOCX, TXT and MD.

``read_document`` is the only entry point. It checks the file before parsing (extension, size,
that the content matches the extension), reads it page by page with 1-based page numbers, runs
Tesseract on PDF pages that have no text layer, and turns every failure into a ``DocumentError``
subclass with a Swedish message that names the file. Nothing raw from pypdf, python-docx or a
subprocess escapes.

The text is returned as read; ``ingest.clean.clean_pages`` removes headers, footers, hyphenation
and footnotes afterwards.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from avtal.errors import (
    CorruptDocument,
    DocumentError,
    DocumentTooLarge,
    EmptyDocument,
    EncryptedDocument,
    FileTypeMismatch,
    ScannedDocument,
    UnsupportedFileType,
)
from avtal.models import Page, ParsedDocument
from avtal.settings import IngestSettings

SUPPORTED_EXTENSIONS: frozenset[str] = frozenset({".pdf", ".docx", ".txt", ".md"})

OCR_DPI = 300
OCR_TIMEOUT_SECONDS = 180
_SNIFF_BYTES = 8192
_WORD_CHAR = re.compile(r"\w")


# --------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------


def read_document(path: Path, settings: IngestSettings) -> ParsedDocument:
    """Read one document into pages of text, or raise a ``DocumentError`` subclass."""
    path = Path(path)
    name = path.name
    extension = path.suffix.lower()
    if extension not in SUPPORTED_EXTENSIONS:
        shown = extension or "(ingen filändelse)"
        raise UnsupportedFileType(
            f"Filtypen {shown} stöds inte: {name}. Avtalsassistenten läser PDF, DOCX, TXT och MD.",
            file=str(path),
        )
    if not path.is_file():
        raise DocumentError(
            f"Filen {name} finns inte eller är ingen vanlig fil.",
            "Kontrollera sökvägen och försök igen.",
            file=str(path),
        )
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DocumentError(f"Filen {name} kan inte läsas ({exc.strerror}).", file=str(path)) from exc
    limit_bytes = settings.max_file_mb * 1024 * 1024
    if size > limit_bytes:
        raise DocumentTooLarge(
            f"Filen {name} är {_format_size(size)}, vilket är mer än gränsen "
            f"{_format_mb(settings.max_file_mb)}.",
            file=str(path),
        )
    if size == 0:
        raise EmptyDocument(f"Filen {name} är tom (0 byte).", file=str(path))
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DocumentError(f"Filen {name} kan inte läsas ({exc.strerror}).", file=str(path)) from exc

    if extension == ".pdf":
        document = _read_pdf(path, data, settings)
    elif extension == ".docx":
        document = _read_docx(path, data)
    else:
        document = _read_text(path, data, markdown=extension == ".md")

    if len(document.pages) > settings.max_pages:
        raise _too_many_pages(path, len(document.pages), settings.max_pages)
    if not any(_has_text(page.text) for page in document.pages):
        raise EmptyDocument(f"Dokumentet {name} innehåller ingen text.", file=str(path))
    return document


# --------------------------------------------------------------------------------------------
# Shared helpers
# --------------------------------------------------------------------------------------------


def _format_mb(value: float) -> str:
    return f"{value:g} MB".replace(".", ",")


def _format_size(size: int) -> str:
    megabytes = size / (1024 * 1024)
    if megabytes >= 0.1:
        return f"{megabytes:.1f} MB".replace(".", ",")
    return f"{max(1, round(size / 1024))} kB"


def _too_many_pages(path: Path, pages: int, limit: int) -> DocumentTooLarge:
    return DocumentTooLarge(
        f"Dokumentet {path.name} har {pages} sidor, vilket är fler än gränsen {limit} sidor.",
        file=str(path),
    )


def _has_text(text: str) -> bool:
    return bool(_WORD_CHAR.search(text))


def _describe_content(data: bytes) -> str:
    """What the bytes look like, in Swedish, for a type-mismatch message."""
    head = data[:_SNIFF_BYTES]
    stripped = head.lstrip()
    lowered = stripped[:200].lower()
    if b"%PDF-" in head[:1024]:
        return "en PDF-fil"
    if head.startswith(b"PK\x03\x04"):
        return "en ZIP-fil (t.ex. DOCX, XLSX eller ODT)"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "ett äldre Office-dokument (t.ex. .doc)"
    if head.startswith(b"{\\rtf"):
        return "en RTF-fil"
    if head.startswith(b"\x89PNG"):
        return "en PNG-bild"
    if head.startswith(b"\xff\xd8\xff"):
        return "en JPEG-bild"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "en TIFF-bild"
    if lowered.startswith((b"<!doctype html", b"<html")):
        return "en HTML-sida"
    if b"\x00" in head:
        return "en binärfil"
    return "en textfil"


def _mismatch(path: Path, expected: str, data: bytes) -> FileTypeMismatch:
    return FileTypeMismatch(
        f"Filen {path.name} har ändelsen {path.suffix.lower()} men innehållet är inte {expected}; "
        f"den ser ut att vara {_describe_content(data)}.",
        file=str(path),
    )


# --------------------------------------------------------------------------------------------
# PDF
# --------------------------------------------------------------------------------------------


def _read_pdf(path: Path, data: bytes, settings: IngestSettings) -> ParsedDocument:
    if b"%PDF-" not in data[:1024]:
        raise _mismatch(path, "en PDF-fil", data)

    from pypdf import PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    name = path.name
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        if reader.is_encrypted:
            try:
                opened = reader.decrypt("")
            except DependencyError as exc:
                raise EncryptedDocument(
                    f"PDF-filen {name} är krypterad med AES och kan inte öppnas här.",
                    "Installera Python-paketet cryptography, eller spara en oskyddad kopia och "
                    "läs in den igen.",
                    file=str(path),
                ) from exc
            if not opened:
                raise EncryptedDocument(
                    f"PDF-filen {name} är lösenordsskyddad och kan inte läsas.", file=str(path)
                )
        page_count = len(reader.pages)
    except DocumentError:
        raise
    except FileNotDecryptedError as exc:
        raise EncryptedDocument(
            f"PDF-filen {name} är lösenordsskyddad och kan inte läsas.", file=str(path)
        ) from exc
    except Exception as exc:  # pypdf raises many kinds of errors on broken files
        raise _corrupt(path, exc) from exc

    if page_count > settings.max_pages:
        raise _too_many_pages(path, page_count, settings.max_pages)
    if page_count == 0:
        raise EmptyDocument(f"PDF-filen {name} har inga sidor.", file=str(path))

    texts: list[str] = []
    image_only: list[int] = []
    for index in range(page_count):
        try:
            page = reader.pages[index]
        except Exception as exc:
            raise _corrupt(path, exc, index + 1) from exc
        text = _extract_page_text(page, path, index + 1)
        texts.append(text)
        if not _has_text(text) and _page_has_images(page):
            image_only.append(index)

    ocr_used = False
    if image_only:
        text_pages = sum(1 for text in texts if _has_text(text))
        problem = ocr_problem(settings.ocr_language)
        if problem is None:
            for index in image_only:
                texts[index] = _ocr_pdf_page(path, reader.pages[index], index + 1, settings.ocr_language)
            ocr_used = True
        elif text_pages == 0 or len(image_only) * 2 > page_count:
            message, hint = problem
            raise ScannedDocument(
                f"PDF-filen {name} saknar textlager på {len(image_only)} av {page_count} sidor "
                f"(inskannad) och texten kan inte läsas: {message}",
                hint,
                file=str(path),
            )
        # else: a few image-only pages (e.g. a scanned signature page) in a text document stay empty

    if not any(_has_text(text) for text in texts):
        reason = " (inte heller med textigenkänning)" if ocr_used else ""
        raise EmptyDocument(f"Dokumentet {name} innehåller ingen text{reason}.", file=str(path))
    pages = [Page(number=index + 1, text=text) for index, text in enumerate(texts)]
    return ParsedDocument(path=str(path), pages=pages, ocr=ocr_used)


def _corrupt(path: Path, exc: BaseException, page: int | None = None) -> CorruptDocument:
    where = f" (sida {page})" if page is not None else ""
    detail = str(exc).strip() or type(exc).__name__
    return CorruptDocument(
        f"PDF-filen {path.name} är skadad eller ofullständig och kan inte läsas{where}. "
        f"Teknisk orsak: {detail[:200]}",
        file=str(path),
    )


def _extract_page_text(page: Any, path: Path, number: int) -> str:
    """Text of one page with its line breaks; layout mode keeps paragraph gaps as blank lines."""
    try:
        return str(page.extract_text(extraction_mode="layout"))
    except Exception:
        pass
    try:
        return str(page.extract_text())
    except Exception as exc:
        raise _corrupt(path, exc, number) from exc


def _page_has_images(page: Any) -> bool:
    try:
        return len(page.images) > 0
    except Exception:
        return False


# --------------------------------------------------------------------------------------------
# OCR
# --------------------------------------------------------------------------------------------


def tesseract_languages() -> set[str] | None:
    """Language models of the installed Tesseract, or None when Tesseract is not on PATH."""
    executable = shutil.which("tesseract")
    if executable is None:
        return None
    try:
        result = subprocess.run(
            [executable, "--list-langs"], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    languages: set[str] = set()
    for line in (result.stdout + "\n" + result.stderr).splitlines():
        line = line.strip()
        if line and " " not in line and ":" not in line:
            languages.add(line)
    return languages


def ocr_problem(language: str) -> tuple[str, str] | None:
    """Why OCR cannot run (Swedish message and hint), or None when it can."""
    languages = tesseract_languages()
    wanted = [part for part in language.split("+") if part]
    packages = " ".join(f"tesseract-ocr-{part}" for part in wanted)
    if languages is None:
        return (
            "Tesseract (textigenkänning) är inte installerat.",
            f"Installera Tesseract med språkmodellen '{language}' (apt-get install tesseract-ocr "
            f"{packages}) och läs in filen igen, eller använd en PDF med textlager.",
        )
    missing = [part for part in wanted if part not in languages]
    if missing or not wanted:
        return (
            f"Tesseract saknar språkmodellen '{'+'.join(missing) or language}'.",
            f"Installera språkmodellen (apt-get install {packages}) och läs in filen igen, "
            "eller ändra AVTAL_INGEST__OCR_LANGUAGE.",
        )
    return None


def _ocr_pdf_page(path: Path, page: Any, number: int, language: str) -> str:
    image = _render_page_png(path, number)
    if image is None:
        image = _largest_page_image_png(page)
    if image is None:
        return ""
    return _run_tesseract(path, image, number, language)


def _render_page_png(path: Path, number: int) -> bytes | None:
    """The page rendered at OCR_DPI in greyscale by poppler's pdftoppm, or None."""
    executable = shutil.which("pdftoppm")
    if executable is None:
        return None
    command = [
        executable,
        "-r",
        str(OCR_DPI),
        "-gray",
        "-png",
        "-f",
        str(number),
        "-l",
        str(number),
        str(path),
    ]
    try:
        result = subprocess.run(command, capture_output=True, timeout=OCR_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0 or not result.stdout.startswith(b"\x89PNG"):
        return None
    return result.stdout


def _largest_page_image_png(page: Any) -> bytes | None:
    """The largest image embedded in the page (a scanned page is one big image), as PNG."""
    try:
        from PIL import Image

        best: Any = None
        for item in page.images:
            picture = item.image
            if picture is None:
                continue
            if best is None or picture.width * picture.height > best.width * best.height:
                best = picture
        if best is None:
            return None
        picture = best.convert("L")
        if picture.width < 1600:  # Tesseract reads small scans better when upscaled
            factor = 1600 / picture.width
            picture = picture.resize((1600, max(1, round(picture.height * factor))), Image.Resampling.LANCZOS)
        buffer = io.BytesIO()
        picture.save(buffer, format="PNG")
        return buffer.getvalue()
    except Exception:
        return None


def _run_tesseract(path: Path, image: bytes, number: int, language: str) -> str:
    executable = shutil.which("tesseract")
    if executable is None:
        raise ScannedDocument(
            f"PDF-filen {path.name} behöver textigenkänning men Tesseract hittades inte.",
            file=str(path),
        )
    command = [executable, "stdin", "stdout", "-l", language, "--psm", "3"]
    try:
        result = subprocess.run(
            command, input=image, capture_output=True, timeout=OCR_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired as exc:
        raise ScannedDocument(
            f"Textigenkänningen av sida {number} i {path.name} tog för lång tid och avbröts.",
            "Försök igen, eller använd en PDF med textlager.",
            file=str(path),
        ) from exc
    except OSError as exc:
        raise ScannedDocument(
            f"Textigenkänningen av sida {number} i {path.name} kunde inte startas ({exc.strerror}).",
            file=str(path),
        ) from exc
    if result.returncode != 0:
        detail = result.stderr.decode("utf-8", "replace").strip().splitlines()
        raise ScannedDocument(
            f"Textigenkänningen av sida {number} i {path.name} misslyckades"
            + (f": {detail[-1][:200]}" if detail else "."),
            file=str(path),
        )
    return result.stdout.decode("utf-8", "replace")


# --------------------------------------------------------------------------------------------
# TXT and MD
# --------------------------------------------------------------------------------------------

_MD_ATX_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_MD_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_MD_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_MD_FENCE = re.compile(r"^\s{0,3}(```|~~~)")
_MD_TABLE_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_MD_IMAGE = re.compile(r"!\[([^\]]*)\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_MD_REF_LINK = re.compile(r"\[([^\]]+)\]\[[^\]]*\]")
_MD_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+")
_MD_STRONG = re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1")
_MD_EMPHASIS = re.compile(r"(?<![\w*])([*_])(?=\S)(.+?)(?<=\S)\1(?![\w*])")
_MD_CODE = re.compile(r"`([^`]*)`")
_MD_HTML_COMMENT = re.compile(r"<!--.*?-->", re.DOTALL)
_MD_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")
_MD_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])")


def _decode_text(path: Path, data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise _mismatch(path, "text", data) from exc
    head = data[:_SNIFF_BYTES]
    if b"\x00" in head or b"%PDF-" in head[:1024] or head.startswith((b"PK\x03\x04", b"\xd0\xcf\x11\xe0")):
        raise _mismatch(path, "text", data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError as exc:
            raise _mismatch(path, "text", data) from exc
    controls = sum(1 for char in text[:_SNIFF_BYTES] if ord(char) < 32 and char not in "\n\r\t\f")
    if controls > max(2, len(text[:_SNIFF_BYTES]) // 100):
        raise _mismatch(path, "text", data)
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _read_text(path: Path, data: bytes, markdown: bool) -> ParsedDocument:
    text = _decode_text(path, data)
    headings: list[str] = []
    if markdown:
        text, headings = _strip_markdown(text)
    parts = text.split("\f")
    if len(parts) > 1 and not parts[-1].strip():
        parts.pop()  # a form feed that ends the file does not start a page
    pages = [Page(number=index + 1, text=part) for index, part in enumerate(parts)]
    return ParsedDocument(path=str(path), pages=pages, headings=headings)


def _strip_markdown(text: str) -> tuple[str, list[str]]:
    """Light markdown removal that keeps one line per line; returns text and heading lines."""
    text = _MD_HTML_COMMENT.sub(lambda match: "\n" * match.group(0).count("\n"), text)
    lines = text.split("\n")
    out: list[str] = []
    headings: list[str] = []
    in_fence = False
    for index, line in enumerate(lines):
        if _MD_FENCE.match(line):
            in_fence = not in_fence
            out.append("")
            continue
        if in_fence:
            out.append(line)
            continue
        heading = _MD_ATX_HEADING.match(line)
        if heading:
            title = _inline_markdown(heading.group(2))
            headings.append(title)
            out.append(title)
            continue
        previous = lines[index - 1] if index > 0 else ""
        if (
            _MD_SETEXT.match(line)
            and out
            and out[-1].strip()
            and not _MD_ATX_HEADING.match(previous)
            and not re.match(r"^\s*([-*+]\s|\d+[.)]\s|\|)", previous)
        ):
            headings.append(out[-1].strip())
            out.append("")
            continue
        if _MD_RULE.match(line) or _MD_TABLE_SEPARATOR.match(line) or _MD_LINK_DEFINITION.match(line):
            out.append("")
            continue
        line = re.sub(r"^\s{0,3}(>\s?)+", "", line)  # block quotes
        if line.lstrip().startswith("|"):
            cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
            line = " | ".join(cell for cell in cells)
        out.append(_inline_markdown(line))
    return "\n".join(out), headings


def _inline_markdown(line: str) -> str:
    line = _MD_IMAGE.sub(r"\1", line)
    line = _MD_LINK.sub(r"\1", line)
    line = _MD_REF_LINK.sub(r"\1", line)
    line = _MD_CODE.sub(r"\1", line)
    line = _MD_HTML_TAG.sub("", line)
    # Emphasis markers, but not a list bullet "* " at the start of the line.
    bullet = re.match(r"^(\s*[*+-]\s+)", line)
    prefix, rest = (bullet.group(1), line[bullet.end() :]) if bullet else ("", line)
    rest = _MD_STRONG.sub(r"\2", rest)
    rest = _MD_EMPHASIS.sub(r"\2", rest)
    return _MD_ESCAPE.sub(r"\1", prefix + rest)


# --------------------------------------------------------------------------------------------
# DOCX
# --------------------------------------------------------------------------------------------

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_HEADING_STYLE = re.compile(r"^(heading|rubrik)\s*\d+$|^(title|rubrik|titel)$", re.IGNORECASE)


def _read_docx(path: Path, data: bytes) -> ParsedDocument:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except zipfile.BadZipFile as exc:
        if data.startswith(b"PK"):
            raise CorruptDocument(
                f"DOCX-filen {path.name} är skadad eller ofullständig och kan inte läsas.", file=str(path)
            ) from exc
        raise _mismatch(path, "ett Word-dokument (DOCX)", data) from exc
    if "word/document.xml" not in names:
        raise _mismatch(path, "ett Word-dokument (DOCX)", data)

    try:
        import docx

        document = docx.Document(io.BytesIO(data))
        lines, headings = _docx_lines(document)
    except Exception as exc:  # python-docx, zipfile and lxml errors
        detail = str(exc).strip() or type(exc).__name__
        raise CorruptDocument(
            f"DOCX-filen {path.name} är skadad eller ofullständig och kan inte läsas. "
            f"Teknisk orsak: {detail[:200]}",
            file=str(path),
        ) from exc
    text = "\n".join(lines).strip("\n")
    return ParsedDocument(path=str(path), pages=[Page(number=1, text=text)], headings=headings)


def _docx_lines(document: Any) -> tuple[list[str], list[str]]:
    """Body paragraphs and table rows in document order; blank lines between paragraphs."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    numbering = _Numbering(document)
    lines: list[str] = []
    headings: list[str] = []
    previous_kind = ""
    for element in _body_blocks(document.element.body):
        if element.tag == f"{_W}tbl":
            rows = _table_rows(Table(element, document._body))
            if rows:
                if lines:
                    lines.append("")
                lines.extend(rows)
                previous_kind = "table"
            continue
        paragraph = Paragraph(element, document._body)
        text = paragraph.text.replace("\t", " ").strip()
        style_names = _style_chain(paragraph)
        is_heading = any(_HEADING_STYLE.match(style) for style in style_names)
        label = numbering.label(paragraph, style_names)
        if not text:
            continue
        if label:
            text = f"{label} {text}"
        kind = "list" if label and not is_heading else "paragraph"
        if lines and not (kind == "list" and previous_kind == "list"):
            lines.append("")
        lines.extend(part.strip() for part in text.split("\n"))
        if is_heading:
            headings.append(" ".join(text.split()))
        previous_kind = kind
    return lines, headings


def _body_blocks(body: Any) -> Iterator[Any]:
    """w:p and w:tbl elements of the body in order, looking inside content controls (w:sdt)."""
    for child in body.iterchildren():
        if child.tag in (f"{_W}p", f"{_W}tbl"):
            yield child
        elif child.tag == f"{_W}sdt":
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _body_blocks(content)


def _table_rows(table: Any) -> list[str]:
    rows: list[str] = []
    for row in table.rows:
        cells: list[str] = []
        seen: list[Any] = []
        for cell in row.cells:
            if any(cell._tc is other for other in seen):  # a merged cell repeats
                continue
            seen.append(cell._tc)
            value = " ".join(cell.text.split())
            if value:
                cells.append(value)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def _style_chain(paragraph: Any) -> list[str]:
    names: list[str] = []
    try:
        style = paragraph.style
    except Exception:
        return names
    depth = 0
    while style is not None and depth < 10:
        if style.name:
            names.append(str(style.name))
        style = style.base_style
        depth += 1
    return names


class _Numbering:
    """Word's automatic list and heading numbers ("7.1.2", "a)"), which are not in the text."""

    def __init__(self, document: Any) -> None:
        self.levels: dict[str, dict[int, tuple[int, str, str]]] = {}  # abstract id -> level formats
        self.nums: dict[str, tuple[str, dict[int, int]]] = {}  # numId -> (abstract id, start overrides)
        self.counters: dict[str, dict[int, int]] = {}
        self.style_numbering: dict[str, tuple[str, int]] = {}
        self._load(document)

    def _load(self, document: Any) -> None:
        try:
            root = document.part.numbering_part.element
        except Exception:
            return
        for abstract in root.iterchildren(f"{_W}abstractNum"):
            abstract_id = abstract.get(f"{_W}abstractNumId", "")
            levels: dict[int, tuple[int, str, str]] = {}
            for level in abstract.iterchildren(f"{_W}lvl"):
                ilvl = int(level.get(f"{_W}ilvl", "0"))
                start = _w_val(level, "start") or "1"
                fmt = _w_val(level, "numFmt") or "decimal"
                text = _w_val(level, "lvlText") or ""
                levels[ilvl] = (int(start) if start.isdigit() else 1, fmt, text)
            self.levels[abstract_id] = levels
        for num in root.iterchildren(f"{_W}num"):
            num_id = num.get(f"{_W}numId", "")
            abstract_id = _w_val(num, "abstractNumId") or ""
            overrides: dict[int, int] = {}
            for override in num.iterchildren(f"{_W}lvlOverride"):
                start = _w_val(override, "startOverride")
                if start is not None and start.isdigit():
                    overrides[int(override.get(f"{_W}ilvl", "0"))] = int(start)
            self.nums[num_id] = (abstract_id, overrides)
        try:
            for style in document.styles:
                element = style.element
                num_pr = element.find(f"{_W}pPr/{_W}numPr")
                if num_pr is not None and style.name:
                    num_id = _w_val(num_pr, "numId")
                    ilvl = _w_val(num_pr, "ilvl") or "0"
                    if num_id:
                        self.style_numbering[str(style.name)] = (num_id, int(ilvl))
        except Exception:
            return

    def label(self, paragraph: Any, style_names: list[str]) -> str:
        num_id: str | None = None
        ilvl = 0
        num_pr = paragraph._p.find(f"{_W}pPr/{_W}numPr")
        if num_pr is not None:
            num_id = _w_val(num_pr, "numId")
            ilvl = int(_w_val(num_pr, "ilvl") or "0")
        if num_id is None:
            for name in style_names:
                if name in self.style_numbering:
                    num_id, ilvl = self.style_numbering[name]
                    break
        if not num_id or num_id == "0" or num_id not in self.nums:
            return ""
        abstract_id, overrides = self.nums[num_id]
        levels = self.levels.get(abstract_id, {})
        if ilvl not in levels:
            return ""
        counters = self.counters.setdefault(num_id, {})
        start = overrides.get(ilvl, levels[ilvl][0])
        counters[ilvl] = counters[ilvl] + 1 if ilvl in counters else start
        for deeper in [level for level in counters if level > ilvl]:
            del counters[deeper]
        _, fmt, template = levels[ilvl]
        if fmt == "bullet":
            return "-"
        if fmt == "none":
            return ""

        def replace(match: re.Match[str]) -> str:
            level = int(match.group(1)) - 1
            level_start, level_fmt, _ = levels.get(level, (1, "decimal", ""))
            value = counters.get(level, overrides.get(level, level_start))
            return _format_number(value, level_fmt)

        return re.sub(r"%([1-9])", replace, template).strip()


def _w_val(element: Any, tag: str) -> str | None:
    child = element.find(f"{_W}{tag}")
    if child is None:
        return None
    value = child.get(f"{_W}val")
    return str(value) if value is not None else None


def _format_number(value: int, fmt: str) -> str:
    if fmt in ("lowerLetter", "upperLetter"):
        letters = ""
        number = value
        while number > 0:
            number, remainder = divmod(number - 1, 26)
            letters = chr(ord("a") + remainder) + letters
        return letters.upper() if fmt == "upperLetter" else letters
    if fmt in ("lowerRoman", "upperRoman"):
        roman = _roman(value)
        return roman.lower() if fmt == "lowerRoman" else roman
    return str(value)


def _roman(value: int) -> str:
    parts = [
        (1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"),
        (50, "L"), (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I"),
    ]  # fmt: skip
    out = ""
    for amount, symbol in parts:
        while value >= amount:
            out += symbol
            value -= amount
    return out
