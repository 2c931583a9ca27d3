"""The widget in a real headless Chromium against a real uvicorn server and the demo index.

One Chromium for the whole module (two cores). Host pages on another origin are served by a
small static server on a second loopback port; ``http://localhost:<port>`` is the same server
under an origin that is *not* on the allowlist. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from avtal.faq import load_faq
from avtal.settings import Settings
from avtal.usage import UsageStore
from tests.helpers.browser import browser_fixture, screenshot, wait_for
from tests.helpers.live_server import LiveServer

pytestmark = [pytest.mark.browser, pytest.mark.slow]

browser = browser_fixture()

# ------------------------------------------------------------------ host pages on another origin

HOSTILE_CSS = """
html { font-size: 4px; }
body { font: italic 40px/0.2 "Comic Sans MS", cursive; color: red; letter-spacing: 6px;
  text-transform: uppercase; word-spacing: 30px; text-align: right; background: #000; }
* { color: transparent !important; box-sizing: content-box !important; font-size: 1px !important; }
body > * { display: none !important; opacity: 0 !important; transform: scale(0.1) !important; }
div, section, p, form, nav, ul, li, h2, h3, label { position: absolute !important; left: -9999px !important; }
button { font-size: 1px; color: transparent; background: transparent !important; border: 0 !important;
  width: 0 !important; height: 0 !important; padding: 0 !important; }
textarea, input { display: none !important; }
[hidden] { display: block !important; }
a { color: red !important; pointer-events: none; }
"""

PAGE = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Annan webbplats</title>{style}</head>
<body><h1>Annan webbplats</h1><p>Vanligt innehåll på en sida med egen stil.</p>
<script src="{api}/widget.js" data-title="Fråga om samverkan" data-faq="vanliga" defer></script>
</body></html>
"""


class HostPages:
    """A static server for host pages on 127.0.0.1 (allowed) and localhost (not allowed)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

        class Quiet(SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(Quiet, directory=str(folder)))
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self.refused_origin = f"http://localhost:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True, name="host-pages")

    def write_pages(self, api_url: str) -> None:
        (self.folder / "plain.html").write_text(PAGE.format(style="", api=api_url), encoding="utf-8")
        hostile = PAGE.format(style=f"<style>{HOSTILE_CSS}</style>", api=api_url)
        (self.folder / "hostile.html").write_text(hostile, encoding="utf-8")

    def __enter__(self) -> HostPages:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture(scope="module")
def host_pages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[HostPages]:
    with HostPages(tmp_path_factory.mktemp("host-pages")) as pages:
        yield pages


@pytest.fixture(scope="module")
def api(demo_home: Path, host_pages: HostPages) -> Iterator[LiveServer]:
    settings = Settings(home=demo_home, service={"cors_origins": [host_pages.origin]})
    with LiveServer(settings) as server:
        host_pages.write_pages(server.url)
        yield server


# ------------------------------------------------------------------ helpers


def widget(driver: Any, url: str) -> Any:
    """Load a page and return the widget's shadow root."""
    driver.get(url)
    host = wait_for(lambda: driver.find_element(By.CSS_SELECTOR, "avtal-widget"), what="the widget host")
    return host.shadow_root


def open_panel(driver: Any, root: Any, faq: bool = True) -> Any:
    root.find_element(By.CSS_SELECTOR, "button.launcher").click()
    panel = root.find_element(By.CSS_SELECTOR, "[role=dialog]")
    wait_for(panel.is_displayed, what="the panel to open")
    if faq:
        wait_for(lambda: root.find_elements(By.CSS_SELECTOR, ".faq li button"), what="the FAQ list")
    return panel


def replies(root: Any) -> list[Any]:
    return root.find_elements(By.CSS_SELECTOR, "article.answer, .turn.error")


def ask(root: Any, question: str, timeout: float = 60) -> Any:
    """Type a question, press Enter, return the answer (or error) element that follows."""
    before = len(replies(root))
    textarea = root.find_element(By.CSS_SELECTOR, "textarea")
    textarea.send_keys(question)
    textarea.send_keys(Keys.ENTER)
    return wait_for(lambda: replies(root)[before], timeout=timeout, what=f"an answer to {question!r}")


def shadow_active_id(driver: Any) -> str | None:
    return driver.execute_script(
        "const r = document.querySelector('avtal-widget').shadowRoot;"
        "const a = r.activeElement; return a ? (a.id || a.className) : null;"
    )


def assert_no_alert(driver: Any) -> None:
    from selenium.common.exceptions import NoAlertPresentException

    try:
        alert = driver.switch_to.alert
    except NoAlertPresentException:
        return
    text = alert.text
    alert.dismiss()
    pytest.fail(f"an alert was opened: {text!r}")


def api_answer(api: LiveServer, question: str, **body: Any) -> dict[str, Any]:
    response = httpx.post(f"{api.url}/api/ask", json={"question": question, **body}, timeout=60)
    return {"status": response.status_code, **response.json()}


# ------------------------------------------------------------------ tests


def test_demo_page_loads_and_the_button_opens_the_panel(browser: Any, api: LiveServer) -> None:
    root = widget(browser, f"{api.url}/widget/demo")
    launcher = root.find_element(By.CSS_SELECTOR, "button.launcher")
    assert "Fråga om samverkan" in launcher.get_attribute("aria-label")
    assert launcher.get_attribute("aria-expanded") == "false"
    panel = root.find_element(By.CSS_SELECTOR, "[role=dialog]")
    assert not panel.is_displayed()
    # Ordinary intranet content around it.
    assert "Vård och omsorg" in browser.find_element(By.TAG_NAME, "h1").text

    panel = open_panel(browser, root)
    assert launcher.get_attribute("aria-expanded") == "true"
    assert shadow_active_id(browser) == "avtal-q"  # focus moved into the panel, to the question box
    title = root.find_element(By.CSS_SELECTOR, "#" + panel.get_attribute("aria-labelledby"))
    assert title.text == "Fråga om samverkan"
    assert root.find_element(By.CSS_SELECTOR, "label[for=avtal-q]").text == "Din fråga"
    log = root.find_element(By.CSS_SELECTOR, ".log")
    assert log.get_attribute("aria-live") == "polite"
    notice = root.find_element(By.CSS_SELECTOR, ".notice")
    assert notice.is_displayed() and "patientuppgifter" in notice.text
    faq = load_faq(None).section("vanliga")
    shown = [b.text for b in root.find_elements(By.CSS_SELECTOR, ".faq li button")]
    assert shown == faq.questions
    screenshot(browser, "widget-open.png")


def _contrast(foreground: str, background: str) -> float:
    def luminance(css: str) -> float:
        r, g, b = (int(v) / 255 for v in re.findall(r"[\d.]+", css)[:3])
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in (r, g, b)]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_text_contrast_meets_wcag_aa(browser: Any, api: LiveServer) -> None:
    root = widget(browser, f"{api.url}/widget/demo")
    open_panel(browser, root)
    pairs = {  # element whose text colour counts -> element whose background is behind it
        "button.launcher": "button.launcher",
        ".head h2": ".head",
        ".notice": ".notice",
        ".intro": ".panel",
        ".faq li button": ".faq li button",
        "label.q": ".ask",
        ".help": ".ask",
        "button.send": "button.send",
    }
    for text_sel, bg_sel in pairs.items():
        color = root.find_element(By.CSS_SELECTOR, text_sel).value_of_css_property("color")
        background = root.find_element(By.CSS_SELECTOR, bg_sel).value_of_css_property("background-color")
        assert _contrast(color, background) >= 4.5, (text_sel, color, background)


def test_question_gets_an_answer_with_a_working_citation_link(browser: Any, api: LiveServer) -> None:
    root = widget(browser, f"{api.url}/widget/demo")
    open_panel(browser, root)
    question = "Vem utser den samordnande vårdcentralen?"
    reply = ask(root, question)
    assert "answer" in reply.get_attribute("class"), reply.text
    user = root.find_elements(By.CSS_SELECTOR, ".turn.user .bubble")
    assert user[-1].text == question
    text = reply.find_element(By.CSS_SELECTOR, ".text").text
    expected = api_answer(api, question)
    assert text == expected["answer"]  # the widget shows what the API answered
    links = reply.find_elements(By.CSS_SELECTOR, ".sources a")
    assert len(links) == len(expected["citations"]) >= 1
    first = expected["citations"][0]
    href = links[0].get_attribute("href")
    assert href.startswith(f"{api.url}/dokument/{first['document']}#")
    assert links[0].get_attribute("target") == "_blank"
    assert "noopener" in links[0].get_attribute("rel")
    assert first["title"] in links[0].text
    # The [n] marker in the answer text links to the same clause.
    refs = reply.find_elements(By.CSS_SELECTOR, ".text a.ref")
    assert refs and refs[0].get_attribute("href") == href
    quote = reply.find_element(By.CSS_SELECTOR, ".sources q").text
    # the words used, each run as one run of text even over paragraphs; skipped sentences left out
    assert quote.split() == " … ".join(first["quotes"]).split()
    browser.execute_script(
        "arguments[0].scrollIntoView({block: 'nearest'})", reply.find_element(By.CSS_SELECTOR, ".sources")
    )
    screenshot(browser, "widget-answer.png")

    # The widget said which channel it is; the API logged the question under it.
    answer_id = reply.get_attribute("data-answer-id")
    with sqlite3.connect(api.settings.usage_db) as db:
        row = db.execute("SELECT channel FROM questions WHERE answer_id = ?", (answer_id,)).fetchone()
    assert row == ("widget",)

    # The clause page answers 200 and has the anchored clause, with the quoted words.
    assert httpx.get(href.split("#")[0]).status_code == 200
    browser.get(href)
    clause_text = wait_for(
        lambda: browser.execute_script(
            "const e = document.getElementById(decodeURIComponent(location.hash.slice(1)));"
            "return e ? e.textContent : null;"
        ),
        what="the anchored clause",
    )
    squash = " ".join
    assert squash(quote.split(" … ")[0].split())[:60] in squash(clause_text.split())


def test_follow_up_carries_the_conversation(browser: Any, api: LiveServer) -> None:
    first, follow_up = "Vad gör kommunens samordnande funktion?", "Och vem stöttar dem?"
    root = widget(browser, f"{api.url}/widget/demo")
    open_panel(browser, root, faq=False)
    one = ask(root, first).find_element(By.CSS_SELECTOR, ".text").text
    two = ask(root, follow_up).find_element(By.CSS_SELECTOR, ".text").text
    history = [{"role": "user", "content": first}, {"role": "assistant", "content": one}]
    with_history = api_answer(api, follow_up, history=history)["answer"]
    without = api_answer(api, follow_up)["answer"]
    assert with_history != without, "precondition: the follow-up depends on the conversation"
    assert two == with_history


def test_faq_item_asks_its_question(browser: Any, api: LiveServer) -> None:
    root = widget(browser, f"{api.url}/widget/demo")
    open_panel(browser, root)
    button = root.find_elements(By.CSS_SELECTOR, ".faq li button")[1]
    question = button.text
    button.click()
    reply = wait_for(lambda: replies(root)[0], timeout=60, what="the FAQ answer")
    assert root.find_elements(By.CSS_SELECTOR, ".turn.user .bubble")[-1].text == question
    assert reply.find_element(By.CSS_SELECTOR, ".text").text == api_answer(api, question)["answer"]


def test_escape_closes_the_panel_and_returns_focus(browser: Any, api: LiveServer) -> None:
    root = widget(browser, f"{api.url}/widget/demo")
    panel = open_panel(browser, root, faq=False)
    root.find_element(By.CSS_SELECTOR, "textarea").send_keys(Keys.ESCAPE)
    wait_for(lambda: not panel.is_displayed(), what="the panel to close")
    launcher = root.find_element(By.CSS_SELECTOR, "button.launcher")
    assert launcher.get_attribute("aria-expanded") == "false"
    assert "launcher" in shadow_active_id(browser)
    # Keyboard only: Enter on the focused button opens it again, focus back in the question box.
    launcher.send_keys(Keys.ENTER)
    wait_for(panel.is_displayed, what="the panel to reopen")
    assert shadow_active_id(browser) == "avtal-q"
    root.find_element(By.CSS_SELECTOR, "button.close").click()
    assert not panel.is_displayed()


def test_copy_puts_the_answer_with_its_sources_on_the_clipboard(browser: Any, api: LiveServer) -> None:
    browser.execute_cdp_cmd(
        "Browser.grantPermissions",
        {"origin": api.url, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]},
    )
    root = widget(browser, f"{api.url}/widget/demo")
    open_panel(browser, root, faq=False)
    reply = ask(root, "Hur ofta följs HÖK upp?")
    answer = reply.find_element(By.CSS_SELECTOR, ".text").text
    title = reply.find_element(By.CSS_SELECTOR, ".sources a").text.split("(")[0].strip()
    reply.find_element(By.CSS_SELECTOR, "button.copy").click()
    status = reply.find_element(By.CSS_SELECTOR, ".status")
    wait_for(lambda: "kopierat" in status.text, what="the copy confirmation")
    copied = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "navigator.clipboard.readText().then(done, e => done('ERROR ' + e));"
    )
    assert copied.startswith(answer)
    assert "\nKällor:\n[1] " + title in copied
    assert f"{api.url}/dokument/" in copied


def test_feedback_is_sent_and_confirmed(browser: Any, api: LiveServer) -> None:
    root = widget(browser, f"{api.url}/widget/demo")
    open_panel(browser, root, faq=False)
    reply = ask(root, "Vad är en SIP?")
    up = reply.find_element(By.CSS_SELECTOR, "button[aria-label='Bra svar']")
    up.click()
    status = reply.find_element(By.CSS_SELECTOR, ".status")
    wait_for(lambda: status.text == "Tack för din återkoppling!", what="the thanks")
    assert up.get_attribute("aria-pressed") == "true"
    stored = UsageStore.from_settings(api.settings).feedback(reply.get_attribute("data-answer-id"))
    assert [f.rating for f in stored] == ["up"]


def test_abstention_shows_notes_and_clickable_suggestions(browser: Any, api: LiveServer) -> None:
    question = "Hur bokar jag tvättid i tvättstugan? Mitt personnummer är 19121212-1212."
    expected = api_answer(api, question)
    assert expected["abstained"] and expected["suggestions"], "precondition: an out-of-scope question"
    root = widget(browser, f"{api.url}/widget/demo")
    open_panel(browser, root, faq=False)
    reply = ask(root, question)
    assert "abstained" in reply.get_attribute("class")
    assert [n.text for n in reply.find_elements(By.CSS_SELECTOR, ".note")] == expected["notes"]
    buttons = reply.find_elements(By.CSS_SELECTOR, ".suggest button")
    assert [b.text for b in buttons] == expected["suggestions"]
    topic = buttons[0].text
    buttons[0].click()
    wait_for(lambda: len(replies(root)) == 2, timeout=60, what="the suggestion's answer")
    assert root.find_elements(By.CSS_SELECTOR, ".turn.user .bubble")[-1].text == f"Vad står det om {topic}?"


def test_data_documents_restricts_the_answer(browser: Any, api: LiveServer) -> None:
    doc = "aldrecentrum-uppfoljning-samverkan-2013"
    root = widget(browser, f"{api.url}/widget/demo?documents={doc}")
    open_panel(browser, root, faq=False)
    reply = ask(root, "Vem ansvarar för den lokala samverkan i kommunen?")
    cited = {a.get_attribute("data-document") for a in reply.find_elements(By.CSS_SELECTOR, ".sources a")}
    assert cited == {doc}


def test_api_errors_show_their_swedish_message_and_hint(browser: Any, api: LiveServer) -> None:
    question = "Vad är en SIP?"
    expected = api_answer(api, question, documents=["finns-inte"])
    assert expected["status"] == 400
    root = widget(browser, f"{api.url}/widget/demo?documents=finns-inte")
    open_panel(browser, root, faq=False)
    reply = ask(root, question)
    assert "error" in reply.get_attribute("class")
    assert reply.get_attribute("role") == "alert"
    assert reply.find_element(By.CSS_SELECTOR, ".message").text == expected["error"]["message"]
    assert reply.find_element(By.CSS_SELECTOR, ".hint").text == expected["error"]["hint"]


def test_cross_origin_page_works_when_allowed_and_explains_when_not(
    browser: Any, api: LiveServer, host_pages: HostPages
) -> None:
    root = widget(browser, f"{host_pages.origin}/plain.html")
    open_panel(browser, root)  # the FAQ came over CORS
    reply = ask(root, "Vad är en SIP?")
    assert "answer" in reply.get_attribute("class"), reply.text
    link = reply.find_element(By.CSS_SELECTOR, ".sources a").get_attribute("href")
    assert link.startswith(f"{api.url}/dokument/")  # links go to the API, not the host page

    root = widget(browser, f"{host_pages.refused_origin}/plain.html")
    open_panel(browser, root, faq=False)
    reply = ask(root, "Vad är en SIP?")
    assert "error" in reply.get_attribute("class")
    assert reply.find_element(By.CSS_SELECTOR, ".message").text == "Det gick inte att nå Avtalsassistenten."
    assert "försök igen" in reply.find_element(By.CSS_SELECTOR, ".hint").text
    assert not root.find_element(By.CSS_SELECTOR, ".faq").is_displayed()


STYLE_PROPERTIES = (
    "display", "position", "visibility", "opacity", "transform", "font-size", "font-family", "font-style",
    "font-weight", "color", "background-color", "line-height", "letter-spacing", "word-spacing",
    "text-transform", "text-align", "box-sizing", "border-top-width", "padding-top", "z-index",
    "pointer-events",
)  # fmt: skip
KEY_ELEMENTS = (
    "button.launcher", ".panel", ".head h2", "button.close", ".notice", ".faq li button", "textarea",
    "label.q", "button.send", "article.answer .text", ".sources a", ".actions button",
)  # fmt: skip

_STYLES_JS = """
const [selectors, properties] = arguments;
const root = document.querySelector('avtal-widget').shadowRoot;
const out = {};
for (const sel of selectors) {
  const e = root.querySelector(sel);
  if (!e) { out[sel] = null; continue; }
  const cs = getComputedStyle(e);
  const r = e.getBoundingClientRect();
  const entry = {rect: [r.x, r.y, r.width, r.height].map(Math.round)};
  for (const p of properties) entry[p] = cs.getPropertyValue(p);
  out[sel] = entry;
}
return out;
"""


def _styles_after_an_answer(browser: Any, url: str) -> dict[str, Any]:
    root = widget(browser, url)
    open_panel(browser, root)
    reply = ask(root, "Vad är en SIP?")
    assert "answer" in reply.get_attribute("class"), reply.text
    browser.execute_script(
        "document.querySelector('avtal-widget').shadowRoot.querySelector('.body').scrollTop = 0;"
    )
    return browser.execute_script(_STYLES_JS, list(KEY_ELEMENTS), list(STYLE_PROPERTIES))


def test_hostile_host_stylesheet_does_not_change_the_panel(
    browser: Any, api: LiveServer, host_pages: HostPages
) -> None:
    plain = _styles_after_an_answer(browser, f"{host_pages.origin}/plain.html")
    hostile = _styles_after_an_answer(browser, f"{host_pages.origin}/hostile.html")
    # The hostile sheet did apply to the host page itself ...
    assert browser.execute_script("return getComputedStyle(document.querySelector('h1')).display") == "none"
    screenshot(browser, "widget-hostile.png")
    # ... and not to the widget: every key element computes and lays out the same.
    assert None not in plain.values(), plain
    for selector in KEY_ELEMENTS:
        assert hostile[selector] == plain[selector], selector
    assert plain["button.launcher"]["display"] != "none" and plain["button.launcher"]["rect"][2] > 40
    assert plain["button.launcher"]["font-size"] == "16px"


# ------------------------------------------------------------------ hostile documents


XSS = "<script>alert(1)</script>"
XSS_DOC = f"""Rutin för webbredaktörer

1. Syfte

Rutinen beskriver hur taggen {XSS} ska hanteras i intranätets texter. Den som publicerar en sida
ansvarar för att taggen {XSS} aldrig körs som kod.

2. Granskning

Webbredaktören granskar varje vecka att ingen <img src=x onerror="window.__xss=1"> finns kvar i texterna.
"""


@pytest.fixture(scope="module")
def xss_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A fresh home with one tiny text document whose title and text contain markup."""
    from ingest.pipeline import ingest

    docs = tmp_path_factory.mktemp("xss-docs")
    (docs / "rutin-skript.txt").write_text(XSS_DOC, encoding="utf-8")
    manifest = {"documents": [{"file": "rutin-skript.txt", "title": f"Rutin {XSS} för webbredaktörer"}]}
    (docs / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    home = tmp_path_factory.mktemp("xss-home")
    index: dict[str, Any] = {}
    if os.environ.get("AVTAL_TEST_EMBEDDING_CACHE"):
        index["embedding_cache_dir"] = Path(os.environ["AVTAL_TEST_EMBEDDING_CACHE"])
    settings = Settings(home=home, index=index)
    report = ingest([docs], settings)
    assert report.errors == [], report.errors
    with LiveServer(settings) as server:
        yield server


def test_markup_in_a_document_and_a_question_is_shown_as_text(browser: Any, xss_api: LiveServer) -> None:
    root = widget(browser, f"{xss_api.url}/widget/demo")
    open_panel(browser, root)
    question = f'Vem ansvarar för att taggen {XSS} aldrig körs? <img src=x onerror="window.__xss=1">'
    reply = ask(root, question)
    assert_no_alert(browser)
    assert "answer" in reply.get_attribute("class"), reply.text
    assert root.find_elements(By.CSS_SELECTOR, ".turn.user .bubble")[-1].text == question
    text = reply.find_element(By.CSS_SELECTOR, ".text").text
    assert text == api_answer(xss_api, question)["answer"]
    assert re.search(r"<(script|img)\b", text), text  # the clause's markup, literally
    assert XSS in reply.find_element(By.CSS_SELECTOR, ".sources a").text  # the document's title
    counts = browser.execute_script(
        "const r = document.querySelector('avtal-widget').shadowRoot;"
        "return [r.querySelectorAll('script, img, iframe, [onerror]').length,"
        " document.querySelectorAll('script').length, window.__xss === undefined];"
    )
    assert counts == [0, 1, True]  # nothing injected; the page's one script tag is the widget's

    # The cited clause page shows the same markup as text too.
    browser.get(reply.find_element(By.CSS_SELECTOR, ".sources a").get_attribute("href"))
    assert_no_alert(browser)
    assert XSS in browser.find_element(By.TAG_NAME, "body").text
    assert browser.execute_script("return document.querySelectorAll('script, img[onerror]').length") == 0
