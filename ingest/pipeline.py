"""The ingest run: files -> pages -> cleaned, repaired pages -> clauses -> chunks -> a new index version.

Per-file errors never stop the run and never touch what is already indexed for that document.
Unchanged files (same bytes, same chunking) reuse their chunks without parsing; unchanged chunk
texts reuse their embeddings from the cache, so a re-ingest of unchanged documents embeds nothing.
"""

from __future__ import annotations

import hashlib
import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from avtal.errors import AvtalError, DocumentError, UnsupportedFileType
from avtal.models import Chunk, DocumentMeta, Page, ParsedDocument
from avtal.settings import IngestSettings, Settings
from ingest.chunking import chunk_sections, chunking_signature
from ingest.clean import clean_pages
from ingest.manifest import MANIFEST_NAME, build_meta, doc_id_for, load_manifest
from ingest.readers import SUPPORTED_EXTENSIONS, read_document
from ingest.segment import segment

if TYPE_CHECKING:
    from index.store import IndexStore

log = logging.getLogger(__name__)


@dataclass
class ProcessedDocument:
    """One document ready for the index."""

    meta: DocumentMeta
    chunks: list[Chunk]
    pages: int
    repaired_words: int
    damaged_pages: list[int]
    ocr: bool
    file_sha256: str = ""
    source_path: str = ""

    def record(self, signature: str) -> dict[str, Any]:
        """What the index keeps about the document (documents.json)."""
        return {
            **self.meta.to_dict(),
            "pages": self.pages,
            "chunks": len(self.chunks),
            "repaired_words": self.repaired_words,
            "damaged_pages": self.damaged_pages,
            "ocr": self.ocr,
            "file_sha256": self.file_sha256,
            "source_path": self.source_path,
            "chunking_signature": signature,
        }


@dataclass
class IngestReport:
    """The summary of one run. `to_json()` is the `avtal ingest --json` object."""

    documents: int = 0
    pages: int = 0
    chunks: int = 0
    repaired_words: int = 0
    embedded: int = 0
    errors: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)
    processed: list[str] = field(default_factory=list)  # parsed in this run
    unchanged: list[str] = field(default_factory=list)  # reused without parsing
    removed: list[str] = field(default_factory=list)  # pruned from the index
    version: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


# --- the per-document steps (plain functions) -----------------------------------------------


def repair_pages(pages: list[Page]) -> tuple[list[Page], int, list[int]]:
    """Repair OCR-damaged Swedish letters on the pages detected as damaged.

    Returns the repaired pages (same line structure), the number of words repaired and the numbers
    of the damaged pages. Clean pages are returned untouched.
    """
    from ingest.ocr_repair import default_repairer, is_damaged

    out: list[Page] = []
    repaired = 0
    damaged: list[int] = []
    for page in pages:
        if page.text.strip() and is_damaged(page.text):
            result = default_repairer().repair(page.text)
            out.append(Page(page.number, result.text, list(page.footnotes)))
            repaired += result.repaired_words
            damaged.append(page.number)
        else:
            out.append(page)
    return out, repaired, damaged


def process_document(
    parsed: ParsedDocument, meta_entry: dict[str, Any] | None, path: Path, settings: IngestSettings
) -> ProcessedDocument:
    """Clean, repair, segment and chunk one parsed document."""
    cleaned = clean_pages(parsed.pages)
    if settings.ocr_repair:
        repaired, repaired_words, damaged = repair_pages(cleaned)
    else:
        repaired, repaired_words, damaged = cleaned, 0, []
    sections = segment(repaired, original=cleaned, known_headings=parsed.headings)
    first_heading = next((s.heading for s in sections if s.heading), None)
    fallback_title = first_heading or _first_line(repaired)
    meta = build_meta(path, meta_entry, fallback_title)
    chunks = chunk_sections(sections, meta, settings)
    if not chunks:
        from avtal.errors import EmptyDocument

        raise EmptyDocument(
            f"Inga textavsnitt hittades i {path.name}.",
            file=str(path),
        )
    return ProcessedDocument(
        meta=meta,
        chunks=chunks,
        pages=len(parsed.pages),
        repaired_words=repaired_words,
        damaged_pages=damaged,
        ocr=parsed.ocr,
    )


def _first_line(pages: list[Page]) -> str | None:
    for page in pages:
        for line in page.text.splitlines():
            if line.strip():
                return line.strip()
    return None


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path]]:
    """Files to ingest and the folders they came from (folders are searched recursively)."""
    files: list[Path] = []
    folders: list[Path] = []
    for path in paths:
        if path.is_dir():
            folders.append(path)
            for child in sorted(path.rglob("*")):
                if (
                    child.is_file()
                    and child.name != MANIFEST_NAME
                    and not any(part.startswith(".") for part in child.relative_to(path).parts)
                ):
                    files.append(child)
        else:
            files.append(path)
    return files, folders


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- the run --------------------------------------------------------------------------------


def ingest(
    paths: list[Path],
    settings: Settings,
    *,
    prune: bool = False,
    store: IndexStore | None = None,
    progress: bool = False,
    on_progress: Callable[[str], None] | None = None,
) -> IngestReport:
    """Ingest files and folders into a new index version. Returns the run's summary."""
    from index.store import IndexStore

    started = time.perf_counter()
    signature = chunking_signature(settings.ingest)
    store = store or IndexStore(settings, chunking_signature=signature)
    current = store.current()
    old_docs: dict[str, dict[str, Any]] = dict(current.documents) if current else {}
    old_chunks: dict[str, list[Chunk]] = {}
    if current is not None:
        for chunk in current.chunks:
            old_chunks.setdefault(chunk.doc_id, []).append(chunk)

    report = IngestReport()
    files, folders = discover(paths)
    if not files:
        report.warnings.append(
            "Inga filer hittades att läsa in. Ange en mapp eller fil med PDF, DOCX, TXT eller MD."
        )
    manifests: dict[Path, dict[str, dict[str, Any]]] = {}
    new_docs: dict[str, dict[str, Any]] = {}
    new_chunks: dict[str, list[Chunk]] = {}
    seen_ids: dict[str, Path] = {}

    bar = _progress_bar(len(files), progress)
    for path in files:
        if bar is not None:
            bar.set_postfix_str(path.name[:40])
        try:
            doc_id = doc_id_for(path)
            if doc_id in seen_ids:
                raise DocumentError(
                    f"{path.name} får samma dokument-id ({doc_id}) som {seen_ids[doc_id].name}.",
                    "Byt namn på en av filerna så att namnen skiljer sig åt (utöver filändelsen).",
                    file=str(path),
                )
            if not path.exists():
                raise DocumentError(
                    f"Filen {path} finns inte.", "Kontrollera sökvägen och försök igen.", file=str(path)
                )
            if path.suffix.lower() not in SUPPORTED_EXTENSIONS:
                raise UnsupportedFileType(
                    f"{path.name} har en filtyp som inte stöds ({path.suffix or 'ingen filändelse'}).",
                    file=str(path),
                )
            seen_ids[doc_id] = path
            folder = path.parent
            if folder not in manifests:
                manifests[folder] = load_manifest(folder)
            entry = manifests[folder].get(path.name) or manifests[folder].get(path.stem)
            sha = _sha256(path)
            old = old_docs.get(doc_id)
            if (
                old is not None
                and old.get("file_sha256") == sha
                and old.get("chunking_signature") == signature
                and doc_id in old_chunks
                and _meta_unchanged(old, path, entry)
            ):
                new_docs[doc_id] = old
                new_chunks[doc_id] = old_chunks[doc_id]
                report.unchanged.append(doc_id)
            else:
                parsed = read_document(path, settings.ingest)
                processed = process_document(parsed, entry, path, settings.ingest)
                processed.file_sha256 = sha
                processed.source_path = str(path.resolve())
                new_docs[doc_id] = processed.record(signature)
                new_chunks[doc_id] = processed.chunks
                report.processed.append(doc_id)
                if processed.meta.missing_fields:
                    report.warnings.append(
                        f"{path.name}: metadata saknas ({', '.join(processed.meta.missing_fields)}); "
                        f"titeln togs från dokumentet: \u201d{processed.meta.title}\u201d."
                    )
        except AvtalError as exc:
            if exc.file is None:
                exc.file = str(path)
            report.errors.append(exc.to_dict())
            log.info("ingest error for %s: %s", path, exc.code)
        except Exception as exc:  # a bug must not lose the other files or the index
            log.exception("unexpected error while ingesting %s", path)
            report.errors.append(
                {
                    "file": str(path),
                    "code": "internal",
                    "message": f"Ett oväntat fel uppstod när {path.name} lästes in ({type(exc).__name__}).",
                    "hint": "Kontrollera filen; om felet kvarstår, rapportera det med filen bifogad.",
                }
            )
        if bar is not None:
            bar.update(1)
        if on_progress is not None:
            on_progress(path.name)
    if bar is not None:
        bar.close()

    # Documents already indexed and not part of this run stay, unless pruned. A file that failed
    # keeps its previous chunks: nothing already indexed is lost.
    failed_ids = {doc_id_for(Path(e["file"])) for e in report.errors if e.get("file")}
    found_ids = set(seen_ids) | failed_ids
    for doc_id, record in old_docs.items():
        if doc_id in new_docs:
            continue
        if prune and doc_id not in found_ids and _is_under(record, folders):
            report.removed.append(doc_id)
            continue
        if doc_id in old_chunks:
            new_docs[doc_id] = record
            new_chunks[doc_id] = old_chunks[doc_id]

    # A new embedding model, passage format or lexical tokenizer changes the index's shape: the
    # index is rebuilt from the kept chunks (their embeddings come from the cache when they can).
    reshaped = current is not None and current.shape_hash != store.shape_hash
    changed = bool(report.processed or report.removed) or current is None or reshaped
    if changed and new_docs:
        ordered = sorted(new_docs)
        chunks = [chunk for doc_id in ordered for chunk in new_chunks[doc_id]]
        embed_bar = _progress_bar(len(chunks), progress, desc="Embeddingar", unit="avsnitt")
        callback = None
        if embed_bar is not None:

            def callback(done: int) -> None:
                embed_bar.update(done - embed_bar.n)

        try:
            result = store.write({d: new_docs[d] for d in ordered}, chunks, progress=callback)
        finally:
            if embed_bar is not None:
                embed_bar.close()
        report.embedded = result.embedded
        report.version = result.version
    elif current is not None:
        report.version = current.version
    report.documents = len(new_docs)
    report.pages = sum(int(d.get("pages", 0)) for d in new_docs.values())
    report.chunks = sum(len(c) for c in new_chunks.values() if c)
    report.repaired_words = sum(int(d.get("repaired_words", 0)) for d in new_docs.values())
    report.seconds = round(time.perf_counter() - started, 3)
    return report


def _meta_unchanged(old: dict[str, Any], path: Path, entry: dict[str, Any] | None) -> bool:
    """Whether the manifest still says what the index holds (a metadata edit re-processes)."""
    fresh = build_meta(path, entry, old.get("title")).to_dict()
    return all(old.get(k) == v for k, v in fresh.items())


def _is_under(record: dict[str, Any], folders: list[Path]) -> bool:
    source = record.get("source_path")
    return bool(source) and any(Path(source).is_relative_to(f.resolve()) for f in folders)


def _progress_bar(total: int, enabled: bool, desc: str = "Läser in", unit: str = "fil") -> Any:
    if not enabled or total == 0:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit=unit, file=sys.stderr, leave=False)
