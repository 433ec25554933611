"""Costs (finance): inputs, cost per feature, B2B vs consumer margins, projection, cost of compliance."""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd
import streamlit as st

from compliance import costs
from compliance.observe.adopt import adopt_observed_usage
from compliance.observe.report import cost_frame
from compliance.problems import ComplianceError, Conflict, InvalidInput
from compliance.store.edits import projection_version, record_versions, update_projection, update_record
from compliance.textout import money, percent
from compliance.ui import charts, cost_edits, edit_form, state

st.title("Costs")
state.show_saved()
today = date.today()
with state.problems_shown():
    snap = state.snapshot()
data = snap.dataset
if not data.costs.segments:
    st.info("No cost segments in the store. Add `segments:` to costs.yaml and load it.")
    st.stop()

key = state.marker()
with state.problems_shown():
    features = state.cost_table(key, today, "features")
    segments = state.cost_table(key, today, "segments")
assert features is not None and segments is not None
errors = [e for e in features["error"].dropna().unique() if e]
if errors:
    st.warning("Some flows cannot be priced, so their cost is missing below:\n" + "\n".join(f"- {e}" for e in errors))

st.subheader("B2B vs consumer")
st.caption("Per segment and month. Percentages to one decimal place.")
cols = st.columns(len(segments))
for col, row in zip(cols, segments.itertuples(), strict=True):
    with col.container(border=True):
        st.markdown(f"**{row.name}**")
        if not row.revenue:
            st.metric("LLM share of revenue", "no revenue", help="this segment earns no revenue")
            st.metric("Gross margin", "no revenue")
            st.caption(f"LLM cost {money(row.llm_cost)} per month")
        else:
            st.metric("LLM share of revenue", percent(row.llm_share_of_revenue))
            st.metric("Gross margin", percent(row.gross_margin))
            st.caption(f"revenue {money(row.revenue)}, LLM cost {money(row.llm_cost)} per month")
st.plotly_chart(charts.margin_bars(segments), width="stretch", key="margin-chart")
shown_segments = segments.drop(columns=["segment"]).assign(
    gross_margin=[percent(v) if r else "no revenue" for v, r in zip(segments["gross_margin"], segments["revenue"],
                                                                     strict=True)],
    llm_share_of_revenue=[percent(v) if r else "no revenue"
                          for v, r in zip(segments["llm_share_of_revenue"], segments["revenue"], strict=True)],
    target_margin=[percent(v) for v in segments["target_margin"]])
segment_columns: dict[str, Any] = {
    "name": "segment",
    "users": st.column_config.NumberColumn("users", format="localized"),
    "active_users": st.column_config.NumberColumn("active users", format="localized"),
    "usage_multiplier_at_target": st.column_config.NumberColumn("usage headroom at target margin",
                                                                format="%.1fx"),
    "gross_margin": "gross margin", "llm_share_of_revenue": "LLM share of revenue", "target_margin": "target margin",
} | {
    c: st.column_config.NumberColumn(label, format="dollar")
    for c, label in (("revenue", "revenue per month"), ("llm_cost", "LLM cost per month"),
                     ("other_cogs", "other cost of goods per month"), ("gross_profit", "gross profit per month"),
                     ("llm_cost_per_user", "LLM cost per user"),
                     ("break_even_revenue_per_user", "break-even revenue per user"))
}
st.dataframe(shown_segments, hide_index=True, width="stretch", column_config=segment_columns)

st.subheader("Actual vs modelled (observed telemetry)")
with state.problems_shown():
    report = state.observed(key, today)
observed = cost_frame(report) if report is not None else None
if observed is None or observed.empty:
    st.caption("No telemetry imported yet: `python -m compliance observe import FILE` reads OpenTelemetry GenAI spans "
               "or LiteLLM spend logs, then this shows observed against modelled cost per feature and month.")
else:
    st.plotly_chart(charts.actual_vs_modelled(observed), width="stretch", key="observed-chart")

    def _flag(value: Any) -> str:
        return "color: #B2182B; font-weight: bold" if pd.notna(value) and abs(float(value)) >= 20 else ""

    st.dataframe(observed.style.map(_flag, subset=["variance_pct"]), hide_index=True, width="stretch",
                 column_config={
                     "requests": st.column_config.NumberColumn("observed requests", format="localized"),
                     "modelled_requests": st.column_config.NumberColumn("modelled requests", format="localized"),
                     "observed_cost": st.column_config.NumberColumn("observed cost", format="dollar"),
                     "reported_cost": st.column_config.NumberColumn("reported cost", format="dollar"),
                     "modelled_cost": st.column_config.NumberColumn("modelled cost", format="dollar"),
                     "variance_pct": st.column_config.NumberColumn("variance", format="%+.1f%%"),
                 })
    st.caption("Observed cost is priced with the cost model's price table; reported cost is what the records "
               "said (LiteLLM's spend). Variance of 20% or more is highlighted. Modelled cost is a whole month.")
    if state.current_actor().may_change("usage"):
        with st.form("adopt-observed"):
            st.markdown("**Use the observed averages as a feature's modelled usage** (tokens per request and "
                        "cached share; optionally requests per active user)")
            choices = [f"{r.feature} {r.month}" for r in observed.itertuples()]
            chosen = st.selectbox("Feature and month", choices, key="adopt-choice")
            with_requests = st.checkbox("Also the requests per active user of that month", key="adopt-requests")
            adopt_reason = edit_form.reason_input(f"adopt-reason-{st.session_state.get('adopt-saves', 0)}")
            adopt = st.form_submit_button("Use observed usage", key="adopt-save")
        if adopt and chosen:
            feature_id, month = chosen.rsplit(" ", 1)
            refused = edit_form.reason_problems(adopt_reason, f"feature {feature_id}")
            if refused:
                st.error("Not saved:\n" + "\n".join(f"- {p.field}: {p.message}" for p in refused))
            else:
                try:
                    with state.store().session() as session:
                        version = record_versions(session, "feature")[feature_id]
                        adopt_observed_usage(session, dataset=data, feature_id=feature_id, month=month,
                                             expected_version=version, actor=state.current_actor(),
                                             reason=adopt_reason, with_requests=with_requests)
                except ComplianceError as exc:
                    state.show_not_saved(exc)
                else:
                    st.session_state["adopt-saves"] = st.session_state.get("adopt-saves", 0) + 1
                    state.saved(f"{feature_id}: modelled usage now the observed averages of {month} (audited).")

st.subheader("Cost per feature")
st.dataframe(features, hide_index=True, width="stretch", column_config={
    "feature": "feature id", "name": "feature", "segment": "segment",
    "requests_per_user_month": st.column_config.NumberColumn("requests per active user per month",
                                                             format="localized"),
    "active_users": st.column_config.NumberColumn("active users", format="localized"),
    "cost_per_request": st.column_config.NumberColumn("cost per request", format="$%.4f"),
    "cost_per_active_user_month": st.column_config.NumberColumn("cost per active user per month", format="dollar"),
    "monthly_cost": st.column_config.NumberColumn("cost per month", format="dollar"),
    "error": "why a cost is missing",
})


@st.fragment
def projection_view() -> None:
    st.subheader("Projection")
    if not data.costs.projection.scenarios:
        st.caption("No price-decline scenarios defined.")
        return
    frame = state.cost_table(key, today, "projection")
    assert frame is not None
    measure = st.radio("Show", list(MEASURES), horizontal=True, key="projection-measure",
                       format_func=lambda m: MEASURES[m])
    chosen = st.multiselect("Segments", list(frame["segment"].unique()), default=["b2b", "consumer"]
                            if {"b2b", "consumer"} <= set(frame["segment"]) else None, key="projection-segments")
    shown = frame[frame["segment"].isin(chosen)] if chosen else frame
    st.plotly_chart(charts.projection_lines(shown, measure, MEASURES[measure]), width="stretch",
                    key="projection-chart")
    st.caption("One panel per segment, each with its own scale, so B2B stays readable beside consumer.")


MEASURES = {"llm_cost": "LLM cost per month", "gross_margin": "gross margin",
            "llm_share_of_revenue": "LLM share of revenue"}
projection_view()


@st.fragment
def compliance_view() -> None:
    st.subheader("Cost of compliance")
    # Every feature x category x route is decided for this answer, so it is drawn when opened (the rest of
    # the page does not wait for it); it stays open across reruns.
    opened = st.expander("Spend now on declared routes against the cheapest routes the policy allows, per "
                         "feature", on_change="rerun", key="compliance-open")
    with opened:
        if opened.open:
            compliance_answer()
        else:
            st.caption("Open to decide every flow and price it against the cheapest allowed and cheapest routes.")


def compliance_answer() -> None:
    frame = state.cost_table(key, today, "compliance")
    if frame is None:
        st.caption("Unavailable while the policy files have problems.")
        return
    by_feature = costs.compliance_cost_by_feature(data, frame)
    if by_feature.empty:
        st.caption("No features.")
        return
    st.caption("Per feature and month: what it spends now on its declared routes, what the cheapest routes the "
               "policy allows would cost, and the cheapest routes overall (same model tier).")
    blocked = by_feature[by_feature["no_allowed_route"] != ""]
    if not blocked.empty:
        st.warning("No route the policy allows can carry: " + "; ".join(
            f"**{r.name}** ({r.no_allowed_route})" for r in blocked.itertuples()))
    c1, c2 = st.columns(2)
    c1.metric("Spend now on declared routes", money(by_feature["current_monthly"].sum(min_count=1)))
    c2.metric("Premium of the cheapest allowed routes over the cheapest overall",
              money(by_feature["compliance_premium"].sum(min_count=1)),
              help="over the features where both can be priced")
    st.plotly_chart(charts.compliance_cost_bars(by_feature), width="stretch", key="compliance-chart")
    st.dataframe(by_feature, hide_index=True, width="stretch", column_config={
        "feature": "feature id", "name": "feature", "segment": "segment",
        "compliant": st.column_config.CheckboxColumn("declared flows compliant"),
        "current_monthly": st.column_config.NumberColumn("spend now per month", format="dollar"),
        "cheapest_allowed_monthly": st.column_config.NumberColumn("cheapest allowed per month", format="dollar"),
        "cheapest_monthly": st.column_config.NumberColumn("cheapest overall per month", format="dollar"),
        "saving_on_cheapest_allowed": st.column_config.NumberColumn("saving by moving to the cheapest allowed",
                                                                    format="dollar"),
        "compliance_premium": st.column_config.NumberColumn("compliance premium per month", format="dollar"),
        "no_allowed_route": "flows with no allowed route", "note": "why a figure is missing",
    })


compliance_view()


@st.fragment
def sensitivity_view() -> None:
    st.subheader("Sensitivity (±20% per input)")
    frame = state.cost_table(key, today, "sensitivity")
    assert frame is not None
    c1, c2 = st.columns(2)
    segment = c1.selectbox("Segment", list(frame["segment"].unique()), key="sensitivity-segment")
    measure = c2.radio("Effect on", ["monthly LLM cost", "gross margin"], horizontal=True, key="sensitivity-measure")
    rows = frame[frame["segment"] == segment]
    if measure == "gross margin" and rows["base_margin"].isna().all():
        st.info("This segment has no revenue, so it has no margin; showing the monthly LLM cost.")
        measure = "monthly LLM cost"
    st.plotly_chart(charts.tornado(frame, segment, margin=measure == "gross margin"), width="stretch",
                    key="tornado-chart")
    st.caption("Each input moves alone. Users, requests and prices move the LLM cost by the same share because the "
               "cost is linear in each; only users also bring revenue, so the margin tells them apart.")


sensitivity_view()

cost_edits.price_override_editor(data)
cost_edits.usage_editor(data)

st.subheader("Inputs")
if not state.current_actor().may_change("segment"):
    st.caption(f"Your role ({state.current_actor().role.value}) can read cost inputs but not change them; "
               "finance and admin can.")
    st.stop()
st.caption("Edits are validated like a load, recorded in the audit log, and refused if someone else changed the "
           "same inputs first.")
with state.store().session() as session:
    versions = record_versions(session, "segment")
    proj_version = projection_version(session)
if "segment-versions" not in st.session_state:
    st.session_state["segment-versions"] = versions
    st.session_state["projection-version"] = proj_version
columns = ["users", "monthly_growth", "active_share", "revenue_per_user_month", "other_cogs_per_user_month"]
# users as floats: a fraction typed into a whole-number cell arrives as typed and is refused, never truncated
inputs = pd.DataFrame([{"segment": s.id, **{c: float(getattr(s, c)) for c in columns}} for s in data.costs.segments])
scenarios = pd.DataFrame([{"scenario": k, "annual_decline": v} for k, v in data.costs.projection.scenarios.items()],
                         columns=["scenario", "annual_decline"])
reason_key = f"costs-reason-{st.session_state.get('costs-saves', 0)}"  # a new key after each save: emptied
with st.form("cost-inputs"):
    edited = st.data_editor(inputs, key="segment-editor", hide_index=True, disabled=["segment"], width="stretch")
    edited_scenarios = st.data_editor(scenarios, key="scenario-editor", hide_index=True, disabled=["scenario"])
    months = st.number_input("Projection months (1-240)", value=float(data.costs.projection.months), step=1.0,
                             format="%g", key="projection-months")  # a float widget: 2.5 arrives as 2.5, refused
    months_slot = st.empty()
    reason = edit_form.reason_input(reason_key)
    save = st.form_submit_button("Save inputs", type="primary", key="costs-save")


def _numbers(before: dict[str, Any], after: dict[str, Any], label: str) -> tuple[dict[str, Any], list[str]]:
    """The changed cells as numbers, and a message for every cell left empty."""
    changes: dict[str, Any] = {}
    empty = []
    for c in columns:
        value = after[c]
        if value is None or pd.isna(value):
            empty.append(f"{label}: {c.replace('_', ' ')} is empty; enter a number")
        elif c == "users" and float(value) != int(value):
            empty.append(f"{label}: users must be a whole number (got {value:g})")
        elif value != before[c]:
            changes[c] = int(value) if c == "users" else float(value)
    return changes, empty


if save:
    problems = [f"{p.field}: {p.message}" for p in edit_form.reason_problems(reason, "cost inputs")]
    segment_changes = []
    for before, after in zip(inputs.to_dict("records"), edited.to_dict("records"), strict=True):
        changes, empty = _numbers(before, after, f"segment {before['segment']}")
        problems += empty
        if changes:
            segment_changes.append((str(before["segment"]), changes))
    new_scenarios: dict[str, float] = {}
    for row in edited_scenarios.to_dict("records"):
        if row["annual_decline"] is None or pd.isna(row["annual_decline"]):
            problems.append(f"scenario {row['scenario']}: annual decline is empty; enter a fraction such as 0.5")
        else:
            new_scenarios[str(row["scenario"])] = float(row["annual_decline"])
    if not 1 <= months <= 240 or months != int(months):
        months_slot.error(f"Projection months must be a whole number from 1 to 240 (got {months:g}).")
        problems.append(f"projection months must be from 1 to 240 (got {months:g})")
    try:
        if problems:
            raise InvalidInput([])
        with state.store().session() as session:
            saved = 0
            for segment_id, changes in segment_changes:
                update_record(session, entity="segment", key=segment_id, changes=changes,
                              expected_version=st.session_state["segment-versions"][segment_id],
                              actor=state.current_actor(), reason=reason)
                saved += 1
            if new_scenarios != data.costs.projection.scenarios or int(months) != data.costs.projection.months:
                update_projection(session, expected_version=st.session_state["projection-version"],
                                  changes={"scenarios": new_scenarios, "months": int(months)},
                                  actor=state.current_actor(), reason=reason)
                saved += 1
    except InvalidInput as exc:
        st.error("Not saved:\n" + "\n".join(f"- {line}" for line in problems or [str(p) for p in exc.problems]))
    except ComplianceError as exc:
        state.show_not_saved(exc)
        if isinstance(exc, Conflict):
            del st.session_state["segment-versions"]
    else:
        del st.session_state["segment-versions"]
        st.session_state["costs-saves"] = st.session_state.get("costs-saves", 0) + 1
        state.saved(f"Saved {saved} change(s)." if saved else "Nothing changed.")
