"""Audit log: every change, who made it and why; the hash chain's verification; CSV export."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pandas as pd
import streamlit as st

from compliance.store.audit import export_text, list_events, verify_chain
from compliance.ui import state
from compliance.ui.views import audit_frame

st.title("Audit log")
with state.problems_shown(), state.store().session() as session:
    report = verify_chain(session)
    everything = audit_frame(list_events(session))

if report.ok:
    st.success(str(report))
else:
    st.error(str(report))

if everything.empty:
    st.info("No changes recorded yet.")
    st.stop()

c1, c2, c3 = st.columns(3)
entity = c1.selectbox("Entity", ["all", *sorted(everything["entity"].unique())], key="audit-entity")
actor = c2.selectbox("Actor", ["all", *sorted(everything["actor"].unique())], key="audit-actor")
first = pd.Timestamp(everything["at"].min()).date()
period = c3.date_input("Between", value=(first, datetime.now(UTC).date()), key="audit-period", format="YYYY-MM-DD")

with state.store().session() as session:
    since = until = None
    if isinstance(period, tuple) and len(period) == 2:
        since = datetime.combine(period[0], time.min, tzinfo=UTC)
        until = datetime.combine(period[1], time.min, tzinfo=UTC) + timedelta(days=1)
    events = audit_frame(list_events(session, entity=None if entity == "all" else entity,
                                     actor=None if actor == "all" else actor, since=since, until=until))
st.caption(f"{len(events)} of {len(everything)} events")
st.dataframe(events, hide_index=True, width="stretch",
             column_config={"at": st.column_config.DatetimeColumn("at (UTC)", format="YYYY-MM-DD HH:mm:ss"),
                            "changes": st.column_config.TextColumn("changes (old -> new)", width="large"),
                            "reason": st.column_config.TextColumn("reason", width="medium")},
             column_order=["at", "actor", "entity", "entity_id", "changes", "reason", "action", "id", "hash"])


def _export() -> str:
    with state.store().session() as session:
        return export_text(list_events(session))


st.download_button("Export the whole log for auditors (CSV)", data=_export, file_name="audit-log.csv",
                   mime="text/csv", key="audit-csv",
                   help="The same file as `python -m compliance audit export`: every event oldest first, with "
                        "full hashes and the previous hash, so the chain can be re-checked from it.")
