"""Providers & DPAs (legal): status, expiries, evidence, history, and audited edits."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from compliance.problems import ComplianceError, Conflict
from compliance.store.audit import list_events
from compliance.store.edits import provider_doc, update_provider
from compliance.store.enums import BaaStatus, DpaStatus
from compliance.ui import charts, state
from compliance.ui.views import audit_frame, expiry_events, providers_frame, sources_frame

st.title("Providers & DPAs")
state.show_saved()
today = date.today()
with state.problems_shown():
    snap = state.snapshot()
data = snap.dataset
if not data.providers:
    st.info("No providers in the store yet. Load a data folder with `python -m compliance load DIR`.")
    st.stop()

frame = providers_frame(data, today)
query = st.text_input("Search providers", placeholder="name, legal entity, DPA status, certification")
shown = frame
if query:
    text = frame.astype(str).agg(" ".join, axis=1)
    shown = frame[text.str.contains(query, case=False, regex=False)]
st.dataframe(shown, hide_index=True, width="stretch", column_config={
    "legal_entity": "legal entity", "dpa_status": "DPA status", "baa_status": "BAA status",
    "transfer_mechanism": "transfer mechanism", "certifications": "current certifications",
    "unverified_facts": "unverified facts",
    "dpa_active": st.column_config.CheckboxColumn("DPA in force"),
    "baa_active": st.column_config.CheckboxColumn("BAA in force"),
    "dpa_expires_on": st.column_config.DateColumn("DPA expires", format="YYYY-MM-DD"),
    "dpa_signed_on": st.column_config.DateColumn("DPA signed", format="YYYY-MM-DD"),
    "next_review_on": st.column_config.DateColumn("next review", format="YYYY-MM-DD"),
    "last_reviewed_on": st.column_config.DateColumn("last review", format="YYYY-MM-DD"),
    "dpa_days_to_expiry": st.column_config.NumberColumn("days to DPA expiry"),
})

events = expiry_events(data)
if not events.empty:
    st.subheader("Expiries and reviews")
    st.plotly_chart(charts.expiry_timeline(events, today), width="stretch")

st.subheader("Provider details")
ids = [p.id for p in data.providers]
wanted = st.query_params.get("id")
pid = st.selectbox("Provider", ids, index=ids.index(wanted) if wanted in ids else 0, key="provider-select",
                   format_func=lambda x: next(p.name for p in data.providers if p.id == x))
provider = next(p for p in data.providers if p.id == pid)

left, right = st.columns(2)
with left:
    st.markdown(f"**Legal entity:** {provider.legal_entity or 'not recorded'} · **HQ:** {provider.hq_country or '-'}")
    mechanism = provider.transfer_mechanism.value if provider.transfer_mechanism else "not recorded"
    st.markdown(f"**Transfer mechanism:** {mechanism}")
    if provider.dpa and provider.dpa.document:
        st.markdown(f"**DPA document:** [{provider.dpa.version or 'link'}]({provider.dpa.document})")
    if provider.subprocessors and provider.subprocessors.url:
        st.markdown(f"**Subprocessors:** [{provider.subprocessors.url}]({provider.subprocessors.url}) "
                    f"(checked {provider.subprocessors.last_checked_on or 'never'})")
    if provider.notes:
        st.caption(provider.notes)
with right:
    uses = [r for r in data.routes if pid in (r.processor, r.model_provider)]
    st.markdown("**Routes**")
    for r in uses:
        role = "processor" if r.processor == pid else "model maker only (not in the DPA chain)"
        st.markdown(f"- `{r.id}` {r.name}: {role}")
    if not uses:
        st.caption("No route uses this provider.")

st.markdown("**Sources and evidence**")
st.dataframe(sources_frame(provider), hide_index=True, width="stretch",
             column_config={"url": st.column_config.LinkColumn("source")})

st.markdown("**Change history**")
with state.store().session() as session:
    history = audit_frame(list_events(session, entity="provider", entity_id=pid, limit=50))
st.dataframe(history, hide_index=True, width="stretch")

# --- editing -----------------------------------------------------------------------------------
version_key = f"provider-version-{pid}"
with state.problems_shown(), state.store().session() as session:
    _, current_version = provider_doc(session, pid)
if version_key not in st.session_state:
    st.session_state[version_key] = current_version


def _agreement_inputs(kind: str, agreement: Any, statuses: list[str]) -> dict[str, Any] | None:
    st.markdown(f"**{kind.upper()}**")
    options = ["(none recorded)", *statuses]
    status = st.selectbox(f"{kind.upper()} status", options, key=f"{pid}-{kind}-status",
                          index=options.index(agreement.status.value) if agreement else 0)
    version = st.text_input(f"{kind.upper()} version", value=(agreement.version or "") if agreement else "",
                            key=f"{pid}-{kind}-version")
    signed = st.date_input(f"{kind.upper()} signed on", value=agreement.signed_on if agreement else None,
                           key=f"{pid}-{kind}-signed", format="YYYY-MM-DD")
    expires = st.date_input(f"{kind.upper()} expires on", value=agreement.expires_on if agreement else None,
                            key=f"{pid}-{kind}-expires", format="YYYY-MM-DD")
    if status == "(none recorded)":
        return None
    kept = agreement.model_dump() if agreement else {}
    return {**kept, "status": status, "version": version or None, "signed_on": signed, "expires_on": expires}


actor = state.current_actor()
if not actor.may_change("provider"):
    st.caption(f"Your role ({actor.role.value}) can read providers but not change them; legal and admin can.")
    st.stop()

with st.form(f"edit-{pid}"):
    st.markdown(f"**Edit {provider.name}** (changes are validated like a load and recorded in the audit log)")
    c1, c2 = st.columns(2)
    with c1:
        dpa = _agreement_inputs("dpa", provider.dpa, DpaStatus.values())
    with c2:
        baa = _agreement_inputs("baa", provider.baa, BaaStatus.values())
    c3, c4, c5 = st.columns(3)
    last_review = c3.date_input("last reviewed on", value=provider.last_reviewed_on, key=f"{pid}-last-review",
                                format="YYYY-MM-DD")
    next_review = c4.date_input("next review on", value=provider.next_review_on, key=f"{pid}-next-review",
                                format="YYYY-MM-DD")
    owner = c5.text_input("owner", value=provider.owner or "", key=f"{pid}-owner")
    certs = st.data_editor(
        pd.DataFrame([c.model_dump() for c in provider.certifications], columns=["name", "valid_until", "evidence"]),
        key=f"{pid}-certs", num_rows="dynamic", hide_index=True, width="stretch",
        column_config={"valid_until": st.column_config.DateColumn("valid until", format="YYYY-MM-DD")},
    )
    reason = st.text_input("reason for the change (recorded in the audit log)", key=f"{pid}-reason")
    saved = st.form_submit_button("Save changes", type="primary", key="provider-save")

if saved:
    certifications = [
        {"name": str(row["name"]).strip(), "valid_until": pd.Timestamp(row["valid_until"]).date()
         if pd.notna(row["valid_until"]) else None, "evidence": row["evidence"] if pd.notna(row["evidence"]) else None}
        for row in certs.to_dict("records") if pd.notna(row["name"]) and str(row["name"]).strip()
    ]
    changes = {"dpa": dpa, "baa": baa, "last_reviewed_on": last_review, "next_review_on": next_review,
               "owner": owner or None, "certifications": certifications}
    try:
        with state.store().session() as session:
            new_version = update_provider(session, provider_id=pid, expected_version=st.session_state[version_key],
                                          changes=changes, actor=state.current_actor(), reason=reason or None)
    except ComplianceError as exc:
        state.show_not_saved(exc)
        if isinstance(exc, Conflict):
            st.session_state["conflict"] = pid
    else:
        st.session_state[version_key] = new_version
        state.saved(f"Saved {provider.name} (version {new_version}).")

if st.session_state.get("conflict") == pid and st.button("Reload the latest version", key=f"{pid}-reload"):
    st.session_state[version_key] = current_version
    st.session_state.pop("conflict", None)
    for key in [k for k in st.session_state if str(k).startswith(f"{pid}-")]:
        del st.session_state[key]
    st.rerun()
