"""The real app: `streamlit run` (the command `avtal ui` uses) on a free loopback port with the demo index,
driven by Debian's headless Chromium through Selenium. Screenshots are kept in tests/artifacts/."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from avtal.settings import Settings
from ui.launch import streamlit_command

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def app_url(demo_home: Path, tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {**os.environ, "AVTAL_HOME": str(demo_home), "AVTAL_SERVICE__HOST": "127.0.0.1"}
    shared = os.environ.get("AVTAL_TEST_EMBEDDING_CACHE")
    if shared:
        env["AVTAL_INDEX__EMBEDDING_CACHE_DIR"] = shared
    settings = Settings(home=demo_home)
    log = (tmp_path / "streamlit.log").open("wb")
    process = subprocess.Popen(
        streamlit_command(settings, port), env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("Streamlit did not start: " + (tmp_path / "streamlit.log").read_text()[-2000:])
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def chromium(width: int, height: int):  # type: ignore[no-untyped-def]
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-features=Translate,MediaRouter,OptimizationHints",
        f"--window-size={max(width, 500)},{height}",
        "--lang=sv-SE",
    ):
        options.add_argument(arg)
    if width < 500:  # a desktop window is at least 500 px wide: emulate the phone's viewport instead
        options.add_experimental_option(
            "mobileEmulation", {"deviceMetrics": {"width": width, "height": height, "pixelRatio": 1.0}}
        )
    # never let Selenium Manager look for (or download) a driver: Debian's chromedriver is given
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.mark.skipif(not (shutil.which(CHROMIUM) and shutil.which(CHROMEDRIVER)), reason="no chromium")
def test_answered_question_on_desktop_and_phone(app_url: str) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    ARTIFACTS.mkdir(exist_ok=True)
    for name, (width, height) in {"ui-answer.png": (1280, 1400), "ui-phone.png": (390, 844)}.items():
        driver = chromium(width, height)
        try:
            wait = WebDriverWait(driver, 90)
            driver.get(app_url)
            box = wait.until(
                ec.element_to_be_clickable((By.CSS_SELECTOR, "textarea[data-testid='stChatInputTextArea']"))
            )
            box.send_keys("Vem utser den samordnande vårdcentralen?")
            box.send_keys(Keys.ENTER)  # the keyboard is enough to ask
            wait.until(ec.presence_of_element_located((By.XPATH, "//*[contains(text(), 'Källor')]")))
            summary = wait.until(
                ec.element_to_be_clickable((By.CSS_SELECTOR, "[data-testid='stExpander'] summary"))
            )
            summary.click()

            def quoted(d: object) -> str:
                # the expander's content is laid out after it becomes visible: the highlighted
                # words may read empty for a moment on a loaded machine
                marks = d.find_elements(By.CSS_SELECTOR, "[data-testid='stExpander'] mark")  # type: ignore[attr-defined]
                return next((m.text.strip() for m in marks if m.is_displayed() and m.text.strip()), "")

            assert wait.until(quoted)  # the words the answer uses, highlighted in the clause
            body = driver.find_element(By.TAG_NAME, "body").text
            assert "utser tillsammans en samordnande vårdcentral" in body
            assert "Traceback" not in body
            if name == "ui-answer.png":
                # keyboard: from the opened source card, Tab reaches the copy button; Enter copies
                active = driver.switch_to.active_element
                for _ in range(6):
                    active.send_keys(Keys.TAB)
                    active = driver.switch_to.active_element
                    if "avtal-copy" in (active.get_attribute("class") or ""):
                        break
                assert "avtal-copy" in (active.get_attribute("class") or ""), (
                    "Tab never reached the copy button"
                )
                active.send_keys(Keys.ENTER)
                copied = driver.find_element(By.CSS_SELECTOR, "button.avtal-copy")
                WebDriverWait(driver, 5).until(lambda _, b=copied: b.text != "Kopiera svar med källor")
                assert copied.text == "Kopierat ✓"
            scroll_width = driver.execute_script("return document.documentElement.scrollWidth")
            assert scroll_width <= width + 10, f"the page scrolls sideways at {width}px ({scroll_width}px)"
            answer = driver.find_elements(By.CSS_SELECTOR, "[data-testid='stChatMessage']")[-1]
            driver.execute_script("arguments[0].scrollIntoView({block: 'start'});", answer)
            time.sleep(1)
            driver.save_screenshot(str(ARTIFACTS / name))
        finally:
            driver.quit()
