"""Regressions for what legal hit on the dashboard (issue 10), through AppTest from the entry point."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from compliance.access import Actor, Role
from compliance.config import PROJECT_ROOT
from compliance.problems import InvalidInput
from compliance.store import Store
from compliance.store.edits import provider_doc, update_provider
from compliance.store.tables import REASON_LEN, AuditEventRow
from tests.conftest import open_store
from tests.test_dashboard import open_page


def store_of(db: Path) -> Store:
    return open_store(f"sqlite:///{db}", PROJECT_ROOT / "data")


def events(db: Path) -> list[AuditEventRow]:
    with store_of(db).session() as session:
        return list(session.exec(select(AuditEventRow).order_by(AuditEventRow.id)))  # type: ignore[arg-type]


def google(at: AppTest) -> AppTest:
    at.selectbox(key="provider-select").set_value("google").run()
    return at


def no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]


def test_typing_into_provider_search_filters_instead_of_crashing(app_env: Path) -> None:
    at = open_page("providers_page")
    at.text_input(key="provider-search").set_value("google").run()
    no_traceback(at)
    table = at.dataframe[1].value  # after the needs-attention table
    assert "google" in set(table["id"]) and "aws" not in set(table["id"])
    at.text_input(key="provider-search").set_value("no such provider %$").run()
    no_traceback(at)
    assert any("No provider matches" in c.value for c in at.caption)


def test_an_emptied_cost_cell_is_a_message_not_a_traceback(app_env: Path) -> None:
    at = open_page("costs_page")
    before = len(events(app_env))
    at.session_state["segment-editor"] = {"edited_rows": {1: {"users": None, "monthly_growth": None}},
                                          "added_rows": [], "deleted_rows": []}
    at.text_input(key="costs-reason-0").set_value("forecast")
    at.button(key="costs-save").click().run()
    no_traceback(at)
    message = " ".join(e.value for e in at.error)
    assert "segment consumer: users is empty" in message and "monthly growth is empty" in message
    assert "nan" not in message
    assert len(events(app_env)) == before


def test_a_fraction_in_a_whole_number_field_is_refused_not_truncated(app_env: Path) -> None:
    at = open_page("costs_page")
    before = len(events(app_env))
    at.session_state["segment-editor"] = {"edited_rows": {1: {"users": 12000.7}}, "added_rows": [],
                                          "deleted_rows": []}
    at.number_input(key="projection-months").set_value(2.5)
    at.text_input(key="costs-reason-0").set_value("forecast")
    at.button(key="costs-save").click().run()
    no_traceback(at)
    message = " ".join(e.value for e in at.error)
    assert "segment consumer: users must be a whole number (got 12000.7)" in message
    assert "Projection months must be a whole number from 1 to 240 (got 2.5)" in message
    assert len(events(app_env)) == before  # nothing saved, not 12000 and 2 months


def test_a_fractional_look_ahead_is_refused_not_truncated(app_env: Path) -> None:
    at = open_page("overview_page")
    at.number_input(key="overview-within").set_value(7.5).run()
    assert not at.exception
    assert any("whole number of days" in e.value and "(got 7.5)" in e.value for e in at.error)


def test_a_refused_save_redraws_the_stored_values_and_the_next_save_keeps_both_changes(app_env: Path) -> None:
    at = google(open_page("providers_page"))
    store = store_of(app_env)
    with store.session() as session:  # another tab saves first: a new owner
        _, version = provider_doc(session, "google")
        update_provider(session, provider_id="google", expected_version=version, changes={"owner": "other tab"},
                        actor=Actor("someone-else", Role.legal), reason="new owner")
    at.date_input(key="provider-google-v1-dpa-expires").set_value(date(2027, 9, 30))
    at.text_input(key="provider-google-v1-reason").set_value("renewal")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    assert any("changed by someone else" in e.value and "2027-09-30" in e.value for e in at.error)
    assert at.text_input(key="provider-google-v2-owner").value == "other tab"  # the form shows what is stored
    at.date_input(key="provider-google-v2-dpa-expires").set_value(date(2027, 9, 30))
    at.text_input(key="provider-google-v2-reason").set_value("renewal")
    at.button(key="provider-save").click().run()
    saved = next(p for p in store.read().providers if p.id == "google")
    assert saved.owner == "other tab" and saved.dpa is not None and saved.dpa.expires_on == date(2027, 9, 30)


def test_a_save_without_a_reason_is_refused_and_writes_nothing(app_env: Path) -> None:
    at = google(open_page("providers_page"))
    before = len(events(app_env))
    at.text_input(key="provider-google-v1-owner").set_value("dpo")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    assert any("reason" in e.value and "required" in e.value for e in at.error)
    assert len(events(app_env)) == before


def test_a_reason_cannot_outgrow_the_audit_logs_limit(app_env: Path) -> None:
    at = google(open_page("providers_page"))
    at.text_input(key="provider-google-v1-owner").set_value("dpo")
    at.text_input(key="provider-google-v1-reason").set_value("x" * 24_000)  # the field stops at the limit
    at.button(key="provider-save").click().run()
    no_traceback(at)
    assert len(events(app_env)[-1].reason or "") == REASON_LEN


def test_the_store_refuses_a_reason_longer_than_its_limit(app_env: Path) -> None:
    store = store_of(app_env)
    with store.session() as session:
        _, version = provider_doc(session, "google")
    with pytest.raises(InvalidInput, match="at most 2,000 are allowed"), store.session() as session:
        update_provider(session, provider_id="google", expected_version=version, changes={"owner": "x"},
                        actor=Actor("api", Role.legal), reason="y" * 24_000)


def test_the_reason_is_cleared_after_a_save_and_the_confirmation_is_a_toast(app_env: Path) -> None:
    at = google(open_page("providers_page"))
    at.text_input(key="provider-google-v1-owner").set_value("dpo")
    at.text_input(key="provider-google-v1-reason").set_value("new owner")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    assert any("Saved Google Cloud" in t.value for t in at.toast)
    assert at.text_input(key="provider-google-v2-reason").value == ""
    at.text_input(key="provider-google-v2-owner").set_value("dpo-2")
    at.button(key="provider-save").click().run()  # no reason typed again: refused, not silently reused
    assert any("required" in e.value for e in at.error)
    assert events(app_env)[-1].reason == "new owner"


def test_cost_edits_record_their_reason(app_env: Path) -> None:
    at = open_page("costs_page")
    at.session_state["segment-editor"] = {"edited_rows": {1: {"users": 3_000_000}}, "added_rows": [],
                                          "deleted_rows": []}
    at.button(key="costs-save").click().run()
    assert any("reason" in e.value for e in at.error)  # no reason: nothing saved
    at.session_state["segment-editor"] = {"edited_rows": {1: {"users": 3_000_000}}, "added_rows": [],
                                          "deleted_rows": []}
    at.text_input(key="costs-reason-0").set_value("Q3 forecast")
    at.button(key="costs-save").click().run()
    last = events(app_env)[-1]
    assert (last.entity, last.entity_id, last.reason) == ("segment", "consumer", "Q3 forecast")
    assert any("Saved" in t.value for t in at.toast)


def test_an_expiry_before_the_signing_date_is_a_message_beside_the_field(app_env: Path) -> None:
    at = google(open_page("providers_page"))
    at.date_input(key="provider-google-v1-dpa-expires").set_value(date(2020, 1, 1))  # signed 2024-05-23
    at.text_input(key="provider-google-v1-reason").set_value("typo test")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    text = " ".join(e.value for e in at.error)
    assert "before signed_on" in text and "CHECK constraint" not in text
    dpa = next(p for p in store_of(app_env).read().providers if p.id == "google").dpa
    assert dpa is not None and dpa.expires_on == date(2027, 1, 15)


def test_saving_a_signed_dpa_whose_expiry_is_past_warns(app_env: Path) -> None:
    at = google(open_page("providers_page"))
    at.date_input(key="provider-google-v1-dpa-expires").set_value(date.today() - timedelta(days=3))
    at.text_input(key="provider-google-v1-reason").set_value("recording the real end date")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    assert any("reads as expired" in w.value for w in at.warning)
    table = at.dataframe[1].value
    assert table.set_index("id").loc["google", "dpa_state"] == "expired"
