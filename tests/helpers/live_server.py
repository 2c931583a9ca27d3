"""A real uvicorn server for tests, on a free loopback port, in a background thread::

    with LiveServer(Settings(home=demo_home)) as server:
        httpx.get(f"{server.url}/healthz")

Keyword arguments go to ``api.app.create_app`` (e.g. ``assistant=``). ``server.app`` and
``server.service`` give the test access to the running app's state.
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import uvicorn

from api.app import create_app
from api.server import uvicorn_options
from avtal.settings import Settings


class LiveServer:
    def __init__(self, settings: Settings, *, log_level: str = "warning", **create_app_kwargs: Any) -> None:
        self.settings = settings
        self.app = create_app(settings, **create_app_kwargs)
        options = uvicorn_options(settings)
        options["log_config"] = None  # leave the test's logging alone (caplog sees avtal.access)
        self._config = uvicorn.Config(self.app, log_level=log_level, lifespan="on", **options)
        self._server = uvicorn.Server(self._config)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        self.port: int = self._socket.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [self._socket]}, daemon=True, name="live-server"
        )

    @property
    def service(self) -> Any:
        return self.app.state.service

    def start(self, timeout: float = 30.0) -> LiveServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the live server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=15)
        self._socket.close()

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def parse_sse(text: str) -> list[tuple[str, Any]]:
    """Server-sent events as (event name, parsed JSON data) pairs; ``[DONE]`` stays a string."""
    import json

    events: list[tuple[str, Any]] = []
    for block in text.replace("\r\n", "\n").split("\n\n"):
        name, data = "message", []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data.append(line[5:].strip())
        if data:
            raw = "\n".join(data)
            events.append((name, raw if raw == "[DONE]" else json.loads(raw)))
    return events
