"""Ansvar: who is responsible for what, per document, grouped by actor and topic, each linking to its clause.

The statements are found by rules (assistant/responsibility.py); the view says how, and how complete
the extraction is on the hand-checked samples.
"""

from __future__ import annotations

import html

import streamlit as st

from assistant.responsibility import Statement, extract, group, measure_samples
from ui.common import assistant_or_message, clause_url, pages_label, section_label

ALL = "__alla__"


@st.cache_data(show_spinner=False, max_entries=4)
def _statements(version_name: str, _chunks: tuple) -> list[dict]:  # type: ignore[type-arg]
    return [s.to_dict() for s in extract(_chunks)]


@st.cache_data(show_spinner=False)
def _figures() -> dict[str, dict[str, float]]:
    return {name: m.to_dict() for name, m in measure_samples().items()}


st.title("Ansvar")
st.caption(
    "Vem ansvarar för vad enligt dokumenten: meningar där en aktör (kommunen, regionen, Storsthlm, HSF, "
    "tjänstemannastyrgruppen, sekretariatet, de samordnande funktionerna …) ansvarar för, ska, beslutar "
    "eller utser något – samlade per aktör och ämne, med länk till avsnittet."
)

assistant = assistant_or_message()
if assistant is None:
    st.stop()

version = assistant.version
documents = version.documents
statements = [Statement(**s) for s in _statements(str(version.path), tuple(version.chunks))]
counts = {d: sum(1 for s in statements if s.doc_id == d) for d in documents}
default = max(counts, key=lambda d: counts[d]) if counts else ALL
options = [ALL, *documents]
if st.session_state.get("ansvar_doc") not in options:
    st.session_state.ansvar_doc = default
doc_id = st.selectbox(
    "Dokument",
    options,
    format_func=lambda d: (
        "Alla dokument"
        if d == ALL
        else f"{documents[d].get('title', d)} ({counts.get(d, 0)} ansvarsuppgifter)"
    ),
    key="ansvar_doc",
)
chosen = [s for s in statements if doc_id == ALL or s.doc_id == doc_id]
if doc_id != ALL:
    for note in assistant.document_notes(doc_id):
        st.warning(note, icon=":material/warning:")

grouped = group(chosen)
if not grouped:
    st.info("Inga ansvarsuppgifter hittades i det här dokumentet.")
else:
    actors = list(grouped)
    picked = st.multiselect(
        "Visa bara aktörerna (valfritt)", actors, key=f"ansvar_actors-{doc_id}", placeholder="Välj aktörer"
    )
    st.caption(f"{len(chosen)} ansvarsuppgifter, {len(grouped)} aktörer.")
    for actor in picked or actors:
        topics = grouped[actor]
        total = sum(len(v) for v in topics.values())
        with st.expander(f"{actor} ({total})", key=f"actor-{doc_id}-{actor}"):
            parts = []
            for topic, items in topics.items():
                first = items[0]
                where = section_label(first.section, None) if first.section else ""
                parts.append(
                    f'<div class="avtal-meta" style="margin-top:.6rem"><strong>{html.escape(topic)}</strong>'
                    f"{' · ' + html.escape(where) if where else ''}</div><ul style='margin:0'>"
                )
                for s in items:
                    url = html.escape(clause_url(s.doc_id, s.anchor), quote=True)
                    lead = f"<em>{html.escape(s.lead)}</em> " if s.lead else ""
                    source = (
                        "" if doc_id != ALL else f" · {html.escape(documents[s.doc_id].get('title', ''))}"
                    )
                    parts.append(
                        f"<li>{lead}{html.escape(s.text)} <span class='avtal-meta'>"
                        f'(<a href="{url}" target="_blank" rel="noopener">avsnitt '
                        f"{html.escape(s.section or s.anchor)}, {html.escape(pages_label(s.pages))}</a>"
                        f"{source})</span></li>"
                    )
                parts.append("</ul>")
            st.html(f'<div class="avtal-card">{"".join(parts)}</div>')

with st.expander("Hur sammanställningen togs fram och hur fullständig den är", key="ansvar_method"):
    figures = _figures()
    lines = [
        "Sammanställningen görs automatiskt med regler, utan språkmodell: varje avsnitt delas i meningar "
        "och punkter; en mening räknas när en aktör ur en kurerad lista (med synonymer, t.ex. *landstinget* "
        "= regionen, *huvudmännen* = parterna) står som subjekt till ett ansvarsverb (*ansvarar för, har "
        "ansvar, ska, bör, beslutar, utser, fastställer, följer upp, bereder* …), eller är agent i en "
        "passiv (*tas fram av tjänstemannastyrgruppen*). En lista som inleds med t.ex. *Sekretariatet "
        "ansvarar för:* ger en uppgift per punkt. Ämnet är avsnittets rubrik.",
        "",
        "**Fullständighet**, mätt på meningar ur dokumenten som lästs och bedömts för hand "
        "(`python -m assistant.responsibility --measure`):",
    ]
    names = {"utvecklingsurval": "urvalet reglerna utvecklades på", "kontrollurval": "ett andra urval"}
    for name, m in figures.items():
        lines.append(
            f"- {names.get(name, name)} ({m['sentences']} meningar, {m['positives']} ansvarsuppgifter): "
            f"precision {m['precision']:.0%}, täckning (recall) {m['recall']:.0%}, "
            f"rätt aktör i {m['actor_accuracy']:.0%} av de funna."
        )
    lines += [
        "",
        "Det andra urvalet är ärligast: ungefär var tredje ansvarsuppgift saknas, oftast när aktören inte "
        "står i listan (*läkaren*, *den som delegerar*) eller meningen är omvänd och lång. Läs därför "
        "sammanställningen som en vägvisare till avsnitten, inte som en fullständig ansvarsmatris.",
    ]
    st.markdown("\n".join(lines))
