"""Routes: how each model is reached, who processes the prompts, and how fresh the facts are."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from compliance.store import documents as d
from compliance.store.edits import record_doc, update_record
from compliance.store.enums import SourceStatus
from compliance.ui import edit_form, state
from compliance.ui.views import routes_frame, sources_frame

st.title("Routes")
state.show_saved()
st.caption("A DPA is signed with whoever processes the prompts: on a cloud route that is usually the cloud "
           "vendor, not the model maker.")
with state.problems_shown():
    snap = state.snapshot()
today = date.today()
window = state.store().settings.freshness_days
frame = routes_frame(snap.dataset, today, window)
if frame.empty:
    st.info("No routes in the store yet. Load a data folder with `python -m compliance load DIR`.")
    st.stop()

query = st.text_input("Filter", placeholder="route, model maker, processor, service or residency")
shown = frame
if query:
    searched = frame[["id", "name", "model_provider", "processor", "service", "residency"]]
    text = searched.astype(str).agg(" ".join, axis=1)
    shown = frame[text.str.contains(query, case=False, regex=False)]
st.dataframe(
    shown.drop(columns=["who_processes", "processor_differs"]), hide_index=True, width="stretch",
    column_config={
        "model_provider": "model maker", "processor": "processor (DPA chain)",
        "unverified_facts": "unverified facts",
        "zero_data_retention": st.column_config.CheckboxColumn("ZDR"),
        "trains_on_inputs": st.column_config.CheckboxColumn("trains on inputs"),
        "stale": st.column_config.CheckboxColumn(f"stale (>{window} days)"),
        "last_verified_on": st.column_config.DateColumn("last verified", format="YYYY-MM-DD"),
        "retention_days": st.column_config.NumberColumn("retention (days)", help="empty: unknown"),
    },
)

st.subheader("Who is in the DPA chain")
st.markdown("**Cloud routes where the cloud vendor processes the prompts** (the model maker is not in the chain):")
for row in frame[frame["processor_differs"]].itertuples():
    st.markdown(f"- **{row.name}** (`{row.id}`): {row.who_processes}")
st.markdown("**Routes where the model maker itself processes the prompts**, even when billing or sign-in runs "
            "through a cloud marketplace:")
for row in frame[~frame["processor_differs"]].itertuples():
    st.markdown(f"- **{row.name}** (`{row.id}`), service *{row.service}*: the DPA with {row.processor} must "
                "cover it.")

ids = list(frame["id"])
selected = state.linked("id", ids, "route")
choice = st.selectbox("Route details", ids, index=ids.index(selected) if selected else 0)
route = next(r for r in snap.dataset.routes if r.id == choice)
detail = frame[frame["id"] == choice].iloc[0]
st.markdown(detail["who_processes"])
if detail["stale"]:
    st.warning(f"Facts last verified on {route.last_verified_on or 'never'}: stale, re-verify before relying on "
               "them.")
sources = sources_frame(route)
st.dataframe(sources, hide_index=True, width="stretch",
             column_config={"url": st.column_config.LinkColumn("source")})
if (sources["status"] == "unverified").any():
    st.caption("Facts marked unverified could not be confirmed from any source.")


def reverify(route: d.Route) -> None:
    """Legal re-verifies a route: the date, who verified it and the sources, audited like any edit."""
    st.subheader(f"Re-verify {route.name}")
    if not state.current_actor().may_change("route"):
        st.caption(f"Your role ({state.current_actor().role.value}) can read routes; legal re-verifies them.")
        return

    def load() -> tuple[Any, int]:
        with state.store().session() as session:
            return record_doc(session, "route", route.id)

    form = edit_form.open_form(f"route-{route.id}", load, route.name)
    doc, k = form.doc, form.key
    sources = pd.DataFrame([{"field": s.field, "url": s.url, "as_of": s.as_of, "status": s.status.value,
                             "note": s.note} for s in doc.sources], columns=["field", "url", "as_of", "status", "note"])
    slots: dict[str, Any] = {}
    with edit_form.area(form), st.form(k("form")):
        c1, c2 = st.columns(2)
        verified_on = edit_form.date_input("Last verified on", doc.last_verified_on or date.today(), k("verified-on"),
                                           c1)
        verified_by = c2.text_input("Verified by", value=doc.verified_by or state.current_actor().name,
                                    max_chars=200, key=k("verified-by"))
        edited = st.data_editor(sources, num_rows="dynamic", hide_index=True, width="stretch",
                                key=k("sources"), column_config={
                                    "field": st.column_config.TextColumn("fact (empty: the whole record)"),
                                    "url": st.column_config.TextColumn("source url"),
                                    "as_of": st.column_config.DateColumn("as of", format="YYYY-MM-DD"),
                                    "status": st.column_config.SelectboxColumn(
                                        "status", options=SourceStatus.values(), required=True),
                                    "note": st.column_config.TextColumn("note")})
        slots["sources"] = st.empty()
        reason = edit_form.reason_input(k("reason"))
        submitted = st.form_submit_button("Save verification", type="primary", key="route-save")
    edit_form.show(form.outcome)
    if not submitted:
        return
    problems = []
    if verified_on is None:
        problems.append("enter the date the facts were verified")
    problems += edit_form.done_by_today(verified_on, "last verified on", date.today())
    if not (verified_by or "").strip():
        problems.append("say who verified the facts")
    rows = [{**r, "status": r["status"] or "unverified"} for r in edit_form.editor_rows(edited)
            if any(r[key] for key in ("field", "url", "note"))]
    changes = {"last_verified_on": verified_on, "verified_by": (verified_by or "").strip(), "sources": rows}
    edit_form.save(form, lambda session, why: update_record(
        session, entity="route", key=route.id, expected_version=form.base.version, changes=changes,
        actor=state.current_actor(), reason=why), reason=reason, label=f"route {route.id}",
        saved=f"Saved the verification of {route.name}", problems=problems, changes=changes, slots=slots)


reverify(route)
