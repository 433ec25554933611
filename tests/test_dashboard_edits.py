"""Regressions from a new user's browser trial of the edit forms, through AppTest from the entry point;
each asserts on the store afterwards, not only on the page."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.test_dashboard import open_page
from tests.test_dashboard_legal import events, no_traceback, store_of


def event_count(db: Path) -> int:
    return len(events(db))


def override_form(db: Path) -> AppTest:
    at = open_page("costs_page")
    at.selectbox(key="override-pick").set_value("aws-edp-2026").run()
    no_traceback(at)
    return at


def test_an_override_with_prices_and_a_discount_is_refused(app_env: Path) -> None:
    at = override_form(app_env)
    before = event_count(app_env)
    at.number_input(key="override-aws-edp-2026-v1-input").set_value(2.0)
    at.number_input(key="override-aws-edp-2026-v1-output").set_value(10.0)
    at.number_input(key="override-aws-edp-2026-v1-discount").set_value(0.5)
    at.text_input(key="override-aws-edp-2026-v1-reason").set_value("new deal")
    at.button(key="override-save").click().run()
    no_traceback(at)
    assert any("discount" in e.value and "not both" in e.value for e in at.error), [e.value for e in at.error]
    stored = next(o for o in store_of(app_env).read().costs.price_overrides if o.id == "aws-edp-2026")
    assert (stored.input, stored.output, stored.discount) == (None, None, 0.08)
    assert event_count(app_env) == before


def test_an_emptied_override_field_means_not_set(app_env: Path) -> None:
    """The fields can be emptied in the browser (no widget default to refill them), and empty saves as none."""
    at = override_form(app_env)
    discount = at.number_input(key="override-aws-edp-2026-v1-discount")
    assert discount.value == 0.08 and not discount.proto.HasField("default")  # a default is refilled on clear
    discount.set_value(None)
    at.number_input(key="override-aws-edp-2026-v1-input").set_value(2.0)
    at.number_input(key="override-aws-edp-2026-v1-output").set_value(10.0)
    at.text_input(key="override-aws-edp-2026-v1-reason").set_value("absolute prices instead of the discount")
    at.button(key="override-save").click().run()
    no_traceback(at)
    assert not at.error, [e.value for e in at.error]
    stored = next(o for o in store_of(app_env).read().costs.price_overrides if o.id == "aws-edp-2026")
    assert (stored.input, stored.output, stored.discount) == (2.0, 10.0, None)


def test_agreement_details_without_a_status_are_refused_not_dropped(app_env: Path) -> None:
    at = open_page("providers_page")
    at.selectbox(key="provider-select").set_value("meta").run()  # meta has no DPA and no BAA recorded
    before = event_count(app_env)
    at.text_input(key="provider-meta-v1-dpa-version").set_value("v2 2026")
    at.text_input(key="provider-meta-v1-baa-document").set_value("https://meta.example/baa.pdf")
    at.text_input(key="provider-meta-v1-reason").set_value("recording the DPA")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    text = " ".join(e.value for e in at.error)
    assert "choose a DPA status to record an agreement" in text and "choose a BAA status" in text
    assert not any("Nothing changed" in s.value for s in at.success)
    meta = next(p for p in store_of(app_env).read().providers if p.id == "meta")
    assert meta.dpa is None and meta.baa is None
    assert event_count(app_env) == before


def test_removing_an_agreement_still_works(app_env: Path) -> None:
    """Its stored details stay in the fields when the status is set to none; they go with it."""
    at = open_page("providers_page")
    at.selectbox(key="provider-select").set_value("google").run()
    at.selectbox(key="provider-google-v1-baa-status").set_value("(none recorded)")
    at.text_input(key="provider-google-v1-reason").set_value("BAA withdrawn")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    assert not at.error, [e.value for e in at.error]
    assert next(p for p in store_of(app_env).read().providers if p.id == "google").baa is None


def test_a_review_date_after_today_is_refused(app_env: Path) -> None:
    at = open_page("providers_page")
    at.selectbox(key="provider-select").set_value("google").run()
    before = event_count(app_env)
    stored = next(p for p in store_of(app_env).read().providers if p.id == "google")
    at.date_input(key="provider-google-v1-last-review").set_value(date(2199, 1, 1))
    at.text_input(key="provider-google-v1-reason").set_value("reviewed")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    assert any("last reviewed on 2199-01-01 is after today" in e.value for e in at.error)
    assert next(p for p in store_of(app_env).read().providers if p.id == "google") == stored
    assert event_count(app_env) == before


def test_a_next_review_before_the_last_review_is_refused(app_env: Path) -> None:
    at = open_page("providers_page")
    at.selectbox(key="provider-select").set_value("google").run()
    stored = next(p for p in store_of(app_env).read().providers if p.id == "google")
    last = date.today() - timedelta(days=10)
    at.date_input(key="provider-google-v1-last-review").set_value(last)
    at.date_input(key="provider-google-v1-next-review").set_value(last - timedelta(days=1))
    at.text_input(key="provider-google-v1-reason").set_value("reviewed")
    at.button(key="provider-save").click().run()
    no_traceback(at)
    assert any("is before last reviewed on" in e.value for e in at.error)
    assert next(p for p in store_of(app_env).read().providers if p.id == "google") == stored


def test_a_verification_date_after_today_is_refused(app_env: Path) -> None:
    at = open_page("routes_page")
    field = next(d for d in at.date_input if str(d.key).endswith("-verified-on"))
    route_id = str(field.key).removeprefix("route-").removesuffix("-verified-on").rsplit("-v", 1)[0]
    before = event_count(app_env)
    stored = next(r for r in store_of(app_env).read().routes if r.id == route_id)
    field.set_value(date(2199, 12, 31))
    next(t for t in at.text_input if str(t.key).endswith("-reason")).set_value("checked")
    at.button(key="route-save").click().run()
    no_traceback(at)
    assert any("last verified on 2199-12-31 is after today" in e.value for e in at.error)
    assert next(r for r in store_of(app_env).read().routes if r.id == route_id) == stored
    assert event_count(app_env) == before
