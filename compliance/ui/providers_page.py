"""Providers & DPAs (legal): what needs attention, effective agreement states, what breaks if an
agreement lapses, evidence, history, and audited edits that never overwrite a colleague's change."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from compliance.attention import needs_attention
from compliance.store.audit import list_events
from compliance.store.derived import agreement_state
from compliance.store.edits import provider_doc, update_provider
from compliance.store.enums import BaaStatus, DpaStatus, SourceStatus
from compliance.ui import charts, edit_form, state
from compliance.ui.views import audit_frame, expiry_events, md_link, providers_frame, search, sources_frame

st.title("Providers & DPAs")
state.show_saved()
today = date.today()
with state.problems_shown():
    snap = state.snapshot()
data = snap.dataset
if not data.providers:
    st.info("No providers in the store yet. Load a data folder with `python -m compliance load DIR`.")
    st.stop()
key = state.marker()

# --- needs attention ---------------------------------------------------------------------------
st.subheader("Needs attention")
within = st.number_input("DPAs expiring within (days)", value=60, step=30, key="attention-within",
                         help="Also lists providers with no signed DPA and expired DPAs, whatever the window.")
if within < 0 or within > state.LOOKAHEAD_DAYS:
    st.error(f"The window is a number of days from 0 to {state.LOOKAHEAD_DAYS:,} (got {within:,.0f}); "
             "showing 60 days.")
    within = 60
attention = needs_attention(data, today, int(within))
if attention.empty:
    st.success(f"Every provider has a signed DPA in force for at least the next {int(within)} days.")
else:
    st.dataframe(attention, hide_index=True, width="stretch", key="attention-table",
                 column_order=["provider", "issue", "declared_flows", "days_to_expiry", "dpa_state", "owner"],
                 column_config={"declared_flows": st.column_config.NumberColumn(
                     "flows sending data", help="declared flows whose prompts this provider processes today"),
                     "days_to_expiry": st.column_config.NumberColumn("days left"),
                     "dpa_state": "DPA state"})

# --- all providers -------------------------------------------------------------------------------
st.subheader("All providers")
frame = providers_frame(data, today)
query = st.text_input("Search providers", placeholder="name, legal entity, DPA state, certification",
                      max_chars=200, key="provider-search")
shown = search(frame, query)
if query and shown.empty:
    st.caption(f"No provider matches “{query.strip()}”.")
st.dataframe(shown, hide_index=True, width="stretch", column_order=[
    "name", "dpa_state", "dpa_expires_on", "dpa_days_to_expiry", "baa_state", "certifications", "owner",
    "next_review_on", "legal_entity", "hq", "transfer_mechanism", "dpa_status", "dpa_signed_on",
    "last_reviewed_on", "unverified_facts", "id"], column_config={
    "dpa_state": st.column_config.TextColumn("DPA state", help="as of today: signed but past expiry reads expired"),
    "baa_state": "BAA state", "legal_entity": "legal entity", "dpa_status": "DPA status (stored)",
    "transfer_mechanism": "transfer mechanism", "certifications": "current certifications",
    "unverified_facts": "unverified facts",
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

# --- one provider --------------------------------------------------------------------------------
st.subheader("Provider details")
ids = [p.id for p in data.providers]
wanted = state.linked("id", ids, "provider")
pid = st.selectbox("Provider", ids, index=ids.index(wanted) if wanted else 0, key="provider-select",
                   format_func=lambda x: next(p.name for p in data.providers if p.id == x))
provider = next(p for p in data.providers if p.id == pid)

left, right = st.columns(2)
with left:
    st.markdown(f"**Legal entity:** {provider.legal_entity or 'not recorded'} · **HQ:** {provider.hq_country or '-'}")
    mechanism = provider.transfer_mechanism.value if provider.transfer_mechanism else "not recorded"
    st.markdown(f"**Transfer mechanism:** {mechanism}")
    for kind in ("dpa", "baa"):
        agreement = getattr(provider, kind)
        if agreement is None:
            st.markdown(f"**{kind.upper()}:** none recorded")
            continue
        effective = agreement_state(agreement, today)
        stored = agreement.status.value
        note = "" if effective == stored.replace("_", " ") else f" (stored as `{stored}`)"
        dates = " · ".join(x for x in (f"signed {agreement.signed_on}" if agreement.signed_on else "",
                                       f"expires {agreement.expires_on}" if agreement.expires_on else "") if x)
        st.markdown(f"**{kind.upper()}:** {effective}{note}" + (f" · {dates}" if dates else ""))
        if agreement.document:
            label = agreement.version or agreement.document
            st.markdown(f"{kind.upper()} document: {md_link(label, agreement.document)}")
        if agreement.notes:
            st.caption(f"{kind.upper()} note: {agreement.notes}")
    if provider.subprocessors and provider.subprocessors.url:
        st.markdown(f"**Subprocessors:** {md_link(provider.subprocessors.url, provider.subprocessors.url)} "
                    f"(checked {provider.subprocessors.last_checked_on or 'never'})")
    if provider.notes:
        st.caption(f"Note: {provider.notes}")
with right:
    uses = [r for r in data.routes if pid in (r.processor, r.model_provider)]
    st.markdown("**Routes**")
    for r in uses:
        role = "processor" if r.processor == pid else "model maker only (not in the DPA chain)"
        st.markdown(f"- `{r.id}` {r.name}: {role}")
    if not uses:
        st.caption("No route uses this provider.")

st.markdown("**What breaks if an agreement or certification lapses**")
lapses = state.provider_lapses(key, today, pid)
if not lapses:
    st.caption("No dated DPA, BAA or certification ahead for this provider.")
for lapse in lapses:
    broken = ", ".join(f"`{f}`" for f in lapse.breaks) if lapse.breaks else "no declared flow becomes denied"
    st.markdown(f"- {lapse.message}: {broken}")
    if lapse.breaks:
        st.caption(f"  from {lapse.breaks_on}, {len(lapse.breaks)} declared flow(s) are denied")

st.markdown("**Sources and evidence**")
st.dataframe(sources_frame(provider), hide_index=True, width="stretch",
             column_config={"url": st.column_config.LinkColumn("source")})

st.markdown("**Change history**")
with state.store().session() as session:
    history = audit_frame(list_events(session, entity="provider", entity_id=pid, limit=50))
st.dataframe(history, hide_index=True, width="stretch", column_order=["at", "actor", "changes", "reason", "action"],
             column_config={"at": st.column_config.DatetimeColumn("at (UTC)", format="YYYY-MM-DD HH:mm"),
                            "changes": st.column_config.TextColumn("changes (old -> new)", width="large")})

# --- editing -------------------------------------------------------------------------------------
actor = state.current_actor()
if not actor.may_change("provider"):
    st.caption(f"Your role ({actor.role.value}) can read providers but not change them; legal and admin can.")
    st.stop()


def _load() -> tuple[Any, int]:
    with state.store().session() as session:
        return provider_doc(session, pid)


form = edit_form.open_form(f"provider-{pid}", _load, provider.name)
doc = form.doc
k = form.key


def _agreement_inputs(kind: str, agreement: Any, statuses: list[str]) -> tuple[dict[str, Any] | None, list[str]]:
    """The agreement as entered, and a problem when details were typed without a status (they would be dropped)."""
    label = kind.upper()
    options = ["(none recorded)", *statuses]
    status = st.selectbox(f"{label} status", options, key=k(f"{kind}-status"),
                          index=options.index(agreement.status.value) if agreement else 0)
    version = st.text_input(f"{label} version", value=(agreement.version or "") if agreement else "",
                            key=k(f"{kind}-version"), max_chars=200)
    signed = edit_form.date_input(f"{label} signed on", agreement.signed_on if agreement else None,
                                  k(f"{kind}-signed"))
    expires = edit_form.date_input(f"{label} expires on", agreement.expires_on if agreement else None,
                                   k(f"{kind}-expires"))
    slots[kind] = st.empty()
    document = st.text_input(f"{label} document link", value=(agreement.document or "") if agreement else "",
                             key=k(f"{kind}-document"), max_chars=2000, placeholder="https://...")
    notes = st.text_area(f"{label} notes", value=(agreement.notes or "") if agreement else "",
                         key=k(f"{kind}-notes"), max_chars=2000, height=80)
    details = {"version": version.strip() or None, "signed_on": signed, "expires_on": expires,
               "document": document.strip() or None, "notes": notes.strip() or None}
    if status != "(none recorded)":
        return {"status": status, **details}, []
    stored = {name: getattr(agreement, name) for name in details} if agreement else dict.fromkeys(details)
    if any(details.values()) and details != stored:  # unchanged details of a removed agreement go with it
        return None, [f"{label}: choose a {label} status to record an agreement (the {label} details typed "
                      "are kept only with a status)"]
    return None, []


slots: dict[str, Any] = {}
with edit_form.area(form), st.form(k("form")):
    st.markdown(f"**Edit {doc.name}** (validated like a load, recorded in the audit log, refused if someone "
                "else saved first)")
    c1, c2 = st.columns(2)
    with c1:
        dpa, dpa_problems = _agreement_inputs("dpa", doc.dpa, DpaStatus.values())
    with c2:
        baa, baa_problems = _agreement_inputs("baa", doc.baa, BaaStatus.values())
    c3, c4, c5 = st.columns(3)
    last_review = edit_form.date_input("last reviewed on", doc.last_reviewed_on, k("last-review"), c3)
    next_review = edit_form.date_input("next review on", doc.next_review_on, k("next-review"), c4)
    owner = c5.text_input("owner", value=doc.owner or "", key=k("owner"), max_chars=200)
    provider_notes = st.text_area("provider notes", value=doc.notes or "", key=k("notes"), max_chars=2000, height=80)
    st.markdown("Certifications")
    certs = st.data_editor(
        pd.DataFrame([c.model_dump() for c in doc.certifications], columns=["name", "valid_until", "evidence"]),
        key=k("certs"), num_rows="dynamic", hide_index=True, width="stretch",
        column_config={"name": st.column_config.TextColumn("name", max_chars=200),
                       "valid_until": st.column_config.DateColumn("valid until", format="YYYY-MM-DD"),
                       "evidence": st.column_config.TextColumn("evidence (link)", max_chars=2000)})
    slots["certifications"] = st.empty()
    st.markdown("Sources (where each fact comes from)")
    sources = st.data_editor(
        pd.DataFrame([s.model_dump(mode="json") | {"as_of": s.as_of} for s in doc.sources],
                     columns=["field", "url", "as_of", "status", "note"]),
        key=k("sources"), num_rows="dynamic", hide_index=True, width="stretch",
        column_config={"field": st.column_config.TextColumn("fact (field)", max_chars=200),
                       "url": st.column_config.TextColumn("source url", max_chars=2000),
                       "as_of": st.column_config.DateColumn("as of", format="YYYY-MM-DD"),
                       "status": st.column_config.SelectboxColumn("status", options=SourceStatus.values(),
                                                                  required=True, default="verified"),
                       "note": st.column_config.TextColumn("note", max_chars=2000)})
    slots["sources"] = st.empty()
    reason = edit_form.reason_input(k("reason"))
    submitted = st.form_submit_button("Save changes", type="primary", key="provider-save")
edit_form.show(form.outcome)

if submitted:
    certifications = [{"name": r["name"], "valid_until": r["valid_until"], "evidence": r["evidence"]}
                      for r in edit_form.editor_rows(certs)]
    source_rows = [{**r, "status": r["status"] or "unverified"} for r in edit_form.editor_rows(sources)]
    changes = {"dpa": dpa, "baa": baa, "last_reviewed_on": last_review, "next_review_on": next_review,
               "owner": owner.strip() or None, "notes": provider_notes.strip() or None,
               "certifications": certifications, "sources": source_rows}
    warnings = [f"Saved, but the {kind.upper()} is marked signed and its expiry {agreement['expires_on']} is "
                f"already past: it reads as expired. Correct the expiry or the status if that is wrong."
                for kind, agreement in (("dpa", dpa), ("baa", baa))
                if agreement and agreement["status"] == "signed" and agreement["expires_on"]
                and agreement["expires_on"] < today]
    problems = [*dpa_problems, *baa_problems, *edit_form.done_by_today(last_review, "last reviewed on", today)]
    if last_review and next_review and next_review < last_review:
        problems.append(f"next review on {next_review} is before last reviewed on {last_review}")
    edit_form.save(form, lambda session, why: update_provider(
        session, provider_id=pid, expected_version=form.base.version, changes=changes, actor=actor, reason=why),
        reason=reason, label=f"provider {pid}", saved=f"Saved {doc.name}", problems=problems, changes=changes,
        slots=slots, warnings=warnings)
