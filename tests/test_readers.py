"""ingest.readers: every format, and every bad input giving its own error with a Swedish message."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import docx
import pytest
from helpers.pdfs import make_blank_pdf, make_scanned_pdf, make_text_pdf
from pypdf import PdfReader, PdfWriter

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
from avtal.settings import IngestSettings, Settings
from ingest import readers
from ingest.clean import clean_pages
from ingest.readers import SUPPORTED_EXTENSIONS, read_document

HEADER = "Riktlinje för samverkan (HÖK)"
PAGES = [
    [
        "1. Inledning",
        "",
        "Denna riktlinje beskriver hur kommunerna och regionen ska sam-",
        "verkan kring äldre.",
    ],
    ["2. Ansvar", "", "Regionen ansvarar för hälso- och sjukvård i ordinärt boende."],
    ["3. Uppföljning", "", "Överenskommelsen följs upp årligen av tjänstemannastyrgruppen."],
]


@pytest.fixture()
def ingest(settings: Settings) -> IngestSettings:
    return settings.ingest


@pytest.fixture()
def three_page_pdf(tmp_path: Path) -> Path:
    return make_text_pdf(tmp_path / "riktlinje.pdf", PAGES, header=HEADER)


def _assert_swedish_error(error: DocumentError, path: Path) -> None:
    assert error.file == str(path)
    assert path.name in error.message
    assert error.hint
    assert any(char in error.message + error.hint for char in "åäöÅÄÖ")
    assert error.to_dict()["code"] == error.code


# ------------------------------------------------------------------ PDF


def test_supported_extensions() -> None:
    assert {".pdf", ".docx", ".txt", ".md"} == set(SUPPORTED_EXTENSIONS)


def test_pdf_pages_keep_numbers_and_swedish_text(three_page_pdf: Path, ingest: IngestSettings) -> None:
    doc = read_document(three_page_pdf, ingest)
    assert doc.path == str(three_page_pdf)
    assert [page.number for page in doc.pages] == [1, 2, 3]
    assert doc.ocr is False
    assert "Regionen ansvarar för hälso- och sjukvård" in doc.pages[1].text
    assert "Överenskommelsen följs upp årligen" in doc.pages[2].text
    # line breaks are kept: the hyphenated word is still split over two lines
    assert "ska sam-\n" in doc.pages[0].text
    assert all(HEADER in page.text and f"Sida {page.number} av 3" in page.text for page in doc.pages)


def test_pdf_read_then_clean(three_page_pdf: Path, ingest: IngestSettings) -> None:
    pages = clean_pages(read_document(three_page_pdf, ingest).pages)
    assert [page.number for page in pages] == [1, 2, 3]
    assert pages[0].text.splitlines() == [
        "1. Inledning",
        "",
        "Denna riktlinje beskriver hur kommunerna och regionen ska samverkan",
        "kring äldre.",
    ]
    for page in pages:
        assert HEADER not in page.text
        assert "Sida" not in page.text


def test_truncated_pdf_is_corrupt(three_page_pdf: Path, tmp_path: Path, ingest: IngestSettings) -> None:
    data = three_page_pdf.read_bytes()
    broken = tmp_path / "avbruten.pdf"
    broken.write_bytes(data[: len(data) // 2])
    with pytest.raises(CorruptDocument) as caught:
        read_document(broken, ingest)
    assert "skadad eller ofullständig" in caught.value.message
    _assert_swedish_error(caught.value, broken)


def test_encrypted_pdf(three_page_pdf: Path, tmp_path: Path, ingest: IngestSettings) -> None:
    writer = PdfWriter(clone_from=three_page_pdf)
    writer.encrypt("hemligt")
    locked = tmp_path / "last.pdf"
    with locked.open("wb") as handle:
        writer.write(handle)
    with pytest.raises(EncryptedDocument) as caught:
        read_document(locked, ingest)
    assert "lösenordsskyddad" in caught.value.message
    _assert_swedish_error(caught.value, locked)


def test_pdf_with_empty_user_password_opens(
    three_page_pdf: Path, tmp_path: Path, ingest: IngestSettings
) -> None:
    writer = PdfWriter(clone_from=three_page_pdf)
    writer.encrypt("", owner_password="agare")
    restricted = tmp_path / "begransad.pdf"
    with restricted.open("wb") as handle:
        writer.write(handle)
    doc = read_document(restricted, ingest)
    assert "hälso- och sjukvård" in doc.pages[1].text


def test_pdf_without_text_is_empty(tmp_path: Path, ingest: IngestSettings) -> None:
    blank = make_blank_pdf(tmp_path / "tom.pdf", pages=2)
    with pytest.raises(EmptyDocument) as caught:
        read_document(blank, ingest)
    assert "ingen text" in caught.value.message
    _assert_swedish_error(caught.value, blank)


def test_too_many_pages(three_page_pdf: Path, ingest: IngestSettings) -> None:
    with pytest.raises(DocumentTooLarge) as caught:
        read_document(three_page_pdf, ingest.model_copy(update={"max_pages": 2}))
    assert "3 sidor" in caught.value.message and "2 sidor" in caught.value.message
    _assert_swedish_error(caught.value, three_page_pdf)


def test_file_too_large_is_checked_before_parsing(tmp_path: Path, ingest: IngestSettings) -> None:
    big = tmp_path / "stor.pdf"
    big.write_bytes(b"not even a pdf" * 200)  # would be a mismatch if it were parsed
    with pytest.raises(DocumentTooLarge) as caught:
        read_document(big, ingest.model_copy(update={"max_file_mb": 0.001}))
    assert "större" in caught.value.message or "mer än gränsen" in caught.value.message
    _assert_swedish_error(caught.value, big)


# ------------------------------------------------------------------ scanned PDFs and OCR


def _ocr_ready(language: str) -> bool:
    return readers.ocr_problem(language) is None


@pytest.mark.integration
@pytest.mark.parametrize("render", ["pdftoppm", "embedded-image"])
def test_scanned_pdf_is_read_with_ocr(
    tmp_path: Path, ingest: IngestSettings, monkeypatch: pytest.MonkeyPatch, render: str
) -> None:
    if not _ocr_ready(ingest.ocr_language):
        pytest.skip("Tesseract with the Swedish model is not installed")
    if render == "embedded-image":
        monkeypatch.setattr(readers, "_render_page_png", lambda path, number: None)
    scanned = make_scanned_pdf(
        tmp_path / "inskannad.pdf", ["Huvudöverenskommelse om samverkan", "Denna överenskommelse gäller"]
    )
    assert not PdfReader(scanned).pages[0].extract_text().strip()
    doc = read_document(scanned, ingest)
    assert doc.ocr is True
    assert [page.number for page in doc.pages] == [1]
    words = doc.pages[0].text.lower().split()
    assert "överenskommelse" in words
    assert "huvudöverenskommelse" in words


def test_scanned_pdf_without_tesseract(
    tmp_path: Path, ingest: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned = make_scanned_pdf(tmp_path / "inskannad.pdf", ["Överenskommelse"])
    empty_bin = tmp_path / "bin"
    empty_bin.mkdir()
    monkeypatch.setenv("PATH", str(empty_bin))  # no tesseract (and no pdftoppm) to be found
    with pytest.raises(ScannedDocument) as caught:
        read_document(scanned, ingest)
    error = caught.value
    assert "saknar textlager" in error.message and "Tesseract" in error.message
    assert "tesseract-ocr-swe" in error.hint
    _assert_swedish_error(error, scanned)


def test_one_scanned_page_in_a_text_pdf_without_tesseract(
    tmp_path: Path, ingest: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A scanned signature page does not stop a text document when OCR is missing; it stays empty."""
    writer = PdfWriter()
    for part in (
        make_text_pdf(tmp_path / "text.pdf", PAGES, header=HEADER),
        make_scanned_pdf(tmp_path / "underskrift.pdf", ["Underskrift"]),
    ):
        writer.append(str(part))
    combined = tmp_path / "undertecknad.pdf"
    with combined.open("wb") as handle:
        writer.write(handle)
    monkeypatch.setattr(readers, "tesseract_languages", lambda: None)
    doc = read_document(combined, ingest)
    assert [page.number for page in doc.pages] == [1, 2, 3, 4]
    assert doc.pages[3].text.strip() == ""
    assert doc.ocr is False


def test_scanned_pdf_with_tesseract_but_no_swedish_model(
    tmp_path: Path, ingest: IngestSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    scanned = make_scanned_pdf(tmp_path / "inskannad.pdf", ["Överenskommelse"])
    monkeypatch.setattr(readers, "tesseract_languages", lambda: {"eng", "osd"})
    with pytest.raises(ScannedDocument) as caught:
        read_document(scanned, ingest)
    assert "språkmodellen 'swe'" in caught.value.message
    assert "tesseract-ocr-swe" in caught.value.hint


# ------------------------------------------------------------------ type checks


def test_unknown_extension(tmp_path: Path, ingest: IngestSettings) -> None:
    sheet = tmp_path / "budget.xlsx"
    sheet.write_bytes(b"PK\x03\x04 whatever")
    with pytest.raises(UnsupportedFileType) as caught:
        read_document(sheet, ingest)
    assert ".xlsx" in caught.value.message and "stöds inte" in caught.value.message
    _assert_swedish_error(caught.value, sheet)


@pytest.mark.parametrize(
    ("name", "content", "looks_like"),
    [
        ("avtal.pdf", "Det här är bara text, ingen PDF.".encode(), "textfil"),
        ("avtal.docx", b"%PDF-1.4\n%%EOF\n", "PDF-fil"),
        ("avtal.txt", b"\x00\x01\x02\x03binary\x00" * 50, "binärfil"),
        ("avtal.md", b"%PDF-1.7\n1 0 obj\n", "PDF-fil"),
    ],
)
def test_content_not_matching_extension(
    tmp_path: Path, ingest: IngestSettings, name: str, content: bytes, looks_like: str
) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(FileTypeMismatch) as caught:
        read_document(path, ingest)
    assert "ändelsen" in caught.value.message and looks_like in caught.value.message
    _assert_swedish_error(caught.value, path)


def test_zip_without_word_document_is_a_mismatch(tmp_path: Path, ingest: IngestSettings) -> None:
    path = tmp_path / "kalkyl.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("xl/workbook.xml", "<workbook/>")
    with pytest.raises(FileTypeMismatch):
        read_document(path, ingest)


def test_missing_file(tmp_path: Path, ingest: IngestSettings) -> None:
    with pytest.raises(DocumentError) as caught:
        read_document(tmp_path / "finns-inte.pdf", ingest)
    assert "finns inte" in caught.value.message


def test_empty_file(tmp_path: Path, ingest: IngestSettings) -> None:
    path = tmp_path / "tom.txt"
    path.write_bytes(b"")
    with pytest.raises(EmptyDocument):
        read_document(path, ingest)


# ------------------------------------------------------------------ TXT and MD


def test_txt_form_feeds_are_page_breaks(tmp_path: Path, ingest: IngestSettings) -> None:
    path = tmp_path / "avtal.txt"
    path.write_text("Första sidan\r\nrad två\fAndra sidan\fTredje sidan\f", encoding="utf-8")
    doc = read_document(path, ingest)
    assert [(page.number, page.text) for page in doc.pages] == [
        (1, "Första sidan\nrad två"),
        (2, "Andra sidan"),
        (3, "Tredje sidan"),
    ]


def test_txt_without_form_feed_is_one_page_and_cp1252_fallback(
    tmp_path: Path, ingest: IngestSettings
) -> None:
    path = tmp_path / "gammal.txt"
    path.write_bytes("Överenskommelse om hälso- och sjukvård\n\nGäller för äldre.".encode("cp1252"))
    doc = read_document(path, ingest)
    assert len(doc.pages) == 1
    assert doc.pages[0].text.startswith("Överenskommelse om hälso- och sjukvård")


def test_txt_with_only_whitespace_is_empty(tmp_path: Path, ingest: IngestSettings) -> None:
    path = tmp_path / "blank.txt"
    path.write_text("  \n\n\t\n", encoding="utf-8")
    with pytest.raises(EmptyDocument):
        read_document(path, ingest)


def test_markdown(tmp_path: Path, ingest: IngestSettings) -> None:
    path = tmp_path / "rutin.md"
    path.write_text(
        "# Rutin för samordnad individuell plan\n"
        "\n"
        "Inledande text med **fetstil**, *kursiv* och en [länk](https://example.org).\n"
        "\n"
        "## 1. Syfte\n"
        "\n"
        "* Första punkten\n"
        "- Andra punkten med `kod`\n"
        "\n"
        "Ansvar\n"
        "------\n"
        "\n"
        "| Part | Ansvar |\n"
        "|------|--------|\n"
        "| Region | Vård |\n",
        encoding="utf-8",
    )
    doc = read_document(path, ingest)
    assert doc.headings == ["Rutin för samordnad individuell plan", "1. Syfte", "Ansvar"]
    lines = doc.pages[0].text.splitlines()
    assert lines[0] == "Rutin för samordnad individuell plan"
    assert "Inledande text med fetstil, kursiv och en länk." in lines
    assert "1. Syfte" in lines
    assert "* Första punkten" in lines and "- Andra punkten med kod" in lines
    assert "Part | Ansvar" in lines and "Region | Vård" in lines
    assert not any(line.strip().startswith(("#", "---", "|")) for line in lines)


# ------------------------------------------------------------------ DOCX


def test_docx_paragraphs_headings_tables_and_numbering(tmp_path: Path, ingest: IngestSettings) -> None:
    document = docx.Document()
    document.add_heading("Överenskommelse om samverkan", 0)
    document.add_heading("1 Syfte", 1)
    document.add_paragraph("Syftet är att förbättra samverkan kring äldre.")
    document.add_paragraph("Första punkten", style="List Number")
    document.add_paragraph("Andra punkten", style="List Number")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text = "Part"
    table.cell(0, 1).text = "Ansvar"
    table.cell(1, 0).text = "Region"
    table.cell(1, 1).text = "Hälso- och sjukvård"
    document.add_heading("2 Giltighet", 1)
    document.add_paragraph("Överenskommelsen gäller från 2022-07-01.")
    path = tmp_path / "avtal.docx"
    document.save(str(path))

    doc = read_document(path, ingest)
    assert len(doc.pages) == 1 and doc.pages[0].number == 1
    assert doc.headings == ["Överenskommelse om samverkan", "1 Syfte", "2 Giltighet"]
    lines = doc.pages[0].text.splitlines()
    assert lines[0] == "Överenskommelse om samverkan"
    assert "1. Första punkten" in lines and "2. Andra punkten" in lines
    assert "Region | Hälso- och sjukvård" in lines
    assert lines.index("Part | Ansvar") < lines.index("2 Giltighet")
    assert lines[-1] == "Överenskommelsen gäller från 2022-07-01."


def test_truncated_docx_is_corrupt(tmp_path: Path, ingest: IngestSettings) -> None:
    buffer = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Text")
    document.save(buffer)
    path = tmp_path / "trasig.docx"
    path.write_bytes(buffer.getvalue()[:2000])
    with pytest.raises(CorruptDocument) as caught:
        read_document(path, ingest)
    _assert_swedish_error(caught.value, path)


def test_empty_docx(tmp_path: Path, ingest: IngestSettings) -> None:
    path = tmp_path / "tom.docx"
    docx.Document().save(str(path))
    with pytest.raises(EmptyDocument):
        read_document(path, ingest)
