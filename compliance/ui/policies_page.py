"""Policies: the rules and exceptions in force, their problems, and the policy tests with rule coverage."""

from __future__ import annotations

from datetime import date

import pandas as pd
import streamlit as st

from compliance.policy.testing import run_policy_tests
from compliance.ui import state
from compliance.ui.views import exceptions_frame, rules_frame

st.title("Policies")
with state.problems_shown():
    snap = state.snapshot()
settings = state.store().settings
today = date.today()

if snap.problems:
    st.error(f"{len(snap.problems)} problem(s) in the policy files; until they are fixed no decision is made.")
    st.dataframe(pd.DataFrame([{"file": p.file, "line": p.line, "field": p.field, "problem": p.message}
                               for p in snap.problems]), hide_index=True, width="stretch")
    st.stop()
policies = snap.policies
assert policies is not None
st.caption(f"Policy set `{policies.digest[:12]}` from {len(policies.files)} file(s) in `{settings.policy_dir}`; "
           "decisions record this digest.")
for name, description in policies.descriptions.items():
    st.markdown(f"- **{name}**: {description}")

wanted = st.query_params.get("id")
rule_ids = {r.id: r for r in policies.rules}
exception_ids = {e.id: e for e in policies.exceptions}
if wanted and wanted in rule_ids:
    rule = rule_ids[wanted]
    with st.container(border=True):
        st.markdown(f"**Rule `{rule.id}`** ({rule.effect}{', not waivable' if not rule.waivable else ''}) in "
                    f"`{rule.file}:{rule.line}`")
        if rule.description:
            st.markdown(rule.description)
        st.markdown(f"Reason template: `{rule.reason}`")
        st.markdown("Conditions: " + ("; ".join(f"`{leaf.text}`" for leaf in rule.when.leaves())
                                      if rule.when else "none (applies in its whole scope)"))
        waivers = [e.id for e in policies.exceptions if e.waives == rule.id]
        if waivers:
            st.markdown(f"Exceptions that waive it: {', '.join(f'`{w}`' for w in waivers)}")
        st.caption("Rules change through review of the policy files, not in the dashboard.")
elif wanted and wanted in exception_ids:
    exc = exception_ids[wanted]
    status = "active" if exc.active_on(today) else ("expired" if exc.expires_on < today else "not yet active")
    with st.container(border=True):
        st.markdown(f"**Exception `{exc.id}`** ({status}) in `{exc.file}:{exc.line}`: waives `{exc.waives}` for "
                    f"`{exc.feature}` on {', '.join(f'`{r}`' for r in sorted(exc.routes))} with "
                    f"{', '.join(f'`{c}`' for c in exc.categories)}")
        st.markdown(f"Granted on {exc.granted_on or 'unknown'}, **expires on {exc.expires_on}**; approved by "
                    f"{exc.approved_by}" + (f", ticket {exc.ticket}" if exc.ticket else ""))
        if exc.justification:
            st.markdown(f"Justification: {exc.justification}")
        st.caption(f"To renew it, add a new exception in `{exc.file}` with a new id and dates, through review of "
                   "the policy files; the expired one stays for the record.")
elif wanted:
    st.warning(f"No rule or exception with id `{wanted}` in the policy set.")

st.subheader(f"Rules ({len(policies.rules)})")
rules = rules_frame(policies)
effect = st.segmented_control("Effect", ["all", "deny", "allow"], default="all", key="rules-effect")
if effect and effect != "all":
    rules = rules[rules["effect"] == effect]
st.dataframe(rules, hide_index=True, width="stretch",
             column_config={"reason": st.column_config.TextColumn("reason", width="large")})

st.subheader(f"Exceptions ({len(policies.exceptions)})")
exceptions = exceptions_frame(policies, today)
if exceptions.empty:
    st.caption("No exceptions.")
else:
    def _state_colour(value: str) -> str:
        return {"active": f"color: {state.ALLOW_COLOUR}", "expired": f"color: {state.DENY_COLOUR}"}.get(value, "")

    st.dataframe(exceptions.style.map(_state_colour, subset=["state"]), hide_index=True, width="stretch")
    st.caption("Expired exceptions are kept for the record and never applied.")


@st.fragment
def policy_tests() -> None:
    st.subheader("Policy tests")
    report = run_policy_tests(settings.policy_dir / "tests", settings.policy_dir, settings.data_dir,
                              dataset=snap.dataset)
    if report.problems:
        st.warning("Problems in the policy test files:\n" + "\n".join(f"- `{p}`" for p in report.problems))
    passed = len(report.results) - len(report.failed)
    covered = len(report.rules) - len(report.uncovered)
    c1, c2 = st.columns(2)
    c1.metric("Test cases passed", f"{passed} / {len(report.results)}")
    c2.metric("Rules decided by at least one case", f"{covered} / {len(report.rules)}")
    if report.uncovered:
        st.warning(f"Rules no case decides: {', '.join(report.uncovered)}")
    results = pd.DataFrame([{"result": "pass" if r.passed else "FAIL", "case": r.name,
                             "decision": r.decision.decision if r.decision else None,
                             "rules": ", ".join(r.decision.rules) if r.decision else "", "message": r.message,
                             "where": f"{r.file}:{r.line}"} for r in report.results])
    if not results.empty:
        st.dataframe(results.sort_values("result"), hide_index=True, width="stretch")


policy_tests()
