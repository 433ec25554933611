"""Finance's journeys in a real browser: edit a price override and see the cost move (asserted on the
store), edit a feature's usage, and hostile input into every finance input."""

from __future__ import annotations

from datetime import date
from typing import Any

from playwright.sync_api import expect
from sqlmodel import select

from compliance.costs import feature_costs
from compliance.store.tables import AuditEventRow
from compliance.ui.edit_form import REASON_LABEL
from tests.browser.streamlit_ui import _IDLE, RunningApp, after_rerun, exceptions, fill_single, main_text

SLOW = 240_000  # the costs page's first run computes every cost table; a loaded machine needs time


def visit(page: Any, server: RunningApp, path: str, text: str) -> None:
    """Open the page and wait until `text` shows and Streamlit's run has finished (no fixed sleep)."""
    page.goto(f"{server.url}/{path}")
    page.get_by_text(text).first.wait_for(timeout=SLOW)
    page.wait_for_function(_IDLE, timeout=SLOW)


def stored(server: RunningApp) -> Any:
    store = server.store()
    try:
        return store.read()
    finally:
        store.dispose()


def audit_reasons(server: RunningApp, entity: str, entity_id: str) -> list[str | None]:
    store = server.store()
    try:
        with store.session() as session:
            rows = session.exec(select(AuditEventRow).where(AuditEventRow.entity == entity,
                                                            AuditEventRow.entity_id == entity_id)).all()
            return [r.reason for r in rows]
    finally:
        store.dispose()


def open_compliance(page: Any) -> None:
    """Open the cost of compliance (drawn when opened) and wait for its figures."""
    if not page.locator("[data-testid='stMetric']").filter(has_text="Spend now on declared routes").count():
        after_rerun(page, lambda: page.get_by_text("Spend now on declared routes against the cheapest").click())
    page.locator("[data-testid='stMetric']").filter(has_text="Spend now on declared routes").first.wait_for(
        timeout=SLOW)


def spend_now(page: Any) -> str:
    open_compliance(page)
    metric = page.locator("[data-testid='stMetric']").filter(has_text="Spend now on declared routes")
    return str(metric.locator("[data-testid='stMetricValue']").inner_text())


def pick(page: Any, label: str, option: str) -> None:
    select_box = page.locator("[data-testid='stSelectbox']").filter(has=page.get_by_text(label, exact=True)).first
    select_box.click()
    page.keyboard.type(option)
    page.get_by_role("option", name=option).first.wait_for()
    after_rerun(page, lambda: page.keyboard.press("Enter"))


def test_finance_replaces_a_discount_by_absolute_prices(page: Any, server: RunningApp) -> None:
    """Emptying a field means "not set"; prices and a discount together are refused, nothing written."""
    visit(page, server, "costs", "Price overrides")
    pick(page, "Override", "aws-edp-2026: aws / eu.anthropic.claude-sonnet-4-5-20250929-v1:0")
    page.get_by_label("Input price", exact=True).fill("2.0000")
    page.get_by_label("Output price", exact=True).fill("10.0000")
    page.get_by_label(REASON_LABEL, exact=True).first.fill("both at once")
    after_rerun(page, lambda: page.get_by_role("button", name="Save price override").click())
    page.get_by_text("give either absolute prices (input/output) or a discount, not both", exact=False).first.wait_for()
    override = next(o for o in stored(server).costs.price_overrides if o.id == "aws-edp-2026")
    assert (override.input, override.output, override.discount) == (None, None, 0.08)  # refused: unchanged
    discount = page.get_by_label("Discount", exact=True)
    discount.fill("")
    discount.press("Tab")
    assert discount.input_value() == ""  # stays empty: the field can say "not set"
    page.get_by_label(REASON_LABEL, exact=True).first.fill("EDP ended; list prices now negotiated, ticket FIN-9")
    after_rerun(page, lambda: page.get_by_role("button", name="Save price override").click())
    page.get_by_text("Saved price override aws-edp-2026").first.wait_for()
    override = next(o for o in stored(server).costs.price_overrides if o.id == "aws-edp-2026")
    assert (override.input, override.output, override.discount) == (2.0, 10.0, None)
    assert not exceptions(page)


def test_finance_edits_a_price_override_and_sees_the_cost_move(page: Any, server: RunningApp) -> None:
    visit(page, server, "costs", "Price overrides")  # the app seeds its store on first use
    before_cost = feature_costs(stored(server), date.today(), strict=False).set_index("feature")
    spend_before = spend_now(page)
    pick(page, "Override", "azure-o4-mini-ptu: azure / o4-mini")
    page.get_by_label("Input price", exact=True).fill("3.0000")
    page.get_by_label("Output price", exact=True).fill("12.0000")
    page.get_by_label(REASON_LABEL, exact=True).first.fill("new Microsoft rate card, ticket FIN-7")
    after_rerun(page, lambda: page.get_by_role("button", name="Save price override").click())
    page.get_by_text("Saved price override azure-o4-mini-ptu").first.wait_for()
    data = stored(server)
    override = next(o for o in data.costs.price_overrides if o.id == "azure-o4-mini-ptu")
    assert (override.input, override.output) == (3.0, 12.0)
    assert "new Microsoft rate card, ticket FIN-7" in audit_reasons(server, "price_override", "azure-o4-mini-ptu")
    after_cost = feature_costs(data, date.today(), strict=False).set_index("feature")
    assert after_cost.loc["fraud-review-triage", "monthly_cost"] > before_cost.loc["fraud-review-triage",
                                                                                   "monthly_cost"]
    value = page.locator("[data-testid='stMetric']").filter(has_text="Spend now on declared routes").locator(
        "[data-testid='stMetricValue']")
    expect(value).not_to_have_text(spend_before, timeout=60_000)  # the page shows the new cost
    assert page.get_by_label(REASON_LABEL, exact=True).first.input_value() == ""  # not reused
    assert not exceptions(page)


def test_finance_edits_usage_with_a_reason(page: Any, server: RunningApp) -> None:
    visit(page, server, "costs", "Usage per feature")
    pick(page, "Feature", "Fraud review triage (fraud-review-triage)")
    page.get_by_label("Requests per active user per month", exact=True).fill("120.00")
    page.get_by_label(REASON_LABEL, exact=True).nth(1).fill("Q1 volumes from the analytics dashboard")
    after_rerun(page, lambda: page.get_by_role("button", name="Save usage").click())
    page.get_by_text("Saved usage of Fraud review triage").first.wait_for()
    feature = next(f for f in stored(server).features if f.id == "fraud-review-triage")
    assert feature.usage is not None and feature.usage.requests_per_user_month == 120.0
    assert "Q1 volumes from the analytics dashboard" in audit_reasons(server, "feature", "fraud-review-triage")


HOSTILE = ["", "-1", "-99999999", "1e309", "99999999999999", "abc", "x" * 5000, "0.0000001"]
FINANCE_NUMBERS = ["Input price", "Output price", "Cached input price", "Discount",
                   "Requests per active user per month", "Input tokens per request", "Output tokens per request",
                   "Cached share of input (0 to 1)"]


def test_every_finance_input_takes_hostile_input_without_a_traceback(page: Any, server: RunningApp) -> None:
    visit(page, server, "costs", "Usage per feature")
    for value in HOSTILE:
        hostile_round(page, server, value)


def hostile_round(page: Any, server: RunningApp, value: str) -> None:
    for label in FINANCE_NUMBERS:
        # A save that succeeds bumps the form generation and reruns (state.saved); for a moment the browser can
        # still show the old form next to the new one. The page must come back to one input per label.
        fill_single(page, label, value[:40], typed=True)
    for reason in page.get_by_label(REASON_LABEL, exact=True).all():
        reason.fill(value[:500])
    for button in ("Save price override", "Save usage"):
        after_rerun(page, lambda b=button: page.get_by_role("button", name=b).click())  # type: ignore[misc]
        assert not exceptions(page), (button, value)
    assert not exceptions(page)


def test_the_costs_page_answers_finance_questions(page: Any, server: RunningApp) -> None:
    visit(page, server, "costs", "Cost of compliance")
    open_compliance(page)
    text = main_text(page)
    assert "no revenue" in text  # the internal segment
    assert "None" not in text.split("Cost per feature")[0]
    assert "No route the policy allows can carry" in text and "Dating profile matching" in text
    import re

    assert re.search(r"\d+\.\d%", text)  # percentages to one decimal place
