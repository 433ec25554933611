"""Audit log: every change, who made it and why; the hash chain's verification; CSV export."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pandas as pd
import streamlit as st

from compliance.store.audit import count_events, export_text, list_events, log_summary, verify_chain
from compliance.ui import state
from compliance.ui.views import audit_frame

SHOWN = 1000  # newest events drawn in the table; the export has every one

st.title("Audit log")
with state.problems_shown(), state.store().session() as session:
    report = verify_chain(session)  # on every visit: a log altered in the database shows at once
    summary = log_summary(session)

# each line of the report is a paragraph: markdown would run single line breaks together into one sentence
(st.success if report.ok else st.error)("\n\n".join(str(report).splitlines()))

if not summary.events:
    st.info("No changes recorded yet.")
    st.stop()

c1, c2, c3 = st.columns(3)
entity = c1.selectbox("Entity", ["all", *summary.entities], key="audit-entity")
actor = c2.selectbox("Actor", ["all", *summary.actors], key="audit-actor")
first = pd.Timestamp(summary.first).date() if summary.first else datetime.now(UTC).date()
period = c3.date_input("Between", value=(first, datetime.now(UTC).date()), key="audit-period", format="YYYY-MM-DD")

with state.store().session() as session:
    since = until = None
    if isinstance(period, tuple) and len(period) == 2:
        since = datetime.combine(period[0], time.min, tzinfo=UTC)
        until = datetime.combine(period[1], time.min, tzinfo=UTC) + timedelta(days=1)
    filters: dict[str, Any] = {"entity": None if entity == "all" else entity,
                               "actor": None if actor == "all" else actor, "since": since, "until": until}
    matching = count_events(session, **filters)
    events = audit_frame(list_events(session, **filters, limit=SHOWN))
if matching > SHOWN:
    st.caption(f"{matching:,} of {summary.events:,} events match; the newest {SHOWN:,} are shown. Narrow the filters, "
               "or export the whole log below.")
else:
    st.caption(f"{matching:,} of {summary.events:,} events")
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
