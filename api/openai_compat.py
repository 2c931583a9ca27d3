"""An OpenAI-compatible face: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Existing chat front ends and the official ``openai`` client can use the assistant. The last user
message is the question, earlier user/assistant messages the history. The reply text carries the
numbered citations inline and a "Källor" list; the structured citations travel in the extra
field ``citations`` (and ``x_avtal`` holds the answer id, abstention, confidence and notes), on
the completion and on the final chunk of a stream.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from api.app import ServiceDep, answer_question, channel_of, rate_limit
from api.errors import InvalidBody, error_response
from api.streaming import SSE_HEADERS, answer_events

if TYPE_CHECKING:
    from assistant.types import Answer

router = APIRouter(tags=["OpenAI-kompatibelt"])

MODEL_ID = "avtalsassistenten"
REPLACED_NOTE = "(Svaret ovan ersattes av text direkt ur dokumenten:)"


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = MODEL_ID
    messages: list[ChatMessage] = Field(min_length=1, max_length=100)
    stream: bool = False
    audience: str | None = None  # extension: "kort" (default) or "utförlig"


def _text(content: str | list[dict[str, Any]] | None) -> str:
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    return "\n".join(str(p.get("text", "")) for p in content if p.get("type") == "text")


def split_messages(messages: list[ChatMessage]) -> tuple[str, list[dict[str, str]]]:
    """The last user message as the question, earlier user/assistant messages as history."""
    last_user = max((i for i, m in enumerate(messages) if m.role == "user"), default=None)
    if last_user is None:
        raise InvalidBody(
            "Meddelandena saknar en fråga från användaren.",
            'Lägg till ett meddelande med "role": "user" och frågan som innehåll.',
        )
    history = [
        {"role": m.role, "content": _text(m.content)}
        for m in messages[:last_user]
        if m.role in ("user", "assistant") and _text(m.content).strip()
    ]
    return _text(messages[last_user].content), history


def _base_url(request: Request) -> str:
    public = request.app.state.settings.service.public_url
    return (public or str(request.base_url)).rstrip("/")


def sources_block(answer: Answer, base: str) -> str:
    """The "Källor" list that follows the answer text."""
    if not answer.citations:
        return ""
    lines = ["Källor:"]
    for c in answer.citations:
        where = " ".join(p for p in (c.section, c.heading) if p)
        pages = ", ".join(map(str, c.pages))
        parts = [c.title] + ([where] if where else []) + ([f"s. {pages}"] if pages else [])
        lines.append(f"[{c.n}] {', '.join(parts)} – {base}/dokument/{c.document}#{c.anchor}")
    return "\n".join(lines)


def notes_block(answer: Answer) -> str:
    return "\n".join(f"Obs: {n}" for n in answer.notes)


def suggestions_block(answer: Answer) -> str:
    if not answer.suggestions:
        return ""
    return "Du kan också fråga:\n" + "\n".join(f"- {s}" for s in answer.suggestions)


def tail_text(answer: Answer, base: str) -> str:
    """What follows the answer itself: notes, suggestions, the sources."""
    parts = (notes_block(answer), suggestions_block(answer), sources_block(answer, base))
    return "\n\n".join(p for p in parts if p)


def full_text(answer: Answer, base: str) -> str:
    return "\n\n".join(p for p in (answer.answer, tail_text(answer, base)) if p)


def extras(answer: Answer, base: str) -> dict[str, Any]:
    data = answer.to_dict()
    for c in data["citations"]:
        c["link"] = f"{base}/dokument/{c['document']}#{c['anchor']}"
    return {
        "citations": data["citations"],
        "x_avtal": {
            "answer_id": answer.id,
            "abstained": answer.abstained,
            "confidence": answer.confidence,
            "audience": answer.audience,
            "notes": answer.notes,
            "suggestions": answer.suggestions,
        },
    }


def _audience(body: ChatRequest) -> str:
    return body.audience if body.audience in ("kort", "utförlig") else "kort"


@router.get("/v1/models")
async def models() -> dict[str, Any]:
    """Modellen som OpenAI-klienter kan välja."""
    return {
        "object": "list",
        "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": "avtalsassistenten"}],
    }


@router.post("/v1/chat/completions", dependencies=[Depends(rate_limit)])
async def chat_completions(body: ChatRequest, request: Request, service: ServiceDep) -> Response:
    """Svar i OpenAI:s chat-format (även strömmat); källorna i fältet citations."""
    question, history = split_messages(body.messages)
    channel = channel_of(request, default="openai")
    base = _base_url(request)
    created = int(time.time())
    if not body.stream:
        answer = await answer_question(service, question, history, _audience(body), None, channel)
        return JSONResponse(
            {
                "id": f"chatcmpl-{answer.id}",
                "object": "chat.completion",
                "created": created,
                "model": MODEL_ID,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": full_text(answer, base)},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
                **extras(answer, base),
            }
        )

    events = answer_events(service, question, history, _audience(body), None, channel)
    first = await anext(events, None)
    if first is not None and first.kind == "error" and first.error is not None:
        return error_response(first.error)
    stream_id = f"chatcmpl-{int(time.time() * 1000)}"

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        data = {
            "id": stream_id,
            "object": "chat.completion.chunk",
            "created": created,
            "model": MODEL_ID,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            **extra,
        }
        return f"data: {json.dumps(data, ensure_ascii=False)}\n\n"

    async def body_stream() -> AsyncIterator[str]:
        yield chunk({"role": "assistant", "content": ""})

        async def all_events() -> AsyncIterator[Any]:
            if first is not None:
                yield first
            async for event in events:
                yield event

        async for event in all_events():
            if event.kind == "delta":
                yield chunk({"content": event.text})
            elif event.kind == "replace":
                yield chunk({"content": f"\n\n{REPLACED_NOTE}\n{event.text}"})
            elif event.kind == "error" and event.error is not None:
                yield f"data: {json.dumps({'error': event.error.to_dict()}, ensure_ascii=False)}\n\n"
                break
            elif event.kind == "answer" and event.answer is not None:
                tail = tail_text(event.answer, base)
                if tail:
                    yield chunk({"content": "\n\n" + tail})
                yield chunk({}, "stop", **extras(event.answer, base))
        yield "data: [DONE]\n\n"

    return StreamingResponse(body_stream(), media_type="text/event-stream", headers=SSE_HEADERS)
