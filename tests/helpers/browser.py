"""A real headless Chromium for browser tests (Debian's chromium and chromium-driver, via Selenium).

Selenium Manager is never used (it would download a driver): the driver path is explicit and
``SE_OFFLINE`` is set. Tests are skipped with a clear reason when the binaries are absent
locally; CI installs them (.ci/run)::

    from tests.helpers.browser import chromium

    with chromium() as driver:
        driver.get(url)
        root = driver.find_element(By.CSS_SELECTOR, "avtal-widget").shadow_root

or use the ``browser`` fixture factory in a module: ``browser = browser_fixture()``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"


def _first_existing(env: str, candidates: tuple[str, ...]) -> str | None:
    explicit = os.environ.get(env)
    if explicit:
        return explicit if Path(explicit).exists() else None
    return next((c for c in candidates if Path(c).exists()), None)


def binaries() -> tuple[str, str] | None:
    """(chromium, chromedriver) paths, or None when either is missing."""
    browser = _first_existing("AVTAL_TEST_CHROMIUM", CHROMIUM_CANDIDATES)
    driver = _first_existing("AVTAL_TEST_CHROMEDRIVER", CHROMEDRIVER_CANDIDATES)
    return (browser, driver) if browser and driver else None


def require_chromium() -> tuple[str, str]:
    found = binaries()
    if found is None:
        pytest.skip(
            "Chromium not installed: apt-get install chromium chromium-driver "
            "(or set AVTAL_TEST_CHROMIUM / AVTAL_TEST_CHROMEDRIVER)"
        )
    return found


@contextlib.contextmanager
def chromium(width: int = 1280, height: int = 900, lang: str = "sv-SE") -> Iterator[Any]:
    """A headless Chromium driven by Selenium; quits (and removes its profile) on exit."""
    browser, driver_path = require_chromium()
    os.environ["SE_OFFLINE"] = "true"  # never let Selenium Manager look for a driver online
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="avtal-chromium-")
    options = Options()
    options.binary_location = browser
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        "--disable-gpu",
        "--disable-extensions",
        # The machine has no internet: no background fetches, updates, sync or metrics.
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-domain-reliability",
        "--disable-client-side-phishing-detection",
        "--metrics-recording-only",
        "--no-first-run",
        "--no-default-browser-check",
        "--no-pings",
        "--password-store=basic",
        f"--lang={lang}",
        f"--window-size={width},{height}",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path=driver_path)
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    try:
        yield driver
    finally:
        with contextlib.suppress(Exception):
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def screenshot(driver: Any, name: str) -> Path:
    """Save a PNG under tests/artifacts/ (git-ignored) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def wait_for(
    condition: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1, what: str = ""
) -> Any:
    """Poll ``condition`` until it returns something truthy; fail the test after ``timeout``.

    Exceptions from the condition (an element not there yet) count as "not yet"."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while True:
        try:
            value = condition()
            if value:
                return value
        except Exception as exc:  # the DOM is still changing
            last_error = exc
        if time.monotonic() > deadline:
            detail = f" (last error: {last_error!r})" if last_error else ""
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what or condition}{detail}")
        time.sleep(interval)


def browser_fixture(scope: str = "module") -> Any:
    """A pytest fixture yielding one Chromium per module (the machine has two cores)."""

    @pytest.fixture(scope=scope)  # type: ignore[call-overload]
    def browser() -> Iterator[Any]:
        with chromium() as driver:
            yield driver

    return browser
