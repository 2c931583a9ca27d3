"""A small, real OpenAI-compatible chat server for tests (the MockModel pattern).

It listens on 127.0.0.1 on a free port, answers ``POST /v1/chat/completions`` (JSON, or SSE
when the request says ``"stream": true``) and ``GET /v1/models``, takes its replies from a
queue the test fills, and records every request it receives::

    with ChatServer() as server:
        server.reply("Kommunen kallar till SIP [1].")
        settings = LLMSettings(base_url=server.base_url)
        ...
        assert server.requests[0].json["messages"][0]["role"] == "system"
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


@dataclass
class Reply:
    """One scripted reply."""

    content: str = ""
    status: int = 200
    delay_s: float = 0.0  # wait this long before answering (time-out tests)
    raw: bytes | None = None  # send these bytes as the body instead (malformed replies)
    content_type: str = "application/json"  # of a raw body ("text/event-stream" for raw SSE)
    chunk_chars: int = 4  # streamed replies are cut into pieces of this many characters
    chunk_delay_s: float = 0.0  # pause between streamed pieces


@dataclass
class RecordedRequest:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # lower-case names
    body: bytes = b""
    json: Any = field(default=None)


class ChatServer:
    """Start with ``start()`` or ``with``; ``base_url`` ends in ``/v1``."""

    def __init__(self, models: tuple[str, ...] = ("test-model",)) -> None:
        self.models = models
        self.replies: deque[Reply] = deque()
        self.requests: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.02,), daemon=True)

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # wakes replies that are sleeping
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- scripting --------------------------------------------------------------------------

    def reply(self, content: str = "", **options: Any) -> None:
        """Queue one reply (see ``Reply`` for the options)."""
        self.replies.append(Reply(content, **options))

    def chat_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # -- serving ----------------------------------------------------------------------------

    def _next_reply(self) -> Reply:
        with self._lock:
            if self.replies:
                return self.replies.popleft()
        return Reply(status=500, raw=b'{"error": {"message": "no scripted reply"}}')

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                pass

            def _record(self, body: bytes) -> RecordedRequest:
                parts = urlsplit(self.path)
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = None
                request = RecordedRequest(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                    json=parsed,
                )
                with server._lock:
                    server.requests.append(request)
                return request

            def _send(self, status: int, body: bytes, content_type: str = "application/json") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._record(b"")
                if urlsplit(self.path).path.endswith("/models"):
                    data = {"object": "list", "data": [{"id": m, "object": "model"} for m in server.models]}
                    self._send(200, json.dumps(data).encode())
                else:
                    self._send(404, b'{"error": {"message": "not found"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = self._record(self.rfile.read(length))
                if not request.path.endswith("/chat/completions"):
                    self._send(404, b'{"error": {"message": "not found"}}')
                    return
                reply = server._next_reply()
                if reply.delay_s and server._stopping.wait(reply.delay_s):
                    return
                if reply.raw is not None or reply.status != 200:
                    body = reply.raw if reply.raw is not None else b"{}"
                    self._send(reply.status, body, reply.content_type)
                    return
                model = (request.json or {}).get("model", "test-model")
                if (request.json or {}).get("stream"):
                    self._stream(reply, model)
                else:
                    data = {
                        "id": "chatcmpl-test",
                        "object": "chat.completion",
                        "model": model,
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": reply.content},
                                "finish_reason": "stop",
                            }
                        ],
                    }
                    self._send(200, json.dumps(data, ensure_ascii=False).encode())

            def _stream(self, reply: Reply, model: str) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Cache-Control", "no-cache")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                step = max(1, reply.chunk_chars)
                pieces = [reply.content[i : i + step] for i in range(0, len(reply.content), step)]
                try:
                    for piece in pieces:
                        chunk = {
                            "id": "chatcmpl-test",
                            "object": "chat.completion.chunk",
                            "model": model,
                            "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}],
                        }
                        self.wfile.write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode())
                        self.wfile.flush()
                        if reply.chunk_delay_s and server._stopping.wait(reply.chunk_delay_s):
                            return
                    self.wfile.write(b"data: [DONE]\n\n")
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):  # the client gave up
                    pass

        return Handler
