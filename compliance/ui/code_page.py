"""Code: the LLM calls the last recorded scan found, per feature, the ones no flow declares first."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from compliance.scan import VIOLATIONS
from compliance.scan.record import finding_rows, findings_by_feature, last_recorded_scan
from compliance.ui import state

st.title("Code")
st.caption("Declared vs actual: every LLM call `python -m compliance scan PATH --record` found in the code, held "
           "against the flows each feature declares.")
with state.problems_shown():
    recorded = last_recorded_scan(state.store())
if recorded is None:
    st.info("No scan recorded yet. From the repository root run `python -m compliance scan . --record` "
            "(in CI, after `flows`), then reload this page.")
    st.stop()

by_status = recorded.summary.get("by_status", {})
st.markdown(f"Scan **{recorded.id}** of `{' '.join(recorded.paths)}` on {recorded.at:%Y-%m-%d %H:%M} UTC by "
            f"{recorded.actor}: {recorded.summary.get('files', 0):,} files, {recorded.summary.get('lines', 0):,} "
            f"lines, rules {recorded.rules_version}.")
columns = st.columns(6)
for column, status in zip(columns, ("undeclared", "unresolved", "unattributed", "unparsed", "accepted", "declared"),
                          strict=True):
    column.metric(status, by_status.get(status, 0))
if any(by_status.get(s) for s in VIOLATIONS):
    st.error("Some LLM calls are not covered by a declared flow: declare the flow, change the call, or accept it "
             "in the baseline.")
else:
    st.success("Every LLM call the scan found is declared by its feature.")

groups = findings_by_feature(recorded)
names = [g[0] or "(no feature)" for g in groups]
choice = st.selectbox("Feature", ["all features", *names])
for feature, findings in groups:
    label = feature or "(no feature)"
    if choice not in ("all features", label):
        continue
    bad = sum(f.get("status") in VIOLATIONS for f in findings)
    st.subheader(label + (f" — {bad} not declared" if bad else ""))
    st.dataframe(pd.DataFrame(finding_rows(findings)), hide_index=True, width="stretch",
                 column_config={"guarded": st.column_config.CheckboxColumn("require() guard"),
                                "why": st.column_config.TextColumn("why", width="large")})
