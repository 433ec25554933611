"""Overview: headline figures and the alert list."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from compliance.alerts import store_alerts
from compliance.overview import headline
from compliance.ui.state import dataset

st.title("LLM compliance overview")
st.caption("Example data of a fictional company: verify every fact before relying on it. Not legal advice.")
today = date.today()
data = dataset()
figures = headline(data, today)
cols = st.columns(4)
cols[0].metric("Providers under an active DPA", f"{figures.providers_with_active_dpa} / {figures.providers}")
cols[1].metric("Approved routes", f"{figures.approved_routes} / {figures.routes}")
cols[2].metric("Data categories", figures.categories)
cols[3].metric("Features", figures.features)

alerts = store_alerts(data, today)
st.subheader(f"Alerts ({len(alerts)})")
if alerts:
    st.dataframe(
        pd.DataFrame([{"severity": a.severity, "kind": a.kind, "subject": a.subject, "what": a.message,
                       "due": a.due_on} for a in alerts]),
        hide_index=True, width="stretch",
    )
else:
    st.success("Nothing needs attention in the next 60 days.")
