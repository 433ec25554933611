"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against `streamlit run`.

Skipped with a message when Chromium is not installed; `./test.sh` installs it when it can
(as root), and CI always can. Each page's screenshot is saved under docs/screenshots/.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from compliance.config import PROJECT_ROOT

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("browser tests need Debian's chromium (apt-get install -y chromium; ./test.sh does this as root)",
                allow_module_level=True)
playwright = pytest.importorskip("playwright.sync_api")

SCREENSHOTS = Path(os.environ.get("COMPLIANCE_SCREENSHOT_DIR", PROJECT_ROOT / "docs" / "screenshots"))
PAGES = {"overview": "", "providers": "providers", "routes": "routes", "checker": "checker",
         "policies": "policies", "costs": "costs", "audit": "audit"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("browser")
    data = tmp / "data"
    shutil.copytree(PROJECT_ROOT / "data", data, ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    port = free_port()
    env = {**os.environ, "COMPLIANCE_DATABASE_URL": f"sqlite:///{tmp / 'browser.db'}",
           "COMPLIANCE_DATA_DIR": str(data), "COMPLIANCE_POLICY_DIR": str(PROJECT_ROOT / "policies")}
    process = subprocess.Popen(
        [str(PROJECT_ROOT / ".venv" / "bin" / "streamlit") if (PROJECT_ROOT / ".venv").exists() else "streamlit",
         "run", "app.py", "--server.headless=true", "--server.address=127.0.0.1", f"--server.port={port}",
         "--browser.gatherUsageStats=false", "--server.fileWatcherType=none"],
        cwd=PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.2)
    else:
        process.kill()
        pytest.fail(f"streamlit did not start: {process.stderr.read().decode() if process.stderr else ''}")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser(server: str) -> Iterator[object]:
    with playwright.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)  # type: ignore[attr-defined]
    opened = context.new_page()
    yield opened
    context.close()


def settle(page: object) -> None:
    """Wait until Streamlit has finished the run and drawn its tables and charts."""
    page.wait_for_load_state("networkidle")  # type: ignore[attr-defined]
    page.wait_for_function(  # type: ignore[attr-defined]
        "() => !document.querySelector('[data-testid=\"stStatusWidget\"]') && "
        "!document.querySelector('[data-testid=\"stSkeleton\"]')", timeout=60_000)
    page.wait_for_timeout(1500)  # type: ignore[attr-defined]


def visit(page: object, server: str, path: str, text: str) -> None:
    page.goto(f"{server}/{path}")  # type: ignore[attr-defined]
    page.get_by_text(text).first.wait_for(timeout=60_000)  # type: ignore[attr-defined]
    settle(page)


@pytest.mark.parametrize(("name", "title"), [("overview", "LLM compliance overview"), ("providers", "Providers & DPAs"),
                                             ("routes", "Who is in the DPA chain"), ("checker", "Declared flows"),
                                             ("policies", "Policy tests"), ("costs", "B2B vs consumer"),
                                             ("audit", "Audit log")])
def test_each_page_opens_and_is_captured(page: object, server: str, name: str, title: str) -> None:
    visit(page, server, PAGES[name], title)
    assert page.locator("[data-testid='stException']").count() == 0  # type: ignore[attr-defined]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)  # type: ignore[attr-defined]


def test_route_check_answers_with_the_deciding_rule(page: object, server: str) -> None:
    visit(page, server, "checker?feature=dating-profile-match", "Declared flows")
    body = page.locator("[data-testid='stMain']").inner_text()  # type: ignore[attr-defined]
    assert "routes allowed" in body
    assert "violation" in body and "consumer features may not send Sexual orientation" in body


def test_editing_a_dpa_expiry_changes_the_alert(page: object, server: str) -> None:
    new_expiry = (date.today() + timedelta(days=30)).isoformat()
    visit(page, server, "", "Alerts (")
    assert f"DPA with Google Cloud expires on {new_expiry}" not in page.inner_text("body")  # type: ignore[attr-defined]
    visit(page, server, "providers?id=google", "Provider details")
    # Streamlit's date input is a segmented field: type year, month and day into its year segment.
    page.locator('[role="spinbutton"][aria-label="year, DPA expires on"]').click()  # type: ignore[attr-defined]
    page.keyboard.type(new_expiry.replace("-", ""))  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save changes").click()  # type: ignore[attr-defined]
    page.get_by_text("Saved Google Cloud").wait_for(timeout=30_000)  # type: ignore[attr-defined]
    visit(page, server, "", "Alerts (")
    assert f"DPA with Google Cloud expires on {new_expiry} (in 30 days)" in page.inner_text("body")  # type: ignore[attr-defined]


def test_matrix_csv_downloads(page: object, server: str) -> None:
    visit(page, server, "checker", "Decision matrix")
    with page.expect_download(timeout=60_000) as download:  # type: ignore[attr-defined]
        page.get_by_role("button", name="Download the whole matrix (CSV)").click()  # type: ignore[attr-defined]
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    assert len(rows) == 11 * 70 * 19
    assert {"feature", "category", "route", "decision", "rule"} == set(rows[0])
    assert {r["decision"] for r in rows} == {"allow", "deny"}
