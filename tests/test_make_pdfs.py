"""data/make_pdfs.py: the committed demo corpus is reproducible, paged like its sources and readable."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import pytest
from pypdf import PdfReader

EXPECTED_PAGES = {
    "aldrecentrum-uppfoljning-samverkan-2013.pdf": 51,
    "nacka-tjansteskrivelse-hok-2022.pdf": 3,
    "oversyn-overenskommelser.pdf": 27,
    "riktlinje-hok-2022.pdf": 9,
    "skr-stod-lagstadgade-overenskommelser.pdf": 27,
}


@pytest.fixture(scope="module")
def make_pdfs(repo_root: Path) -> ModuleType:
    path = repo_root / "data" / "make_pdfs.py"
    spec = importlib.util.spec_from_file_location("make_pdfs", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_pdfs"] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus(repo_root: Path) -> Path:
    return repo_root / "data" / "corpus"


def test_check_reproduces_the_committed_corpus(make_pdfs: ModuleType, corpus: Path) -> None:
    import reportlab

    creator = str(PdfReader(corpus / "nacka-tjansteskrivelse-hok-2022.pdf").metadata.get("/Creator", ""))
    if f"reportlab {reportlab.Version})" not in creator:
        pytest.skip(f"corpus made with another reportlab ({creator}); byte equality needs the same release")
    assert make_pdfs.main(["--check"]) == 0


def test_check_notices_a_changed_file(make_pdfs: ModuleType, corpus: Path, tmp_path: Path) -> None:
    copy = tmp_path / "corpus"
    copy.mkdir()
    for source in corpus.iterdir():
        (copy / source.name).write_bytes(source.read_bytes())
    (copy / "manifest.json").write_text("{}", encoding="utf-8")
    assert make_pdfs.main(["--check", "--out", str(copy)]) == 1


def test_page_counts_follow_the_page_starts(make_pdfs: ModuleType, corpus: Path) -> None:
    for name, expected in EXPECTED_PAGES.items():
        text = (make_pdfs.TEXT_DIR / name.replace(".pdf", ".txt")).read_text(encoding="utf-8")
        assert make_pdfs.expected_page_count(text) == expected
        assert len(PdfReader(corpus / name).pages) == expected, name


def test_manifest_lists_the_pdfs(corpus: Path) -> None:
    manifest = json.loads((corpus / "manifest.json").read_text(encoding="utf-8"))
    assert set(manifest) == {"about", "documents"}
    assert {entry["file"] for entry in manifest["documents"]} == set(EXPECTED_PAGES)
    for entry in manifest["documents"]:
        assert (corpus / entry["file"]).is_file()
        for key in (
            "title",
            "doc_type",
            "issuer",
            "date",
            "valid_from",
            "valid_to",
            "supersedes",
            "source_url",
        ):
            assert key in entry
        assert isinstance(entry["supersedes"], list)


def test_text_round_trips_with_header_and_footer(make_pdfs: ModuleType, corpus: Path) -> None:
    """Every word of every source page comes back from pypdf, Swedish letters included."""
    covered = make_pdfs.register_font()
    for name in EXPECTED_PAGES:
        stem = name.removesuffix(".pdf")
        source = (make_pdfs.TEXT_DIR / f"{stem}.txt").read_text(encoding="utf-8")
        title = make_pdfs.SHORT_TITLES[stem]
        reader = PdfReader(corpus / name)
        total = len(reader.pages)
        for number, (lines, page) in enumerate(
            zip(make_pdfs.split_pages(source), reader.pages, strict=True), 1
        ):
            expected = make_pdfs.map_characters(" ".join(lines), covered).split()
            extracted = page.extract_text().split()
            header, footer = title.split(), f"Sida {number} av {total}".split()
            assert extracted[: len(header)] == header, (name, number)
            assert extracted[-len(footer) :] == footer, (name, number)
            assert extracted[len(header) : -len(footer)] == expected, (name, number)
    sample = PdfReader(corpus / "nacka-tjansteskrivelse-hok-2022.pdf").pages[0].extract_text()
    for word in ("Äldrenämnden", "Huvudöverenskommelse", "länsövergripande", "vård", "HÖK"):
        assert word in sample
