"""Legal's journeys in a real browser, asserting on the store: renewing a DPA with its evidence,
two tabs editing one provider, typed dates, the auditors' export, and hostile input on every field."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest

from compliance.store.audit import export_text, list_events
from tests.browser.streamlit_ui import (
    PHONE,
    RunningApp,
    after_rerun,
    exceptions,
    main_text,
    maybe_rerun,
    screenshot,
    settle,
    type_date,
    visit,
)

REASON = "Reason for the change (required; recorded in the audit log)"


def provider(server: RunningApp, pid: str) -> Any:
    return next(p for p in server.store().read().providers if p.id == pid)


def pick_in_form(page: Any, label: str, option: str) -> None:
    """Choose an option of a select box inside a form (no rerun until the form is saved). A click that
    lands while the page is still drawing does not open the list: open it again, as a person would."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text(label, exact=True)).first
    choice = page.get_by_role("option", name=option, exact=True).first
    for _ in range(5):
        settle(page)
        box.click()
        try:
            choice.wait_for(timeout=10_000)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        choice.click()
        return
    raise AssertionError(f"the {label!r} list never showed {option!r}")


def save(page: Any, reason: str) -> None:
    page.get_by_label(REASON).fill(reason)
    after_rerun(page, lambda: page.get_by_role("button", name="Save changes").click())


def test_legal_renews_a_dpa_with_its_evidence_and_the_alert_goes(page: Any, server: RunningApp) -> None:
    visit(page, server, "", "Alerts (")
    # The example store records the Anthropic DPA as expired (status expired, ended on 2026-10-31).
    assert "DPA with Anthropic is marked expired (ended on 2026-10-31)" in main_text(page)
    renewed = date.today() + timedelta(days=730)
    visit(page, server, "providers?id=anthropic", "Provider details")
    pick_in_form(page, "DPA status", "signed")  # a renewal is a signed agreement again, as legal records it
    type_date(page, "DPA expires on", renewed.strftime("%Y%m%d"))
    page.get_by_label("DPA document link").fill("https://example.com/anthropic-dpa-v3.pdf")
    page.get_by_label("DPA notes").fill("Renewed: v3 countersigned by both parties.")
    page.get_by_label("DPA version").fill("DPA v3")
    save(page, "DPA renewed for two years (LEGAL-42)")
    assert not exceptions(page)
    dpa = provider(server, "anthropic").dpa
    assert (dpa.status.value, dpa.expires_on, dpa.version) == ("signed", renewed, "DPA v3")
    assert dpa.document == "https://example.com/anthropic-dpa-v3.pdf"
    assert dpa.notes == "Renewed: v3 countersigned by both parties."
    with server.store().session() as session:
        last = list_events(session, limit=1)[0]
    assert (last.entity_id, last.reason) == ("anthropic", "DPA renewed for two years (LEGAL-42)")
    visit(page, server, "", "Alerts (")
    text = main_text(page)
    assert "DPA with Anthropic is marked expired" not in text and "DPA with Anthropic expire" not in text


def test_two_tabs_never_silently_revert_each_other(new_page: Callable[..., Any], server: RunningApp) -> None:
    first, second = new_page(), new_page()
    for tab in (first, second):
        visit(tab, server, "providers?id=google", "Provider details")
    first.get_by_label("owner", exact=True).fill("first tab")
    save(first, "owner changed in the first tab")
    assert provider(server, "google").owner == "first tab"

    second.get_by_label("DPA version").fill("second tab version")
    save(second, "version changed in the second tab")
    assert "changed by someone else" in main_text(second)
    stored = provider(server, "google")
    assert stored.owner == "first tab" and stored.dpa.version != "second tab version"  # refused, nothing lost
    assert second.get_by_label("owner", exact=True).input_value() == "first tab"  # redrawn from the store

    second.get_by_label("DPA version").fill("second tab version")
    save(second, "version changed in the second tab, again")
    stored = provider(server, "google")
    assert stored.owner == "first tab" and stored.dpa.version == "second tab version"  # both kept


def test_a_typed_date_far_ahead_is_applied(page: Any, server: RunningApp) -> None:
    visit(page, server, "providers?id=openai", "Provider details")
    type_date(page, "DPA expires on", "20400630")  # beyond Streamlit's default range of value + 10 years
    save(page, "ten-year framework agreement")
    assert provider(server, "openai").dpa.expires_on == date(2040, 6, 30)


def test_projection_months_zero_says_why_it_is_not_saved(page: Any, server: RunningApp) -> None:
    visit(page, server, "costs", "B2B vs consumer")
    months = page.get_by_label("Projection months (1-240)")
    months.fill("0")
    months.press("Tab")
    inputs = page.locator("[data-testid='stForm']").filter(has=page.get_by_role("button", name="Save inputs"))
    inputs.get_by_label(REASON).fill("shorter horizon")  # the page's other forms have a reason field too
    after_rerun(page, lambda: page.get_by_role("button", name="Save inputs").click())
    assert "Projection months must be a whole number from 1 to 240 (got 0)" in main_text(page)
    assert server.store().read().costs.projection.months != 0


def test_the_audit_download_is_the_cli_export(page: Any, server: RunningApp) -> None:
    visit(page, server, "audit", "Audit log")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Export the whole log for auditors (CSV)").click()
    with open(download.value.path(), newline="") as exported:
        text = exported.read()
    with server.store().session() as session:
        assert text == export_text(list_events(session))
    header = text.splitlines()[0].split(",")
    assert "prev_hash" in header and "hash" in header


HOSTILE_TEXT = ["x" * 5_000, "-1", "'; DROP TABLE provider; -- <script>alert(1)</script> %s {0} \u202e\u0000", ""]
HOSTILE_NUMBERS = ["-1", "99999999999", "0", "-0.5"]
HOSTILE_DATES = ["00000000", "20270231"]


@pytest.mark.parametrize("path", ["", "providers?id=google", "audit", "records?id=anthropic", "models"])
def test_hostile_input_in_every_field_shows_no_exception(page: Any, server: RunningApp, path: str) -> None:
    visit(page, server, path, "Local mode")
    main = page.locator("[data-testid='stMain']")
    count = main.locator("input[type='text'], textarea").count()
    for i in range(count):
        box = main.locator("input[type='text'], textarea").nth(i)
        if not box.is_visible() or not box.is_editable():
            continue
        for value in HOSTILE_TEXT:
            box.fill(value)
            maybe_rerun(page, lambda b=box: b.press("Control+Enter" if b.evaluate("e => e.tagName") == "TEXTAREA"
                                                    else "Enter"))
            assert not exceptions(page), (path, i, value[:40])
    numbers = main.locator("[data-testid='stNumberInput'] input")
    for i in range(numbers.count()):
        number = numbers.nth(i)
        for value in HOSTILE_NUMBERS:
            number.fill(value)
            maybe_rerun(page, lambda n=number: n.press("Enter"))
            assert not exceptions(page), (path, "number", i, value)
    years = main.locator('[role="spinbutton"][data-type="year"]')
    for i in range(min(years.count(), 2)):
        for digits in HOSTILE_DATES:
            years.nth(i).click()
            page.keyboard.type(digits)
            maybe_rerun(page, lambda: page.keyboard.press("Tab"))
            assert not exceptions(page), (path, "date", i, digits)
    selects = main.locator("[data-testid='stSelectbox']")
    for i in range(selects.count()):
        select = selects.nth(i)
        select.click()
        options = page.locator("[role='option']")
        if options.count():
            maybe_rerun(page, lambda o=options.last: o.click())
        else:
            page.keyboard.press("Escape")
        assert not exceptions(page), (path, "select", i)
    for button in ("Save changes", "Save legal facts", "Record the announcement"):
        save_button = main.get_by_role("button", name=button)
        if save_button.count() and save_button.first.is_visible():
            maybe_rerun(page, lambda b=save_button.first: b.click())
            assert not exceptions(page), (path, button)


@pytest.mark.parametrize(("name", "path", "text"), [("overview", "", "Alerts ("),
                                                    ("providers", "providers?id=google", "Provider details"),
                                                    ("audit", "audit", "Audit log")])
def test_phone_width_pages_are_captured_without_exceptions(new_page: Callable[..., Any], server: RunningApp,
                                                           name: str, path: str, text: str) -> None:
    phone = new_page(PHONE)
    visit(phone, server, path, text)
    assert not exceptions(phone)
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"] + 1  # nothing wider than the screen
    screenshot(phone, f"{name}-phone")
