"""What one running service holds: settings, the (lazily loaded) assistant, the usage store,
the rate limiter, and the one way to run assistant work off the event loop with a time limit."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import anyio
import anyio.to_thread

from api.errors import AnswerTimeout
from api.protection import RateLimiter
from avtal.settings import Settings
from avtal.usage import UsageStore

if TYPE_CHECKING:
    from assistant.core import Assistant

log = logging.getLogger("avtal.api")
T = TypeVar("T")

TIMEOUT_MESSAGE = "Svaret tog för lång tid och avbröts."


class Service:
    """Shared by all requests of one app. The assistant is loaded once, on first use."""

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self.settings = settings
        self._assistant = assistant
        self._load_lock = threading.Lock()
        # Assistant.ask memoises and mutates per-question state and the retriever shares one
        # Chroma client: answers run one at a time (the work is CPU-bound anyway).
        self._work_lock = threading.Lock()
        self.usage = UsageStore.from_settings(settings)
        self.limiter = RateLimiter(settings.service.rate_limit_per_minute)
        self.admin_lock = threading.Lock()  # one ingest at a time

    @property
    def loaded(self) -> bool:
        return self._assistant is not None

    def assistant(self) -> Assistant:
        """The assistant over the current index version (loads it the first time)."""
        if self._assistant is None:
            with self._load_lock:
                if self._assistant is None:
                    from assistant.core import Assistant

                    started = time.perf_counter()
                    self._assistant = Assistant.from_settings(self.settings)
                    log.info("assistant loaded in %.1f s", time.perf_counter() - started)
        return self._assistant

    def reload(self) -> Assistant:
        """Open the newest index version (after an ingest) and use it for the next requests."""
        from assistant.core import Assistant

        fresh = Assistant.from_settings(self.settings)
        with self._load_lock:
            # Requests still running finish on the old assistant (and its LLM client); it is
            # dropped when they are done.
            self._assistant = fresh
        return fresh

    async def get_assistant(self) -> Assistant:
        if self._assistant is not None:
            return self._assistant
        return await anyio.to_thread.run_sync(self.assistant)

    async def run(self, work: Callable[[Assistant], T], *, timeout: float | None = None) -> T:
        """Run ``work(assistant)`` in a worker thread, one at a time, within the answer time limit.

        A request that runs out of time gets ``AnswerTimeout`` (504); its thread finishes in the
        background and frees the lock for the next one.
        """
        assistant = await self.get_assistant()
        limit = self.settings.service.answer_timeout_s if timeout is None else timeout
        deadline = time.monotonic() + limit

        def locked() -> T:
            if not self._work_lock.acquire(timeout=max(0.0, deadline - time.monotonic())):
                raise AnswerTimeout(TIMEOUT_MESSAGE)
            try:
                if time.monotonic() >= deadline:
                    raise AnswerTimeout(TIMEOUT_MESSAGE)
                return work(assistant)
            finally:
                self._work_lock.release()

        try:
            with anyio.fail_after(limit):
                return await anyio.to_thread.run_sync(locked, abandon_on_cancel=True)
        except TimeoutError:
            raise AnswerTimeout(TIMEOUT_MESSAGE) from None

    def log_question(self, answer: Any, question: str, channel: str) -> None:
        """Remember the (masked) question for the statistics; never fails the request."""
        try:
            self.usage.log_question(
                answer.id,
                question,
                abstained=answer.abstained,
                confidence=answer.confidence,
                audience=answer.audience,
                channel=channel,
            )
        except Exception as exc:  # the statistics must not cost the user the answer
            log.warning("question could not be logged: %s", type(exc).__name__)
