"""`avtal ui`: the Streamlit staff UI as a subprocess, by default with the HTTP API beside it.

Both bind to ``settings.service.host`` (localhost by default); Streamlit's usage statistics are off.
Ctrl-C stops both. The UI itself does not need the API (it calls the assistant in-process); the API
serves the clause pages the UI links to.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from avtal.errors import ConfigurationError

APP = Path(__file__).resolve().parent / "app.py"


def streamlit_command(settings: Any, port: int | None = None) -> list[str]:
    """The `streamlit run` command line for the UI."""
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(APP),
        "--server.address",
        settings.service.host,
        "--server.port",
        str(port or settings.service.ui_port),
        "--browser.gatherUsageStats",
        "false",
        "--server.headless",
        "true",
        "--server.fileWatcherType",
        "none",
        "--global.developmentMode",
        "false",
        "--client.toolbarMode",
        "viewer",
    ]


def api_available() -> bool:
    return importlib.util.find_spec("api.server") is not None


def _stop(process: subprocess.Popen[bytes], name: str) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        print(f"{name} stannade inte, avslutar den.", file=sys.stderr)
        process.kill()
        process.wait(timeout=5)


def _interrupt_on_term() -> None:
    """Ctrl-C and `kill` (SIGTERM) both end in the clean-up below, also when started in the background."""

    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupt)


def run_ui(settings: Any, port: int | None = None, with_api: bool = True) -> None:
    """Start the Streamlit UI (and the API unless ``with_api`` is False); block until Ctrl-C."""
    if importlib.util.find_spec("streamlit") is None:
        raise ConfigurationError(
            "Streamlit är inte installerat.", "Installera projektet på nytt: `make install`."
        )
    _interrupt_on_term()
    env = {**os.environ, "AVTAL_HOME": str(settings.home), "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false"}
    processes: list[tuple[str, subprocess.Popen[bytes]]] = []
    ui_port = port or settings.service.ui_port
    host = settings.service.host
    shown_host = "localhost" if host in ("127.0.0.1", "::1") else host
    try:
        if with_api:
            if api_available():
                api = subprocess.Popen([sys.executable, "-m", "avtal.cli", "serve"], env=env)
                processes.append(("API:t", api))
                print(f"API:t startar på http://{shown_host}:{settings.service.port}", file=sys.stderr)
            else:
                print(
                    "API:t finns inte i den här installationen ännu (api.server saknas); startar bara "
                    "webbgränssnittet. Länkarna till avsnittssidorna fungerar först när API:t körs.",
                    file=sys.stderr,
                )
        ui = subprocess.Popen(streamlit_command(settings, ui_port), env=env)
        processes.append(("Webbgränssnittet", ui))
        print(
            f"Webbgränssnittet startar på http://{shown_host}:{ui_port} (avsluta med Ctrl-C).",
            file=sys.stderr,
        )
        while True:
            for name, process in processes:
                code = process.poll()
                if code is not None:
                    if name == "API:t" and code != 0:
                        print(
                            f"API:t avslutades (kod {code}); webbgränssnittet fortsätter utan det.",
                            file=sys.stderr,
                        )
                        processes.remove((name, process))
                        break
                    if name == "Webbgränssnittet":
                        return
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nAvslutar …", file=sys.stderr)
    finally:
        for name, process in reversed(processes):
            _stop(process, name)
