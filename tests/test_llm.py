"""The optional LLM answerer against a real local HTTP server that speaks the OpenAI chat API."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator, Sequence

import pytest

from assistant import prompts
from assistant.llm import (
    NOTE_FAILED,
    NOTE_MASKED,
    REASON_NO_CITATION,
    REASON_UNKNOWN_SOURCE,
    REASON_UNSUPPORTED,
    REASON_UNSUPPORTED_DETAIL,
    ChatClient,
    LLMAnswerer,
    LLMError,
    LLMSource,
    build_messages,
    split_sentences,
    verify,
)
from assistant.types import Turn
from avtal.errors import ConfigurationError
from avtal.privacy import MASK, contains_personal_id
from avtal.settings import LLMSettings
from tests.helpers.chat_server import ChatServer

SECRET = "sk-test-0123456789-hemlig"

SOURCES = [
    LLMSource(
        n=1,
        title="Riktlinje för samordnad individuell plan",
        section="7.1.2",
        heading="Kallelse till SIP",
        pages=[4, 5],
        text=(
            "Kommunen ska kalla till samordnad individuell plan (SIP) inom tre arbetsdagar från att "
            "meddelandet om utskrivning kom. Regionen deltar i planeringen med den fasta "
            "vårdkontakten. Planen ska vara klar senast den 1 mars 2023."
        ),
    ),
    LLMSource(
        n=2,
        title="Huvudöverenskommelse om samverkan (HOK)",
        section="2.3",
        heading="Lagreglerat ansvar",
        pages=[2],
        text="Region Stockholm ansvarar för hälso- och sjukvård enligt hälso- och sjukvårdslagen.",
    ),
]

GOOD_1 = "Kommunen ska kalla till SIP inom tre arbetsdagar [1]."
GOOD_2 = "Regionen deltar i planeringen med den fasta vårdkontakten [1]."
GOOD_3 = "Region Stockholm ansvarar för hälso- och sjukvården [2]."
WRONG_DATE = "Kommunen ska kalla till SIP inom fem arbetsdagar [1]."
WRONG_ACTOR = "Försäkringskassan ska kalla till SIP inom tre arbetsdagar [1]."
UNKNOWN_SOURCE = "Kommunen ska betala för hjälpmedlen [3]."


@pytest.fixture()
def server() -> Iterator[ChatServer]:
    with ChatServer() as chat_server:
        yield chat_server


def llm_settings(server: ChatServer, **overrides: object) -> LLMSettings:
    values: dict[str, object] = {
        "base_url": server.base_url,
        "api_key": SECRET,
        "model": "test-model",
        "timeout_s": 3.0,
        "min_support": 0.5,
    }
    values.update(overrides)
    return LLMSettings.model_validate(values)


@pytest.fixture()
def answerer(server: ChatServer) -> Iterator[LLMAnswerer]:
    settings = llm_settings(server)
    client = ChatClient(settings)
    yield LLMAnswerer(settings, client)
    client.close()


# ---------------------------------------------------------------------------------- answers


def test_good_answer_passes_and_prompt_reaches_the_model(server: ChatServer, answerer: LLMAnswerer) -> None:
    server.reply(f"{GOOD_1} {GOOD_2}")
    result = answerer.answer("Vem kallar till SIP?", SOURCES, [], "kort")

    assert result.verification.ok
    assert result.text == f"{GOOD_1} {GOOD_2}"
    assert result.cited == [1]
    assert result.notes == []
    assert [s.support for s in result.verification.kept] == [1.0, 1.0]

    (request,) = server.chat_requests()
    body = request.json
    assert request.path == "/v1/chat/completions"
    assert body["model"] == "test-model"
    assert body["stream"] is False
    assert body["temperature"] == 0.1 and body["max_tokens"] == 400
    assert body["messages"][0] == {"role": "system", "content": prompts.SYSTEM_PROMPT}
    user = body["messages"][-1]["content"]
    assert "[1] Riktlinje för samordnad individuell plan\nAvsnitt: 7.1.2 Kallelse till SIP\nSidor: 4–5\n" in (
        user
    )
    assert "[2] Huvudöverenskommelse om samverkan (HOK)" in user
    assert "Fråga: Vem kallar till SIP?" in user
    assert "högst cirka 60 ord" in user


def test_audiences_get_their_own_instruction() -> None:
    kort = build_messages("Fråga?", SOURCES, None, "kort", max_words=45)[-1]["content"]
    utforlig = build_messages("Fråga?", SOURCES, None, "utförlig")[-1]["content"]
    assert "högst cirka 45 ord" in kort and "avsnitt för avsnitt" not in kort
    assert "avsnitt för avsnitt" in utforlig and "högst cirka" not in utforlig


def test_history_is_sent_without_old_markers() -> None:
    history = [Turn("user", "Vem kallar till SIP?"), Turn("assistant", "Kommunen kallar [1].")]
    messages = build_messages("Inom hur lång tid?", SOURCES, history, "kort")
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[2]["content"] == "Kommunen kallar ."


def test_reply_citing_a_missing_source_is_caught(server: ChatServer, answerer: LLMAnswerer) -> None:
    server.reply(f"{GOOD_1} {GOOD_3} {UNKNOWN_SOURCE}")
    result = answerer.answer("Vem gör vad?", SOURCES)
    assert result.verification.ok  # two of three survive
    assert result.text == f"{GOOD_1} {GOOD_3}"
    assert result.cited == [1, 2]
    (removed,) = result.verification.removed
    assert removed.text == UNKNOWN_SOURCE
    assert removed.reason == REASON_UNKNOWN_SOURCE
    assert any("1 mening" in note for note in result.notes)

    server.reply(UNKNOWN_SOURCE)
    only_bad = answerer.answer("Vem betalar?", SOURCES)
    assert not only_bad.verification.ok
    assert only_bad.text == "" and only_bad.cited == []
    assert NOTE_FAILED in only_bad.notes


@pytest.mark.parametrize(("draft", "word"), [(WRONG_DATE, "fem"), (WRONG_ACTOR, "Försäkringskassan")])
def test_claim_not_in_the_cited_source_is_caught(
    server: ChatServer, answerer: LLMAnswerer, draft: str, word: str
) -> None:
    server.reply(draft)
    result = answerer.answer("Vem kallar till SIP, och när?", SOURCES)
    assert not result.verification.ok
    assert result.text == ""
    (removed,) = result.verification.removed
    assert removed.reason.startswith(REASON_UNSUPPORTED_DETAIL)
    assert word in removed.reason
    assert removed.support >= 0.5  # most words match: the detail check is what catches it


def test_wrong_date_and_month_are_caught_but_the_right_ones_pass() -> None:
    ok = verify("Planen ska vara klar senast den 1 mars 2023 [1].", SOURCES, min_support=0.5)
    assert ok.ok
    for wrong in (
        "Planen ska vara klar senast den 1 april 2023 [1].",
        "Planen ska vara klar senast den 1 mars 2024 [1].",
    ):
        result = verify(wrong, SOURCES, min_support=0.5)
        assert not result.ok
        assert result.removed[0].reason.startswith(REASON_UNSUPPORTED_DETAIL)
    # A number written as a digit matches the word in the source.
    assert verify("Kommunen ska kalla till SIP inom 3 arbetsdagar [1].", SOURCES, min_support=0.5).ok


def test_unsupported_sentence_and_similarity_rescue() -> None:
    draft = "Kommunen ska kalla till SIP och samtidigt skicka ut en skriftlig sammanfattning av mötet [1]."
    plain = verify(draft, SOURCES, min_support=0.6)
    assert not plain.ok
    assert plain.removed[0].reason == REASON_UNSUPPORTED
    support = plain.removed[0].support
    assert 0.3 <= support < 0.6

    calls: list[tuple[str, str]] = []

    def similar(sentence: str, source: str) -> float:
        calls.append((sentence, source))
        return 0.9

    rescued = verify(draft, SOURCES, min_support=0.6, similarity=similar)
    assert rescued.ok and rescued.kept[0].support == support
    assert calls and calls[0][1] == SOURCES[0].text
    # Similarity alone is not enough when lexical support is under half the threshold.
    assert not verify(draft, SOURCES, min_support=0.95, similarity=similar).ok
    assert not verify(draft, SOURCES, min_support=0.6, similarity=lambda a, b: 0.8).ok


def test_sentences_without_markers_and_refusals() -> None:
    no_marker = verify(f"{GOOD_1} Kommunen ska kalla till SIP.", SOURCES, min_support=0.5)
    assert no_marker.ok  # one of two removed is not more than half
    assert no_marker.removed[0].reason == REASON_NO_CITATION

    refusal = verify(prompts.REFUSAL, SOURCES, min_support=0.5)
    assert not refusal.ok and refusal.refused and not refusal.removed
    assert refusal.text == prompts.REFUSAL

    partial = verify(f"{GOOD_1} {prompts.PARTIAL_REFUSAL}", SOURCES, min_support=0.5)
    assert partial.ok and not partial.refused
    assert partial.text == f"{GOOD_1} {prompts.PARTIAL_REFUSAL}"

    # A "refusal" that slips in a claim is not a refusal.
    sneaky = verify("Det framgår inte av dokumenten, men kommunen betalar alltid.", SOURCES, min_support=0.5)
    assert not sneaky.kept


def test_more_than_half_removed_fails() -> None:
    result = verify(f"{GOOD_1} {WRONG_ACTOR} {UNKNOWN_SOURCE}", SOURCES, min_support=0.5)
    assert not result.ok
    assert [s.text for s in result.kept] == [GOOD_1]


def test_sentence_splitting_keeps_abbreviations_and_markers() -> None:
    text = (
        "Kommunen ska t.ex. kalla till SIP [1]. Det gäller bl.a. hemtjänsten. [2] "
        "En s.k. fast vårdkontakt utses enligt avsnitt 7.1.2 [1].\n\n"
        "- Regionen deltar [1]\n"
        "1. Planen ska vara klar senast den 1 mars 2023 [1].\n"
        "Klart!"
    )
    assert split_sentences(text) == [
        "Kommunen ska t.ex. kalla till SIP [1].",
        "Det gäller bl.a. hemtjänsten. [2]",
        "En s.k. fast vårdkontakt utses enligt avsnitt 7.1.2 [1].",
        "Regionen deltar [1]",
        "Planen ska vara klar senast den 1 mars 2023 [1].",
        "Klart!",
    ]


def test_acronym_matches_the_initials_of_the_words_it_stands_for() -> None:
    source = [LLMSource(1, "Rutin", None, None, [1], "Kommunen kallar till en samordnad individuell plan.")]
    assert verify("Kommunen kallar till en SIP [1].", source, min_support=0.5).ok
    assert not verify("Kommunen kallar till en LSS-plan [1].", source, min_support=0.5).ok


def test_markers_after_the_full_stop_and_reasoning_blocks() -> None:
    draft = "<think>Källa 1 nämner tre dagar.</think>Kommunen ska kalla till SIP inom tre arbetsdagar. [1]"
    result = verify(draft, SOURCES, min_support=0.5)
    assert result.ok and result.kept[0].cites == [1]


def test_section_heading_and_paragraphs_in_a_long_answer() -> None:
    draft = f"## Kallelse\n\n{GOOD_1}\n\n{GOOD_3}"
    result = verify(draft, SOURCES, min_support=0.5)
    assert result.ok
    assert result.text == f"{GOOD_1}\n\n{GOOD_3}"


# -------------------------------------------------------------------------------- streaming


def test_streaming_yields_only_verified_sentences(server: ChatServer, answerer: LLMAnswerer) -> None:
    server.reply(f"{GOOD_1} {UNKNOWN_SOURCE} {WRONG_DATE} {GOOD_3}", chunk_chars=3)
    stream = answerer.stream_answer("Vem gör vad?", SOURCES, [], "utförlig")
    assert list(stream) == [GOOD_1, GOOD_3]
    assert stream.result is not None
    assert stream.result.text == f"{GOOD_1} {GOOD_3}"
    assert stream.result.cited == [1, 2]
    assert [r.text for r in stream.result.verification.removed] == [UNKNOWN_SOURCE, WRONG_DATE]
    assert server.chat_requests()[0].json["stream"] is True
    assert server.chat_requests()[0].headers["accept"] == "text/event-stream"


class _ScriptedBackend:
    """A fake client that records how far the stream has been read."""

    def __init__(self, pieces: list[str]) -> None:
        self.pieces = pieces
        self.sent = 0

    def complete(self, messages: Sequence[dict[str, str]]) -> str:
        return "".join(self.pieces)

    def stream(self, messages: Sequence[dict[str, str]]) -> Iterator[str]:
        for piece in self.pieces:
            self.sent += 1
            yield piece


def test_streaming_yields_each_sentence_as_soon_as_it_is_complete() -> None:
    pieces = [
        "Kommunen ska kalla till SIP inom ",
        "tre arbetsdagar. [",
        "1] Regi",
        "onen deltar i planeringen med ",
        "den fasta vårdkontakten [1].",
        "",
    ]
    backend = _ScriptedBackend(pieces)
    answerer = LLMAnswerer(LLMSettings(), backend)
    iterator = iter(answerer.stream_answer("Vem kallar?", SOURCES))
    first = next(iterator)
    assert first == "Kommunen ska kalla till SIP inom tre arbetsdagar. [1]"
    assert backend.sent == 3  # the marker had to arrive, nothing more
    assert list(iterator) == [GOOD_2]


def test_streaming_parses_raw_sse_with_comments_and_usage_chunks(
    server: ChatServer, answerer: LLMAnswerer
) -> None:
    def chunk(content: str | None) -> str:
        delta = {} if content is None else {"content": content}
        return "data: " + json.dumps({"choices": [{"index": 0, "delta": delta}]}, ensure_ascii=False) + "\n\n"

    body = (
        ": keep-alive\n\n"
        + chunk(None)
        + chunk(GOOD_1[:20])
        + "event: message\n"
        + chunk(GOOD_1[20:])
        + 'data: {"choices": [], "usage": {"total_tokens": 12}}\n\n'
        + "data: [DONE]\n\n"
        + chunk(" Detta kommer efter slutet [1].")
    )
    server.reply(raw=body.encode(), content_type="text/event-stream")
    assert list(answerer.stream_answer("Vem kallar?", SOURCES)) == [GOOD_1]


# ----------------------------------------------------------------------------------- errors


def test_time_out_raises_llm_error_quickly(server: ChatServer) -> None:
    settings = llm_settings(server, timeout_s=0.3)
    server.reply(GOOD_1, delay_s=5)
    server.reply(GOOD_1, delay_s=5)
    with ChatClient(settings) as client:
        answerer = LLMAnswerer(settings, client)
        started = time.monotonic()
        with pytest.raises(LLMError) as info:
            answerer.answer("Vem kallar?", SOURCES)
        assert time.monotonic() - started < 2
        assert info.value.code == "llm_unavailable"
        assert "0,3 sekunder" in info.value.message
        assert "ur dokumenten" in info.value.hint

        started = time.monotonic()
        with pytest.raises(LLMError):
            list(answerer.stream_answer("Vem kallar?", SOURCES))
        assert time.monotonic() - started < 2


def test_stalled_stream_raises_llm_error(server: ChatServer) -> None:
    settings = llm_settings(server, timeout_s=0.3)
    server.reply(f"{GOOD_1} {GOOD_2}", chunk_chars=60, chunk_delay_s=5)
    with ChatClient(settings) as client:
        received: list[str] = []
        with pytest.raises(LLMError):
            received.extend(LLMAnswerer(settings, client).stream_answer("Vem kallar?", SOURCES))
        assert received == [GOOD_1]  # what was verified before the stall was already shown


@pytest.mark.parametrize(
    "options",
    [
        {"status": 500, "raw": b'{"error": {"message": "internal"}}'},
        {"status": 401, "raw": b'{"error": {"message": "bad key"}}'},
        {"raw": b"{inte json"},
        {"raw": b'{"choices": []}'},
        {"raw": b'{"choices": [{"message": {"content": 42}}]}'},
    ],
)
def test_server_errors_and_malformed_replies_raise_llm_error(
    server: ChatServer, answerer: LLMAnswerer, options: dict[str, object]
) -> None:
    server.reply(**options)  # type: ignore[arg-type]
    with pytest.raises(LLMError) as info:
        answerer.answer("Vem kallar?", SOURCES)
    assert info.value.to_dict()["code"] == "llm_unavailable"


def test_malformed_stream_raises_llm_error(server: ChatServer, answerer: LLMAnswerer) -> None:
    server.reply(raw=b"data: {inte json\n\n", content_type="text/event-stream")
    with pytest.raises(LLMError):
        list(answerer.stream_answer("Vem kallar?", SOURCES))
    server.reply(status=503, raw=b"upptagen")
    with pytest.raises(LLMError, match="HTTP 503"):
        list(answerer.stream_answer("Vem kallar?", SOURCES))


def test_unreachable_endpoint_raises_llm_error() -> None:
    with ChatServer() as closed:
        url = closed.base_url
    settings = LLMSettings(base_url=url, timeout_s=1.0)
    with ChatClient(settings) as client, pytest.raises(LLMError, match="nå språkmodellen"):
        client.complete([{"role": "user", "content": "Hej"}])


def test_no_base_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError):
        LLMAnswerer(LLMSettings())


def test_list_models(server: ChatServer, answerer: LLMAnswerer) -> None:
    assert isinstance(answerer.client, ChatClient)
    assert answerer.client.list_models() == ["test-model"]


# ---------------------------------------------------------------------------------- privacy


def test_personnummer_never_reaches_the_server(server: ChatServer, answerer: LLMAnswerer) -> None:
    question = "Min brukare 19121212-1212 skrivs ut i dag. Vem kallar till SIP för 121212+1212?"
    history = [
        Turn("user", "Gäller det patienten 811218-9876?"),
        Turn("assistant", "Det framgår inte av dokumenten."),
        {"role": "user", "content": "Och samordningsnummer 701063-2391?"},
    ]
    server.reply("Vem kallar till SIP?")
    server.reply(GOOD_1)
    server.reply(GOOD_1)

    standalone = answerer.condense(question, history)
    result = answerer.answer(question, SOURCES, history, "kort")
    list(answerer.stream_answer(question, SOURCES, history, "utförlig"))
    with pytest.raises(LLMError):  # no reply queued: HTTP 500, but the request was recorded
        assert isinstance(answerer.client, ChatClient)
        answerer.client.complete([{"role": "user", "content": "Direkt: 8112189876"}])

    assert standalone == "Vem kallar till SIP?"
    assert NOTE_MASKED in result.notes
    requests = server.chat_requests()
    assert len(requests) == 4
    for request in requests:
        body = request.body.decode("utf-8")
        assert not contains_personal_id(body)
        assert MASK in body


def test_api_key_is_sent_as_bearer_and_never_logged(
    server: ChatServer, answerer: LLMAnswerer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.reply(GOOD_1)
    server.reply(status=401, raw=b'{"error": "bad key"}')
    server.reply(GOOD_1, chunk_chars=8)
    answerer.answer("Vem kallar?", SOURCES)
    with pytest.raises(LLMError, match="nekade åtkomst"):
        answerer.answer("Vem kallar?", SOURCES)
    list(answerer.stream_answer("Vem kallar?", SOURCES))

    for request in server.chat_requests():
        assert request.headers["authorization"] == f"Bearer {SECRET}"
        assert "api-key" not in request.headers
        assert not request.query
    assert caplog.records  # httpx and our client did log
    everything = caplog.text + "".join(repr(r.__dict__) for r in caplog.records)
    assert SECRET not in everything
    assert SECRET not in repr(answerer.client)


def test_azure_mode_uses_api_key_header_and_api_version(server: ChatServer) -> None:
    base = server.base_url.replace("/v1", "/openai/deployments/gpt-4o")
    settings = llm_settings(server, base_url=base, api_version="2024-10-21")
    server.reply(GOOD_1)
    server.reply(GOOD_1, chunk_chars=10)
    with ChatClient(settings) as client:
        answerer = LLMAnswerer(settings, client)
        assert answerer.answer("Vem kallar?", SOURCES).verification.ok
        assert list(answerer.stream_answer("Vem kallar?", SOURCES)) == [GOOD_1]
    for request in server.chat_requests():
        assert request.path == "/openai/deployments/gpt-4o/chat/completions"
        assert request.query == {"api-version": ["2024-10-21"]}
        assert request.headers["api-key"] == SECRET
        assert "authorization" not in request.headers


# --------------------------------------------------------------------------------- condense


def test_condense(server: ChatServer, answerer: LLMAnswerer) -> None:
    history = [Turn("user", "Vem kallar till SIP?"), Turn("assistant", "Kommunen kallar [1].")]
    server.reply("Fristående fråga: Inom hur lång tid ska kommunen kalla till SIP?\n")
    rewritten = answerer.condense("Inom hur lång tid då?", history)
    assert rewritten == "Inom hur lång tid ska kommunen kalla till SIP?"
    request = server.chat_requests()[-1].json
    assert request["messages"][0]["content"] == prompts.CONDENSE_SYSTEM_PROMPT
    assert "Användare: Vem kallar till SIP?" in request["messages"][1]["content"]
    assert "Följdfråga: Inom hur lång tid då?" in request["messages"][1]["content"]

    # No history: nothing to rewrite, no request. Failure: the question unchanged.
    count = len(server.requests)
    assert answerer.condense("Vem kallar?", []) == "Vem kallar?"
    assert len(server.requests) == count
    server.reply(status=500, raw=b"{}")
    assert answerer.condense("Inom hur lång tid då?", history) == "Inom hur lång tid då?"
    server.reply("")
    assert answerer.condense("Inom hur lång tid då?", history) == "Inom hur lång tid då?"


def test_streaming_keeps_paragraphs_and_skips_reasoning() -> None:
    text = f"<think>Jag läser källa 1 [1].</think>\n## Kallelse\n\n{GOOD_1}\n\n{GOOD_3}"
    backend = _ScriptedBackend([text[i : i + 3] for i in range(0, len(text), 3)])
    stream = LLMAnswerer(LLMSettings(), backend).stream_answer("Vem gör vad?", SOURCES, [], "utförlig")
    assert list(stream) == [GOOD_1, GOOD_3]
    assert stream.result is not None and stream.result.text == f"{GOOD_1}\n\n{GOOD_3}"
