"""The Decider's caches (rule results as bitmasks, rule texts by fact values, evidence lists) never
change an answer: a warm Decider answers like a fresh one, the rules that apply are those the
condition tree says, and a store or policy change is answered from the new state."""

from __future__ import annotations

import copy
import random
from datetime import date
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from compliance.access import SYSTEM
from compliance.api import Compliance
from compliance.policy.decide import Decider, Decision
from compliance.policy.evaluate import FALSE, TRUE, UNKNOWN, applies, applying, explain
from compliance.policy.facts import MODEL_FACTS
from compliance.store import Store
from compliance.store.edits import record_versions, update_record
from tests.helpers import replace_in
from tests.policy_helpers import D, decider, small_store
from tests.service_helpers import copy_policies, settings_for
from tests.test_policy_properties import CATEGORIES, DAYS, FAST, FEATURES, ROUTES, rule_sets

CELLS = [(f, c, r) for f in FEATURES for c in CATEGORIES for r in ROUTES]


def _exceptions(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{"id": f"e-{r['id']}", "waives": r["id"], "feature": FEATURES[0], "categories": CATEGORIES[:3],
             "routes": ROUTES[:2], "approved_by": "dpo", "granted_on": date(2026, 10, 1),
             "expires_on": date(2027, 1, 31)} for r in rules if r["effect"] == "deny"]


def test_applying_agrees_with_applies_for_every_truth_value() -> None:
    for deny in (True, False):
        for result in (FALSE, UNKNOWN, TRUE):
            true_rules = 1 if result == TRUE else 0
            open_rules = 1 if result != FALSE else 0
            rules = (1, 0) if deny else (0, 1)
            assert bool(applying(*rules, true_rules, open_rules)) == bool(applies(deny, result)), (deny, result)


@FAST
@given(rules=rule_sets(), seed=st.integers(0, 1000))
def test_a_warm_decider_answers_every_cell_like_a_fresh_one(rules, seed) -> None:  # type: ignore[no-untyped-def]
    """Every cell on every day, in a random order and twice, from one Decider, equals a Decider
    built for that one request (nothing cached): texts, failed conditions, evidence, everything."""
    exceptions = _exceptions(rules)
    warm = decider(rules, exceptions=exceptions)
    asked = [(cell, day) for cell in CELLS for day in DAYS] * 2
    random.Random(seed).shuffle(asked)
    for (f, c, r), day in asked[: len(asked) // 3]:
        got = warm.decide(f, c, r, day)
        expected = Decider(warm.dataset, warm.policies).decide(f, c, r, day)
        assert got == expected and got.as_dict() == expected.as_dict(), (f, c, r, day)
        assert [type(x) for x in got] == [type(x) for x in expected]


@FAST
@given(rules=rule_sets(), day=st.sampled_from(DAYS))
def test_the_deciding_rules_are_those_the_condition_tree_says(rules, day) -> None:  # type: ignore[no-untyped-def]
    """The bitmask evaluation agrees with evaluating each rule's condition tree (evaluate.explain)."""
    dec = decider(rules, exceptions=_exceptions(rules))
    for f, c, r in CELLS:
        assert _reference(dec, f, c, r, day) == _outcome(dec.decide(f, c, r, day)), (f, c, r)


@FAST
@given(rules=rule_sets(), day=st.sampled_from(DAYS))
def test_the_answer_alone_is_the_decisions_answer(rules, day) -> None:  # type: ignore[no-untyped-def]
    """`Decider.allowed` (no record, for what-breaks questions over many days) answers every cell like
    `decide`, waivers included, whichever is asked first."""
    dec = decider(rules, exceptions=_exceptions(rules))
    fresh = decider(rules, exceptions=_exceptions(rules))
    for f, c, r in CELLS:
        assert dec.allowed(f, c, r, day) == dec.decide(f, c, r, day).allowed, (f, c, r)
        assert fresh.decide(f, c, r, day).allowed == fresh.allowed(f, c, r, day), (f, c, r)


def _outcome(decision: Decision) -> tuple[str, list[str], list[str]]:
    return decision.decision, decision.rules, decision.waived_by


def _reference(dec: Decider, f: str, c: str, r: str, day: date) -> tuple[str, list[str], list[str]]:
    facts = {**dec.feature_subject(f).facts, **dec.category_subject(c).facts, **dec.route_subject(r, day).facts,
             **dict.fromkeys(MODEL_FACTS)}
    scope = dec.feature_subject(f).scope & dec.category_subject(c).scope & dec.route_subject(r, day).scope
    allows, denies, waived = [], [], []
    for compiled in dec.rules:
        if not scope >> compiled.index & 1:
            continue
        result = TRUE if compiled.rule.when is None else explain(compiled.rule.when, facts, day)[0]
        if not applies(compiled.deny, result):
            continue
        if not compiled.deny:
            allows.append(compiled.rule.id)
            continue
        found = dec.waivers(compiled, f, c, r, day)
        waived += [e.id for e in found if e.id not in waived]
        if not found:
            denies.append(compiled.rule.id)
    if allows and not denies:
        return "allow", allows, waived
    return "deny", denies, waived


def test_a_changed_record_is_not_given_to_the_next_request() -> None:
    """A caller that edits a decision's lists or failed conditions changes no later answer."""
    dec = decider([{"id": "dpa", "effect": "allow", "reason": "covered", "when": [{"processor.dpa.active": True}]}])
    first = dec.decide("b2b-feature", "user.contact.email", "maker-api", D)
    expected = copy.deepcopy(first.as_dict())
    first.failed_conditions[0]["value"] = "edited"
    first.reasons.append("edited")
    first.evidence.clear()
    first.rules.append("edited")
    again = dec.decide("b2b-feature", "user.contact.email", "maker-api", D)
    assert again.as_dict() == expected
    assert again.failed_conditions[0]["value"] == "false" and again.evidence


def test_texts_are_cached_by_the_values_they_read_and_the_day() -> None:
    """Two routes with the same facts share an explanation; a different value, or a day that turns a
    relative date, gives its own."""
    rules = [{"id": "soon", "effect": "allow", "reason": "DPA good beyond {processor.dpa.expires_on}",
              "when": [{"processor.dpa.expires_on": {"after": "today+30d"}}]}]
    dec = decider(rules)
    early, late = date(2026, 11, 1), date(2026, 12, 15)  # cloud's DPA expires on 2027-01-01
    assert dec.decide("b2b-feature", "user", "cloud-eu", early).allowed
    missed = dec.decide("b2b-feature", "user", "cloud-eu", late)
    assert not missed.allowed
    assert missed.failed_conditions[0]["value"] == "2027-01-01"
    unknown = dec.decide("b2b-feature", "user", "maker-api", late)  # maker's DPA is in review, no date
    assert unknown.failed_conditions[0]["result"] == "unknown" and unknown.unknown_facts == ["processor.dpa.expires_on"]
    for route, day in (("cloud-eu", early), ("cloud-eu", late), ("maker-api", late), ("nodpa-api", early)):
        fresh = Decider(dec.dataset, dec.policies)
        assert dec.decide("b2b-feature", "user", route, day) == fresh.decide("b2b-feature", "user", route, day)


def test_a_feature_fact_in_an_explanation_follows_the_feature() -> None:
    dec = decider([{"id": "reviewed", "effect": "allow", "reason": "{feature.name} is reviewed",
                    "when": [{"feature.human_review": True}, {"route.residency": "eu"}]}])
    allowed = dec.decide("b2b-feature", "user", "cloud-eu", D)
    assert allowed.allowed and allowed.reasons == ["B2B is reviewed"]
    denied = dec.decide("consumer-feature", "user", "cloud-eu", D)
    assert [x["condition"] for x in denied.failed_conditions] == ["feature.human_review == true"]
    both = dec.decide("consumer-feature", "user", "maker-api", D)
    assert [x["value"] for x in both.failed_conditions] == ["false", "us"]


def test_a_store_change_is_answered_from_the_new_facts(store: Store, tmp_path: Path) -> None:
    guard = Compliance.open(settings=settings_for(store, copy_policies(tmp_path)), max_staleness=0)
    request = {"feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu"}
    before = guard.decide(**request)  # type: ignore[arg-type]
    for _ in range(3):
        assert guard.decide(**request) == before  # type: ignore[arg-type]
    assert before.allowed and any("AWS Bedrock" in text or "Bedrock" in text for text in before.reasons)
    with store.session() as session:
        version = record_versions(session, "route")[request["route"]]
        update_record(session, entity="route", key=request["route"], expected_version=version,
                      changes={"name": "Renamed Route", "status": "blocked"}, actor=SYSTEM, reason="test")
    after = guard.decide(**request)  # type: ignore[arg-type]
    state = guard.state()
    assert state.store_head != "" and after == Decider(state.dataset, state.policies).decide(
        request["feature"], request["category"], request["route"], after.as_of)
    assert not after.allowed
    assert after.as_dict() != before.as_dict()
    guard.close()


def test_a_policy_change_is_answered_from_the_new_rules(store: Store, tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    guard = Compliance.open(settings=settings_for(store, policies), max_staleness=0)
    request = {"feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu"}
    before = guard.decide(**request)  # type: ignore[arg-type]
    assert guard.decide(**request) == before  # type: ignore[arg-type]
    assert before.rules == ["covered-processor"]
    replace_in(policies / "40-allow.yaml", "is approved and its processor", "is approved, and its processor")
    after = guard.decide(**request)  # type: ignore[arg-type]
    assert after.policy_digest != before.policy_digest
    assert after.reasons == [text.replace("is approved and", "is approved, and") for text in before.reasons]
    guard.close()


def test_a_datasets_decider_is_built_once_per_state() -> None:
    """The caches belong to one Decider, and a Decider to one dataset and policy set: a new store
    snapshot is a new Decider, never the old one with new facts."""
    store = small_store()
    dec = decider([{"id": "eu", "effect": "allow", "reason": "{route.residency}", "when": [{"route.residency": "eu"}]}],
                  store)
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).allowed
    moved = small_store(routes=[{**r.model_dump(mode="json", exclude_none=True), "residency": "us"}
                                for r in store.routes])
    fresh = Decider(moved, dec.policies)
    changed = fresh.decide("b2b-feature", "user", "cloud-eu", D)
    assert not changed.allowed and changed.failed_conditions[0]["value"] == "us"
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).allowed  # the old Decider keeps its own snapshot


def test_a_deny_with_any_of_an_unknown_and_a_false_fact_applies_and_names_it() -> None:
    """A `when` list of one `any` is a flat `any`: unknown-or-false fails closed for a deny."""
    dec = decider([{"id": "allow-all", "effect": "allow", "reason": "ok"},
                   {"id": "risky", "effect": "deny", "reason": "risky {route.name}",
                    "when": [{"any": [{"route.retention_days": {"gt": 30}}, {"route.residency": "eu"}]}]}])
    d = dec.decide("b2b-feature", "user", "maker-api", D)  # retention unknown, residency us
    assert d.decision == "deny" and d.rules == ["risky"]
    assert d.unknown_facts == ["route.retention_days"]
    assert d.reasons == ["risky Maker API (unknown: route.retention_days)"]
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).rules == ["risky"]  # residency eu: TRUE
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).unknown_facts == []


def test_an_allow_with_any_needs_one_true_fact() -> None:
    dec = decider([{"id": "either", "effect": "allow", "reason": "ok",
                    "when": [{"any": [{"route.retention_days": {"gt": 30}}, {"route.residency": "eu"}]}]}])
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).allowed
    missed = dec.decide("b2b-feature", "user", "maker-api", D)  # unknown or false: not TRUE
    assert not missed.allowed and missed.unknown_facts == ["route.retention_days"]
    assert [x["result"] for x in missed.failed_conditions] == ["unknown", "false"]
