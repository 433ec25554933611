"""Routes: how each model is reached, who processes the prompts, and how fresh the facts are."""

from __future__ import annotations

from datetime import date

import streamlit as st

from compliance.ui import state
from compliance.ui.views import routes_frame, sources_frame

st.title("Routes")
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

selected = st.query_params.get("id")
ids = list(frame["id"])
choice = st.selectbox("Route details", ids, index=ids.index(selected) if selected in ids else 0)
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
