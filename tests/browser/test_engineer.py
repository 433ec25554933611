"""An engineer's journeys in a real browser: the health-data route question, the route table
download, the heatmap's labels, and hostile input on the engineering pages."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from pathlib import Path
from typing import Any

from compliance.api import Compliance, load_policies
from compliance.config import PROJECT_ROOT
from compliance.ui.edit_form import REASON_LABEL
from tests.browser.streamlit_ui import RunningApp, after_rerun, exceptions, fill_single, main_text, visit

HEALTH = "checker?feature=clinic-notes-summary"


def library_answer(server: RunningApp, categories: list[str]) -> Any:
    store = server.store()
    try:
        dataset = store.read()
    finally:
        store.dispose()
    c = Compliance(dataset, load_policies(PROJECT_ROOT / "policies", dataset))
    return c.routes(feature="clinic-notes-summary", categories=categories, as_of=date.today())


def test_engineer_answers_the_health_data_route_question(page: Any, server: RunningApp) -> None:
    visit(page, server, HEALTH, "Declared flows")
    text = main_text(page)
    options = library_answer(server, ["user.health_and_medical", "user.name", "user.demographic.date_of_birth"])
    allowed = [o.route for o in options if o.allowed]
    assert f"{len(allowed)} of {len(options)} routes allowed" in text
    assert "cheapest allowed: " in text and " per month" in text
    page.get_by_text("Whole reasons, route by route").click()
    page.get_by_text("waives health-needs-baa until").first.wait_for()
    text = main_text(page)
    assert "exc-2026-031 waives health-needs-baa until 2027-01-31" in text
    assert "OpenAI offers a BAA, but none is signed" in text  # a plain statement, not a condition dump
    assert "== true is false" not in text and "review: true" not in text
    assert not exceptions(page)


def test_engineer_downloads_the_route_table(page: Any, server: RunningApp) -> None:
    visit(page, server, HEALTH, "Declared flows")
    with page.expect_download(timeout=60_000) as download:
        page.get_by_role("button", name="Download the route table (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))
    options = library_answer(server, ["user.health_and_medical", "user.name", "user.demographic.date_of_birth"])
    assert [r["route"] for r in rows] == [o.route for o in options]
    assert [r["decision"] == "ALLOW" for r in rows] == [o.allowed for o in options]
    assert {"why", "waived by", "why no cost", "cost per month", "rules"} <= set(rows[0])
    assert all(r["why no cost"] for r in rows if r["cost per month"] == "")  # unpriced: an empty cell
    priced = [float(r["cost per month"]) for r in rows if r["cost per month"]]  # priced: a plain number, no "$"
    assert priced and all(cost >= 0 for cost in priced)
    assert sum(r["cheapest allowed"] == "True" for r in rows) == 1


def test_heatmap_labels_every_route_and_category(page: Any, server: RunningApp) -> None:
    visit(page, server, HEALTH, "Decision matrix")
    chart = page.locator("[data-testid='stPlotlyChart']").first
    chart.locator("g.xtick text").first.wait_for(state="attached")
    labels = chart.locator("g.xtick text").all_text_contents()
    assert len(labels) == 70 and "user.health_and_medical" in labels, labels[:5]
    assert len(chart.locator("g.ytick text").all_text_contents()) == 19
    bold = chart.locator("g.xtick text tspan[style*='bold'], g.xtick text b").all_text_contents()
    assert "user.health_and_medical" in bold or "user.health_and_medical" in chart.inner_html()


HOSTILE = ["", "x" * 5000, "-1", "-99999999", "'; DROP TABLE route; --", "ü☃\u202e<script>", "1e309", "NaN"]


def test_routes_filter_takes_any_text(page: Any, server: RunningApp) -> None:
    visit(page, server, "routes", "Who is in the DPA chain")
    box = page.get_by_label("Filter", exact=True)
    previous = ""
    for value in [*HOSTILE, ""]:
        box.fill(value)
        if value != previous:  # Streamlit reruns only when the committed value changes
            after_rerun(page, lambda: box.press("Enter"))
        previous = value
        assert not exceptions(page), value


def test_reverify_form_refuses_bad_input_without_a_traceback(page: Any, server: RunningApp) -> None:
    visit(page, server, "routes?id=gemini-api", "Re-verify")
    for value in HOSTILE:
        fill_single(page, "Verified by", value[:200])  # a save reruns; the old form must go
        fill_single(page, REASON_LABEL, value[:500])
        after_rerun(page, lambda: page.get_by_role("button", name="Save verification").click())
        assert not exceptions(page), value


def test_legal_reverifies_a_route_and_the_store_records_it(page: Any, server: RunningApp) -> None:
    visit(page, server, "routes?id=mistral-direct", "Re-verify")
    page.get_by_label("Verified by", exact=True).fill("dpo@northwind.example")
    page.get_by_label(REASON_LABEL, exact=True).fill("re-checked the vendor's retention page")
    after_rerun(page, lambda: page.get_by_role("button", name="Save verification").click())
    page.get_by_text("Saved the verification of").first.wait_for()
    store = server.store()
    try:
        route = next(r for r in store.read().routes if r.id == "mistral-direct")
    finally:
        store.dispose()
    assert route.verified_by == "dpo@northwind.example" and route.last_verified_on is not None


def test_policies_page_honours_any_id(page: Any, server: RunningApp) -> None:
    for value in ["", "no-such-rule", "x" * 3000, "%00'", "exc-2026-031", "health-needs-baa"]:
        visit(page, server, f"policies?id={value}", "Policy tests")
        assert not exceptions(page), value
    text = main_text(page)
    assert "Rule health-needs-baa" in text
    visit(page, server, "policies?id=exc-2026-031", "Policy tests")
    text = main_text(page)
    assert "Exception exc-2026-031" in text and "expires on 2027-01-31" in text


def test_checker_takes_odd_features_and_no_categories(page: Any, server: RunningApp) -> None:
    for value in HOSTILE:
        visit(page, server, f"checker?feature={value[:100]}", "Route checker")
        assert not exceptions(page), value
    visit(page, server, HEALTH, "Declared flows")
    # Streamlit draws each tag's remove control as a <button aria-label="Remove ..."> (no role attribute).
    removes = page.locator("[data-testid='stMultiSelect']").get_by_role("button", name=re.compile("^Remove "))
    tags = removes.count()
    assert tags == 3, tags  # the three categories the feature declares
    for _ in range(tags):
        after_rerun(page, removes.last.click)
    assert removes.count() == 0
    assert "Pick at least one data category" in main_text(page)
    assert not exceptions(page)
