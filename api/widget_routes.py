"""Routes of the embeddable widget: /widget.js, /widget/demo and the FAQ it reads.

Included by ``api.app.create_app``; the settings come from ``request.app.state.settings``.

- ``GET /widget.js``: the widget (ui/widget/widget.js), cacheable for five minutes and then
  revalidated by ETag, loadable from any origin (it is a script; its API calls are what CORS guards).
- ``GET /widget/demo``: a Swedish demo intranet page that embeds the widget with one script tag
  (``?faq=<section>`` and ``?documents=a,b`` try the widget's attributes).
- ``GET /api/faq`` and ``GET /api/faq/{section}``: the FAQ file (``settings.service.faq_file``,
  by default ui/faq.json), the same one the Streamlit UI reads.
"""

from __future__ import annotations

import hashlib
import html
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from api.errors import NotFound
from avtal.errors import InvalidRequest
from avtal.faq import load_faq
from avtal.settings import Settings

router = APIRouter()

WIDGET_DIR = Path(__file__).resolve().parents[1] / "ui" / "widget"
WIDGET_JS = WIDGET_DIR / "widget.js"
DEMO_HTML = WIDGET_DIR / "demo.html"

# The embed URL carries no version, so browsers keep the script briefly and then revalidate
# (a 304 when unchanged): a new widget reaches every intranet page within five minutes.
WIDGET_CACHE = "public, max-age=300, must-revalidate"
FAQ_CACHE = "public, max-age=60"

_static_cache: dict[Path, tuple[float, bytes, str]] = {}


def _settings(request: Request) -> Settings:
    return request.app.state.settings


def _static(path: Path) -> tuple[bytes, str]:
    """The file's bytes and a strong ETag, re-read only when the file changes."""
    mtime = path.stat().st_mtime
    cached = _static_cache.get(path)
    if cached is None or cached[0] != mtime:
        data = path.read_bytes()
        cached = (mtime, data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"')
        _static_cache[path] = cached
    return cached[1], cached[2]


def _etag_matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match", "")
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(",")) or header.strip() == "*"


@router.get("/widget.js", include_in_schema=False)
def widget_js(request: Request) -> Response:
    data, etag = _static(WIDGET_JS)
    headers = {
        "Cache-Control": WIDGET_CACHE,
        "ETag": etag,
        # Intranet pages on other origins load the script; its fetches are what CORS guards.
        "Cross-Origin-Resource-Policy": "cross-origin",
        "X-Content-Type-Options": "nosniff",
    }
    if _etag_matches(request, etag):
        return Response(status_code=304, headers=headers)
    return Response(data, media_type="text/javascript; charset=utf-8", headers=headers)


def _public_base(request: Request, settings: Settings) -> str:
    if settings.service.public_url:
        return settings.service.public_url.rstrip("/")
    return str(request.base_url).rstrip("/")


@router.get("/widget/demo", include_in_schema=False)
def widget_demo(request: Request, faq: str = "vanliga", documents: str = "") -> HTMLResponse:
    """A demo intranet page: ordinary content and the widget added by one script tag."""
    settings = _settings(request)
    attributes = f' data-faq="{html.escape(faq, quote=True)}"' if faq else ""
    if documents:
        attributes += f' data-documents="{html.escape(documents, quote=True)}"'
    base = _public_base(request, settings)
    snippet = f'<script src="{base}/widget.js" data-title="Fråga om samverkan"{attributes} defer></script>'
    page = DEMO_HTML.read_text(encoding="utf-8")
    page = page.replace("{{WIDGET_ATTRIBUTES}}", attributes)
    page = page.replace("{{EMBED_SNIPPET}}", html.escape(snippet, quote=False))
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})


@router.get("/api/faq")
def faq_all(request: Request) -> JSONResponse:
    """Every FAQ section: ``{"sections": [{"id", "title", "questions", "documents"}]}``."""
    faq = load_faq(_settings(request).service.faq_file)
    return JSONResponse(faq.to_dict(), headers={"Cache-Control": FAQ_CACHE})


@router.get("/api/faq/{section}")
def faq_section(section: str, request: Request) -> JSONResponse:
    """One FAQ section (``{"id", "title", "questions", "documents"}``); 404 when unknown."""
    faq = load_faq(_settings(request).service.faq_file)
    try:
        found = faq.section(section)
    except InvalidRequest as exc:
        raise NotFound(exc.message, exc.hint) from None
    return JSONResponse(found.to_dict(), headers={"Cache-Control": FAQ_CACHE})
