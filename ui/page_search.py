"""Sök i avsnitt: plain clause search with highlighted snippets, for reading the clause itself."""

from __future__ import annotations

import html

import streamlit as st

from assistant.search import MAX_QUERY_CHARS
from ui.common import (
    PRIVACY_NOTICE,
    assistant_or_message,
    clause_url,
    guarded,
    pages_label,
    paragraphs_html,
    section_label,
)

st.title("Sök i avsnitten")
st.caption("Sök på ord och läs avsnitten själv i stället för att ställa en fråga. " + PRIVACY_NOTICE)

assistant = assistant_or_message()
if assistant is None:
    st.stop()

documents = assistant.version.documents
with st.form("search-form", border=False, enter_to_submit=True):
    query = st.text_input(
        "Sökord", key="search_query", max_chars=MAX_QUERY_CHARS, placeholder="t.ex. samordnande funktion"
    )
    chosen = st.multiselect(
        "Begränsa till dokument (valfritt)",
        list(documents),
        format_func=lambda d: documents[d].get("title", d),
        key="search_documents",
        placeholder="Alla dokument",
    )
    st.form_submit_button("Sök", icon=":material/search:")

if query.strip():
    from assistant.search import search

    hits = guarded(lambda: search(assistant, query, k=10, documents=chosen or None))
    if hits is not None:
        if not hits:
            st.info("Inga avsnitt matchade sökningen. Prova andra ord eller en förkortning (t.ex. SIP, HÖK).")
        else:
            st.caption(f"{len(hits)} avsnitt, de bästa först.")
        for i, hit in enumerate(hits):
            meta = " · ".join(
                html.escape(p) for p in (section_label(hit.section, hit.heading), pages_label(hit.pages)) if p
            )
            url = html.escape(clause_url(hit.document, hit.anchor), quote=True)
            with st.container(border=True):
                st.html(
                    '<div class="avtal-card"><div class="avtal-meta">'
                    f"<strong>{html.escape(hit.title)}</strong>"
                    f"<br>{meta}</div>"
                    # snippet_html is escaped by assistant.search with only <mark> added
                    f'<div class="avtal-clause">{hit.snippet_html}</div>'
                    f'<a href="{url}" target="_blank" rel="noopener">Öppna avsnittet i dokumentet ↗</a></div>'
                )
                with st.expander("Visa hela avsnittet", key=f"hit-{i}-{hit.document}-{hit.anchor}"):
                    chunk = assistant.version.chunk(f"{hit.document}#{hit.anchor}")
                    st.html(f'<div class="avtal-card">{paragraphs_html(chunk.text)}</div>')
                    st.page_link(
                        "page_documents.py",
                        label="Läs i dokumentbläddraren",
                        icon=":material/description:",
                        query_params={"dokument": hit.document, "avsnitt": hit.anchor},
                    )
else:
    st.info("Skriv ett eller flera sökord och tryck på Sök (eller Enter).", icon=":material/search:")
