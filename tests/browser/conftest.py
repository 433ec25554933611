"""Shared browser fixtures: one `streamlit run` per test module on a private copy of the example
store, Debian's Chromium through Playwright, and desktop/phone pages.

Helpers that drive a page (waiting for Streamlit's reruns, typing into widgets) live in
tests/browser/streamlit_ui.py; import them from there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from compliance.config import PROJECT_ROOT
from tests.browser.streamlit_ui import CHROMIUM, DESKTOP, PHONE, RunningApp, free_port

if not Path(CHROMIUM).exists():
    pytest.skip("browser tests need Debian's chromium (apt-get install -y chromium; ./test.sh does this as root)",
                allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")


def start_app(tmp: Path) -> tuple[RunningApp, subprocess.Popen[bytes]]:
    """`streamlit run app.py` on a private SQLite store seeded from a copy of data/."""
    data = tmp / "data"
    shutil.copytree(PROJECT_ROOT / "data", data, ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    port = free_port()
    database_url = f"sqlite:///{tmp / 'browser.db'}"
    env = {**os.environ, "COMPLIANCE_DATABASE_URL": database_url, "COMPLIANCE_DATA_DIR": str(data),
           "COMPLIANCE_POLICY_DIR": str(PROJECT_ROOT / "policies")}
    env.pop("COMPLIANCE_ROLES_FILE", None)
    streamlit = PROJECT_ROOT / ".venv" / "bin" / "streamlit"
    log = (tmp / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [str(streamlit) if streamlit.exists() else "streamlit", "run", "app.py", "--server.headless=true",
         "--server.address=127.0.0.1", f"--server.port={port}", "--browser.gatherUsageStats=false",
         "--server.fileWatcherType=none"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return RunningApp(url, database_url, data), process
        except OSError:
            time.sleep(0.2)  # polling the server's health endpoint, not waiting on the page
    process.kill()
    pytest.fail(f"streamlit did not start: {(tmp / 'streamlit.log').read_text(errors='replace')[-2000:]}")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningApp]:
    """The app, once per test module, on its own store (tests in a module share its state)."""
    app, process = start_app(tmp_path_factory.mktemp("browser"))
    yield app
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()


@pytest.fixture
def new_page(browser: object) -> Iterator[Callable[..., object]]:
    """Open pages in fresh browser contexts (separate sessions, like two people or two tabs)."""
    contexts: list[object] = []

    def opened(viewport: dict[str, int] = DESKTOP) -> object:
        context = browser.new_context(viewport=viewport, accept_downloads=True)  # type: ignore[attr-defined]
        contexts.append(context)
        return context.new_page()

    yield opened
    for context in contexts:
        context.close()  # type: ignore[attr-defined]


@pytest.fixture
def page(new_page: Callable[..., object]) -> object:
    """A desktop-sized page (1440 x 900)."""
    return new_page(DESKTOP)


@pytest.fixture
def phone(new_page: Callable[..., object]) -> object:
    """A phone-sized page (390 x 844)."""
    return new_page(PHONE)
