"""The widget's routes over a real uvicorn server: /widget.js, /widget/demo, /api/faq."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from avtal.faq import load_faq
from avtal.settings import Settings
from tests.helpers.live_server import LiveServer

ALLOWED = "http://intranat.example.se"
WIDGET_JS = Path(__file__).resolve().parents[1] / "ui" / "widget" / "widget.js"


@pytest.fixture()
def server(settings: Settings) -> Iterator[LiveServer]:
    # No index is needed: these routes never load the assistant.
    with LiveServer(Settings(home=settings.home, service={"cors_origins": [ALLOWED]})) as live:
        yield live


def test_widget_js_is_javascript_with_cache_headers_and_revalidates(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/widget.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.content == WIDGET_JS.read_bytes()
    cache = response.headers["cache-control"]
    assert "max-age=" in cache and "no-store" not in cache
    # Loadable by <script> tags on other origins.
    assert response.headers["cross-origin-resource-policy"] == "cross-origin"
    etag = response.headers["etag"]
    again = httpx.get(f"{server.url}/widget.js", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert httpx.get(f"{server.url}/widget.js", headers={"If-None-Match": '"other"'}).status_code == 200


def test_widget_js_builds_its_dom_from_text_and_loads_nothing_external() -> None:
    source = WIDGET_JS.read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, sink
    # The only absolute URL is the SVG namespace: no fonts, images or scripts from elsewhere.
    urls = set(re.findall(r"https?://[^\s\"']+", source.split("*/", 1)[1]))
    assert urls == {"http://www.w3.org/2000/svg"}
    assert '"X-Avtal-Channel": "widget"' in source
    assert "attachShadow" in source


def test_demo_page_embeds_the_widget_with_one_script_tag(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/widget/demo")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert '<html lang="sv">' in page
    tags = re.findall(r"<script\b[^>]*>", page)
    assert len(tags) == 1, tags
    assert 'src="/widget.js"' in tags[0] and 'data-faq="vanliga"' in tags[0] and " defer" in tags[0]
    # The embed snippet shown to intranet editors names this server, as text.
    assert f'&lt;script src="{server.url}/widget.js"' in page


def test_demo_page_escapes_its_query_parameters(server: LiveServer) -> None:
    hostile = '"><script>alert(1)</script>'
    page = httpx.get(f"{server.url}/widget/demo", params={"faq": hostile, "documents": hostile}).text
    assert "<script>alert(1)</script>" not in page
    assert len(re.findall(r"<script\b", page)) == 1
    assert 'data-faq="&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in page


def test_faq_sections_come_from_the_faq_file(server: LiveServer) -> None:
    faq = load_faq(None)
    response = httpx.get(f"{server.url}/api/faq")
    assert response.status_code == 200
    assert response.json() == faq.to_dict()
    first = faq.sections[1]
    one = httpx.get(f"{server.url}/api/faq/{first.id}")
    assert one.status_code == 200
    assert one.json() == first.to_dict()


def test_unknown_faq_section_is_a_404_in_the_error_shape(server: LiveServer) -> None:
    response = httpx.get(f"{server.url}/api/faq/finns-inte")
    assert response.status_code == 404
    error = response.json()["error"]
    assert error["code"] == "not_found"
    assert "finns-inte" in error["message"]
    assert "vanliga" in error["hint"]  # names the sections that exist


def test_faq_file_setting_is_honoured(tmp_path: Path, settings: Settings) -> None:
    path = tmp_path / "faq.json"
    data = {"sections": [{"id": "egen", "title": "Egen sektion", "questions": ["Vad är en SIP?"]}]}
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with LiveServer(Settings(home=settings.home, service={"faq_file": path})) as live:
        body = httpx.get(f"{live.url}/api/faq/egen").json()
        assert body["questions"] == ["Vad är en SIP?"]
        assert httpx.get(f"{live.url}/api/faq/vanliga").status_code == 404


def test_the_widget_may_call_the_api_from_allowed_origins_only(server: LiveServer) -> None:
    """The preflight the widget's POST triggers (JSON body, X-Avtal-Channel header)."""
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,x-avtal-channel",
    }
    allowed = httpx.options(f"{server.url}/api/ask", headers={"Origin": ALLOWED, **preflight})
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == ALLOWED
    assert "x-avtal-channel" in allowed.headers["access-control-allow-headers"].lower()
    other = "http://annan.example.com"
    refused = httpx.options(f"{server.url}/api/ask", headers={"Origin": other, **preflight})
    assert refused.status_code == 403
    assert "access-control-allow-origin" not in refused.headers
    # The FAQ the widget reads is guarded the same way.
    faq = httpx.get(f"{server.url}/api/faq", headers={"Origin": other})
    assert "access-control-allow-origin" not in faq.headers
    faq_ok = httpx.get(f"{server.url}/api/faq", headers={"Origin": ALLOWED})
    assert faq_ok.headers["access-control-allow-origin"] == ALLOWED
