"""Answers as a stream: ``POST /api/ask/stream`` (server-sent events) and the event source the
OpenAI-compatible endpoint shares.

Events: ``delta`` ``{"text"}`` (pieces of the answer, in order), ``replace`` ``{"text"}`` (rare:
the LLM's verified sentences were replaced by the extractive answer after all), ``citations``
``{"citations": [...]}``, ``done`` (the full Answer JSON, authoritative) and, on failure,
``error`` (the error body). With the LLM answerer only sentences that passed verification are
sent, as the model writes them; the extractive answer is sent sentence by sentence.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response, StreamingResponse

from api.app import AskRequest, ServiceDep, channel_of, rate_limit
from api.errors import error_response
from avtal.errors import AvtalError

if TYPE_CHECKING:
    from api.service import Service
    from assistant.core import Assistant
    from assistant.types import Answer

router = APIRouter()

_SENTENCE_END = re.compile(r"(?<=[.!?:\]])(?=\s)")


def sentence_pieces(text: str) -> list[str]:
    """``text`` cut after each sentence end; the pieces concatenate to ``text`` exactly."""
    return [p for p in _SENTENCE_END.split(text) if p]


class _StreamingLLM:
    """Stands in for the assistant's LLMAnswerer during one answer: drafts with the streaming
    call and hands each verified sentence to ``emit`` as soon as it has passed verification."""

    def __init__(self, inner: Any, emit: Callable[[str], None]) -> None:
        self._inner = inner
        self._emit = emit

    def answer(self, question: str, sources: Any, history: Any = None, audience: str = "kort") -> Any:
        stream = self._inner.stream_answer(question, sources, history, audience)
        for sentence in stream:
            self._emit(sentence)
        return stream.result

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


@dataclass
class Event:
    kind: str  # delta | replace | answer | error
    text: str = ""
    answer: Answer | None = None
    error: AvtalError | None = None


async def answer_events(
    service: Service,
    question: str,
    history: list[dict[str, str]],
    audience: str,
    documents: list[str] | None,
    channel: str,
) -> AsyncIterator[Event]:
    """The answer as events; the question is validated before the first event (raises)."""
    from assistant.core import check_question

    check_question(question)
    assistant = await service.get_assistant()
    if documents:
        from assistant.core import QuestionError

        unknown = sorted(set(documents) - set(assistant.version.documents))
        if unknown:
            raise QuestionError(
                f"Okänt dokument: {', '.join(unknown)}.",
                "Välj bland dokumenten i indexet (se listan över dokument).",
            )
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str] = asyncio.Queue()

    def emit(sentence: str) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone (client left, server stopping)
            loop.call_soon_threadsafe(queue.put_nowait, sentence)

    def work(current: Assistant) -> Answer:
        if current.llm is None:
            return current.ask(question, history=history, audience=audience, documents=documents)
        inner = current.llm
        current.llm = _StreamingLLM(inner, emit)
        try:
            return current.ask(question, history=history, audience=audience, documents=documents)
        finally:
            current.llm = inner

    task = asyncio.ensure_future(service.run(work))
    streamed: list[str] = []
    try:
        while True:
            getter = asyncio.ensure_future(queue.get())
            done, _ = await asyncio.wait({getter, task}, return_when=asyncio.FIRST_COMPLETED)
            if getter in done:
                sentence = getter.result()
                text = sentence if not streamed else " " + sentence
                streamed.append(sentence)
                yield Event("delta", text)
                continue
            getter.cancel()
            break
        while not queue.empty():
            sentence = queue.get_nowait()
            text = sentence if not streamed else " " + sentence
            streamed.append(sentence)
            yield Event("delta", text)
        try:
            answer = task.result()
        except AvtalError as exc:
            yield Event("error", error=exc)
            return
        except Exception:
            from api.errors import ApiError

            internal = ApiError("Ett oväntat fel uppstod i tjänsten.", status=500)
            internal.code = "internal"
            yield Event("error", error=internal)
            return
        service.log_question(answer, question, channel)
        if not streamed:
            for piece in sentence_pieces(answer.answer):
                yield Event("delta", piece)
        elif not all(s.strip() in answer.answer for s in streamed):
            yield Event("replace", answer.answer)
        yield Event("answer", answer=answer)
    finally:
        if not task.done():
            task.cancel()


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


@router.post("/api/ask/stream", tags=["fråga"], dependencies=[Depends(rate_limit)])
async def ask_stream(body: AskRequest, request: Request, service: ServiceDep) -> Response:
    """Samma svar som /api/ask, som server-sent events: delta, citations, done."""
    events = answer_events(
        service,
        body.question,
        [t.model_dump() for t in body.history],
        body.audience,
        body.documents,
        channel_of(request),
    )
    # The first event is awaited here, so a bad question still gets its status code.
    first = await anext(events, None)
    if first is not None and first.kind == "error" and first.error is not None:
        return error_response(first.error)  # type: ignore[return-value]

    async def body_stream() -> AsyncIterator[str]:
        pending = [first] if first is not None else []

        async def all_events() -> AsyncIterator[Event]:
            for event in pending:
                yield event
            async for event in events:
                yield event

        async for event in all_events():
            if event.kind in ("delta", "replace"):
                yield sse(event.kind, {"text": event.text})
            elif event.kind == "error" and event.error is not None:
                yield sse("error", {"error": event.error.to_dict()})
            elif event.kind == "answer" and event.answer is not None:
                data = event.answer.to_dict()
                yield sse("citations", {"citations": data["citations"]})
                yield sse("done", data)

    return StreamingResponse(body_stream(), media_type="text/event-stream", headers=SSE_HEADERS)
