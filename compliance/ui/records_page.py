"""Records (legal): our subprocessor list and its diff against the announcements, the GDPR Art. 30
records of processing, the AI register, and downloads of each in every format plus the evidence pack.
Everything comes from compliance.records; this page only shows it."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from compliance.records.evidence import pack_from_store, record_tables
from compliance.records.formats import RecordTable, cell, to_csv, to_json, to_xlsx
from compliance.records.stamp import Stamp
from compliance.records.subprocessors import markdown, notice_diff, subprocessor_list
from compliance.store.audit import last_hash
from compliance.ui import state
from compliance.ui.records_form import announcement_form, legal_facts_form

st.title("Records")
with state.problems_shown():
    snap = state.snapshot()
compliance = state.require_policies(snap)
decider = compliance.decider
on = st.date_input("As of", value=date.today(), key="records-as-of", format="YYYY-MM-DD")
on = on if isinstance(on, date) else date.today()
with state.store().snapshot() as session:
    head = last_hash(session)
stamp = Stamp(on, decider.policies.digest, head)
tables = record_tables(decider, on)
st.caption(f"As of {on}; policy digest `{stamp.policy_digest[:12]}`; store head `{head[:12]}`. "
           "Every download names the same state.")


def frame(table: RecordTable) -> pd.DataFrame:
    return pd.DataFrame([{c: cell(row.get(c)) for c in table.columns} for row in table.rows], columns=table.columns)


def downloads(table: RecordTable, stem: str) -> None:
    c1, c2, c3 = st.columns(3)
    c1.download_button("CSV", data=to_csv(table, stamp), file_name=f"{stem}-{on}.csv", mime="text/csv",
                       key=f"{stem}-csv")
    c2.download_button("XLSX", data=lambda: to_xlsx([table], stamp), file_name=f"{stem}-{on}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key=f"{stem}-xlsx")
    c3.download_button("JSON", data=to_json([table], stamp), file_name=f"{stem}-{on}.json",
                       mime="application/json", key=f"{stem}-json")


# --- subprocessors --------------------------------------------------------------------------------
st.subheader("Subprocessors")
subprocessors = tables["subprocessors"]
in_use = subprocessor_list(snap.dataset)
wanted = st.query_params.get("id")  # the overview's "Fix in Records" names the processor of its alert
focus = next((s for s in in_use if s.processor == wanted), None)
if focus is not None:
    st.info(f"**{focus.name}** (`{focus.processor}`): {focus.status(on)}. It receives our customers' data for "
            f"{', '.join(focus.features)} through {', '.join(focus.routes)}.")
st.dataframe(frame(subprocessors), hide_index=True, width="stretch", key="subprocessors-table",
             column_order=["name", "legal_entity", "locations", "transfer_mechanism", "purposes", "features",
                           "status"])
names = {p.id: p.name for p in snap.dataset.providers}
diff = notice_diff(snap.dataset, on)
for label, ids, show in (("In use for customer data but never announced", diff.not_announced, st.error),
                         ("Announced, notice period still running", diff.in_notice, st.warning),
                         ("Announced, no longer receiving customer data", diff.no_longer_used, st.info)):
    if ids:
        show(f"{label}: {', '.join(names.get(i, i) for i in ids)}")
page = markdown(snap.dataset, on, stamp.as_dict(), diff=False)
with st.expander("The public page (markdown)"):
    st.code(page, language="markdown")
c1, c2 = st.columns(2)
c1.download_button("Public page (markdown)", data=page, file_name=f"subprocessors-{on}.md", mime="text/markdown",
                   key="subprocessors-md")
with c2:
    downloads(subprocessors, "subprocessors")
st.markdown("**Record an announcement**")
announcement_form(snap.dataset, [s.processor for s in in_use], wanted)

# --- records of processing ------------------------------------------------------------------------
st.subheader("Records of processing (GDPR Art. 30)")
records = tables["records_of_processing"]
st.dataframe(frame(records), hide_index=True, width="stretch", key="records-table")
downloads(records, "records-of-processing")

# --- AI register ----------------------------------------------------------------------------------
st.subheader("AI register")
register = tables["register"]
risks = pd.Series([row["risk"] or "not classified" for row in register.rows]).value_counts()
columns = st.columns(5)
for column, risk in zip(columns, ["prohibited", "high", "limited", "minimal", "not classified"], strict=True):
    column.metric(risk, int(risks.get(risk, 0)))
for row in register.rows:
    if row["flags"]:
        st.warning(f"**{row['feature_name']}** ({row['feature']}): {'; '.join(row['flags'])}")
st.dataframe(frame(register), hide_index=True, width="stretch", key="register-table")
downloads(register, "ai-register")

# --- evidence pack --------------------------------------------------------------------------------
st.subheader("Evidence pack")
st.caption("One zip for an auditor: these records, every policy file and its digest, policy test results, "
           "exceptions, alerts, the decision matrix and the audit log with its chain check, an index.md mapping "
           "each file to controls, and verify.py.")


def _pack() -> bytes:
    current = state.store()
    policy_dir = current.settings.policy_dir
    files = {p.name: p.read_bytes() for p in sorted(policy_dir.glob("*.y*ml"))}
    return pack_from_store(store=current, decider=decider, policy_bytes=files, policy_dir=policy_dir,
                           data_dir=current.settings.data_dir, on=on)


st.download_button("Evidence pack (zip)", data=_pack, file_name=f"evidence-{on}.zip", mime="application/zip",
                   key="evidence-zip")

# --- legal's facts on features --------------------------------------------------------------------
st.subheader("Edit a feature's legal facts")
st.caption("Purposes, data subjects, legal basis, customer data and the AI Act block; audited, and refused "
           "if someone else changed the feature since you opened it.")
legal_facts_form(snap.dataset.features)
