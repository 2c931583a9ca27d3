"""The Streamlit UI through Streamlit's own testing API (AppTest), on the real demo index.

The assistant is cached with st.cache_resource per (AVTAL_HOME, index version), so the tests share one
loaded assistant for the demo home; a test with another home gets its own entry (or the no-index
message). Feedback and logged questions go to the demo home's usage database and are looked up by
the answer's id.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from avtal.settings import Settings
from avtal.usage import UsageStore

pytestmark = pytest.mark.slow

APP = str(Path(__file__).resolve().parents[1] / "ui" / "app.py")


@pytest.fixture()
def ui_home(demo_home: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("AVTAL_HOME", str(demo_home))
    shared = os.environ.get("AVTAL_TEST_EMBEDDING_CACHE")
    if shared:  # the demo index was embedded with this cache; the assistant must read the same shape
        monkeypatch.setenv("AVTAL_INDEX__EMBEDDING_CACHE_DIR", shared)
    return demo_home


def start() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def ask(at: AppTest, question: str) -> dict:
    at.chat_input[0].set_value(question).run()
    assert not at.exception, [e.value for e in at.exception]
    return at.session_state["messages"][-1]


def html_bodies(at: AppTest) -> list[str]:
    return [h.proto.body for h in at.get("html")]


def test_asking_shows_the_answer_then_sources_and_logs_the_question(ui_home: Path) -> None:
    at = start()
    assert [b.label for b in at.button][:1] == ["Vad är HÖK?"]  # FAQ on an empty chat
    reply = ask(at, "Vem utser den samordnande vårdcentralen?")
    answer = reply["answer"]
    assert not answer["abstained"]
    assert "utser tillsammans en samordnande vårdcentral" in answer["answer"]
    assert any("Vårdcentralerna i en kommun" in m.value for m in at.markdown)
    labels = [e.label for e in at.expander]
    assert any("7.1.2" in label and "Samordnande vårdcentral" in label for label in labels)
    assert not any(b.label == "Vad är HÖK?" for b in at.button)  # the FAQ leaves once a question is asked
    logged = UsageStore.from_settings(Settings(home=ui_home)).stats(days=1)
    assert logged["questions"] >= 1


def test_a_follow_up_uses_the_conversation(ui_home: Path) -> None:
    at = start()
    ask(at, "Vem utser den samordnande vårdcentralen?")
    follow = ask(at, "Vem stödjer dem?")
    assert len(at.session_state["messages"]) == 4
    cited = [(c["document"], c["anchor"]) for c in follow["answer"]["citations"]]
    assert cited[0] == ("riktlinje-hok-2022", "7.1.2")
    assert "SLSO" in follow["answer"]["answer"]
    # both turns stay on screen
    assert sum("Vem stödjer dem?" in m.value for m in at.markdown) == 1
    assert len(at.feedback) == 2


def test_expanding_a_citation_shows_the_clause_with_the_quote_marked_and_a_link(ui_home: Path) -> None:
    at = start()
    answer = ask(at, "Hur ofta följs HÖK upp?")["answer"]
    citation = answer["citations"][0]
    expander = next(e for e in at.expander if e.label.startswith(r"\[1\]"))
    cards = [h.proto.body for h in expander.get("html")]
    assert cards, "the source card is inside the expander"
    card = cards[0]
    import html as html_lib

    for run in citation["quotes"]:  # each run of the words used is marked
        assert f"<mark>{html_lib.escape(run)}</mark>" in card.replace("<br>", "\n")
    assert f"/dokument/{citation['document']}#{citation['anchor']}" in card
    assert citation["title"] in card
    links = expander.get("page_link")
    assert links and "dokument=" in str(links[0].proto)


def test_switching_audience_is_remembered_for_the_session(ui_home: Path) -> None:
    at = start()
    at.button_group[0].set_value("utförlig").run()
    answer = ask(at, "Vad ska kommunens samordnande funktion göra?")["answer"]
    assert answer["audience"] == "utförlig"
    at.switch_page("page_documents.py").run()
    at.switch_page("page_chat.py").run()
    assert at.session_state["audience"] == "utförlig"
    assert at.button_group[0].value == "utförlig"
    short = ask(at, "Vem utser den samordnande vårdcentralen?")["answer"]
    assert short["audience"] == "utförlig"


def test_feedback_is_stored_masked_in_the_shared_store(ui_home: Path) -> None:
    at = start()
    answer_id = ask(at, "Vad är en SIP?")["answer"]["id"]
    at.feedback[0].set_value(1)
    at.text_input(key=f"comment-{answer_id}").set_value("Bra, men gällde patient 19121212-1212")
    next(b for b in at.button if b.label == "Skicka omdöme").click().run()
    assert not at.exception
    stored = UsageStore.from_settings(Settings(home=ui_home)).feedback(answer_id)
    assert [f.rating for f in stored] == ["up"]
    assert stored[0].comment and "19121212" not in stored[0].comment
    assert any("Tack för ditt omdöme" in c.value for c in at.caption)


def test_an_abstention_says_so_and_offers_topics(ui_home: Path) -> None:
    at = start()
    answer = ask(at, "Vad kostar en glass i Paris?")["answer"]
    assert answer["abstained"]
    assert any("besvarar inte frågan" in m.value for m in at.markdown)
    topics = [b for b in at.button if b.label in answer["suggestions"]]
    assert topics
    topics[0].click().run()
    assert at.session_state["messages"][-2]["content"].startswith("Vad står det om")


def test_a_faq_button_asks_its_question(ui_home: Path) -> None:
    at = start()
    at.selectbox(key="faq_section").set_value("riktlinje-hok-2022").run()
    button = next(b for b in at.button if b.label == "Vad ska den samordnande vårdcentralen göra?")
    button.click().run()
    messages = at.session_state["messages"]
    assert messages[0]["content"] == "Vad ska den samordnande vårdcentralen göra?"
    assert not messages[1]["answer"]["abstained"]


def test_a_personnummer_is_masked_before_it_is_shown_or_carried_into_follow_ups(ui_home: Path) -> None:
    at = start()
    ask(at, "Gäller HÖK för patient 19121212-1212?")
    shown = "\n".join(m.value for m in at.markdown)
    assert "19121212" not in shown and "1212" not in shown.split("patient")[-1][:12]
    assert all("19121212" not in m["content"] for m in at.session_state["messages"])
    follow = ask(at, "Hur ofta följs HÖK upp?")
    assert not any("personnummer" in note for note in follow["answer"]["notes"])


def test_an_old_document_carries_its_warning_in_the_source_card(ui_home: Path) -> None:
    at = start()
    answer = ask(at, "Vilka rekommendationer gav revisionen om delegering till hemtjänsten?")["answer"]
    assert answer["citations"][0]["document"] == "aldrecentrum-uppfoljning-samverkan-2013"
    assert any("2013" in w.value and "inaktuellt" in w.value for w in at.warning)
    cards = [b for b in html_bodies(at) if "avtal-card" in b and "avtal-warn" in b]
    assert cards and "från 2013" in cards[0]


def test_a_broken_question_gets_a_swedish_message_not_a_traceback(ui_home: Path) -> None:
    at = start()
    # the chat box stops at 2,000 characters; a question from elsewhere (a FAQ file entry, a topic
    # button) is not limited by the widget, so the assistant's own check must reach the user
    at.session_state["pending_question"] = "Vad gäller? " * 300
    at.run()
    assert not at.exception
    assert any("för lång" in e.value for e in at.error)
    assert any("2 000" in i.value for i in at.info)
    ask(at, "Vad är en SIP?")  # the conversation goes on
    assert not at.session_state["messages"][-1].get("error")


def test_html_in_a_question_is_never_rendered(ui_home: Path) -> None:
    at = start()
    ask(at, "<script>alert(1)</script> Vad är HÖK?")
    for body in html_bodies(at):
        assert "<script>alert" not in body
    shown = [m.value for m in at.markdown if "alert" in m.value]
    assert shown and all("<script>" not in v for v in shown)


def test_search_tab_shows_highlighted_snippets_and_escapes_the_query(ui_home: Path) -> None:
    at = start()
    at.switch_page("page_search.py").run()
    at.text_input(key="search_query").set_value("samordnande funktion <script>x</script>")
    at.button[0].click().run()
    assert not at.exception and not at.error
    bodies = html_bodies(at)
    assert any("<mark>" in b and "/dokument/" in b for b in bodies)
    assert all("<script>" not in b for b in bodies)


def test_document_browser_shows_metadata_toc_and_original_text(ui_home: Path) -> None:
    at = start()
    at.switch_page("page_documents.py").run()
    at.selectbox(key="browse_doc").set_value("riktlinje-hok-2022").run()
    meta = "\n".join(m.value for m in at.markdown)
    assert "**Typ:** riktlinje" in meta and "2022-02-23" in meta and "OCR-reparerade ord" in meta
    toc = next(e for e in at.expander if e.label.startswith("Innehållsförteckning"))
    assert "7.1.2" in toc.markdown[0].value
    at.selectbox(key="browse_section").set_value("7.1.2").run()
    repaired = next(b for b in html_bodies(at) if 'id="clause-text"' in b)
    assert "utser tillsammans en samordnande vårdcentral" in repaired
    toggles = [t for t in at.toggle if t.key.startswith("original-")]
    assert toggles, "the guideline was OCR-repaired, so its original text is on offer"
    toggles[0].set_value(True).run()
    original = next(b for b in html_bodies(at) if 'id="clause-text"' in b)
    assert original != repaired


def test_a_citation_link_opens_the_clause_in_the_browser(ui_home: Path) -> None:
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["dokument"] = "riktlinje-hok-2022"
    at.query_params["avsnitt"] = "8.4"
    at.run()
    at.switch_page("page_documents.py").run()
    assert at.selectbox(key="browse_doc").value == "riktlinje-hok-2022"
    assert at.selectbox(key="browse_section").value == "8.4"


def test_ansvar_view_groups_statements_by_actor_and_reports_its_measurement(ui_home: Path) -> None:
    at = start()
    at.switch_page("page_responsibility.py").run()
    at.selectbox(key="ansvar_doc").set_value("riktlinje-hok-2022").run()
    assert not at.exception and not at.error
    labels = [e.label for e in at.expander]
    assert any(label.startswith("Tjänstemannastyrgruppen") for label in labels)
    assert any(label.startswith("Sekretariatet") for label in labels)
    secretariat = next(e for e in at.expander if e.label.startswith("Sekretariatet"))
    body = secretariat.get("html")[0].proto.body
    assert "/dokument/riktlinje-hok-2022#8." in body and "ansvarar för" in body
    method = next(e for e in at.expander if e.label.startswith("Hur sammanställningen"))
    assert "precision" in method.markdown[0].value and "täckning" in method.markdown[0].value


def test_evaluation_page_reads_the_latest_report(ui_home: Path, tmp_path: Path, monkeypatch) -> None:
    home = tmp_path / "home"
    latest = home / "eval" / "latest"
    (latest / "plots").mkdir(parents=True)
    (latest / "result.json").write_text(
        json.dumps({"created": "2026-11-22T12:00:00", "summary": {"hit@5": 0.907, "false_abstention": 0.07}}),
        encoding="utf-8",
    )
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.figure(figsize=(2, 2))
    plt.plot([0, 1], [0, 1])
    plt.savefig(latest / "plots" / "hit_at_k.png")
    plt.close("all")
    monkeypatch.setenv("AVTAL_HOME", str(home))
    at = start()
    at.switch_page("page_evaluation.py").run()
    text = "\n".join(m.value for m in at.markdown)
    assert "hit@5" in text and "0.907" in text
    assert len(at.get("image")) == 1


def test_evaluation_page_shows_the_configurations_of_avtal_eval(tmp_path: Path, monkeypatch) -> None:
    latest = tmp_path / "home" / "eval" / "latest"
    latest.mkdir(parents=True)
    summary = {
        "hit@5": 0.907,
        "first_citation_gold": 0.64,
        "false_abstention": 0.07,
        "latency_median_s": 0.021,
    }
    result = {
        "created": "2026-11-22T12:00:00+00:00",
        "main_config": "hybrid",
        "configs": {
            "lexical": {"label": "Bara BM25", "summary": {**summary, "hit@5": 0.81}, "rows": [{"x": 1}] * 30},
            "hybrid": {"label": "Hybrid med omrankning", "summary": summary, "rows": []},
        },
    }
    (latest / "result.json").write_text(json.dumps(result), encoding="utf-8")
    monkeypatch.setenv("AVTAL_HOME", str(tmp_path / "home"))
    at = start()
    at.switch_page("page_evaluation.py").run()
    assert not at.exception
    labels = [e.label for e in at.expander]
    assert labels[0].startswith("Hybrid med omrankning") and "används av assistenten" in labels[0]
    main = at.expander[0].markdown[0].value
    assert "91 %" in main and "21 ms" in main and "64 %" in main
    assert "81 %" in at.expander[1].markdown[0].value


def test_evaluation_page_without_a_report_says_how_to_make_one(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AVTAL_HOME", str(tmp_path / "empty"))
    at = start()
    at.switch_page("page_evaluation.py").run()
    assert any("avtal eval --out" in i.value for i in at.info)


def test_without_an_index_every_page_says_so_in_swedish(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("AVTAL_HOME", str(tmp_path / "empty"))
    at = start()
    assert any("inget index" in e.value for e in at.error)
    assert any("avtal ingest" in i.value for i in at.info)
    for page in ("page_search.py", "page_documents.py", "page_responsibility.py"):
        at.switch_page(page).run()
        assert not at.exception
        assert any("inget index" in e.value for e in at.error), page
