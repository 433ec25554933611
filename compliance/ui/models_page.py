"""Models (engineers and finance): per feature, every allowed (route, model) by cost and eval score,
the advisor's recommendation and what switching saves; the policy's denials greyed with their rules."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from compliance.costs.history import fitted_vs_assumed
from compliance.models.advisor import advise, advise_portfolio
from compliance.models.retirements import flows_on
from compliance.textout import money
from compliance.ui import charts, state

st.title("Models")
with state.problems_shown():
    snap = state.snapshot()
compliance = state.require_policies(snap)
data = snap.dataset
if not data.features:
    st.info("The store has no features yet; the advisor needs a feature with flows and usage.")
    st.stop()

features = [f.id for f in data.features]
# The overview's "Fix in Models" names a model alert's subject, "route/model": open a feature that uses it.
route_id, _, model_id = str(st.query_params.get("id", "")).partition("/")
route = next((r for r in data.routes if r.id == route_id), None)
using = list(dict.fromkeys(f.id for f, _ in flows_on(data, route, model_id))) if route and model_id else []
if route is not None and model_id:
    st.info(f"Model **{model_id}** on **{route.id}**: " + (
        f"declared flows of {', '.join(using)} use it; each feature's allowed alternatives are below."
        if using else "no declared flow uses it."))
c1, c2 = st.columns([2, 1])
feature_id = c1.selectbox("Feature", features, index=features.index(using[0]) if using else 0, key="models-feature")
on = c2.date_input("As of", value=date.today(), key="models-date", format="YYYY-MM-DD")
with state.problems_shown():
    advice = advise(compliance.decider, feature_id, on)
if not advice.options:
    st.info(advice.problem or "Nothing to advise.")
    st.stop()

rec = advice.recommendation
if rec is not None:
    saving = advice.saving_monthly
    st.success(f"Recommendation: **{rec.model}** on **{rec.route}** at {money(rec.monthly_cost)}/month; "
               f"switching from today's flows ({money(advice.current_monthly)}/month) saves {money(saving)}/month.")
else:
    st.warning(f"No recommendation: {advice.problem or 'no allowed option meets the needs'}.")
if advice.note:
    st.caption(advice.note)

frame = pd.DataFrame([{
    "option": f"{o.model} on {o.route}", "route": o.route, "model": o.model, "allowed": o.allowed,
    "monthly_cost": o.monthly_cost, "score": o.score, "expected_latency_s": (o.latency_ms or 0) / 1000 or None,
    "latency_source": "measured" if o.latency_verified else ("unverified" if o.latency_ms else "-"),
    "ip_indemnity": {True: "yes", False: "no", None: "unknown"}[o.indemnified],
    "good_enough": o.meets_quality and o.meets_latency, "today": o.current, "recommended": o is rec,
    "retired_on": o.retired_on, "policy": "allowed" if o.allowed else "denied: " + ", ".join(o.denied_by),
    "why_not": advice.why_not.get((o.route, o.model), ""),
} for o in advice.options])
if advice.quality is not None:
    st.plotly_chart(charts.model_options_scatter(frame, advice.quality.metric, advice.quality.min),
                    width="stretch", key="models-chart")
    if frame["score"].isna().all():
        st.caption("No option has an eval on this metric yet: import results with `python -m compliance evals import`.")
st.dataframe(frame.drop(columns=["option", "recommended"]), hide_index=True, width="stretch", column_config={
    "monthly_cost": st.column_config.NumberColumn("per month", format="dollar"),
    "expected_latency_s": st.column_config.NumberColumn("expected latency (s)", format="%.1f"),
})

st.subheader("Portfolio")
with state.problems_shown():
    portfolio = advise_portfolio(compliance.decider, on)
st.metric("Switching every feature to its recommendation saves", f"{money(portfolio.saving_monthly)}/month",
          help="Sum of the per-feature savings; every recommendation is allowed by the policy, so every flow "
               "stays compliant.")

st.subheader("Price trend")
trend = fitted_vs_assumed(data.costs.projection.scenarios)
st.caption(f"Fitted from genai-prices' own history for the {trend.family}, {trend.start} to {trend.end}: "
           f"prices fell {trend.fitted:.0%} a year. The projection assumes the scenarios below"
           + (f"; the closest to history is **{trend.closest}**." if trend.closest else "."))
st.dataframe(pd.DataFrame([{"scenario": name, "assumed annual decline": value, "fitted (history)": trend.fitted}
                           for name, value in trend.assumed.items()]), hide_index=True, column_config={
    "assumed annual decline": st.column_config.NumberColumn(format="percent"),
    "fitted (history)": st.column_config.NumberColumn(format="percent"),
})
