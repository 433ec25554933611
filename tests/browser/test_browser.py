"""The dashboard in a real browser: Debian's Chromium driven by Playwright, against `streamlit run`.

Skipped with a message when Chromium is not installed; `./test.sh` installs it when it can
(as root), and CI always can. Each page's screenshot is saved under docs/screenshots/.
"""

from __future__ import annotations

import csv
import io
from datetime import date, timedelta
from pathlib import Path

import pytest

from tests.browser.streamlit_ui import RunningApp, exceptions, screenshot, visit

PAGES = {"overview": "", "providers": "providers", "routes": "routes", "checker": "checker",
         "policies": "policies", "costs": "costs", "audit": "audit", "records": "records", "models": "models",
         "code": "code"}


@pytest.mark.parametrize(("name", "title"), [("overview", "LLM compliance overview"), ("providers", "Providers & DPAs"),
                                             ("routes", "Who is in the DPA chain"), ("checker", "Declared flows"),
                                             ("policies", "Policy tests"), ("costs", "B2B vs consumer"),
                                             ("audit", "Audit log"),
                                             ("records", "Records of processing (GDPR Art. 30)"),
                                             ("models", "Portfolio"), ("code", "No scan recorded yet")])
def test_each_page_opens_and_is_captured(page: object, server: RunningApp, name: str, title: str) -> None:
    visit(page, server, PAGES[name], title)
    assert not exceptions(page)
    screenshot(page, name)


def test_route_check_answers_with_the_deciding_rule(page: object, server: RunningApp) -> None:
    visit(page, server, "checker?feature=dating-profile-match", "Declared flows")
    body = page.locator("[data-testid='stMain']").inner_text()  # type: ignore[attr-defined]
    assert "routes allowed" in body
    assert "violation" in body and "Dating profile matching is a consumer feature" in body


def test_editing_a_dpa_expiry_changes_the_alert(page: object, server: RunningApp) -> None:
    new_expiry = (date.today() + timedelta(days=30)).isoformat()
    visit(page, server, "", "Alerts (")
    assert f"DPA with Google Cloud expires on {new_expiry}" not in page.inner_text("body")  # type: ignore[attr-defined]
    visit(page, server, "providers?id=google", "Provider details")
    # Streamlit's date input is a segmented field: type year, month and day into its year segment.
    page.locator('[role="spinbutton"][aria-label="year, DPA expires on"]').click()  # type: ignore[attr-defined]
    page.keyboard.type(new_expiry.replace("-", ""))  # type: ignore[attr-defined]
    page.keyboard.press("Tab")  # type: ignore[attr-defined]
    page.get_by_label("Reason for the change (required; recorded in the audit log)").fill("renewal")  # type: ignore[attr-defined]
    page.get_by_role("button", name="Save changes").click()  # type: ignore[attr-defined]
    page.get_by_text("Saved Google Cloud").first.wait_for(timeout=30_000)  # type: ignore[attr-defined]
    visit(page, server, "", "Alerts (")
    assert f"DPA with Google Cloud expires on {new_expiry} (in 30 days)" in page.inner_text("body")  # type: ignore[attr-defined]


def test_matrix_csv_downloads(page: object, server: RunningApp) -> None:
    visit(page, server, "checker", "Decision matrix")
    with page.expect_download(timeout=60_000) as download:  # type: ignore[attr-defined]
        page.get_by_role("button", name="Download the whole matrix (CSV)").click()  # type: ignore[attr-defined]
    path = download.value.path()
    rows = list(csv.DictReader(io.StringIO(Path(path).read_text())))
    stored = server.store().read()  # every feature x category x route of the store, once each
    assert len(rows) == len(stored.features) * len(stored.categories) * len(stored.routes)
    assert len({(r["feature"], r["category"], r["route"]) for r in rows}) == len(rows)
    assert list(rows[0]) == ["as_of", "feature", "category", "route", "decision", "rules", "waived_by"]
    assert {r["decision"] for r in rows} == {"allow", "deny"}
