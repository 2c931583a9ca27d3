"""Dokument: every document with its metadata, its sections as a table of contents, and the clause text
(the repaired text by default, the original on demand)."""

from __future__ import annotations

import html

import streamlit as st

from avtal.models import Chunk
from ui.common import (
    assistant_or_message,
    clause_url,
    md_escape,
    pages_label,
    paragraphs_html,
    section_label,
)

META_LABELS = {
    "doc_type": "Typ",
    "issuer": "Utgivare",
    "date": "Datum",
    "valid_from": "Gäller från",
    "valid_to": "Gäller till",
    "pages": "Sidor",
    "chunks": "Avsnitt",
    "repaired_words": "OCR-reparerade ord",
    "file": "Fil",
    "source_url": "Källa",
}

st.title("Dokument")
st.caption("Alla dokument i indexet: uppgifter, innehållsförteckning och avsnittens text.")

assistant = assistant_or_message()
if assistant is None:
    st.stop()

version = assistant.version
documents = version.documents
if not documents:
    st.info("Indexet innehåller inga dokument. Läs in dokument med `avtal ingest <mapp>`.")
    st.stop()

params = st.query_params
wanted_doc = params.get("dokument")
if wanted_doc in documents and st.session_state.get("_browse_from_link") != (
    wanted_doc,
    params.get("avsnitt"),
):
    st.session_state.browse_doc = wanted_doc
    st.session_state.pop("browse_section", None)
    st.session_state._browse_from_link = (wanted_doc, params.get("avsnitt"))
    st.session_state._browse_anchor = params.get("avsnitt")
if st.session_state.get("browse_doc") not in documents:
    st.session_state.browse_doc = next(iter(documents))

doc_id = st.selectbox(
    "Dokument",
    list(documents),
    format_func=lambda d: documents[d].get("title", d),
    key="browse_doc",
)
meta = documents[doc_id]
for note in assistant.document_notes(doc_id):
    st.warning(note, icon=":material/warning:")

with st.expander("Om dokumentet", expanded=False, key=f"meta-{doc_id}"):
    lines = []
    for key, label in META_LABELS.items():
        value = meta.get(key)
        if value in (None, "", [], 0) and key != "chunks":
            continue
        lines.append(f"- **{label}:** {md_escape(str(value))}")
    if meta.get("supersedes"):
        lines.append(f"- **Ersätter:** {md_escape(', '.join(meta['supersedes']))}")
    lines.append(f"- **Id:** `{doc_id}`")
    st.markdown("\n".join(lines))

chunks = sorted((c for c in version.chunks if c.doc_id == doc_id), key=lambda c: c.order)
if not chunks:
    st.info("Dokumentet har inga avsnitt i indexet.")
    st.stop()


def chunk_label(c: Chunk) -> str:
    depth = max(0, len(c.heading_path) - 1)
    part = ""
    if c.anchor.rsplit("-", 1)[-1].isdigit() and "-" in c.anchor:
        part = f" (del {c.anchor.rsplit('-', 1)[-1]})"
    return f"{'  ' * depth}{section_label(c.section, c.heading)}{part} – {pages_label(c.pages)}"


anchors = [c.anchor for c in chunks]
by_anchor = {c.anchor: c for c in chunks}
linked = st.session_state.pop("_browse_anchor", None)
if linked in by_anchor:
    st.session_state.browse_section = linked
if st.session_state.get("browse_section") not in by_anchor:
    st.session_state.browse_section = anchors[0]

with st.expander(f"Innehållsförteckning ({len(chunks)} avsnitt)", key=f"toc-{doc_id}"):
    toc = []
    for c in chunks:
        depth = max(0, len(c.heading_path) - 1)
        toc.append(f"{'    ' * min(depth, 3)}- {md_escape(chunk_label(c).strip())}")
    st.markdown("\n".join(toc))

anchor = st.selectbox(
    "Avsnitt",
    anchors,
    format_func=lambda a: chunk_label(by_anchor[a]).strip(),
    key="browse_section",
)
chunk = by_anchor[anchor]
position = anchors.index(anchor)


def _step(delta: int) -> None:
    st.session_state.browse_section = anchors[max(0, min(len(anchors) - 1, position + delta))]


st.subheader(section_label(chunk.section, chunk.heading), anchor=False)
if len(chunk.heading_path) > 1:
    st.caption(" › ".join(chunk.heading_path))
st.caption(f"{pages_label(chunk.pages)} · avsnitt {position + 1} av {len(chunks)} · `{chunk.id}`")

repaired = chunk.original_text != chunk.text
show_original = False
if repaired:
    show_original = st.toggle(
        "Visa originaltexten (före OCR-reparationen)",
        key=f"original-{chunk.id}",
        help=f"{chunk.repaired_words} ord i avsnittet reparerades (t.ex. 'hélsa' → 'hälsa').",
    )
text = chunk.original_text if show_original else chunk.text
st.html(f'<div class="avtal-card avtal-clause" id="clause-text">{paragraphs_html(text)}</div>')
url = html.escape(clause_url(doc_id, chunk.anchor), quote=True)
st.html(f'<a href="{url}" target="_blank" rel="noopener">Avsnittets sida i tjänsten ↗</a>')

cols = st.columns(2)
cols[0].button("← Föregående", on_click=_step, args=(-1,), disabled=position == 0, key="prev")
cols[1].button("Nästa →", on_click=_step, args=(1,), disabled=position == len(anchors) - 1, key="next")
