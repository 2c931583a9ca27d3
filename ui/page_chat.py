"""Fråga: a conversation with the assistant; the answer first, then its sources as expandable cards."""

from __future__ import annotations

import html
import json
import logging
from typing import TYPE_CHECKING, Any

import streamlit as st

from assistant.core import MAX_QUESTION_CHARS
from avtal.errors import AvtalError
from avtal.privacy import mask_personal_ids
from ui.common import (
    AUDIENCE_LABELS,
    PRIVACY_NOTICE,
    UNEXPECTED,
    assistant_or_message,
    clause_url,
    guarded,
    highlight_quote,
    md_escape,
    pages_label,
    section_label,
    show_error,
    usage_store,
)

if TYPE_CHECKING:
    from assistant.core import Assistant

log = logging.getLogger(__name__)

state = st.session_state
state.setdefault("messages", [])
state.setdefault("audience", "kort")
state.setdefault("feedback_sent", {})


def _sync_audience() -> None:
    chosen = state.get("audience_choice")
    if chosen in AUDIENCE_LABELS:
        state.audience = chosen


def _new_conversation() -> None:
    state.messages = []


def _queue(question: str) -> None:
    state.pending_question = question


# ---------------------------------------------------------------------- asking


def ask(assistant: Assistant, question: str) -> dict[str, Any]:
    """Ask the assistant with the conversation so far; log the (masked) question. A message dict."""
    earlier = state.messages[:-1]  # the last message is this question
    history = [
        {"role": m["role"], "content": m["content"]}
        for i, m in enumerate(earlier)
        if m.get("content")
        and not m.get("error")
        and not (i + 1 < len(earlier) and earlier[i + 1].get("error"))  # a question that failed
    ]
    try:
        answer = assistant.ask(question, history=history, audience=state.audience)
    except AvtalError as exc:
        return {"role": "assistant", "content": "", "error": exc.to_dict()}
    except Exception:
        log.exception("asking failed")
        return {"role": "assistant", "content": "", "error": UNEXPECTED.to_dict()}
    try:
        usage_store().log_question(
            answer.id,
            question,
            abstained=answer.abstained,
            confidence=answer.confidence,
            audience=answer.audience,
            channel="ui",
        )
    except Exception:  # statistics must never cost the user the answer
        log.warning("could not log the question", exc_info=True)
    data = answer.to_dict()
    data["document_notes"] = {c.document: assistant.document_notes(c.document) for c in answer.citations}
    return {"role": "assistant", "content": answer.answer, "answer": data}


# ---------------------------------------------------------------------- rendering


def copy_text(answer: dict[str, Any]) -> str:
    """The answer with its sources, as plain text for the clipboard."""
    lines = [answer["answer"].strip()]
    if answer["citations"]:
        lines.append("")
        lines.append("Källor:")
    for c in answer["citations"]:
        where = ", ".join(
            p for p in (section_label(c["section"], c["heading"]), pages_label(c["pages"])) if p
        )
        used = " … ".join(c.get("quotes") or [c["quote"]])
        lines.append(f"[{c['n']}] {c['title']}, {where}: ”{used}”")
        lines.append(f"    {clause_url(c['document'], c['anchor'])}")
    return "\n".join(lines)


COPY_SCRIPT = """<script>
if (!window.__avtalCopy) {
  window.__avtalCopy = true;
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button.avtal-copy");
    if (!button) return;
    var text = JSON.parse(button.dataset.text);
    var done = function () { button.textContent = "Kopierat ✓"; };
    var fallback = function () {
      var area = document.createElement("textarea");
      area.value = text; area.setAttribute("readonly", "");
      area.style.position = "fixed"; area.style.opacity = "0";
      document.body.appendChild(area); area.select();
      try { document.execCommand("copy") ? done() : (button.textContent = "Kunde inte kopiera"); }
      catch (e) { button.textContent = "Kunde inte kopiera"; }
      area.remove(); button.focus();
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  });
}
</script>"""


def copy_button(text: str, key: str) -> None:
    """A real <button> (keyboard-usable) that copies the text; one delegated click handler for all of
    them, with document.execCommand('copy') where the Clipboard API is not available (plain http)."""
    payload = html.escape(json.dumps(text, ensure_ascii=False), quote=True)
    st.html(
        f'<button type="button" class="avtal-copy" id="copy-{html.escape(key)}" data-text="{payload}" '
        'aria-label="Kopiera svaret med källor till urklipp" style="font:inherit;font-size:.85rem;'
        'padding:.25rem .7rem;border:1px solid #bbb;border-radius:.4rem;background:#fff;cursor:pointer">'
        f"Kopiera svar med källor</button>{COPY_SCRIPT}",
        unsafe_allow_javascript=True,
    )


def source_card(c: dict[str, Any], notes: list[str]) -> str:
    """One source as HTML: every text from the document is escaped; only <mark> is added."""
    meta = " · ".join(
        html.escape(str(p))
        for p in (
            c.get("doc_type"),
            c.get("date"),
            section_label(c["section"], c["heading"]),
            pages_label(c["pages"]),
        )
        if p
    )
    warn = "".join(f'<div class="avtal-warn">Obs! {html.escape(n)}</div>' for n in notes)
    url = html.escape(clause_url(c["document"], c["anchor"]), quote=True)
    return (
        f'<div class="avtal-card"><div class="avtal-meta"><strong>{html.escape(c["title"])}</strong>'
        f"<br>{meta}</div>{warn}"
        f'<div class="avtal-clause">{highlight_quote(c["text"], c.get("quotes") or c["quote"])}</div>'
        f'<a href="{url}" target="_blank" rel="noopener">Öppna avsnittet i dokumentet ↗</a></div>'
    )


def render_feedback(answer_id: str) -> None:
    sent = state.feedback_sent.get(answer_id)
    if sent:
        st.caption(f"Tack för ditt omdöme ({'tumme upp' if sent == 'up' else 'tumme ned'})!")
        return
    with st.form(f"feedback-{answer_id}", border=False, enter_to_submit=True):
        st.caption("Var svaret till hjälp?")
        rating = st.feedback("thumbs", key=f"thumbs-{answer_id}")
        comment = st.text_input(
            "Kommentar (valfritt)",
            key=f"comment-{answer_id}",
            max_chars=2000,
            placeholder="Kommentar (valfritt, inga patientuppgifter)",
            label_visibility="collapsed",
        )
        if st.form_submit_button("Skicka omdöme"):
            if rating is None:
                st.warning("Välj tumme upp eller tumme ned först.")
                return
            rating_name = "up" if rating == 1 else "down"
            stored = guarded(lambda: usage_store().add_feedback(answer_id, rating_name, comment or None))
            if stored is not None:
                state.feedback_sent[answer_id] = rating_name
                st.rerun()


def render_answer(message: dict[str, Any], index: int) -> None:
    if message.get("error"):
        error = message["error"]
        show_error(AvtalError(error.get("message", ""), error.get("hint")))
        return
    answer = message["answer"]
    if answer["abstained"]:
        st.markdown("**Dokumenten besvarar inte frågan.**")
        st.markdown(md_escape(answer["answer"]))
        if answer["suggestions"]:
            st.markdown("Närliggande ämnen i dokumenten – välj ett för att fråga om det:")
            for i, topic in enumerate(answer["suggestions"]):
                st.button(
                    topic,
                    key=f"suggest-{answer['id']}-{i}",
                    on_click=_queue,
                    args=(f"Vad står det om {topic.split(' (')[0]}?",),
                )
    else:
        st.markdown(md_escape(answer["answer"]))
    for note in answer["notes"]:
        st.warning(note, icon=":material/warning:")
    if answer["citations"] and not answer["abstained"]:
        st.markdown("**Källor**")
        for c in answer["citations"]:
            label = f"[{c['n']}] {c['title']} – {section_label(c['section'], c['heading'])}"
            with st.expander(md_escape(label), key=f"source-{answer['id']}-{c['n']}"):
                st.html(source_card(c, answer.get("document_notes", {}).get(c["document"], [])))
                st.page_link(
                    "page_documents.py",
                    label="Läs avsnittet i dokumentbläddraren",
                    icon=":material/description:",
                    query_params={"dokument": c["document"], "avsnitt": c["anchor"]},
                )
        copy_button(copy_text(answer), answer["id"])
    render_feedback(answer["id"])


def render_message(message: dict[str, Any], index: int) -> None:
    with st.chat_message(
        message["role"], avatar=":material/person:" if message["role"] == "user" else ":material/menu_book:"
    ):
        if message["role"] == "user":
            st.markdown(md_escape(message["content"]))
            if message.get("masked"):
                st.caption("Personnumret togs bort ur frågan. Skriv aldrig patientuppgifter här.")
        else:
            render_answer(message, index)


def render_faq() -> None:
    from avtal.faq import Faq

    loaded: Faq | None = guarded(_faq)
    if loaded is None:
        return
    st.markdown("#### Vanliga frågor")
    titles = {s.id: s.title for s in loaded.sections}
    section_id = st.selectbox(
        "Överenskommelse eller dokument",
        list(titles),
        format_func=titles.get,
        key="faq_section",
    )
    section = loaded.section(section_id)
    for i, question in enumerate(section.questions):
        st.button(question, key=f"faq-{section.id}-{i}", on_click=_queue, args=(question,))


def _faq() -> Any:
    from ui.common import faq

    return faq()


# ---------------------------------------------------------------------- the page

st.title("Fråga Avtalsassistenten")
st.caption(
    "Svar ur samverkansöverenskommelserna och riktlinjerna i Stockholms län, med hänvisning till "
    "exakt avsnitt. " + PRIVACY_NOTICE
)

top = st.columns([3, 2], vertical_alignment="bottom")
with top[0]:
    state.audience_choice = state.audience
    st.segmented_control(
        "Svarsform",
        list(AUDIENCE_LABELS),
        format_func=AUDIENCE_LABELS.get,
        key="audience_choice",
        required=True,
        on_change=_sync_audience,
    )
with top[1]:
    if state.messages:
        st.button("Ny konversation", on_click=_new_conversation, icon=":material/refresh:")

assistant = assistant_or_message()
if assistant is None:
    st.stop()

typed = st.chat_input("Skriv din fråga här …", max_chars=MAX_QUESTION_CHARS, key="question_input")
question = typed or state.pop("pending_question", None)
if isinstance(question, str) and question.strip():
    # masked before it is shown, kept in the session or sent anywhere: a personnummer never stays
    masked, removed = mask_personal_ids(question.strip())
    state.messages.append({"role": "user", "content": masked, "masked": removed})

for i, message in enumerate(state.messages):
    render_message(message, i)

if not state.messages:
    render_faq()
elif state.messages[-1]["role"] == "user":  # just asked: answer it now
    try:
        with st.spinner("Letar i dokumenten …"):
            reply = ask(assistant, state.messages[-1]["content"])
        state.messages.append(reply)
        render_message(reply, len(state.messages) - 1)
    except Exception as exc:  # never a traceback
        if type(exc).__module__.startswith("streamlit"):
            raise
        log.exception("the chat failed")
        show_error(UNEXPECTED)
