"""Protection of the service on a real uvicorn, without loading the index: rate limiting per
client (X-Forwarded-For only from trusted proxies), CORS allowlist, body limits, admin key,
retention purge at start-up and feedback surviving a restart."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from api.protection import RateLimiter, client_address, parse_networks
from avtal.settings import Settings
from avtal.usage import UsageStore
from tests.helpers.live_server import LiveServer

ALLOWED = "https://intranat.example.se"


def _error(response: httpx.Response, status: int, code: str) -> dict[str, str]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["message"] and error["hint"]
    return error


# ------------------------------------------------------------------ rate limiting


def test_client_address_believes_only_trusted_proxies() -> None:
    trusted = parse_networks(["127.0.0.1", "10.0.0.0/8"])
    assert client_address("192.0.2.7", "198.51.100.1", trusted) == "192.0.2.7"
    assert client_address("127.0.0.1", "198.51.100.1", trusted) == "198.51.100.1"
    # The right-most address that is not a trusted proxy: a forged left part is ignored.
    assert client_address("127.0.0.1", "6.6.6.6, 198.51.100.1, 10.1.2.3", trusted) == "198.51.100.1"
    assert client_address("127.0.0.1", "10.1.2.3", trusted) == "10.1.2.3"
    assert client_address("127.0.0.1", "inte-en-adress", trusted) == "127.0.0.1"
    assert client_address("127.0.0.1", "198.51.100.1", []) == "127.0.0.1"


def test_rate_limiter_sliding_window() -> None:
    limiter = RateLimiter(2, window_s=60)
    assert limiter.check("a", now=0) is None
    assert limiter.check("a", now=10) is None
    assert limiter.check("a", now=20) == pytest.approx(40)
    assert limiter.check("b", now=20) is None
    assert limiter.check("a", now=60.5) is None  # the first request left the window
    assert RateLimiter(0).check("a") is None  # 0: no limit


def test_rate_limit_429_in_swedish(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"rate_limit_per_minute": 2})
    with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:
        for _ in range(2):  # empty questions: answered (400) without loading any index
            _error(client.post("/api/ask", json={"question": ""}), 400, "bad_question")
        limited = client.post("/api/ask", json={"question": ""})
        error = _error(limited, 429, "rate_limited")
        assert "För många" in error["message"]
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        _error(client.get("/api/search", params={"q": "SIP"}), 429, "rate_limited")
        _error(client.post("/v1/chat/completions", json={"messages": []}), 429, "rate_limited")
        # A forged X-Forwarded-For from an untrusted peer does not make a new client.
        spoofed = client.post("/api/ask", json={"question": ""}, headers={"X-Forwarded-For": "198.51.100.9"})
        _error(spoofed, 429, "rate_limited")
        # Endpoints that do no work are not limited.
        assert client.get("/healthz").status_code == 200


def test_rate_limit_per_client_behind_a_trusted_proxy(tmp_path: Path) -> None:
    settings = Settings(
        home=tmp_path, service={"rate_limit_per_minute": 1, "trusted_proxies": ["127.0.0.0/8"]}
    )
    with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:

        def ask(ip: str) -> httpx.Response:
            return client.post("/api/ask", json={"question": ""}, headers={"X-Forwarded-For": ip})

        assert ask("10.20.0.1").status_code == 400
        assert ask("10.20.0.2").status_code == 400  # another colleague behind the same proxy
        assert ask("10.20.0.1").status_code == 429
        assert ask("10.20.0.3, 10.20.0.2").status_code == 429  # the proxy appended 10.20.0.2


# ------------------------------------------------------------------ CORS


def test_cors_allowlist(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"cors_origins": [ALLOWED]})
    with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:
        ok = client.get("/healthz", headers={"Origin": ALLOWED})
        assert ok.headers["access-control-allow-origin"] == ALLOWED
        refused = client.get("/healthz", headers={"Origin": "https://elak.example.com"})
        assert "access-control-allow-origin" not in refused.headers
        preflight = {
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        }
        allowed = client.options("/api/ask", headers={"Origin": ALLOWED, **preflight})
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == ALLOWED
        denied = client.options("/api/ask", headers={"Origin": "https://elak.example.com", **preflight})
        error = _error(denied, 403, "origin_refused")
        assert "webbplats" in error["message"].lower()
        assert "access-control-allow-origin" not in denied.headers
        # A simple POST from a refused origin is answered without the header: the browser hides it.
        post = client.post("/api/ask", json={"question": ""}, headers={"Origin": "https://elak.example.com"})
        assert "access-control-allow-origin" not in post.headers


def test_no_origins_configured_refuses_every_browser_origin(tmp_path: Path) -> None:
    with LiveServer(Settings(home=tmp_path)) as live:
        response = httpx.get(f"{live.url}/healthz", headers={"Origin": ALLOWED})
        assert "access-control-allow-origin" not in response.headers
        assert response.headers["x-content-type-options"] == "nosniff"


# ------------------------------------------------------------------ body limits


def test_body_limits_by_length_and_when_streamed(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"max_body_bytes": 1000})
    with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:
        big = {"answer_id": "a", "rating": "up", "comment": "x" * 1500}
        error = _error(client.post("/api/feedback", json=big), 413, "body_too_large")
        assert "för stor" in error["message"]

        def chunks():
            for _ in range(10):
                yield b" " * 200

        streamed = client.post(
            "/api/feedback", content=chunks(), headers={"content-type": "application/json"}
        )
        _error(streamed, 413, "body_too_large")
        small = client.post("/api/feedback", json={"answer_id": "a", "rating": "up"})
        assert small.status_code == 201


# ------------------------------------------------------------------ admin key, retention, restart


def test_admin_endpoints_are_off_without_a_key(tmp_path: Path) -> None:
    with LiveServer(Settings(home=tmp_path)) as live, httpx.Client(base_url=live.url) as client:
        error = _error(client.get("/api/stats", headers={"X-API-Key": "gissning"}), 403, "admin_disabled")
        assert "avstängd" in error["message"]
        _error(client.delete("/api/admin/usage"), 403, "admin_disabled")
        _error(client.post("/api/admin/reingest"), 403, "admin_disabled")
        _error(client.delete("/api/admin/documents/riktlinje-hok-2022"), 403, "admin_disabled")
        upload = client.post("/api/admin/documents", files={"file": ("a.txt", b"Text.", "text/plain")})
        _error(upload, 403, "admin_disabled")


def test_admin_key_is_checked(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"admin_api_key": "rätt-nyckel-123"})
    with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:
        _error(client.get("/api/stats"), 401, "unauthorized")
        _error(client.get("/api/stats", headers={"X-API-Key": "fel"}), 401, "unauthorized")
        _error(client.delete("/api/admin/usage", headers={"X-API-Key": "fel"}), 401, "unauthorized")
        ok = client.get("/api/stats", headers={"X-API-Key": "rätt-nyckel-123".encode()})
        assert ok.status_code == 200 and ok.json()["questions"] == 0


def test_feedback_survives_a_restart_and_admin_deletes_it(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"admin_api_key": "k"})
    with LiveServer(settings) as first:
        response = httpx.post(f"{first.url}/api/feedback", json={"answer_id": "svar-1", "rating": "up"})
        assert response.status_code == 201
    with (
        LiveServer(settings) as second,
        httpx.Client(base_url=second.url, headers={"X-API-Key": "k"}) as client,
    ):
        stats = client.get("/api/stats").json()
        assert stats["feedback"] == {"up": 1, "down": 0}
        assert [f.answer_id for f in second.service.usage.feedback()] == ["svar-1"]
        assert client.delete("/api/admin/usage").json() == {"deleted": 1}
        assert client.get("/api/stats").json()["feedback"] == {"up": 0, "down": 0}


def test_old_questions_are_purged_at_start_up(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"retention_days": 30})
    store = UsageStore.from_settings(settings)
    now = datetime.now(UTC)
    store.log_question("gammal", "Gammal fråga", abstained=True, at=now - timedelta(days=31))
    store.log_question("ny", "Ny fråga", abstained=False, at=now - timedelta(days=1))
    store.add_feedback("gammal", "down", at=now - timedelta(days=45))
    with LiveServer(settings):
        deadline = time.monotonic() + 10
        while store.stats(days=365)["questions"] != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
    assert store.stats(days=365)["questions"] == 1
    assert store.feedback() == []


def test_live_server_stops_and_frees_its_port(tmp_path: Path) -> None:
    live = LiveServer(Settings(home=tmp_path)).start()
    port = live.port
    assert httpx.get(f"{live.url}/healthz").status_code == 200
    live.stop()
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0


def test_without_an_index_the_service_says_so(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"cors_origins": [ALLOWED], "max_body_bytes": 500})
    with LiveServer(settings) as live, httpx.Client(base_url=live.url) as client:
        assert client.get("/healthz").status_code == 200
        error = _error(client.get("/readyz"), 503, "no_index")
        assert "index" in error["message"].lower() and "avtal ingest" in error["hint"]
        _error(client.post("/api/ask", json={"question": "Vad är SIP?"}), 503, "no_index")
        _error(client.get("/api/documents"), 503, "no_index")
        # Errors from the outer layers still reach an allowed page (CORS header present).
        big = client.post("/api/ask", json={"question": "x" * 600}, headers={"Origin": ALLOWED})
        _error(big, 413, "body_too_large")
        assert big.headers["access-control-allow-origin"] == ALLOWED
