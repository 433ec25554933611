"""Route checker (engineers): may this feature send these categories there, and if not, where may it go?"""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from compliance.costs.compliance_cost import unpriced_reason
from compliance.policy.decide import Decision
from compliance.policy.matrix import csv_text
from compliance.policy.plain import plain_reason, plain_reasons
from compliance.routechoice import RouteChoice
from compliance.textout import money
from compliance.ui import charts, state

st.title("Route checker")
with state.problems_shown():
    key = state.marker()
    snap = state.snapshot_at(key)
compliance = state.require_policies(snap)
data = snap.dataset
if not data.features or not data.routes or not data.categories:
    st.info("The store needs features, routes and categories before anything can be checked.")
    st.stop()

features = [f.id for f in data.features]
wanted = state.linked("feature", features, "feature")
c1, c2 = st.columns([2, 1])
feature_id = c1.selectbox("Feature", features, index=features.index(wanted) if wanted else 0,
                          key="checker-feature")
on = c2.date_input("As of", value=date.today(), key="checker-date", format="YYYY-MM-DD",
                   help="Ask about a future date: what breaks when an agreement or exception expires?")
feature = compliance.decider.features[feature_id]
declared = list(dict.fromkeys(k for flow in feature.flows for k in flow.categories))
categories = st.multiselect("Categories", [c.key for c in data.categories], default=declared or None,
                            key=f"checker-categories-{feature_id}")
if not categories:
    st.info("Pick at least one data category.")
    st.stop()

exceptions = {e.id: e for e in compliance.policies.exceptions}


def waiver_text(decisions: tuple[Decision, ...]) -> str:
    """Each exception that waived a rule here, with the rule and its expiry."""
    ids = dict.fromkeys(w for d in decisions for w in d.waived_by)
    return ", ".join(f"{w} waives {exceptions[w].waives} until {exceptions[w].expires_on}" if w in exceptions else w
                     for w in ids)


def why_text(decisions: tuple[Decision, ...], allowed: bool) -> str:
    deciding = [d for d in decisions if d.allowed == allowed]
    if allowed:
        return plain_reason(compliance.decider, deciding[0])
    return " | ".join(f"{d.category}: {plain_reason(compliance.decider, d)}" for d in deciding)


@st.cache_resource(show_spinner=False, max_entries=32)
def route_table(key: tuple[int, tuple[tuple[str, int, int], ...]], feature_id: str, categories: tuple[str, ...],
                on: date) -> tuple[RouteChoice, list[dict[str, bool | str | float | None]], dict[str, list[str]]]:
    """Every route for the question, with its row of the table and its whole reasons; once per store state
    and question (the key is the store marker, so an edit by anyone is answered afresh)."""
    choice = compliance.route_choice(feature=feature_id, categories=list(categories), as_of=on)
    cheapest = choice.prices[choice.cheapest] if choice.cheapest else None
    rows, reasons = [], {}
    for option in choice.options:
        deciding = [d for d in option.decisions if d.allowed == option.allowed]
        price = choice.prices.get(option.route)
        rows.append({
            "decision": "ALLOW" if option.allowed else "DENY",
            "cheapest allowed": cheapest is not None and option.route == cheapest.route,
            "route": option.route,
            "cost per month": price.monthly_cost if price else None,  # a number, so the CSV sums and sorts
            "why no cost": "" if price else unpriced_reason(compliance.decider, feature_id, option.route, on),
            "rules": ", ".join(dict.fromkeys(r for d in deciding for r in d.rules)) or "default deny",
            "why": why_text(option.decisions, option.allowed),
            "waived by": waiver_text(option.decisions),
            "rests on": option.evidence_note.split(", but ", 1)[-1] if option.evidence_note else "verified facts",
        })
        reasons[option.route] = [f"- `{d.category}` {'allowed' if d.allowed else 'denied'}: "
                                 f"{'; '.join(plain_reasons(compliance.decider, d))}" for d in option.decisions]
    return choice, rows, reasons


choice, rows, reasons = route_table(key, feature_id, tuple(categories), on)
options, prices = list(choice.options), choice.prices
cheapest = prices[choice.cheapest] if choice.cheapest else None
table = pd.DataFrame(rows)
allowed_count = int((table["decision"] == "ALLOW").sum())
unpriced = table[(table["decision"] == "ALLOW") & table["cost per month"].isna()]
summary = (f"**{allowed_count} of {len(table)} routes allowed** for `{feature_id}` with "
           f"{', '.join(f'`{c}`' for c in categories)} as of {on}")
if cheapest is not None:
    summary += f"; cheapest allowed: **{cheapest.route}** at {money(cheapest.monthly_cost)} per month"
elif allowed_count:
    summary += "; no allowed route could be priced"
st.markdown(summary)
if not unpriced.empty:
    st.caption("Allowed but not priced, so not in the cheapest choice: " + "; ".join(
        f"{route} ({why})" for route, why in zip(unpriced["route"], unpriced["why no cost"], strict=True)))


def _colour(value: str) -> str:
    colour = state.ALLOW_COLOUR if value == "ALLOW" else state.DENY_COLOUR
    return f"background-color: {colour}; color: white; font-weight: 600"


picked = st.dataframe(
    table.style.map(_colour, subset=["decision"]), hide_index=True, width="stretch", key="checker-routes",
    on_select="rerun", selection_mode="single-row",
    column_config={"cheapest allowed": st.column_config.CheckboxColumn("cheapest allowed"),
                   "cost per month": st.column_config.NumberColumn("cost per month", format="dollar"),
                   "why": st.column_config.TextColumn("why", width="large"),
                   "why no cost": st.column_config.TextColumn("why no cost", width="medium")})
st.download_button("Download the route table (CSV)", data=table.to_csv(index=False),
                   file_name=f"routes-{feature_id}-{on}.csv", mime="text/csv", key="checker-routes-csv")
selected = picked.selection.rows if picked is not None else []
chosen = [options[selected[0]]] if selected else []
with st.expander("Whole reasons, route by route", expanded=bool(chosen)):
    st.caption("Select a row above to see only that route.")
    blocks = []  # one block of text for every route: a hundred routes draw as one element, not hundreds
    for option in chosen or options:
        row = table[table["route"] == option.route].iloc[0]
        cost = row["cost per month"]
        lines = [f"**{row['decision']}** `{option.route}` · {money(None if pd.isna(cost) else float(cost))}"
                 + (f" ({row['why no cost']})" if row["why no cost"] else "")
                 + f" · rules: {row['rules']}"]
        lines += reasons[option.route]
        if row["waived by"]:
            lines.append(f"- under exception: {row['waived by']}")
        blocks.append("\n".join(lines))
    st.markdown("\n\n".join(blocks))

st.subheader("Declared flows")
state.undeclared_use(state.observed(state.marker(), date.today()), feature_id)
flows = compliance.flows(feature=feature_id, as_of=on)
if not flows:
    st.caption("This feature declares no flows.")
for flow in flows:
    if flow.compliant:
        waived = waiver_text(flow.decisions)
        note = f" (under exception: {waived})" if waived else ""
        st.markdown(f":blue-badge[compliant] `{flow.route}` with {', '.join(d.category for d in flow.decisions)}{note}")
    else:
        st.markdown(f":orange-badge[violation] `{flow.route}`")
        for d in flow.violations:
            st.markdown(f"  - `{d.category}` ({', '.join(d.rules) or 'default deny'}): "
                        f"{'; '.join(plain_reasons(compliance.decider, d))}")


@st.fragment
def matrix_view() -> None:
    st.subheader("Decision matrix")
    key = state.marker()
    view = st.radio("Show", ["routes x categories for this feature", "features x categories for one route"],
                    horizontal=True, key="matrix-view")
    only_picked = st.toggle("Only the categories picked above", value=False, key="matrix-only-picked")
    if view.startswith("routes"):  # only the slice shown is decided, not the whole matrix
        result = state.feature_matrix(on, feature_id)
        if result is None:
            return
        allowed = pd.DataFrame(result.allowed[0].T, index=result.routes, columns=result.categories)
        deciding = result.deciding[0].T
        title = f"{feature_id}: routes x categories"
    else:
        route_id = st.selectbox("Route", [r.id for r in data.routes], key="matrix-route")
        result = state.route_matrix(on, route_id)
        if result is None:
            return
        allowed = pd.DataFrame(result.allowed[:, :, 0], index=result.features, columns=result.categories)
        deciding = result.deciding[:, :, 0]
        title = f"{route_id}: features x categories"
    names = {i: rid for i, rid in enumerate(result.rule_ids)}
    hover = pd.DataFrame(
        [[("ALLOW by " if a else "DENY by ") + names[int(r)] if r >= 0 else "DENY: no allow rule applies"
          for a, r in zip(row_a, row_r, strict=True)] for row_a, row_r in zip(allowed.values, deciding, strict=True)],
        index=allowed.index, columns=allowed.columns)
    if only_picked:
        allowed, hover = allowed[categories], hover[categories]
    st.plotly_chart(charts.decision_heatmap(allowed, hover, title, highlight=categories), width="stretch",
                    key="matrix-chart")
    st.caption("Blue: allowed. Orange: denied. Boxed, bold: the categories picked above. Hover a cell for the "
               "deciding rule; the route table above gives the whole reasons.")
    st.download_button("Download the whole matrix (CSV)", data=lambda: whole_matrix_csv(key),
                       file_name=f"decision-matrix-{on}.csv", mime="text/csv", key="matrix-csv")


def whole_matrix_csv(key: tuple[int, tuple[tuple[str, int, int], ...]]) -> str:
    """Decided only when the download is asked for, for the store state the page was drawn from."""
    result = state.matrix_at(key, on)
    return csv_text(result) if result is not None else ""


matrix_view()
