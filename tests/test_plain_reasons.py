"""Deny reasons as plain statements of the facts that decided, for the CLI and the dashboard alike."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from compliance import Compliance
from compliance.cli import main
from compliance.config import PROJECT_ROOT, Settings
from compliance.policy.plain import decision_json, plain_reasons
from tests.conftest import open_store
from tests.policy_helpers import decider, small_store

D = date(2026, 11, 30)
REVIEW_AND_EU = {"id": "special-needs-review-and-eu", "effect": "deny", "match": {"categories": ["user.health"]},
                 "reason": "special-category data needs human review (review: {feature.human_review}) and EU "
                           "processing (route: {route.residency})",
                 "when": [{"any": [{"feature.human_review": False}, {"route.residency": {"ne": "eu"}}]}]}
COVERED = {"id": "covered", "effect": "allow", "match": {"categories": ["user"]}, "reason": "covered",
           "when": [{"processor.dpa.active": True}]}


def test_an_any_condition_names_only_the_parts_that_held() -> None:
    dec = decider([REVIEW_AND_EU, COVERED])
    b2b = dec.decide("b2b-feature", "user.health", "maker-api", D)  # has review, route in the US
    assert b2b.rules == ["special-needs-review-and-eu"]
    assert plain_reasons(dec, b2b) == ["the route processes in the US"]
    assert "review: true" in b2b.reasons[0]  # the template alone reads like a contradiction


def test_both_parts_are_stated_when_both_held() -> None:
    dec = decider([REVIEW_AND_EU, COVERED])
    consumer = dec.decide("consumer-feature", "user.health", "maker-api", D)
    assert plain_reasons(dec, consumer) == ["the feature has no human review and the route processes in the US"]


def test_a_default_deny_names_the_expired_dpa_with_its_date() -> None:
    dec = decider([COVERED])
    later = dec.decide("b2b-feature", "user.contact", "cloud-eu", date(2027, 1, 15))
    assert later.decision == "deny" and later.rules == []
    assert plain_reasons(dec, later) == ["Cloud Co's DPA expired on 2027-01-01"]
    assert all("==" not in reason for reason in plain_reasons(dec, later))


def test_an_unsigned_and_a_missing_dpa_read_differently() -> None:
    dec = decider([COVERED])
    assert plain_reasons(dec, dec.decide("b2b-feature", "user", "maker-api", D)) == [
        "Model Maker's DPA is still in review, not signed"]
    assert plain_reasons(dec, dec.decide("b2b-feature", "user", "nodpa-api", D)) == [
        "no DPA with No DPA Inc is recorded"]


def test_an_unknown_fact_is_said_to_be_unrecorded() -> None:
    rule = {"id": "short-retention", "effect": "deny", "reason": "too long",
            "when": [{"route.retention_days": {"gt": 30}}]}
    dec = decider([rule, COVERED])
    assert plain_reasons(dec, dec.decide("b2b-feature", "user", "maker-api", D)) == [
        "nobody recorded how long Maker API keeps prompts"]


def test_a_negated_certification_reads_as_missing() -> None:
    rule = {"id": "soc2", "effect": "deny", "reason": "no soc2",
            "when": [{"not": {"processor.certifications": {"contains": "soc2_type2"}}}]}
    dec = decider([rule, COVERED])
    assert plain_reasons(dec, dec.decide("b2b-feature", "user", "maker-api", D)) == [
        "Model Maker has no current SOC 2 Type II report"]
    assert dec.decide("b2b-feature", "user", "cloud-eu", D).allowed


def test_the_json_keeps_the_template_and_failed_conditions() -> None:
    dec = decider([COVERED], dataset=small_store())
    record = decision_json(dec, dec.decide("b2b-feature", "user", "maker-api", D))
    assert record["plain_reasons"] == ["Model Maker's DPA is still in review, not signed"]
    assert record["reason_templates"] == {"covered": "covered"}
    assert record["failed_conditions"][0]["condition"] == "processor.dpa.active == true"


@pytest.fixture
def example(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Compliance]:
    url = f"sqlite:///{tmp_path / 'plain.db'}"
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", url)
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(PROJECT_ROOT / "policies"))
    open_store(url, data_dir).dispose()
    yield Compliance.open(settings=Settings(database_url=url, data_dir=data_dir, policy_dir=PROJECT_ROOT / "policies"))


def test_the_example_google_dpa_lapse_reads_as_in_the_issue(example: Compliance) -> None:
    decision = example.decide(feature="support-reply-draft", category="user.name", route="gemini-vertex-eu",
                              as_of=date(2027, 2, 1))
    assert plain_reasons(example.decider, decision) == ["Google Cloud's DPA expired on 2027-01-15"]


def test_check_prints_plain_reasons_and_json_carries_all_three(example: Compliance,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", "--feature", "wellness-coach", "--category", "user.health_and_medical", "--route",
            "openai-direct", "--as-of", "2026-11-30"]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "the feature has no human review and the route processes in the US" in out
    assert "review: false" not in out
    assert main([*args, "--json"]) == 1
    record = json.loads(capsys.readouterr().out)
    assert "the feature has no human review and the route processes in the US" in record["plain_reasons"]
    assert "{feature.human_review}" in record["reason_templates"]["special-needs-review-and-eu"]
    assert record["reasons"] and "failed_conditions" in record


def test_routes_text_names_waivers_and_the_cheapest_cost(example: Compliance,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["routes", "--feature", "clinic-notes-summary", "--category", "user.health_and_medical",
                 "--as-of", "2026-11-30"])
    out = capsys.readouterr().out
    assert code == 0
    assert "exc-2026-031 (until 2027-01-31)" in out
    first = out.splitlines()[0]
    assert "($)" not in first and "per month)" in first and "cheapest allowed:" in first
