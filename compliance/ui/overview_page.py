"""Overview: headline figures for legal, engineers and finance, and every alert with where to fix it."""

from __future__ import annotations

from datetime import date

import streamlit as st

from compliance.alerts import policy_alerts, store_alerts, unsourced_alerts
from compliance.textout import money
from compliance.ui import state
from compliance.ui.overview import headline

FIX_PAGE = {"dpa": "providers", "baa": "providers", "certification": "providers", "review": "providers",
            "route": "routes", "exception": "policies", "provider_source": "providers", "route_source": "routes"}
PAGES = {"providers": ("compliance/ui/providers_page.py", "Providers & DPAs"),
         "routes": ("compliance/ui/routes_page.py", "Routes"),
         "policies": ("compliance/ui/policies_page.py", "Policies")}

st.title("LLM compliance overview")
st.caption("Example data of a fictional company: verify every fact before relying on it. Not legal advice.")
today = date.today()
with state.problems_shown():
    snap = state.snapshot()
data = snap.dataset
figures = headline(data, today)
alerts = store_alerts(data, today, window_days=state.store().settings.freshness_days)
violating = None
if snap.compliance:
    alerts += policy_alerts(snap.compliance.decider, today) + unsourced_alerts(snap.compliance.decider, today)
    flows = snap.compliance.flows(as_of=today)
    violating = len({f.feature for f in flows if not f.compliant})
alerts.sort(key=lambda a: a.sort_key)
segments = state.cost_table(state.marker(), today, "segments") if data.costs.segments else None
spend = float(segments["llm_cost"].sum()) if segments is not None else None

legal, engineering, finance = st.columns(3)
legal.metric("Providers under an active DPA", f"{figures.providers_with_active_dpa} / {figures.providers}")
legal.metric("Agreements expiring in 60 days",
             sum(1 for a in alerts if a.kind in ("dpa", "baa") and a.severity == "expiring"))
legal.metric("Expired agreements", sum(1 for a in alerts if a.kind in ("dpa", "baa") and a.severity == "expired"))
engineering.metric("Approved routes", f"{figures.approved_routes} / {figures.routes}")
engineering.metric("Features with violating flows", "-" if violating is None else violating)
finance.metric("Projected LLM spend per month", money(spend))

if snap.problems:
    st.error(f"The policy files have {len(snap.problems)} problem(s); decisions are unavailable until they are "
             "fixed.")
    st.page_link("compliance/ui/policies_page.py", label="Open the policies page", icon=":material/rule:")

st.subheader(f"Alerts ({len(alerts)})")
if not alerts:
    st.success("Nothing needs attention in the next 60 days.")
for alert in alerts:
    icon = {"expired": ":material/error:", "stale": ":material/history:", "overdue": ":material/event_busy:"}.get(
        alert.severity, ":material/schedule:")
    left, right = st.columns([5, 1])
    left.markdown(f"{icon} **{alert.severity.upper()}** · {alert.message}")
    page, label = PAGES[FIX_PAGE[alert.kind]]
    right.page_link(page, label=f"Fix in {label}", query_params={"id": alert.subject})
