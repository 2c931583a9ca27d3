"""The readable clause page ``/dokument/{id}``: server-rendered Swedish HTML, every text escaped.

Each clause is a ``<section id="{anchor}">``; a citation link ``/dokument/{id}#{anchor}`` scrolls
to it and ``:target`` highlights it. No script, no raw HTML from the documents.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from api.documents import chunks_of, document_or_404, file_url, validity

if TYPE_CHECKING:
    from assistant.core import Assistant

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'"

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 0 auto; padding: 1rem 1.25rem;
  line-height: 1.55; color: #1b1b1b; background: #fff; }
header { border-bottom: 1px solid #ccc; margin-bottom: 1rem; }
h1 { font-size: 1.5rem; margin: .5rem 0; }
.meta { color: #555; font-size: .95rem; }
.varning { background: #fff4d6; border-left: 4px solid #d89b00; padding: .5rem .75rem; margin: .75rem 0; }
section.klausul { padding: .5rem .75rem; margin: .75rem 0; border-left: 4px solid transparent;
  scroll-margin-top: 1rem; }
section.klausul:target { background: #fff9c4; border-left-color: #f2b600; }
section.klausul h2 { font-size: 1.05rem; margin: 0 0 .25rem; }
.sokvag { color: #666; font-size: .85rem; margin: 0; }
.text { white-space: pre-wrap; margin: .25rem 0; }
.lankar { font-size: .9rem; }
a { color: #0b5394; }
"""


def _pages(pages: list[int]) -> str:
    if not pages:
        return ""
    if len(pages) == 1:
        return f"s. {pages[0]}"
    return f"s. {pages[0]}–{pages[-1]}"


def render_document(assistant: Assistant, doc_id: str) -> str:
    doc = document_or_404(assistant, doc_id)
    title = str(doc.get("title") or doc_id)
    valid = validity(assistant, doc_id, doc)
    meta = [
        str(v)
        for v in (doc.get("doc_type"), doc.get("issuer"), doc.get("date") and f"daterad {doc.get('date')}")
        if v
    ]
    if doc.get("valid_to"):
        meta.append(f"gäller till {doc['valid_to']}")
    out: list[str] = [
        "<!DOCTYPE html>",
        '<html lang="sv"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(title)} – Avtalsassistenten</title>",
        f"<style>{_STYLE}</style></head><body>",
        "<header>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="meta">{escape(" · ".join(meta))}</p>',
    ]
    for warning in valid["warnings"]:
        out.append(f'<p class="varning" role="note">{escape(warning)}</p>')
    links: list[str] = []
    whole = file_url(doc_id, doc)
    if whole:
        links.append(f'<a href="{escape(whole)}">Öppna originalet</a>')
    if doc.get("source_url") and str(doc["source_url"]).startswith(("https://", "http://")):
        links.append(f'<a href="{escape(str(doc["source_url"]))}" rel="noopener">Källa på webben</a>')
    if links:
        out.append(f'<p class="lankar">{" · ".join(links)}</p>')
    out.append("</header><main>")
    for chunk in chunks_of(assistant, doc_id):
        head = " ".join(p for p in (chunk.section, chunk.heading) if p) or "Avsnitt"
        path = " › ".join(chunk.heading_path[:-1]) if len(chunk.heading_path) > 1 else ""
        first = chunk.pages[0] if chunk.pages else None
        out.append(f'<section class="klausul" id="{escape(chunk.anchor)}">')
        out.append(f"<h2>{escape(head)}</h2>")
        if path:
            out.append(f'<p class="sokvag">{escape(path)}</p>')
        out.append(f'<p class="text">{escape(chunk.text)}</p>')
        clause_links = [f'<a href="#{escape(chunk.anchor)}">Länk till avsnittet</a>']
        url = file_url(doc_id, doc, first)
        if url and first:
            clause_links.append(f'<a href="{escape(url)}">Öppna originalet (sida {first})</a>')
        elif first:
            clause_links.append(escape(_pages(chunk.pages)))
        out.append(f'<p class="lankar">{" · ".join(clause_links)}</p>')
        out.append("</section>")
    out.append("</main></body></html>")
    return "\n".join(out)
