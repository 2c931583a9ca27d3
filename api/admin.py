"""Admin endpoints (header ``X-API-Key``; off when no key is configured): usage statistics,
deleting stored questions and feedback, uploading a document, re-ingesting, deleting a document.

Uploads are saved under ``AVTAL_HOME/uploads`` and go through the same ingest as
``avtal ingest`` (same per-file errors); every change builds a new index version (switched
atomically) and the service reloads the assistant on it.
"""

from __future__ import annotations

import asyncio
import re
import secrets
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, UploadFile
from fastapi.responses import JSONResponse

from api.app import ServiceDep
from api.errors import AdminDisabled, InvalidBody, Unauthorized, UnknownDocument
from api.service import Service
from avtal.errors import InvalidRequest

router = APIRouter(tags=["administration"])

_SAFE_NAME = re.compile(r"[^\w.\-]+", re.UNICODE)


def require_admin(request: Request, x_api_key: Annotated[str | None, Header()] = None) -> None:
    configured = request.app.state.settings.service.admin_api_key
    secret = configured.get_secret_value() if configured is not None else ""
    if not secret:
        raise AdminDisabled("Administrationen är avstängd eftersom ingen administratörsnyckel är inställd.")
    # Header values arrive decoded as latin-1; compare the raw bytes with the key in UTF-8.
    given = x_api_key.encode("latin-1", errors="replace") if x_api_key else b""
    if not given or not secrets.compare_digest(given, secret.encode("utf-8")):
        raise Unauthorized("Administratörsnyckeln saknas eller är fel.")


Admin = [Depends(require_admin)]


def uploads_dir(service: Service) -> Path:
    folder = service.settings.home / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def safe_filename(name: str | None) -> str:
    base = Path(name or "").name.strip()
    cleaned = _SAFE_NAME.sub("-", base).strip(".-")
    if not cleaned or "." not in cleaned:
        raise InvalidBody(
            "Filen saknar namn eller filändelse.",
            "Ladda upp en PDF, DOCX, TXT eller MD med filändelse.",
        )
    return cleaned[:120]


def _report_response(report: Any, status_ok: int = 200) -> JSONResponse:
    for error in report.errors:  # the file's name, not where the server keeps it
        if error.get("file"):
            error["file"] = Path(error["file"]).name
    data = report.to_json()
    if report.errors and not report.processed:
        first = report.errors[0]
        return JSONResponse(
            {"error": first, "errors": report.errors, "report": data},
            status_code=422,
        )
    return JSONResponse({"report": data, "errors": report.errors}, status_code=status_ok)


@router.get("/api/stats", dependencies=Admin)
async def stats(service: ServiceDep, days: Annotated[int, Query(ge=1, le=3650)] = 30) -> dict[str, Any]:
    """Frågor per dag, andel obesvarade, vanligaste obesvarade frågorna (maskerade), återkoppling."""
    return await asyncio.to_thread(service.usage.stats, days)


@router.delete("/api/admin/usage", dependencies=Admin)
async def delete_usage(service: ServiceDep) -> dict[str, Any]:
    """Radera alla sparade frågor och all återkoppling."""
    removed = await asyncio.to_thread(service.usage.delete_all)
    return {"deleted": removed}


@router.post("/api/admin/documents", dependencies=Admin)
async def upload(file: UploadFile, service: ServiceDep) -> JSONResponse:
    """Ladda upp ett dokument och läs in det (samma inläsning och fel som `avtal ingest`)."""
    name = safe_filename(file.filename)
    limit = service.settings.service.max_upload_mb * 1024 * 1024
    data = await file.read(limit + 1)
    if len(data) > limit:
        from api.errors import BodyTooLarge

        raise BodyTooLarge(f"Filen är större än {service.settings.service.max_upload_mb} MB.")
    target = uploads_dir(service) / name

    def work() -> Any:
        from ingest.pipeline import ingest

        with service.admin_lock:
            existed = target.exists()
            previous = target.read_bytes() if existed else None
            target.write_bytes(data)
            report = ingest([target], service.settings)
            if report.errors and not report.processed:
                if previous is not None:
                    target.write_bytes(previous)
                else:
                    target.unlink(missing_ok=True)
            elif report.processed:
                service.reload()
            return report

    report = await asyncio.to_thread(work)
    return _report_response(report, status_ok=201)


@router.post("/api/admin/reingest", dependencies=Admin)
async def reingest(service: ServiceDep) -> JSONResponse:
    """Läs in alla dokument på nytt från sina källfiler (oförändrade filer återanvänds)."""

    def work() -> Any:
        from ingest.pipeline import ingest

        with service.admin_lock:
            assistant = service.assistant()
            paths = [
                Path(d["source_path"])
                for d in assistant.version.documents.values()
                if d.get("source_path") and Path(d["source_path"]).is_file()
            ]
            report = ingest(paths, service.settings)
            if report.version != assistant.version.version:
                service.reload()
            return report

    report = await asyncio.to_thread(work)
    return _report_response(report)


@router.delete("/api/admin/documents/{doc_id}", dependencies=Admin)
async def delete_document(doc_id: str, service: ServiceDep) -> dict[str, Any]:
    """Ta bort ett dokument ur indexet (en ny indexversion utan det)."""

    def work() -> dict[str, Any]:
        from index.store import IndexStore
        from ingest.chunking import chunking_signature

        with service.admin_lock:
            settings = service.settings
            store = IndexStore(settings, chunking_signature=chunking_signature(settings.ingest))
            current = store.open()
            record = current.documents.get(doc_id)
            if record is None:
                raise UnknownDocument(f"Dokumentet {doc_id!r} finns inte i indexet.")
            if len(current.documents) == 1:
                raise InvalidRequest(
                    "Det sista dokumentet i indexet kan inte tas bort.",
                    "Läs in ett annat dokument först.",
                )
            documents = {d: r for d, r in current.documents.items() if d != doc_id}
            chunks = [c for c in current.chunks if c.doc_id != doc_id]
            result = store.write(documents, chunks)
            source = Path(str(record.get("source_path") or ""))
            if source.is_file() and source.resolve().is_relative_to(uploads_dir(service).resolve()):
                source.unlink()
            service.reload()
            return {"deleted": doc_id, "documents": len(documents), "version": result.version}

    return await asyncio.to_thread(work)
