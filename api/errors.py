"""The API's translation of the one error family into ``{"error": {"code", "message", "hint"}}``.

Every failure, from a malformed body to an unexpected bug, leaves the service in this shape with
a fitting status code; nothing returns a stack trace.
"""

from __future__ import annotations

import logging
import traceback
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from avtal.errors import AvtalError
from avtal.privacy import mask_personal_ids

log = logging.getLogger("avtal.api")


class ApiError(AvtalError):
    """An AvtalError raised by the service itself, with its HTTP status and optional headers."""

    status = 400

    def __init__(
        self,
        message: str,
        hint: str | None = None,
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, hint)
        if status is not None:
            self.status = status
        self.headers = headers or {}


class NotFound(ApiError):
    code = "not_found"
    status = 404
    default_hint = "Kontrollera adressen."


class UnknownDocument(ApiError):
    code = "unknown_document"
    status = 404
    default_hint = "Se listan över dokument: GET /api/documents."


class UnknownClause(ApiError):
    code = "unknown_clause"
    status = 404
    default_hint = "Öppna dokumentet (GET /api/documents/{id}) och välj bland dess avsnitt."


class InvalidBody(ApiError):
    code = "invalid_body"
    status = 422
    default_hint = "Skicka JSON enligt API-dokumentationen (/docs)."


class BodyTooLarge(ApiError):
    code = "body_too_large"
    status = 413
    default_hint = "Skicka en mindre begäran."


class RateLimited(ApiError):
    code = "rate_limited"
    status = 429
    default_hint = "Vänta en stund och försök igen."


class AnswerTimeout(ApiError):
    code = "timeout"
    status = 504
    default_hint = "Försök igen om en stund, eller ställ en kortare fråga."


class Unauthorized(ApiError):
    code = "unauthorized"
    status = 401
    default_hint = "Skicka administratörsnyckeln i huvudet X-API-Key."


class AdminDisabled(ApiError):
    code = "admin_disabled"
    status = 403
    default_hint = "Sätt AVTAL_SERVICE__ADMIN_API_KEY för att slå på administrationen."


class OriginRefused(ApiError):
    code = "origin_refused"
    status = 403
    default_hint = "Lägg till webbplatsens adress i AVTAL_SERVICE__CORS_ORIGINS."


# The status of the shared error codes that are not ApiErrors.
STATUS_BY_CODE: dict[str, int] = {
    "bad_question": 400,
    "invalid_request": 400,
    "no_index": 503,
    "index_error": 503,
    "embedding_error": 503,
    "configuration": 500,
    "llm_error": 502,
}


def status_for(exc: AvtalError) -> int:
    if isinstance(exc, ApiError):
        return exc.status
    from avtal.errors import DocumentError

    if isinstance(exc, DocumentError):
        return 422
    return STATUS_BY_CODE.get(exc.code, 500)


def error_body(code: str, message: str, hint: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "hint": hint}}


def error_response(exc: AvtalError) -> JSONResponse:
    headers = dict(getattr(exc, "headers", {}) or {})
    return JSONResponse({"error": exc.to_dict()}, status_code=status_for(exc), headers=headers)


_HTTP_ERRORS: dict[int, tuple[str, str, str]] = {
    404: ("not_found", "Sidan eller resursen finns inte.", "Kontrollera adressen (se /docs)."),
    405: ("method_not_allowed", "Metoden är inte tillåten här.", "Se API-dokumentationen (/docs)."),
    413: ("body_too_large", "Begäran är för stor.", "Skicka en mindre begäran."),
}


def install(app: FastAPI) -> None:
    """Register the handlers that give every failure the error shape."""

    @app.exception_handler(AvtalError)
    async def _avtal(request: Request, exc: AvtalError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "begäran"
            if err.get("type") == "json_invalid":
                problems.append("ogiltig JSON")
            elif err.get("type") == "missing":
                problems.append(f"{where} saknas")
            else:
                problems.append(f"{where} har fel värde eller typ")
        message = "Begäran har fel format: " + "; ".join(problems or ["okänt fel"]) + "."
        return error_response(InvalidBody(message))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code, message, hint = _HTTP_ERRORS.get(
            exc.status_code, ("http_error", "Begäran kunde inte utföras.", "Kontrollera begäran.")
        )
        return JSONResponse(
            error_body(code, message, hint), status_code=exc.status_code, headers=exc.headers or None
        )

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> JSONResponse:
        detail = "".join(traceback.format_exception(exc))
        log.error("unexpected error on %s: %s", request.url.path, mask_personal_ids(detail)[0])
        return JSONResponse(
            error_body(
                "internal",
                "Ett oväntat fel uppstod i tjänsten.",
                "Försök igen; om felet kvarstår, kontakta förvaltaren av Avtalsassistenten.",
            ),
            status_code=500,
        )
