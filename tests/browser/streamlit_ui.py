"""Driving a Streamlit page in Playwright: wait for reruns (never a fixed sleep), fill widgets,
read what the page says, take full-page screenshots."""

from __future__ import annotations

import os
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from compliance.config import PROJECT_ROOT, Settings
from compliance.store import Store

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}
SCREENSHOTS = Path(os.environ.get("COMPLIANCE_SCREENSHOT_DIR", PROJECT_ROOT / "docs" / "screenshots"))
TIMEOUT = 180_000  # a shared 2-core machine under several test runs

# Counts every change of the app's script state, so a rerun that starts and ends between two
# polls is still seen.
_WATCH_RUNS = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__stRunChanges = 0;
  if (window.__stRunObserver) window.__stRunObserver.disconnect();
  window.__stRunObserver = new MutationObserver(records => { window.__stRunChanges += records.length; });
  window.__stRunObserver.observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
_IDLE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  return !!app && app.getAttribute('data-test-connection-state') === 'CONNECTED'
    && app.getAttribute('data-test-script-state') === 'notRunning'
    && !document.querySelector('[data-testid="stStatusWidget"] button')
    && !document.querySelector('[data-testid="stSkeleton"]')
    && [...document.querySelectorAll('[data-testid="stPlotlyChart"]')].every(c => c.querySelector('.main-svg'));
}"""


@dataclass(frozen=True)
class RunningApp:
    """A `streamlit run` of the dashboard and the store behind it."""

    url: str
    database_url: str
    data_dir: Path

    def store(self) -> Store:
        """The same store the app writes to, to assert on what was saved (not on what the page says)."""
        return Store.open(Settings(database_url=self.database_url, data_dir=self.data_dir,
                                   policy_dir=PROJECT_ROOT / "policies"), seed=False)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def settle(page: Any) -> None:
    """Wait until Streamlit is connected, not running, and has drawn its skeletons and charts."""
    page.wait_for_function(_IDLE, timeout=TIMEOUT)


def after_rerun(page: Any, action: Callable[[], Any]) -> None:
    """Do something that makes Streamlit rerun, then wait until that rerun has finished."""
    page.evaluate(_WATCH_RUNS)
    action()
    page.wait_for_function("() => window.__stRunChanges > 0", timeout=TIMEOUT)
    settle(page)


def visit(page: Any, server: RunningApp, path: str, text: str) -> None:
    """Open a page of the app and wait until `text` is shown and the run has finished."""
    page.goto(f"{server.url}/{path}")
    page.get_by_text(text).first.wait_for(timeout=TIMEOUT)
    settle(page)


def main_text(page: Any) -> str:
    return str(page.locator("[data-testid='stMain']").inner_text())


def exceptions(page: Any) -> list[str]:
    """Tracebacks shown on the page (there must be none)."""
    return [str(t) for t in page.locator("[data-testid='stException']").all_inner_texts()]


def screenshot(page: Any, name: str) -> Path:
    """A full-page screenshot in docs/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def text_input(page: Any, label: str) -> Any:
    return page.get_by_label(label, exact=True)


def fill_and_apply(page: Any, label: str, value: str) -> None:
    """Type into a text or number input and press Enter, as a user does; waits for the rerun."""
    box = text_input(page, label)
    box.fill(value)
    after_rerun(page, lambda: box.press("Enter"))


def maybe_rerun(page: Any, action: Callable[[], Any], timeout: int = 5_000) -> bool:
    """Do something that may or may not make Streamlit rerun (an unchanged value does not); wait for the
    rerun if one starts within `timeout` ms, then for the page to settle."""
    page.evaluate(_WATCH_RUNS)
    action()
    try:
        page.wait_for_function("() => window.__stRunChanges > 0", timeout=timeout)
    except Exception:  # no rerun started: nothing to wait for
        settle(page)
        return False
    settle(page)
    return True


def fill_single(page: Any, label: str, value: str, *, typed: bool = False) -> Any:
    """Fill the one input labelled `label` and return it. After a save, Streamlit draws the new form
    (new widget keys) before it removes the old one, so for a moment the page can show two: wait for
    one, and fill again when the page redrew between the count and the fill. `typed`: key by key, as
    a person types (a number box drops what is not a number)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import expect

    for _ in range(30):
        box = page.get_by_label(label, exact=True)
        expect(box).to_have_count(1, timeout=TIMEOUT)
        try:
            box.fill("")
            if typed:
                box.press_sequentially(value)
            else:
                box.fill(value)
        except PlaywrightError as exc:
            if "strict mode violation" not in str(exc):
                raise
            settle(page)
            continue
        settle(page)
        if box.count() == 1:
            return box
    raise AssertionError(f"the page kept showing more than one {label!r} input")


def type_date(page: Any, label: str, digits: str) -> None:
    """Type a date into Streamlit's segmented date field (year, month, day) and Tab out, as a user does."""
    page.locator(f'[role="spinbutton"][aria-label="year, {label}"]').click()
    page.keyboard.type(digits)
    page.keyboard.press("Tab")
