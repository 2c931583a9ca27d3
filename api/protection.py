"""Protection of the service: client identification behind trusted proxies, a sliding-window
rate limit, request body limits, a masking access log and a CORS allowlist whose refusals use
the shared error shape."""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import threading
import time
from collections import deque
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote_plus

from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from avtal.privacy import mask_personal_ids

access_log = logging.getLogger("avtal.access")

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _error_json(code: str, message: str, hint: str) -> bytes:
    return json.dumps({"error": {"code": code, "message": message, "hint": hint}}, ensure_ascii=False).encode(
        "utf-8"
    )


# ------------------------------------------------------------------ client identity


def parse_networks(items: Iterable[str]) -> list[Network]:
    networks: list[Network] = []
    for item in items:
        try:
            networks.append(ipaddress.ip_network(item.strip(), strict=False))
        except ValueError:
            access_log.warning("ignoring invalid trusted proxy %r", item)
    return networks


def _in(address: str, networks: list[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def client_address(peer: str | None, forwarded_for: str | None, trusted: list[Network]) -> str:
    """The client's address: the peer, unless the peer is a trusted proxy; then the right-most
    X-Forwarded-For entry that is not itself a trusted proxy."""
    address = peer or "unknown"
    if not forwarded_for or not _in(address, trusted):
        return address
    hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return address  # garbage from the proxy chain: do not trust it
        address = hop
    return address


class RateLimiter:
    """At most ``per_minute`` requests per client key in any sliding 60-second window."""

    def __init__(self, per_minute: int, window_s: float = 60.0) -> None:
        self.per_minute = per_minute
        self.window_s = window_s
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, now: float | None = None) -> float | None:
        """Count one request; return None when allowed, else the seconds until it would be."""
        if self.per_minute <= 0:
            return None
        now = time.monotonic() if now is None else now
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window_s:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(0.0, hits[0] + self.window_s - now)
            hits.append(now)
            if len(self._hits) > 10_000:  # forget idle clients
                for other in [k for k, v in self._hits.items() if not v or v[-1] <= now - self.window_s]:
                    del self._hits[other]
            return None


# ------------------------------------------------------------------ middlewares


class BodyLimitMiddleware:
    """413 in the error shape when a body exceeds its limit, by Content-Length or as streamed."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, upload_paths: tuple[str, ...], upload_bytes: int
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_paths = upload_paths
        self.upload_bytes = upload_bytes

    def _limit(self, path: str) -> int:
        return self.upload_bytes if path.startswith(self.upload_paths) else self.max_bytes

    async def _refuse(self, send: Send, limit: int) -> None:
        body = _error_json(
            "body_too_large",
            f"Begäran är för stor (högst {limit:,} byte).".replace(",", "\u00a0"),
            "Skicka en kortare fråga eller en mindre fil.",
        )
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        limit = self._limit(scope["path"])
        headers = dict(scope["headers"])
        length = headers.get(b"content-length")
        if length is not None:
            try:
                too_big = int(length) > limit
            except ValueError:
                too_big = True
            if too_big:
                await self._refuse(send, limit)
                return
        # Read the whole body (bounded) before the app sees it, so a chunked body that grows
        # past the limit is refused before any response has started.
        messages: list[Message] = []
        received = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > limit:
                await self._refuse(send, limit)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            if messages:
                return messages.pop(0)
            return await receive()

        await self.app(scope, replay, send)


def masked_target(scope: Scope) -> str:
    """Path and query string with personal ids masked (for logs)."""
    path = scope.get("path", "")
    query = scope.get("query_string", b"").decode("latin-1")
    target = path + (f"?{unquote_plus(query)}" if query else "")
    return mask_personal_ids(target)[0]


class AccessLogMiddleware:
    """One log line per request (method, masked path and query, status, milliseconds). Replaces
    uvicorn's access log, which would write query strings such as /api/search?q=... verbatim."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            client = scope.get("client")
            access_log.info(
                '%s - "%s %s" %d %.1f ms',
                client[0] if client else "-",
                scope["method"],
                masked_target(scope),
                status,
                (time.perf_counter() - started) * 1000,
            )


class SecurityHeadersMiddleware:
    """Headers every response carries (no sniffing, no framing of the API's own pages)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"x-content-type-options" not in names:
                    headers.append((b"x-content-type-options", b"nosniff"))
                if b"referrer-policy" not in names:
                    headers.append((b"referrer-policy", b"same-origin"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, sending)


class AllowlistCORSMiddleware(CORSMiddleware):
    """Starlette's CORS middleware; a refused preflight answers 403 in the error shape. A refused
    simple request gets no Access-Control-Allow-Origin header, so the browser withholds it."""

    def preflight_response(self, request_headers: Any) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        origin = request_headers.get("origin", "")
        if self.is_allowed_origin(origin):
            detail = "Begärans metod eller huvuden är inte tillåtna."
            hint = "Använd GET eller POST med JSON."
        else:
            detail = "Webbplatsen får inte anropa Avtalsassistentens API."
            hint = "Lägg till webbplatsens adress i AVTAL_SERVICE__CORS_ORIGINS."
        body = _error_json("origin_refused", detail, hint)
        return Response(body, status_code=403, media_type="application/json")


def retry_after(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


def client_key(request: Request, trusted: list[Network]) -> str:
    peer = request.client.host if request.client else None
    return client_address(peer, request.headers.get("x-forwarded-for"), trusted)


__all__ = [
    "AccessLogMiddleware",
    "AllowlistCORSMiddleware",
    "BodyLimitMiddleware",
    "RateLimiter",
    "SecurityHeadersMiddleware",
    "client_address",
    "client_key",
    "masked_target",
    "parse_networks",
    "retry_after",
]
