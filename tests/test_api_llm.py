"""Streaming with the LLM answerer configured: only sentences that passed verification reach the
client, through /api/ask/stream and the OpenAI-compatible stream. The model is the scripted,
real OpenAI-compatible chat server of tests/helpers/chat_server.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from avtal.settings import LLMSettings, Settings
from tests.helpers.chat_server import ChatServer
from tests.helpers.live_server import LiveServer, parse_sse

pytestmark = pytest.mark.slow

QUESTION = "Vem utser den samordnande vårdcentralen?"
SUPPORTED = "Vårdcentralerna i kommunen utser tillsammans en samordnande vårdcentral [1]."
INVENTED = "Försäkringskassan utser den samordnande vårdcentralen varje år i mars [1]."


@pytest.fixture(scope="module")
def chat() -> Iterator[ChatServer]:
    with ChatServer() as server:
        yield server


@pytest.fixture(scope="module")
def live(demo_home: Path, chat: ChatServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    from assistant.core import Assistant

    llm = LLMSettings(base_url=chat.base_url, model="test", timeout_s=10)
    assistant = Assistant.from_settings(Settings(home=demo_home, llm=llm))
    assert assistant.llm is not None
    with LiveServer(
        Settings(home=tmp_path_factory.mktemp("llm-usage"), llm=llm), assistant=assistant
    ) as server:
        yield server


def _stream(live: LiveServer) -> list[tuple[str, dict]]:
    with httpx.Client(base_url=live.url, timeout=60) as client:
        response = client.post("/api/ask/stream", json={"question": QUESTION})
        assert response.status_code == 200
        return parse_sse(response.text)


def test_only_verified_sentences_are_streamed(live: LiveServer, chat: ChatServer) -> None:
    chat.reply(f"{SUPPORTED} {INVENTED}", chunk_chars=5, chunk_delay_s=0.005)
    before = len(chat.chat_requests())
    events = _stream(live)
    request = chat.chat_requests()[before].json
    assert request["stream"] is True  # the model was asked for a stream
    deltas = [data["text"] for name, data in events if name == "delta"]
    assert deltas == [SUPPORTED]
    assert all("Försäkringskassan" not in str(data) for _, data in events)
    names = [name for name, _ in events]
    assert names[-2:] == ["citations", "done"] and "replace" not in names
    done = events[-1][1]
    assert done["answer"].startswith("Vårdcentralerna i kommunen utser")
    assert done["citations"][0]["anchor"] == "7.1.2"
    assert any("togs bort" in note for note in done["notes"])


def test_an_unverified_draft_streams_the_extractive_answer(live: LiveServer, chat: ChatServer) -> None:
    chat.reply(INVENTED, chunk_chars=7)
    events = _stream(live)
    text = "".join(data["text"] for name, data in events if name == "delta")
    assert "Försäkringskassan" not in text
    assert "Vårdcentralerna i en kommun" in text  # the clause itself
    assert text == events[-1][1]["answer"]


def test_openai_stream_with_the_llm(live: LiveServer, chat: ChatServer) -> None:
    from openai import OpenAI

    chat.reply(f"{SUPPORTED} {INVENTED}", chunk_chars=5)
    oa = OpenAI(base_url=f"{live.url}/v1", api_key="x", max_retries=0)
    chunks = list(
        oa.chat.completions.create(
            model="avtalsassistenten", messages=[{"role": "user", "content": QUESTION}], stream=True
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith(SUPPORTED) and "Försäkringskassan" not in text
    assert "Källor:" in text
    assert chunks[-1].model_extra["citations"][0]["anchor"] == "7.1.2"
