"""Finance edits on the costs page: price overrides and per-feature usage.

Each save is validated like a load, audited with the reason given, and based on the version of
the record the user saw: a record changed by someone else since is refused, and the form then
shows the stored values (a new form generation), so a second save can never silently revert
the other change.
"""

from __future__ import annotations

from datetime import date

import streamlit as st

from compliance.store import documents as d
from compliance.store.edits import record_doc, update_record, update_usage
from compliance.ui import state
from compliance.ui.audited_form import REASON_MAX, generation, reason_given, save, seen_version


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
    with state.store().session() as session:
        doc, version = record_doc(session, "price_override", picked)
    seen = seen_version("override", picked, version)
    gen = generation("override")
    with st.form(f"override-form-{picked}-{gen}"):
        st.caption("Absolute prices are USD per million tokens and replace the list price; a discount (0 to 1) "
                   "applies to the list price instead. Leave a field empty for 'not set'.")
        c1, c2, c3, c4 = st.columns(4)
        price_in = c1.number_input("Input price", value=doc.input, format="%.4f", key=f"override-input-{gen}")
        price_out = c2.number_input("Output price", value=doc.output, format="%.4f", key=f"override-output-{gen}")
        cached = c3.number_input("Cached input price", value=doc.cached_input, format="%.4f",
                                 key=f"override-cached-{gen}")
        discount = c4.number_input("Discount", value=doc.discount, format="%.3f", key=f"override-discount-{gen}")
        c5, c6 = st.columns(2)
        valid_from = c5.date_input("Valid from", value=doc.valid_from, format="YYYY-MM-DD",
                                   key=f"override-from-{gen}")
        valid_until = c6.date_input("Valid until", value=doc.valid_until, format="YYYY-MM-DD",
                                    key=f"override-until-{gen}")
        note = st.text_area("Note", value=doc.note, key=f"override-note-{gen}")
        reason = st.text_input("Reason for the change", key=f"override-reason-{gen}", max_chars=REASON_MAX)
        submitted = st.form_submit_button("Save price override", type="primary", key=f"override-save-{gen}")
    if not submitted:
        return
    problems = []
    if isinstance(valid_from, date) and isinstance(valid_until, date) and valid_until < valid_from:
        problems.append("'Valid until' is before 'Valid from'")
    if not (note or "").strip():
        problems.append("the note must say where the price comes from")
    if problems:
        st.error("Not saved: " + "; ".join(problems) + ".")
        return
    text = reason_given(reason)
    if text is None:
        return
    changes = {"input": price_in, "output": price_out, "cached_input": cached, "discount": discount,
               "valid_from": valid_from if isinstance(valid_from, date) else None,
               "valid_until": valid_until if isinstance(valid_until, date) else None, "note": note.strip()}
    save("override", lambda session: update_record(
        session, entity="price_override", key=picked, expected_version=seen, changes=changes,
        actor=state.current_actor(), reason=text), f"Saved price override {picked}.")


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
    with state.store().session() as session:
        doc, version = record_doc(session, "feature", picked)
    seen = seen_version("usage", picked, version)
    gen = generation("usage")
    usage = doc.usage
    with st.form(f"usage-form-{picked}-{gen}"):
        c1, c2, c3, c4 = st.columns(4)
        requests = c1.number_input("Requests per active user per month", value=usage.requests_per_user_month
                                   if usage else None, format="%.2f", key=f"usage-requests-{gen}")
        tokens_in = c2.number_input("Input tokens per request", value=usage.input_tokens if usage else None,
                                    step=1, key=f"usage-input-{gen}")
        tokens_out = c3.number_input("Output tokens per request", value=usage.output_tokens if usage else None,
                                     step=1, key=f"usage-output-{gen}")
        cached = c4.number_input("Cached share of input (0 to 1)", value=usage.cached_input_share if usage else None,
                                 format="%.2f", key=f"usage-cached-{gen}")
        reason = st.text_input("Reason for the change", key=f"usage-reason-{gen}", max_chars=REASON_MAX)
        submitted = st.form_submit_button("Save usage", type="primary", key=f"usage-save-{gen}")
    if not submitted:
        return
    missing = [label for label, value in (("requests per active user per month", requests),
                                          ("input tokens per request", tokens_in),
                                          ("output tokens per request", tokens_out)) if value is None]
    if missing:
        st.error(f"Not saved: enter a number for {', '.join(missing)}.")
        return
    text = reason_given(reason)
    if text is None:
        return
    new_usage = {"requests_per_user_month": float(requests), "input_tokens": int(tokens_in),  # type: ignore[arg-type]
                 "output_tokens": int(tokens_out), "cached_input_share": cached}  # type: ignore[arg-type]
    save("usage", lambda session: update_usage(
        session, feature_id=picked, expected_version=seen, usage=new_usage, actor=state.current_actor(),
        reason=text), f"Saved usage of {names[picked]}.")
