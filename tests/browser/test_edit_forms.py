"""After a save, the old edit form never shows beside the new one (every widget key changes with the
record's version): counted on every change of the page while the save's reruns run, not after a sleep."""

from __future__ import annotations

from typing import Any

from compliance.ui.edit_form import REASON_LABEL
from tests.browser.streamlit_ui import RunningApp, after_rerun, settle, visit

# The most inputs labelled `label` the page has shown since this was installed.
WATCH = """(label) => {
  const count = () => [...document.querySelectorAll('[data-testid="stWidgetLabel"]')]
      .filter(l => l.innerText.trim() === label).length;
  window.__mostShown = count();
  if (window.__labelObserver) window.__labelObserver.disconnect();
  window.__labelObserver = new MutationObserver(() => { window.__mostShown = Math.max(window.__mostShown, count()); });
  window.__labelObserver.observe(document.body, {subtree: true, childList: true, attributes: true});
}"""


def most_shown_during_save(page: Any, label: str, button: str, saved: str) -> int:
    page.evaluate(WATCH, label)
    after_rerun(page, lambda: page.get_by_role("button", name=button).click())
    page.get_by_text(saved).first.wait_for()
    settle(page)
    return int(page.evaluate("() => window.__mostShown"))


def test_a_saved_route_verification_never_shows_two_forms(page: Any, server: RunningApp) -> None:
    visit(page, server, "routes?id=mistral-direct", "Re-verify")
    for i in range(3):
        page.get_by_label("Verified by", exact=True).fill(f"dpo{i}@northwind.example")
        page.get_by_label(REASON_LABEL, exact=True).fill(f"checked the vendor page, round {i}")
        assert most_shown_during_save(page, "Verified by", "Save verification", "Saved the verification of") == 1
        assert page.get_by_label(REASON_LABEL, exact=True).input_value() == ""


def test_a_saved_usage_edit_never_shows_two_forms(page: Any, server: RunningApp) -> None:
    visit(page, server, "costs", "Usage per feature")
    label = "Requests per active user per month"
    for i in range(2):
        page.get_by_label(label, exact=True).fill(f"{120 + i}.00")
        page.get_by_label(REASON_LABEL, exact=True).nth(1).fill(f"Q{i + 1} volumes")
        assert most_shown_during_save(page, label, "Save usage", "Saved usage of") == 1
