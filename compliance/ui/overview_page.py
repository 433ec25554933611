"""Overview: headline figures for legal, engineers and finance, and every alert with where to fix it."""

from __future__ import annotations

from datetime import date

import streamlit as st

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
within = st.number_input("Look ahead (days)", value=60, step=30, key="overview-within",
                         help="Alerts for agreements, certifications, exceptions and reviews ending within this window")
if within < 0 or within > state.LOOKAHEAD_DAYS:
    st.error(f"The window is a number of days from 0 to {state.LOOKAHEAD_DAYS:,} (got {within:,.0f}); showing 60.")
    within = 60
window = int(within)
alerts = state.alerts(state.marker(), today, window)
violating = None
if snap.compliance:
    flows = snap.compliance.flows(as_of=today)
    violating = len({f.feature for f in flows if not f.compliant})
segments = state.cost_table(state.marker(), today, "segments") if data.costs.segments else None
spend = float(segments["llm_cost"].sum()) if segments is not None else None

legal, engineering, finance = st.columns(3)
legal.metric("Providers under an active DPA", f"{figures.providers_with_active_dpa} / {figures.providers}")
legal.metric(f"Agreements expiring in {window} days",
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
    st.success(f"Nothing needs attention in the next {window} days.")
for alert in alerts:
    icon = {"expired": ":material/error:", "unsigned": ":material/gpp_bad:", "stale": ":material/history:",
            "overdue": ":material/event_busy:"}.get(
        alert.severity, ":material/schedule:")
    left, right = st.columns([5, 1])
    left.markdown(f"{icon} **{alert.severity.upper()}** · {alert.message}")
    if alert.breaks:
        left.caption(f"What breaks: from {alert.breaks_on} these declared flows are denied: "
                     + ", ".join(f"`{f}`" for f in alert.breaks))
    elif alert.breaks_on is not None:
        left.caption("What breaks: no declared flow becomes denied.")
    if alert.carries:
        left.caption("Declared flows sending it data today: " + ", ".join(f"`{f}`" for f in alert.carries))
    page, label = PAGES[FIX_PAGE[alert.kind]]
    right.page_link(page, label=f"Fix in {label}", query_params={"id": alert.subject})
