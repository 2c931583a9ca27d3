"""What every page of the Streamlit UI shares: settings, the cached assistant and stores, Swedish error
messages, and HTML helpers that escape everything taken from documents or users.

Heavy things (the index and models behind :class:`assistant.core.Assistant`) load once per process and
index version with ``st.cache_resource``; a re-ingest (a new index version) gets a fresh assistant.
"""

from __future__ import annotations

import html
import logging
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

import streamlit as st

from avtal.errors import AvtalError, NoIndex
from avtal.settings import Settings

if TYPE_CHECKING:
    from assistant.core import Assistant
    from avtal.faq import Faq
    from avtal.usage import UsageStore

log = logging.getLogger(__name__)
T = TypeVar("T")

AUDIENCE_LABELS = {"kort": "Kort svar", "utförlig": "Utförligt svar"}
PRIVACY_NOTICE = (
    "Skriv aldrig patientuppgifter (namn, personnummer eller annat som kan peka ut en person) i frågan."
)
UNEXPECTED = AvtalError(
    "Något gick fel i Avtalsassistenten.",
    "Försök igen om en stund. Kvarstår felet: kontakta förvaltaren och berätta vad du gjorde.",
)


def settings() -> Settings:
    """Settings read from the environment on each run (cheap), so AVTAL_HOME may differ per session."""
    return Settings()


def _index_key(current: Settings) -> str:
    """The current index version's name (a cheap file read), or "" when there is no index."""
    from index.store import IndexStore

    return IndexStore(current).current_name() or ""


@st.cache_resource(show_spinner="Läser in indexet och modellerna …", max_entries=2)
def _load_assistant(home: str, version: str) -> Assistant:
    from assistant.core import Assistant

    if not version:
        raise NoIndex("Det finns inget index ännu.")
    return Assistant.from_settings(Settings(home=home))


def get_assistant() -> Assistant:
    """The assistant for the current AVTAL_HOME and index version (raises NoIndex without an index)."""
    current = settings()
    return _load_assistant(str(current.home.resolve()), _index_key(current))


@st.cache_resource(max_entries=4)
def _usage_store(path: str, retention_days: int) -> UsageStore:
    from avtal.usage import UsageStore

    return UsageStore(path, retention_days)


def usage_store() -> UsageStore:
    current = settings()
    return _usage_store(str(current.usage_db.resolve()), current.service.retention_days)


def faq() -> Faq:
    from avtal.faq import load_faq

    return load_faq(settings().service.faq_file)


def public_url(current: Settings | None = None) -> str:
    """Where the API serves the clause pages (settings.service.public_url or http://host:port)."""
    current = current or settings()
    service = current.service
    if service.public_url:
        return service.public_url.rstrip("/")
    host = service.host
    if host in ("0.0.0.0", "::", ""):
        host = "localhost"
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{service.port}"


def clause_url(doc_id: str, anchor: str, current: Settings | None = None) -> str:
    from urllib.parse import quote

    return f"{public_url(current)}/dokument/{quote(doc_id)}#{quote(anchor)}"


# ---------------------------------------------------------------------- errors


def show_error(exc: AvtalError) -> None:
    """One Swedish error box: what went wrong and what to do. Never a traceback."""
    st.error(exc.message, icon=":material/warning:")
    if exc.hint:
        st.info(f"**Vad du kan göra:** {md_escape(exc.hint)}", icon=":material/lightbulb:")


def guarded(action: Callable[[], T]) -> T | None:
    """Run ``action``; show AvtalError (and anything unexpected) as a Swedish message, return None."""
    try:
        return action()
    except AvtalError as exc:
        show_error(exc)
    except Exception:  # a UI never shows a traceback; the log keeps it for the maintainer
        log.exception("unexpected error in the UI")
        show_error(UNEXPECTED)
    return None


@contextmanager
def error_boundary() -> Iterator[None]:
    """Like :func:`guarded` for a block of page code."""
    try:
        yield
    except AvtalError as exc:
        show_error(exc)
    except Exception as exc:
        if type(exc).__module__.startswith("streamlit"):  # st.rerun / st.switch_page / st.stop
            raise
        log.exception("unexpected error in the UI")
        show_error(UNEXPECTED)


def assistant_or_message() -> Assistant | None:
    """The assistant, or None after showing the Swedish message (no index yet, broken index)."""
    try:
        return get_assistant()
    except NoIndex as exc:
        st.error(
            "Det finns inget index ännu, så det finns inga dokument att svara ur.",
            icon=":material/folder_off:",
        )
        st.info(
            "**Vad du kan göra:** läs in dokumenten först, till exempel med `avtal ingest data/corpus` "
            "(eller `make run`), och ladda sedan om sidan."
            + (f"\n\n{md_escape(exc.message)}" if exc.message != "Det finns inget index ännu." else ""),
            icon=":material/lightbulb:",
        )
    except AvtalError as exc:
        show_error(exc)
    except Exception:
        log.exception("loading the assistant failed")
        show_error(
            AvtalError(
                "Indexet eller modellerna gick inte att läsa in.",
                "Läs in dokumenten på nytt med `avtal ingest data/corpus` och ladda om sidan.",
            )
        )
    return None


# ---------------------------------------------------------------------- text helpers

_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+!|<>~$:])")


def md_escape(text: str) -> str:
    """Text from documents or users, safe inside st.markdown (no markup, no LaTeX, no directives)."""
    return _MD_SPECIAL.sub(r"\\\1", text or "")


def paragraphs_html(text: str) -> str:
    """Escaped text with its line breaks kept."""
    return html.escape(text).replace("\n\n", "<br><br>").replace("\n", "<br>")


def highlight_quote(text: str, quote: str | list[str]) -> str:
    """The clause text, escaped, with the quoted words (exact substrings: one quote, or the
    citation's separate runs) in <mark>."""
    parts = [quote] if isinstance(quote, str) else list(quote)
    spans: list[tuple[int, int]] = []
    for part in parts:
        start = text.find(part) if part else -1
        if start >= 0 and all(start >= e or start + len(part) <= s for s, e in spans):
            spans.append((start, start + len(part)))
    if not spans:
        return paragraphs_html(text)
    out: list[str] = []
    position = 0
    for start, end in sorted(spans):
        out.append(paragraphs_html(text[position:start]))
        out.append("<mark>" + paragraphs_html(text[start:end]) + "</mark>")
        position = end
    out.append(paragraphs_html(text[position:]))
    return "".join(out)


def pages_label(pages: list[int] | tuple[int, ...] | None) -> str:
    pages = sorted(set(pages or []))
    if not pages:
        return ""
    if len(pages) == 1:
        return f"s. {pages[0]}"
    if pages == list(range(pages[0], pages[-1] + 1)):
        return f"s. {pages[0]}–{pages[-1]}"
    return "s. " + ", ".join(str(p) for p in pages)


def section_label(section: str | None, heading: str | None) -> str:
    return " ".join(part for part in (section, heading) if part) or "(utan rubrik)"


def document_meta_line(meta: dict[str, Any]) -> str:
    parts = [meta.get("doc_type"), meta.get("issuer"), meta.get("date")]
    return " · ".join(str(p) for p in parts if p)


CSS = """
<style>
mark { background: #fff3a3; color: inherit; padding: 0 .1em; border-radius: 2px; }
.avtal-card { font-size: .95rem; line-height: 1.5; overflow-wrap: anywhere; }
.avtal-meta { color: #555; font-size: .85rem; margin-bottom: .4rem; overflow-wrap: anywhere; }
.avtal-warn { background: #fff4e5; border-radius: .3rem; padding: .3rem .5rem; margin: .3rem 0; }
.avtal-clause { border-left: 3px solid #d0d7de; padding-left: .7rem; margin: .4rem 0; }
@media (max-width: 640px) { .block-container { padding-left: .8rem; padding-right: .8rem; } }
</style>
"""


def inject_css() -> None:
    st.html(CSS)
