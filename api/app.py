"""The HTTP service of Avtalsassistenten (FastAPI).

    app = create_app(Settings())          # the assistant loads on first use
    uvicorn.run(app)                      # or: avtal serve

Routes: the question API (``/api/ask``, ``/api/ask/stream``), clause search, documents and
clauses (JSON and the readable page ``/dokument/{id}``), the original files (``/filer/``),
feedback and statistics, health checks, admin (upload, re-ingest, delete; API key), the
OpenAI-compatible ``/v1/chat/completions`` and the widget's routes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any, Literal

from fastapi import Depends, FastAPI, Query, Request
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, ConfigDict, Field

from api import errors, widget_routes
from api.documents import clause_detail, document_detail, document_or_404, document_summary, original_file
from api.errors import NotFound, RateLimited
from api.pages import CSP, render_document
from api.protection import (
    AccessLogMiddleware,
    AllowlistCORSMiddleware,
    BodyLimitMiddleware,
    SecurityHeadersMiddleware,
    client_key,
    parse_networks,
    retry_after,
)
from api.service import Service
from avtal.privacy import mask_personal_ids
from avtal.settings import Settings

if TYPE_CHECKING:
    from assistant.core import Assistant
    from assistant.types import Answer

log = logging.getLogger("avtal.api")

PURGE_EVERY_S = 3600.0
UPLOAD_PREFIX = "/api/admin/documents"
CHANNELS = ("api", "widget", "openai", "ui")


# ------------------------------------------------------------------ request bodies


class HistoryTurn(BaseModel):
    role: Literal["user", "assistant"]
    content: str = Field(max_length=20_000)


class AskRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    question: str = Field(description="Frågan (högst 2 000 tecken).")
    history: list[HistoryTurn] = Field(default_factory=list, max_length=50)
    audience: Literal["kort", "utförlig"] = "kort"
    documents: list[str] | None = Field(None, description="Begränsa svaret till dessa dokument-id.")


class FeedbackRequest(BaseModel):
    answer_id: str
    rating: Literal["up", "down"]
    comment: str | None = None


# ------------------------------------------------------------------ dependencies


def get_service(request: Request) -> Service:
    return request.app.state.service


ServiceDep = Annotated[Service, Depends(get_service)]


def rate_limit(request: Request) -> None:
    """Sliding-window limit per client (X-Forwarded-For believed only from trusted proxies)."""
    service: Service = request.app.state.service
    wait = service.limiter.check(client_key(request, request.app.state.trusted_proxies))
    if wait is not None:
        seconds = retry_after(wait)
        raise RateLimited(
            "För många förfrågningar från din adress just nu.",
            f"Vänta {seconds} sekunder och försök igen.",
            headers={"Retry-After": seconds},
        )


def channel_of(request: Request, default: str = "api") -> str:
    value = request.headers.get("x-avtal-channel", "").strip().lower()
    return value if value in CHANNELS else default


async def answer_question(
    service: Service,
    question: str,
    history: list[dict[str, str]],
    audience: str,
    documents: list[str] | None,
    channel: str,
) -> Answer:
    """Ask the assistant (worker thread, time limit) and log the masked question."""
    from assistant.core import check_question

    check_question(question)

    def work(assistant: Assistant) -> Answer:
        return assistant.ask(question, history=history, audience=audience, documents=documents)

    answer = await service.run(work)
    service.log_question(answer, question, channel)
    return answer


# ------------------------------------------------------------------ the app


def create_app(settings: Settings, assistant: Assistant | None = None) -> FastAPI:
    """The service over ``settings``; ``assistant`` is loaded lazily (once) unless given."""
    service = Service(settings, assistant)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async def purge_forever() -> None:
            while True:
                try:
                    removed = await asyncio.to_thread(service.usage.purge)
                    if removed:
                        log.info("retention: %d old rows deleted", removed)
                except Exception as exc:
                    log.warning("retention purge failed: %s", type(exc).__name__)
                await asyncio.sleep(PURGE_EVERY_S)

        task = asyncio.create_task(purge_forever())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(
        title="Avtalsassistenten",
        description="Svar med källhänvisning ur samverkansöverenskommelserna mellan Stockholms "
        "läns kommuner och Region Stockholm.",
        version="1.0",
        lifespan=lifespan,
        docs_url=None,  # served below with local assets: intranets often cannot reach a CDN
        redoc_url=None,
    )
    app.state.service = service
    app.state.settings = settings
    app.state.trusted_proxies = parse_networks(settings.service.trusted_proxies)
    errors.install(app)

    # The last added runs first: log, CORS (so that a 413 or 429 reaches an allowed page
    # readable), limit the body, security headers.
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        BodyLimitMiddleware,
        max_bytes=settings.service.max_body_bytes,
        upload_paths=(UPLOAD_PREFIX,),
        upload_bytes=settings.service.max_upload_mb * 1024 * 1024 + 64_000,
    )
    app.add_middleware(
        AllowlistCORSMiddleware,
        allow_origins=list(settings.service.cors_origins),
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "X-Avtal-Channel", "Authorization"],
        max_age=600,
    )
    app.add_middleware(AccessLogMiddleware)

    _routes(app)
    from api import admin, openai_compat, streaming

    app.include_router(streaming.router)
    app.include_router(openai_compat.router)
    app.include_router(admin.router)
    app.include_router(widget_routes.router)
    _docs(app)
    return app


def _docs(app: FastAPI) -> None:
    """Swagger UI at /docs with the assets bundled in the fastapi-offline package (Swagger UI 5, which
    reads OpenAPI 3.1): no request leaves the intranet."""
    from importlib.resources import files

    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.staticfiles import StaticFiles

    static = files("fastapi_offline") / "static"
    app.mount("/docs-static", StaticFiles(directory=str(static)), name="docs-static")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> Any:
        return get_swagger_ui_html(
            openapi_url=app.openapi_url or "/openapi.json",
            title="Avtalsassistenten – API",
            swagger_js_url="/docs-static/swagger-ui-bundle.js",
            swagger_css_url="/docs-static/swagger-ui.css",
            swagger_favicon_url="/docs-static/favicon.png",
        )


def _routes(app: FastAPI) -> None:
    @app.post("/api/ask", tags=["fråga"], dependencies=[Depends(rate_limit)])
    async def ask(body: AskRequest, request: Request, service: ServiceDep) -> dict[str, Any]:
        """Svar med källhänvisningar (JSON enligt assistentens svarskontrakt)."""
        answer = await answer_question(
            service,
            body.question,
            [t.model_dump() for t in body.history],
            body.audience,
            body.documents,
            channel_of(request),
        )
        return answer.to_dict()

    @app.get("/api/search", tags=["sök"], dependencies=[Depends(rate_limit)])
    async def search_clauses(
        service: ServiceDep,
        q: Annotated[str, Query(description="Sökord")] = "",
        k: Annotated[int, Query(ge=1, le=50)] = 10,
        document: Annotated[list[str] | None, Query(description="Begränsa till dokument-id")] = None,
    ) -> dict[str, Any]:
        """Klausulsökning: rangordnade avsnitt med markerade utdrag."""
        from assistant.search import search

        hits = await service.run(lambda assistant: search(assistant, q, k=k, documents=document))
        results = []
        for hit in hits:
            data = hit.to_dict()
            data["link"] = f"/dokument/{hit.document}#{hit.anchor}"
            results.append(data)
        masked, count = mask_personal_ids(q)
        notes = (
            ["Ett personnummer togs bort ur sökningen. Skriv aldrig patientuppgifter här."] if count else []
        )
        return {"query": masked, "count": len(results), "results": results, "notes": notes}

    @app.get("/api/documents", tags=["dokument"])
    async def documents(service: ServiceDep) -> dict[str, Any]:
        """Dokumenten i indexet med metadata, antal avsnitt, datum och giltighet."""
        assistant = await service.get_assistant()
        docs = [document_summary(assistant, d) for d in sorted(assistant.version.documents)]
        return {"count": len(docs), "index_version": assistant.version.version, "documents": docs}

    @app.get("/api/documents/{doc_id}", tags=["dokument"])
    async def document(doc_id: str, service: ServiceDep) -> dict[str, Any]:
        """Ett dokument med metadata och dess avsnitt."""
        return document_detail(await service.get_assistant(), doc_id)

    @app.get("/api/documents/{doc_id}/clauses/{anchor}", tags=["dokument"])
    async def clause(doc_id: str, anchor: str, service: ServiceDep) -> dict[str, Any]:
        """Ett avsnitt: text, rubrikväg, sidor, grannar och länkar."""
        return clause_detail(await service.get_assistant(), doc_id, anchor)

    @app.get("/dokument/{doc_id}", response_class=HTMLResponse, tags=["dokument"])
    async def document_page(doc_id: str, service: ServiceDep) -> HTMLResponse:
        """Dokumentet som läsbar sida; ankaret efter # markerar avsnittet."""
        html = render_document(await service.get_assistant(), doc_id)
        return HTMLResponse(html, headers={"Content-Security-Policy": CSP})

    @app.get("/filer/{name}", tags=["dokument"])
    async def original(name: str, service: ServiceDep) -> FileResponse:
        """Originalfilen (PDF) som dokumentet lästes in från."""
        assistant = await service.get_assistant()
        stem, dot, suffix = name.rpartition(".")
        if not dot:
            raise NotFound("Filen finns inte.")
        doc = document_or_404(assistant, stem)
        path = original_file(doc)
        if path is None or path.suffix.lower() != f".{suffix.lower()}":
            raise NotFound(
                f"Originalfilen till {stem!r} finns inte på servern.",
                "Öppna dokumentets sida i stället: /dokument/" + stem,
            )
        media = {
            ".pdf": "application/pdf",
            ".txt": "text/plain; charset=utf-8",
            ".md": "text/plain; charset=utf-8",
            ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        }.get(path.suffix.lower(), "application/octet-stream")
        return FileResponse(
            path,
            media_type=media,
            filename=f"{stem}{path.suffix.lower()}",
            content_disposition_type="inline",
        )

    @app.post("/api/feedback", tags=["återkoppling"], status_code=201)
    async def feedback(body: FeedbackRequest, service: ServiceDep) -> dict[str, Any]:
        """Tumme upp eller ned (och en valfri kommentar) för ett svar."""
        stored = await asyncio.to_thread(
            service.usage.add_feedback, body.answer_id, body.rating, body.comment
        )
        return {"id": stored.id, "answer_id": stored.answer_id, "rating": stored.rating, "stored": True}

    @app.get("/healthz", tags=["drift"])
    async def healthz() -> dict[str, str]:
        """Tjänsten lever."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["drift"])
    async def readyz(service: ServiceDep) -> dict[str, Any]:
        """Indexet är laddat (laddar det vid behov); antal dokument och avsnitt."""
        assistant = await service.get_assistant()
        return {
            "status": "ready",
            "index_version": assistant.version.version,
            "documents": len(assistant.version.documents),
            "chunks": len(assistant.version.chunks),
            "llm": assistant.llm is not None,
        }
