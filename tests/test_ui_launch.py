"""`avtal ui`: the Streamlit command line binds to the configured host, keeps statistics off."""

from __future__ import annotations

from avtal.settings import Settings
from ui.launch import APP, streamlit_command


def test_streamlit_command_is_local_headless_and_without_usage_statistics(settings: Settings) -> None:
    command = streamlit_command(settings)
    flags = dict(zip(command[5::2], command[6::2], strict=False))
    assert command[2:5] == ["streamlit", "run", str(APP)]
    assert flags["--server.address"] == "127.0.0.1"
    assert flags["--server.port"] == "8501"
    assert flags["--browser.gatherUsageStats"] == "false"
    assert flags["--server.headless"] == "true"


def test_the_port_can_be_chosen(monkeypatch) -> None:
    monkeypatch.setenv("AVTAL_SERVICE__HOST", "0.0.0.0")
    command = streamlit_command(Settings(), port=9999)
    assert "9999" in command and "0.0.0.0" in command
