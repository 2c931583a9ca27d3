"""The HTTP service against a real uvicorn on a loopback port, over the demo index: questions,
streaming, search, documents, clause pages, original files, feedback, health, errors, masking,
time-outs and the OpenAI-compatible endpoint through the official ``openai`` client."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from assistant.core import Assistant
from avtal.privacy import MASK
from avtal.settings import Settings
from tests.helpers.live_server import LiveServer, parse_sse

pytestmark = pytest.mark.slow

PNR = "19121212-1212"
QUESTION = "Vem utser den samordnande vårdcentralen?"
ADMIN_KEY = "statistik-nyckel"


@pytest.fixture(scope="module")
def assistant(demo_home: Path) -> Assistant:
    return Assistant.from_settings(Settings(home=demo_home))


@pytest.fixture(scope="module")
def usage_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("api-usage")


@pytest.fixture(scope="module")
def server(assistant: Assistant, usage_home: Path) -> Iterator[LiveServer]:
    """The service over the demo index; its own AVTAL_HOME keeps the logged questions apart."""
    settings = Settings(home=usage_home, service={"admin_api_key": ADMIN_KEY})
    with LiveServer(settings, assistant=assistant) as live:
        yield live


@pytest.fixture()
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as http:
        yield http


def _logged_questions(home: Path) -> list[tuple[str, str, str]]:
    db = sqlite3.connect(home / "usage.sqlite3")
    try:
        return db.execute("SELECT answer_id, question, channel FROM questions").fetchall()
    finally:
        db.close()


def _assert_error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code
    assert error["message"] and error["hint"]
    assert "Traceback" not in response.text
    return error


# ------------------------------------------------------------------ health and docs


def test_health_ready_and_docs(client: httpx.Client, assistant: Assistant) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ready"
    assert ready["documents"] == len(assistant.version.documents) == 5
    assert ready["chunks"] == len(assistant.version.chunks)
    docs = client.get("/docs")
    assert docs.status_code == 200
    # the page's assets are served here, not from a CDN the intranet cannot reach
    assert "cdn." not in docs.text and "/docs-static/swagger-ui-bundle.js" in docs.text
    assert client.get("/docs-static/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs-static/swagger-ui.css").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    for path in ("/api/ask", "/api/ask/stream", "/api/search", "/api/documents", "/v1/chat/completions"):
        assert path in paths


# ------------------------------------------------------------------ asking


def test_ask_answers_with_citations_that_resolve(client: httpx.Client, usage_home: Path) -> None:
    response = client.post("/api/ask", json={"question": QUESTION})
    assert response.status_code == 200
    answer = response.json()
    assert set(answer) >= {"id", "answer", "abstained", "confidence", "citations", "notes", "suggestions"}
    assert not answer["abstained"]
    assert "vårdcentral" in answer["answer"].lower()
    first = answer["citations"][0]
    assert first["document"] == "riktlinje-hok-2022"
    clause = client.get(f"/api/documents/{first['document']}/clauses/{first['anchor']}").json()
    assert first["quote"] in clause["text"]
    assert clause["pages"] == first["pages"]
    # The service (not the assistant) logged the question, channel api.
    logged = {a: (q, c) for a, q, c in _logged_questions(usage_home)}
    assert logged[answer["id"]] == (QUESTION, "api")


def test_ask_audience_history_and_document_filter(client: httpx.Client) -> None:
    long = client.post("/api/ask", json={"question": QUESTION, "audience": "utförlig"}).json()
    assert long["audience"] == "utförlig"
    only = "nacka-tjansteskrivelse-hok-2022"
    restricted = client.post("/api/ask", json={"question": QUESTION, "documents": [only]}).json()
    assert all(c["document"] == only for c in restricted["citations"])
    followup = client.post(
        "/api/ask",
        json={
            "question": "Och vem har ansvaret för den?",
            "history": [
                {"role": "user", "content": QUESTION},
                {"role": "assistant", "content": long["answer"]},
            ],
        },
    )
    assert followup.status_code == 200
    assert followup.json()["id"] != long["id"]


def test_ask_masks_personnummer_everywhere(
    client: httpx.Client, usage_home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    question = f"Patienten {PNR} och 701063-2391 skrivs ut, vem utser samordnande vårdcentral?"
    answer = client.post("/api/ask", json={"question": question}).json()
    assert any("personnummer" in note.lower() for note in answer["notes"])
    assert PNR not in answer["answer"]
    logged = {a: q for a, q, _ in _logged_questions(usage_home)}
    assert PNR not in logged[answer["id"]] and "701063" not in logged[answer["id"]]
    assert MASK in logged[answer["id"]]
    searched = client.get("/api/search", params={"q": f"SIP {PNR}"}).json()
    assert PNR not in str(searched) and searched["notes"] and searched["query"] == f"SIP {MASK}"
    client.get(f"/dokument/{PNR}")
    # Everything the server side logged (the test's own httpx client logs full URLs itself).
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith(("httpx", "httpcore")))
    assert "/api/search" in text and "/api/ask" in text  # the access log did log the requests
    assert PNR not in text and "701063" not in text
    raw = (usage_home / "usage.sqlite3").read_bytes().decode("latin-1")
    assert PNR not in raw


@pytest.mark.parametrize(
    ("kwargs", "status", "code"),
    [
        ({"json": {"question": ""}}, 400, "bad_question"),
        ({"json": {"question": "   "}}, 400, "bad_question"),
        ({"json": {"question": "x" * 2001}}, 400, "bad_question"),
        ({"json": {"question": QUESTION, "documents": ["finns-inte"]}}, 400, "bad_question"),
        ({"json": {"question": QUESTION, "audience": "lång"}}, 422, "invalid_body"),
        ({"json": {"question": 42}}, 422, "invalid_body"),
        ({"json": {"fråga": QUESTION}}, 422, "invalid_body"),
        (
            {"json": {"question": QUESTION, "history": [{"role": "system", "content": "x"}]}},
            422,
            "invalid_body",
        ),
        ({"content": b'{"question": ', "headers": {"content-type": "application/json"}}, 422, "invalid_body"),
        ({"content": b"question=x", "headers": {"content-type": "text/plain"}}, 422, "invalid_body"),
    ],
)
def test_ask_errors(client: httpx.Client, kwargs: dict, status: int, code: str) -> None:
    _assert_error(client.post("/api/ask", **kwargs), status, code)


def test_every_failure_has_the_error_shape(client: httpx.Client) -> None:
    _assert_error(client.get("/finns/inte"), 404, "not_found")
    _assert_error(client.get("/api/ask"), 405, "method_not_allowed")
    _assert_error(client.get("/api/documents/finns-inte"), 404, "unknown_document")
    _assert_error(client.get("/api/documents/riktlinje-hok-2022/clauses/99.9"), 404, "unknown_clause")
    _assert_error(client.get("/api/documents/finns-inte/clauses/1"), 404, "unknown_document")
    _assert_error(client.get("/dokument/finns-inte"), 404, "unknown_document")
    _assert_error(client.get("/filer/finns-inte.pdf"), 404, "unknown_document")
    _assert_error(client.get("/filer/riktlinje-hok-2022.docx"), 404, "not_found")
    _assert_error(client.post("/api/ask", json={"question": "x" * 70_000}), 413, "body_too_large")


def test_answer_time_limit(assistant: Assistant, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"answer_timeout_s": 0.001})
    with LiveServer(settings, assistant=assistant) as live:
        response = httpx.post(f"{live.url}/api/ask", json={"question": QUESTION}, timeout=30)
        error = _assert_error(response, 504, "timeout")
        assert "lång tid" in error["message"]
        assert _logged_questions(tmp_path) == []


# ------------------------------------------------------------------ streaming


def test_stream_sends_deltas_citations_and_done(client: httpx.Client, usage_home: Path) -> None:
    with client.stream("POST", "/api/ask/stream", json={"question": QUESTION}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.read().decode("utf-8"))
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"]
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert len(deltas) >= 2 and set(names[:-2]) == {"delta"}
    done = events[-1][1]
    assert "".join(deltas) == done["answer"]
    assert events[-2][1]["citations"] == done["citations"] and done["citations"]
    assert any(a == done["id"] for a, _, _ in _logged_questions(usage_home))


def test_stream_errors_before_the_stream_keep_their_status(client: httpx.Client) -> None:
    _assert_error(client.post("/api/ask/stream", json={"question": ""}), 400, "bad_question")
    response = client.post("/api/ask/stream", json={"question": QUESTION, "documents": ["nej"]})
    _assert_error(response, 400, "bad_question")


def test_widget_channel_is_logged(client: httpx.Client, usage_home: Path) -> None:
    answer = client.post(
        "/api/ask", json={"question": "Vad är SIP?"}, headers={"X-Avtal-Channel": "widget"}
    ).json()
    channels = {a: c for a, _, c in _logged_questions(usage_home)}
    assert channels[answer["id"]] == "widget"


# ------------------------------------------------------------------ search


def test_search_ranks_clauses_with_highlighted_snippets(client: httpx.Client) -> None:
    response = client.get("/api/search", params={"q": "samordnad individuell plan", "k": 5})
    assert response.status_code == 200
    data = response.json()
    assert 1 <= data["count"] <= 5
    scores = [hit["score"] for hit in data["results"]]
    assert scores == sorted(scores, reverse=True)
    hit = data["results"][0]
    assert {"document", "anchor", "title", "section", "pages", "snippet", "snippet_html"} <= set(hit)
    assert "<mark>" in hit["snippet_html"]
    assert hit["link"] == f"/dokument/{hit['document']}#{hit['anchor']}"
    restricted = client.get("/api/search", params={"q": "uppföljning", "document": "riktlinje-hok-2022"})
    assert {h["document"] for h in restricted.json()["results"]} == {"riktlinje-hok-2022"}


def test_search_errors(client: httpx.Client) -> None:
    _assert_error(client.get("/api/search", params={"q": ""}), 400, "invalid_request")
    _assert_error(client.get("/api/search", params={"q": "x" * 600}), 400, "invalid_request")
    _assert_error(client.get("/api/search", params={"q": "SIP", "document": "nej"}), 400, "invalid_request")
    _assert_error(client.get("/api/search", params={"q": "SIP", "k": 0}), 422, "invalid_body")


# ------------------------------------------------------------------ documents and pages


def test_documents_list_and_detail(client: httpx.Client, assistant: Assistant) -> None:
    data = client.get("/api/documents").json()
    assert data["count"] == 5
    by_id = {d["id"]: d for d in data["documents"]}
    assert set(by_id) == set(assistant.version.documents)
    old = by_id["aldrecentrum-uppfoljning-samverkan-2013"]
    assert old["date"].startswith("2013")
    assert any("2013" in w for w in old["validity"]["warnings"])
    for doc_id, doc in by_id.items():
        assert doc["chunks"] == sum(1 for c in assistant.version.chunks if c.doc_id == doc_id)
        assert doc["links"]["file"] == f"/filer/{doc_id}.pdf"
    detail = client.get("/api/documents/riktlinje-hok-2022").json()
    assert detail["title"] == by_id["riktlinje-hok-2022"]["title"]
    assert "7.1.2" in [c["anchor"] for c in detail["clauses"]]


def test_clause_has_path_pages_neighbours_and_links(client: httpx.Client) -> None:
    clause = client.get("/api/documents/riktlinje-hok-2022/clauses/7.1.2").json()
    assert clause["section"] == "7.1.2"
    assert clause["section_path"][-1].startswith("7.1.2")
    assert clause["section_path"][0].startswith("7 ")
    assert clause["pages"] and clause["text"]
    assert clause["previous"]["anchor"] and clause["next"]["anchor"]
    back = client.get(f"/api/documents/riktlinje-hok-2022/clauses/{clause['next']['anchor']}").json()
    assert back["previous"]["anchor"] == "7.1.2"
    assert clause["links"]["page"] == "/dokument/riktlinje-hok-2022#7.1.2"
    assert clause["links"]["file"] == f"/filer/riktlinje-hok-2022.pdf#page={clause['pages'][0]}"


def test_document_page_is_escaped_html_with_anchors(client: httpx.Client, assistant: Assistant) -> None:
    response = client.get("/dokument/riktlinje-hok-2022")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "script-src" not in response.headers["content-security-policy"]
    page = response.text
    assert '<html lang="sv">' in page
    assert "<script" not in page
    assert ":target" in page
    chunks = [c for c in assistant.version.chunks if c.doc_id == "riktlinje-hok-2022"]
    for chunk in chunks:
        assert f'id="{chunk.anchor}"' in page
    clause = next(c for c in chunks if c.anchor == "7.1.2")
    page_no = clause.pages[0]
    assert f'href="/filer/riktlinje-hok-2022.pdf#page={page_no}">Öppna originalet (sida {page_no})' in page
    old = client.get("/dokument/aldrecentrum-uppfoljning-samverkan-2013").text
    assert re.search(r'class="varning"[^>]*>[^<]*2013', old)


def test_original_file(client: httpx.Client) -> None:
    response = client.get("/filer/riktlinje-hok-2022.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    assert "inline" in response.headers["content-disposition"]


# ------------------------------------------------------------------ feedback


def test_feedback(client: httpx.Client, server: LiveServer) -> None:
    answer = client.post("/api/ask", json={"question": "Vad är SIP?"}).json()
    response = client.post(
        "/api/feedback", json={"answer_id": answer["id"], "rating": "down", "comment": f"Fel, {PNR}"}
    )
    assert response.status_code == 201
    stored = server.service.usage.feedback(answer["id"])
    assert [f.rating for f in stored] == ["down"]
    assert stored[0].comment is not None and PNR not in stored[0].comment
    _assert_error(
        client.post("/api/feedback", json={"answer_id": answer["id"], "rating": "meh"}), 422, "invalid_body"
    )
    _assert_error(
        client.post("/api/feedback", json={"answer_id": " ", "rating": "up"}), 400, "invalid_request"
    )
    too_long = {"answer_id": "a", "rating": "up", "comment": "x" * 2001}
    _assert_error(client.post("/api/feedback", json=too_long), 400, "invalid_request")


# ------------------------------------------------------------------ OpenAI-compatible endpoint


def test_openai_client_completion(server: LiveServer, usage_home: Path) -> None:
    from openai import OpenAI

    oa = OpenAI(base_url=f"{server.url}/v1", api_key="ingen-nyckel-behovs", max_retries=0)
    assert [m.id for m in oa.models.list()] == ["avtalsassistenten"]
    completion = oa.chat.completions.create(
        model="avtalsassistenten",
        messages=[
            {"role": "system", "content": "Svara kort."},
            {"role": "user", "content": "Vad är SIP?"},
            {"role": "assistant", "content": "SIP är en samordnad individuell plan."},
            {"role": "user", "content": QUESTION},
        ],
    )
    text = completion.choices[0].message.content or ""
    assert re.search(r"\[1\]", text)
    assert "Källor:" in text
    citations = completion.model_extra["citations"]
    assert citations and citations[0]["document"] == "riktlinje-hok-2022"
    assert f"/dokument/{citations[0]['document']}#{citations[0]['anchor']}" in text
    extra = completion.model_extra["x_avtal"]
    logged = {a: (q, c) for a, q, c in _logged_questions(usage_home)}
    assert logged[extra["answer_id"]] == (QUESTION, "openai")


def test_openai_client_stream(server: LiveServer) -> None:
    from openai import OpenAI

    oa = OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
    stream = oa.chat.completions.create(
        model="avtalsassistenten", messages=[{"role": "user", "content": QUESTION}], stream=True
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "vårdcentral" in text.lower() and "Källor:" in text
    last = chunks[-1]
    assert last.choices[0].finish_reason == "stop"
    assert last.model_extra["citations"][0]["document"] == "riktlinje-hok-2022"


def test_openai_client_errors(server: LiveServer) -> None:
    import openai

    oa = openai.OpenAI(base_url=f"{server.url}/v1", api_key="x", max_retries=0)
    with pytest.raises(openai.BadRequestError) as empty:
        oa.chat.completions.create(model="avtalsassistenten", messages=[{"role": "user", "content": ""}])
    assert "tom" in str(empty.value)
    with pytest.raises(openai.UnprocessableEntityError):
        oa.chat.completions.create(model="avtalsassistenten", messages=[{"role": "system", "content": "Hej"}])


# ------------------------------------------------------------------ statistics


def test_stats_show_unanswered_questions_masked(client: httpx.Client) -> None:
    off_topic = f"Vilken färg har parkeringsautomaten utanför {PNR}s hus på Månen?"
    answer = client.post("/api/ask", json={"question": off_topic}).json()
    assert answer["abstained"]
    client.post("/api/ask", json={"question": off_topic.upper()})
    _assert_error(client.get("/api/stats"), 401, "unauthorized")
    stats = client.get("/api/stats", headers={"X-API-Key": ADMIN_KEY}).json()
    assert stats["questions"] >= 3 and stats["abstained"] >= 2
    assert 0 < stats["abstention_rate"] < 1
    assert stats["per_day"][-1]["questions"] >= 3
    unanswered = [u["question"] for u in stats["unanswered"]]
    assert any("parkeringsautomaten" in q.lower() and MASK.lower() in q.lower() for q in unanswered)
    assert PNR not in str(stats)
