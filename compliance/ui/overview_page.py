"""Overview: headline figures for legal, engineers and finance, and every alert with where to fix it."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from compliance.alerts import superseded_exceptions
from compliance.policy.flows import FlowResult
from compliance.textout import money
from compliance.ui import state
from compliance.ui.overview import headline

FIX_PAGE = {"dpa": "providers", "baa": "providers", "certification": "providers", "review": "providers",
            "route": "routes", "exception": "policies", "provider_source": "providers", "route_source": "routes",
            "model": "models", "subprocessor_notice": "records"}
PAGES = {"providers": ("compliance/ui/providers_page.py", "Providers & DPAs"),
         "routes": ("compliance/ui/routes_page.py", "Routes"),
         "policies": ("compliance/ui/policies_page.py", "Policies"),
         "models": ("compliance/ui/models_page.py", "Models"),
         "records": ("compliance/ui/records_page.py", "Records")}

st.title("LLM compliance overview")
st.caption("Example data of a fictional company: verify every fact before relying on it. Not legal advice.")
today = date.today()
with state.problems_shown():
    key = state.marker()  # one store state for every answer on the page
    snap = state.snapshot_at(key)
data = snap.dataset
figures = headline(data, today)
within = st.number_input("Look ahead (days)", value=60.0, step=30.0, format="%g", key="overview-within",
                         help="Alerts for agreements, certifications, exceptions and reviews ending within this window")
if within < 0 or within > state.LOOKAHEAD_DAYS or within != int(within):  # a float widget: 7.5 is refused, not 7
    st.error(f"The window is a whole number of days from 0 to {state.LOOKAHEAD_DAYS:,} (got {within:,g}); "
             "showing 60.")
    within = 60
window = int(within)
alerts = state.alerts(key, today, window)
violating = None
violations: list[FlowResult] = []
if snap.compliance:
    flows = state.flows(key, today)
    violations = [f for f in flows if not f.compliant]
    violating = len({f.feature for f in violations})
segments = state.cost_table(key, today, "segments") if data.costs.segments else None
spend = float(segments["llm_cost"].sum()) if segments is not None else None


def figure(column: st.delta_generator.DeltaGenerator, label: str, value: object, urgency: str, link: str,
           link_label: str) -> None:
    """A headline figure coloured by urgency (red: act now, orange: soon, green: fine) with a link to its list."""
    colour = {"act": "red", "soon": "orange", "fine": "green", "info": "gray"}[urgency]
    with column.container(border=True):
        st.markdown(f"{label}\n\n:{colour}[**{value}**]")
        st.markdown(f"[{link_label}]({link})")


expiring = sum(1 for a in alerts if a.kind in ("dpa", "baa") and a.severity == "expiring")
expired = sum(1 for a in alerts if a.kind in ("dpa", "baa") and a.severity == "expired")
uncovered = figures.providers - figures.providers_with_active_dpa
legal, engineering, finance = st.columns(3)
figure(legal, "Providers under an active DPA", f"{figures.providers_with_active_dpa} / {figures.providers}",
       "soon" if uncovered else "fine", "providers", "See the providers")
figure(legal, f"Agreements expiring in {window} days", expiring, "soon" if expiring else "fine", "#alerts",
       "See the alerts")
figure(legal, "Expired agreements", expired, "act" if expired else "fine", "#alerts", "See the alerts")
figure(engineering, "Approved routes", f"{figures.approved_routes} / {figures.routes}", "info", "routes",
       "See the routes")
figure(engineering, "Features with violating flows", "-" if violating is None else violating,
       "act" if violating else ("info" if violating is None else "fine"), "#violating-flows",
       "See the violating flows")
figure(finance, "Projected LLM spend per month", money(spend), "info", "costs", "See the costs")

if snap.problems:
    st.error(f"The policy files have {len(snap.problems)} problem(s); decisions are unavailable until they are "
             "fixed.")
    st.page_link("compliance/ui/policies_page.py", label="Open the policies page", icon=":material/rule:")

st.subheader(f"Violating flows ({len(violations)})", anchor="violating-flows")
if snap.compliance is None:
    st.caption("Unavailable while the policy files have problems.")
elif not violations:
    st.success("Every declared flow is compliant today.")
else:
    st.caption("Declared flows that policy denies today, with the categories denied and the rules that deny them.")
SHOWN = 50  # listed in full; the rest go to a table, so a large store's page stays quick to draw and read


def flow_line(flow: FlowResult) -> tuple[str, str]:
    denied = ", ".join(d.category for d in flow.violations) or (flow.retired or "")
    rules = ", ".join(dict.fromkeys(r for d in flow.violations for r in d.rules)) or "default deny (no allow rule)"
    return denied, rules


if violations:
    lines = []
    for flow in violations[:SHOWN]:
        denied, rules = flow_line(flow)
        lines.append(f"- :orange-badge[violation] **{flow.feature}** → `{flow.route}` · {denied} · rules: {rules} · "
                     f"[open in the route checker](checker?feature={flow.feature})")
    st.markdown("\n".join(lines))
if len(violations) > SHOWN:
    with st.expander(f"All {len(violations):,} violating flows, as a table"):
        st.dataframe(pd.DataFrame([(f.feature, f.route, *flow_line(f)) for f in violations],
                                  columns=["Feature", "Route", "Denied categories", "Rules"]),
                     hide_index=True, width="stretch")
        st.caption("Open a feature in the route checker (`checker?feature=ID`) to see where it may go instead.")

observed = state.observed(key, today)
if observed is not None and observed.undeclared:
    st.subheader(f"Undeclared use in production ({len(observed.undeclared)})", anchor="undeclared-use")
    state.undeclared_use(observed)
    st.page_link("compliance/ui/checker_page.py", label="Check the routes in the route checker",
                 icon=":material/route:")

st.subheader(f"Alerts ({len(alerts)})", anchor="alerts")
if not alerts:
    st.success(f"Nothing needs attention in the next {window} days.")
for alert in alerts[:SHOWN]:
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
    if alert.allows:
        left.caption(f"From {alert.due_on} these declared flows are allowed: "
                     + ", ".join(f"`{f}`" for f in alert.allows))
    page, label = PAGES[FIX_PAGE[alert.kind]]
    right.page_link(page, label=f"Fix in {label}", query_params={"id": alert.subject})
if len(alerts) > SHOWN:
    with st.expander(f"{len(alerts) - SHOWN:,} more alerts, as a table"):
        st.dataframe(pd.DataFrame([(a.severity, a.message, ", ".join(a.breaks), PAGES[FIX_PAGE[a.kind]][1], a.subject)
                                   for a in alerts[SHOWN:]],
                                  columns=["Severity", "Alert", "What breaks", "Fix in", "Id"]),
                     hide_index=True, width="stretch")
if snap.compliance:
    replaced = superseded_exceptions(snap.compliance.decider, today)
    if replaced:
        with st.expander(f"History: {len(replaced)} expired exception(s) already replaced"):
            for old, new in replaced.items():
                st.markdown(f"- `{old}` expired and was replaced by `{new}`")
