"""Finance edits on the costs page: price overrides and per-feature usage.

Each save is validated like a load, audited with the reason given, and based on the version of
the record the user saw (compliance.ui.edit_form): a record changed by someone else since is
refused, and the form then shows the stored values, so a second save can never silently revert
the other change.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from compliance.store import documents as d
from compliance.store.edits import record_doc, update_record, update_usage
from compliance.store.limits import TEXT_LEN
from compliance.ui import edit_form, state


def _loader(entity: str, key: str) -> Any:
    def load() -> tuple[Any, int]:
        with state.store().session() as session:
            return record_doc(session, entity, key)
    return load


def price_override_editor(data: d.DataSet) -> None:
    st.subheader("Price overrides")
    overrides = [o for o in data.costs.price_overrides if o.id]
    if not overrides:
        st.caption("No price overrides with an id in the store.")
        return
    if not state.current_actor().may_change("price_override"):
        st.caption(f"Your role ({state.current_actor().role.value}) can read price overrides but not change them.")
        return
    ids = [o.id for o in overrides if o.id]
    picked = st.selectbox("Override", ids, key="override-pick",
                          format_func=lambda i: next(f"{i}: {o.price_provider} / {o.model}" for o in overrides
                                                     if o.id == i))
    form = edit_form.open_form(f"override-{picked}", _loader("price_override", picked), f"Price override {picked}")
    doc, k = form.doc, form.key
    with edit_form.area(form), st.form(k("form")):
        st.caption("Absolute prices are USD per million tokens and replace the list price; a discount (0 to 1) "
                   "applies to the list price instead. Leave a field empty for 'not set'.")
        c1, c2, c3, c4 = st.columns(4)
        price_in = edit_form.optional_number("Input price", doc.input, k("input"), c1, format="%.4f")
        price_out = edit_form.optional_number("Output price", doc.output, k("output"), c2, format="%.4f")
        cached = edit_form.optional_number("Cached input price", doc.cached_input, k("cached"), c3, format="%.4f")
        discount = edit_form.optional_number("Discount", doc.discount, k("discount"), c4, format="%.3f")
        c5, c6 = st.columns(2)
        valid_from = edit_form.date_input("Valid from", doc.valid_from, k("from"), c5)
        valid_until = edit_form.date_input("Valid until", doc.valid_until, k("until"), c6)
        note = st.text_area("Note", value=doc.note, key=k("note"), max_chars=TEXT_LEN)
        reason = edit_form.reason_input(k("reason"))
        submitted = st.form_submit_button("Save price override", type="primary", key="override-save")
    edit_form.show(form.outcome)
    if not submitted:
        return
    problems = []
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        problems.append("'Valid until' is before 'Valid from'")
    if not (note or "").strip():
        problems.append("the note must say where the price comes from")
    changes = {"input": price_in, "output": price_out, "cached_input": cached, "discount": discount,
               "valid_from": valid_from, "valid_until": valid_until, "note": (note or "").strip()}
    edit_form.save(form, lambda session, why: update_record(
        session, entity="price_override", key=picked, expected_version=form.base.version, changes=changes,
        actor=state.current_actor(), reason=why), reason=reason, label=f"price override {picked}",
        saved=f"Saved price override {picked}", problems=problems, changes=changes)


def usage_editor(data: d.DataSet) -> None:
    st.subheader("Usage per feature")
    if not data.features:
        st.caption("No features.")
        return
    if not state.current_actor().may_change("usage"):
        st.caption(f"Your role ({state.current_actor().role.value}) can read usage figures but not change them.")
        return
    names = {f.id: f.name for f in data.features}
    picked = st.selectbox("Feature", list(names), key="usage-pick", format_func=lambda i: f"{names[i]} ({i})")
    form = edit_form.open_form(f"usage-{picked}", _loader("feature", picked), names[picked])
    k = form.key
    usage = form.doc.usage
    with edit_form.area(form), st.form(k("form")):
        c1, c2, c3, c4 = st.columns(4)
        requests = c1.number_input("Requests per active user per month", value=usage.requests_per_user_month
                                   if usage else None, format="%.2f", key=k("requests"))
        tokens_in = c2.number_input("Input tokens per request", value=usage.input_tokens if usage else None,
                                    step=1, key=k("input"))
        tokens_out = c3.number_input("Output tokens per request", value=usage.output_tokens if usage else None,
                                     step=1, key=k("output"))
        cached = c4.number_input("Cached share of input (0 to 1)", value=usage.cached_input_share if usage else None,
                                 format="%.2f", key=k("cached"))
        reason = edit_form.reason_input(k("reason"))
        submitted = st.form_submit_button("Save usage", type="primary", key="usage-save")
    edit_form.show(form.outcome)
    if not submitted:
        return
    missing = [label for label, value in (("requests per active user per month", requests),
                                          ("input tokens per request", tokens_in),
                                          ("output tokens per request", tokens_out)) if value is None]
    problems = [f"enter a number for {', '.join(missing)}"] if missing else []
    new_usage = {"requests_per_user_month": float(requests) if requests is not None else None,
                 "input_tokens": int(tokens_in) if tokens_in is not None else None,
                 "output_tokens": int(tokens_out) if tokens_out is not None else None,
                 "cached_input_share": cached}
    edit_form.save(form, lambda session, why: update_usage(
        session, feature_id=picked, expected_version=form.base.version, usage=new_usage,
        actor=state.current_actor(), reason=why), reason=reason, label=f"feature {picked}",
        saved=f"Saved usage of {names[picked]}", problems=problems, changes={"usage": new_usage})
