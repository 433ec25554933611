"""Properties of the decision function on random policy sets (hypothesis), and matrix == decide."""

from __future__ import annotations

from datetime import date
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.policy.decide import Decider
from compliance.policy.matrix import Matrix
from tests.conftest import examples
from tests.policy_helpers import decider, small_store

STORE = small_store()
FEATURES = [f.id for f in STORE.features]
CATEGORIES = [c.key for c in STORE.categories]
ROUTES = [r.id for r in STORE.routes]
DAYS = [date(2026, 6, 1), date(2026, 11, 30), date(2027, 1, 1), date(2027, 3, 1)]

LEAVES: list[dict[str, Any]] = [
    {"route.residency": "eu"}, {"route.residency": {"ne": "us"}}, {"route.retention_days": {"gt": 30}},
    {"route.zero_data_retention": True}, {"processor.dpa.active": True}, {"processor.baa.active": {"ne": True}},
    {"feature.segment": "consumer"}, {"feature.human_review": False}, {"feature.tags": {"contains": "pilot"}},
    {"category.sensitivity": {"in": ["high", "special"]}}, {"route.stale": True},
    {"processor.dpa.expires_on": {"before": "today+30d"}}, {"processor.transfer_mechanism": {"in": ["scc"]}},
    {"route.retention_days": {"exists": True}}, {"processor.dpa.days_to_expiry": {"lt": 60}},
]

conditions = st.recursive(
    st.sampled_from(LEAVES),
    lambda inner: st.one_of(
        st.builds(lambda xs: {"any": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda xs: {"all": xs}, st.lists(inner, min_size=1, max_size=3)),
        st.builds(lambda x: {"not": x}, inner),
    ),
    max_leaves=5,
)


@st.composite
def rule(draw: st.DrawFn, rule_id: str, effect: str | None = None) -> dict[str, Any]:
    chosen = effect or draw(st.sampled_from(["allow", "deny"]))
    body: dict[str, Any] = {"id": rule_id, "effect": chosen, "reason": f"{rule_id} on {{route.name}}"}
    match = {}
    for key, values in (("features", FEATURES), ("categories", CATEGORIES), ("routes", ROUTES)):
        if draw(st.booleans()):
            match[key] = draw(st.lists(st.sampled_from(values), min_size=1, max_size=3, unique=True))
    if match:
        body["match"] = match
    when = draw(st.lists(conditions, max_size=2))
    if when:
        body["when"] = when
    return body


@st.composite
def rule_sets(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(min_value=1, max_value=6))
    return [draw(rule(f"r{i}")) for i in range(count)]


def decisions(dec: Decider, day: date) -> dict[tuple[str, str, str], Any]:
    return {(f, c, r): dec.decide(f, c, r, day) for f in FEATURES for c in CATEGORIES for r in ROUTES}


FAST = settings(max_examples=examples(60), deadline=None, suppress_health_check=[HealthCheck.too_slow])


@FAST
@given(rules=rule_sets(), extra=rule("extra", "deny"), day=st.sampled_from(DAYS))
def test_adding_a_deny_rule_never_turns_a_deny_into_an_allow(rules, extra, day) -> None:  # type: ignore[no-untyped-def]
    before = decisions(decider(rules), day)
    after = decisions(decider([*rules, extra]), day)
    assert not any(not before[k].allowed and after[k].allowed for k in before)


@FAST
@given(rules=rule_sets(), which=st.integers(min_value=0, max_value=5), day=st.sampled_from(DAYS))
def test_removing_an_allow_rule_never_turns_a_deny_into_an_allow(rules, which, day) -> None:  # type: ignore[no-untyped-def]
    allows = [i for i, r in enumerate(rules) if r["effect"] == "allow"]
    if not allows:
        return
    drop = allows[which % len(allows)]
    before = decisions(decider(rules), day)
    after = decisions(decider([r for i, r in enumerate(rules) if i != drop]), day)
    assert not any(not before[k].allowed and after[k].allowed for k in before)


@FAST
@given(rules=rule_sets(), feature=st.sampled_from(FEATURES), cats=st.lists(st.sampled_from(CATEGORIES), min_size=1,
       max_size=3, unique=True), routes=st.lists(st.sampled_from(ROUTES), min_size=1, max_size=2, unique=True),
       day=st.sampled_from(DAYS))
def test_an_expired_exception_never_changes_a_decision(rules, feature, cats, routes, day) -> None:  # type: ignore[no-untyped-def]
    denies = [r for r in rules if r["effect"] == "deny"]
    if not denies:
        return
    expired = {"id": "old", "waives": denies[0]["id"], "feature": feature, "categories": cats, "routes": routes,
               "approved_by": "dpo", "granted_on": date(2025, 1, 1), "expires_on": date(2025, 12, 31)}
    assert decisions(decider(rules), day) == decisions(decider(rules, exceptions=[expired]), day)


@FAST
@given(rules=rule_sets(), day=st.sampled_from(DAYS), feature=st.sampled_from(FEATURES),
       cats=st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=2, unique=True))
def test_matrix_agrees_with_decide_in_every_cell(rules, day, feature, cats) -> None:  # type: ignore[no-untyped-def]
    exceptions = [{"id": f"e-{r['id']}", "waives": r["id"], "feature": feature, "categories": cats,
                   "routes": ROUTES[:2], "approved_by": "dpo", "granted_on": date(2026, 10, 1),
                   "expires_on": date(2027, 1, 31)} for r in rules if r["effect"] == "deny"]
    dec = decider(rules, exceptions=exceptions)
    result = Matrix(dec).evaluate(day)
    for fi, f in enumerate(result.features):
        for ci, c in enumerate(result.categories):
            for ri, r in enumerate(result.routes):
                expected = dec.decide(f, c, r, day)
                assert bool(result.allowed[fi, ci, ri]) == expected.allowed, (f, c, r)
                first = int(result.deciding[fi, ci, ri])
                assert (result.rule_ids[first] if first >= 0 else None) == (expected.rules[0] if expected.rules
                                                                           else None)
