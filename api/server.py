"""``avtal serve``: the service under uvicorn, with a masking access log instead of uvicorn's."""

from __future__ import annotations

import copy
import logging
from typing import Any

from avtal.errors import AvtalError
from avtal.settings import Settings

log = logging.getLogger("avtal.api")


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """Options every uvicorn that runs the app gets (the CLI, the tests, the load benchmark)."""
    from uvicorn.config import LOGGING_CONFIG

    log_config = copy.deepcopy(LOGGING_CONFIG)
    log_config["loggers"]["avtal"] = {"handlers": ["default"], "level": "INFO", "propagate": False}
    # Every record through uvicorn's handler is masked, whatever logger it comes from.
    log_config.setdefault("filters", {})["mask_personal_ids"] = {"()": "avtal.privacy.MaskingFilter"}
    for handler in log_config["handlers"].values():
        handler.setdefault("filters", []).append("mask_personal_ids")
    return {
        # uvicorn's own access log writes query strings (/api/search?q=...) verbatim; the app
        # logs every request itself with personal ids masked.
        "access_log": False,
        # X-Forwarded-For is interpreted by the app, only from settings.service.trusted_proxies.
        "proxy_headers": False,
        "server_header": False,
        "log_config": log_config,
        "timeout_graceful_shutdown": 5,
    }


def run_server(settings: Settings, host: str | None = None, port: int | None = None) -> None:
    """Serve the API until interrupted (blocking)."""
    import uvicorn

    from api.app import create_app

    app = create_app(settings)
    service = app.state.service
    try:
        service.assistant()  # load the index and models now: the first question is then fast
    except AvtalError as exc:
        logging.getLogger("avtal.api").warning("Indexet kunde inte laddas: %s", exc)
    uvicorn.run(
        app,
        host=host or settings.service.host,
        port=port if port is not None else settings.service.port,
        **uvicorn_options(settings),
    )
