"""Decision semantics of policy.md on a small hand-made store."""

from __future__ import annotations

from datetime import date

import pytest

from compliance.problems import NotFound
from tests.policy_helpers import D, decider

DENY_HEALTH = {"id": "no-health", "effect": "deny", "reason": "no health data via {route.name}",
               "match": {"categories": ["user.health"]}}
ALLOW_ALL = {"id": "allow-all", "effect": "allow", "reason": "ok"}


def test_default_deny_lists_allow_rules_in_scope_and_what_failed() -> None:
    dec = decider([{"id": "dpa", "effect": "allow", "reason": "covered",
                    "when": [{"processor.dpa.active": True}]}])
    d = dec.decide("b2b-feature", "user.contact.email", "maker-api", D)
    assert d.decision == "deny" and d.rules == []
    assert d.failed_conditions[0]["rule"] == "dpa"
    assert d.failed_conditions[0]["condition"] == "processor.dpa.active == true"
    assert d.failed_conditions[0]["result"] == "false"
    assert any("allow rule dpa did not apply" in r for r in d.reasons)


def test_allow_needs_a_known_true_condition() -> None:
    dec = decider([{"id": "dpa", "effect": "allow", "reason": "covered",
                    "when": [{"processor.dpa.active": True}]}])
    d = dec.decide("b2b-feature", "user.contact.email", "nodpa-api", D)  # no DPA recorded: unknown
    assert d.decision == "deny"
    assert d.unknown_facts == ["processor.dpa.active"]
    assert d.failed_conditions[0]["result"] == "unknown"


def test_deny_applies_on_unknown_and_names_the_unknown_fact() -> None:
    dec = decider([ALLOW_ALL, {"id": "retention", "effect": "deny", "reason": "keeps {route.retention_days} days",
                               "when": [{"route.retention_days": {"gt": 30}}]}])
    d = dec.decide("b2b-feature", "user", "maker-api", D)  # retention_days not recorded
    assert d.decision == "deny" and d.rules == ["retention"]
    assert d.unknown_facts == ["route.retention_days"]
    assert "unknown: route.retention_days" in d.reasons[0]
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).allowed  # 0 days: known and fine


def test_deny_overrides_allow_and_lists_every_applying_deny_in_order() -> None:
    dec = decider([ALLOW_ALL,
                   {"id": "d1", "effect": "deny", "reason": "one", "when": [{"route.residency": "us"}]},
                   {"id": "d2", "effect": "deny", "reason": "two", "when": [{"feature.segment": "b2b"}]}])
    d = dec.decide("b2b-feature", "user", "maker-api", D)
    assert d.decision == "deny" and d.rules == ["d1", "d2"] and d.reasons == ["one", "two"]


def test_allow_lists_every_applying_allow_rule() -> None:
    dec = decider([ALLOW_ALL, {"id": "a2", "effect": "allow", "reason": "also", "when": [{"route.residency": "eu"}]}])
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).rules == ["allow-all", "a2"]


def test_allow_covers_descendants_not_ancestors() -> None:
    dec = decider([{"id": "contact", "effect": "allow", "reason": "ok", "match": {"categories": ["user.contact"]}}])
    assert dec.decide("b2b-feature", "user.contact.email", "cloud-eu", D).allowed
    assert not dec.decide("b2b-feature", "user", "cloud-eu", D).allowed


def test_deny_reaches_ancestors_and_descendants() -> None:
    dec = decider([ALLOW_ALL, {"id": "cards", "effect": "deny", "reason": "no cards",
                               "match": {"categories": ["user.financial"]}}])
    for key in ("user.financial", "user.financial.credit_card", "user"):
        assert dec.decide("b2b-feature", key, "cloud-eu", D).rules == ["cards"], key
    assert dec.decide("b2b-feature", "user.contact", "cloud-eu", D).allowed  # a sibling is untouched


def test_match_on_features_and_routes_limits_scope() -> None:
    dec = decider([ALLOW_ALL, {"id": "d", "effect": "deny", "reason": "x",
                               "match": {"features": ["consumer-feature"], "routes": ["maker-api"]}}])
    assert not dec.decide("consumer-feature", "user", "maker-api", D).allowed
    assert dec.decide("consumer-feature", "user", "cloud-eu", D).allowed
    assert dec.decide("b2b-feature", "user", "maker-api", D).allowed


def test_kleene_logic_any_all_not() -> None:
    unknown = {"route.retention_days": {"gt": 1}}  # unknown on maker-api
    true = {"route.residency": "us"}
    false = {"route.residency": "eu"}

    def result(condition: dict) -> str:
        dec = decider([ALLOW_ALL, {"id": "d", "effect": "deny", "reason": "x", "when": [condition]}])
        d = dec.decide("b2b-feature", "user", "maker-api", D)
        return "unknown" if d.unknown_facts else ("true" if not d.allowed else "false")

    assert result({"any": [unknown, true]}) == "true"
    assert result({"any": [unknown, false]}) == "unknown"
    assert result({"all": [unknown, false]}) == "false"
    assert result({"all": [unknown, true]}) == "unknown"
    assert result({"not": unknown}) == "unknown"
    assert result({"not": false}) == "true"


def test_exists_is_never_unknown() -> None:
    absent = {"route.retention_days": {"exists": False}}
    dec = decider([{"id": "a", "effect": "allow", "reason": "x", "when": [absent]}])
    assert dec.decide("b2b-feature", "user", "maker-api", D).allowed
    assert not dec.decide("b2b-feature", "user", "cloud-eu", D).allowed


def test_absent_list_fact_is_empty_not_unknown() -> None:
    dec = decider([ALLOW_ALL, {"id": "d", "effect": "deny", "reason": "x",
                               "when": [{"not": {"processor.certifications": {"contains": "soc2_type2"}}}]}])
    d = dec.decide("b2b-feature", "user", "maker-api", D)
    assert d.rules == ["d"] and d.unknown_facts == []


def test_relative_dates_follow_the_evaluation_date() -> None:
    dec = decider([ALLOW_ALL, {"id": "soon", "effect": "deny", "reason": "expires soon",
                               "when": [{"processor.dpa.expires_on": {"before": "today+30d"}}]}])
    assert dec.decide("b2b-feature", "user", "cloud-eu", date(2026, 11, 1)).allowed  # expires 2027-01-01
    assert not dec.decide("b2b-feature", "user", "cloud-eu", date(2026, 12, 5)).allowed


def test_reason_templates_render_facts_and_unknowns() -> None:
    dec = decider([{"id": "a", "effect": "allow", "reason": "{processor.name} until {processor.dpa.expires_on}, "
                                                              "certs {processor.certifications}"}])
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).reasons == [
        "Cloud Co until 2027-01-01, certs [soc2_type2]"]
    assert dec.decide("b2b-feature", "user", "nodpa-api", D).reasons == ["No DPA Inc until unknown, certs []"]


EXC = {"id": "e", "waives": "no-health", "feature": "b2b-feature", "categories": ["user.health"],
       "routes": ["cloud-eu"], "approved_by": "dpo", "granted_on": date(2026, 10, 1), "expires_on": date(2026, 12, 31)}


@pytest.mark.parametrize(("day", "allowed"), [(date(2026, 9, 30), False), (date(2026, 10, 1), True),
                                               (date(2026, 12, 31), True), (date(2027, 1, 1), False)])
def test_exception_is_active_on_its_dates_inclusive(day: date, allowed: bool) -> None:
    dec = decider([ALLOW_ALL, DENY_HEALTH], exceptions=[EXC])
    d = dec.decide("b2b-feature", "user.health", "cloud-eu", day)
    assert d.allowed is allowed
    assert d.waived_by == (["e"] if allowed else [])


def test_exception_never_grants() -> None:
    dec = decider([DENY_HEALTH], exceptions=[EXC])  # no allow rule at all
    d = dec.decide("b2b-feature", "user.health", "cloud-eu", D)
    assert d.decision == "deny" and d.rules == [] and d.waived_by == ["e"]


def test_exception_on_a_child_does_not_cover_the_parent() -> None:
    exc = {**EXC, "waives": "cards", "categories": ["user.financial.credit_card"]}
    cards = {"id": "cards", "effect": "deny", "reason": "x", "match": {"categories": ["user.financial.credit_card"]}}
    dec = decider([ALLOW_ALL, cards], exceptions=[exc])
    assert dec.decide("b2b-feature", "user.financial.credit_card", "cloud-eu", D).allowed
    assert not dec.decide("b2b-feature", "user.financial", "cloud-eu", D).allowed


def test_decision_record_carries_the_policy_digest() -> None:
    d = decider([ALLOW_ALL]).decide("b2b-feature", "user", "cloud-eu", D)
    assert d.policy_digest == "test"
    assert set(d.as_dict()) == {"feature", "category", "route", "as_of", "decision", "rules", "reasons",
                                "waived_by", "unknown_facts", "failed_conditions", "policy_digest", "evidence"}


def test_unknown_ids_name_the_closest_known_ones() -> None:
    with pytest.raises(NotFound, match="closest: cloud-eu"):
        decider([ALLOW_ALL]).decide("b2b-feature", "user", "cloud-euu", D)


def test_exception_without_granted_on_runs_until_it_expires() -> None:
    undated = {k: v for k, v in EXC.items() if k != "granted_on"}
    dec = decider([ALLOW_ALL, DENY_HEALTH], exceptions=[undated])
    assert dec.decide("b2b-feature", "user.health", "cloud-eu", date(2020, 1, 1)).waived_by == ["e"]
    assert not dec.decide("b2b-feature", "user.health", "cloud-eu", date(2027, 1, 1)).allowed


def test_every_exception_that_waives_is_listed() -> None:
    second = {**EXC, "id": "e2", "categories": ["user"]}
    dec = decider([ALLOW_ALL, DENY_HEALTH], exceptions=[EXC, second])
    assert dec.decide("b2b-feature", "user.health", "cloud-eu", D).waived_by == ["e", "e2"]
