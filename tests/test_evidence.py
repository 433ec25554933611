"""Every decision says what it rests on: the facts its deciding rules read, with their sources."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from compliance.cli import main
from compliance.store import documents as d
from tests.policy_helpers import D, decider, small_store

ALLOW_ON_DPA = {"id": "dpa-ok", "effect": "allow", "reason": "covered", "when": [{"processor.dpa.active": True}]}
DENY_LONG_RETENTION = {"id": "short-retention", "effect": "deny", "reason": "keeps prompts",
                       "when": [{"route.retention_days": {"gt": 30}}]}


def sourced(**sources: list[dict[str, Any]]) -> d.DataSet:
    """The small store with `sources` on the provider `cloud` and the route `cloud-eu`."""
    base = small_store().model_dump(mode="json")
    base["providers"][0]["sources"] = sources.get("cloud", [])
    base["routes"][0]["sources"] = sources.get("cloud_eu", [])
    return d.DataSet.model_validate(base)


def test_an_allow_lists_the_facts_its_rules_read_with_their_sources() -> None:
    data = sourced(cloud=[{"field": "dpa", "url": "https://cloud.example/dpa", "as_of": "2026-10-01",
                           "status": "verified"}])
    decision = decider([ALLOW_ON_DPA], data).decide("b2b-feature", "user.contact.email", "cloud-eu", D)
    assert decision.allowed
    assert [e.as_dict() for e in decision.evidence] == [{
        "fact": "processor.dpa.active", "subject": "cloud", "value": True, "status": "verified",
        "url": "https://cloud.example/dpa", "as_of": "2026-10-01"}]
    assert decision.verified and decision.evidence_note == ""


def test_a_source_without_a_status_is_unverified_never_verified() -> None:
    data = sourced(cloud=[{"field": "dpa", "url": "https://cloud.example/dpa", "as_of": "2026-10-01"}])
    decision = decider([ALLOW_ON_DPA], data).decide("b2b-feature", "user.contact.email", "cloud-eu", D)
    assert decision.evidence[0].status == "unverified"
    assert not decision.verified
    assert decision.evidence_note == "allowed, but rests on 1 unverified fact: dpa.active of cloud"


def test_a_fact_without_a_source_is_unsourced() -> None:
    decision = decider([ALLOW_ON_DPA]).decide("b2b-feature", "user.contact.email", "cloud-eu", D)
    assert [(e.fact, e.status) for e in decision.evidence] == [("processor.dpa.active", "unsourced")]


def test_an_allow_also_rests_on_the_deny_rules_that_did_not_apply() -> None:
    data = sourced(cloud_eu=[{"field": "retention_days", "url": "https://x.example", "as_of": "2026-01-01",
                              "status": "secondary"}])
    decision = decider([ALLOW_ON_DPA, DENY_LONG_RETENTION], data).decide("b2b-feature", "user", "cloud-eu", D)
    assert decision.allowed
    assert {(e.fact, e.subject, e.status) for e in decision.evidence} == {
        ("processor.dpa.active", "cloud", "unsourced"), ("route.retention_days", "cloud-eu", "secondary")}
    assert decision.evidence_note == ("allowed, but rests on 1 unsourced fact: dpa.active of cloud; "
                                      "1 secondary fact: retention_days of cloud-eu")


def test_a_default_deny_lists_the_facts_of_the_allow_rules_in_scope() -> None:
    decision = decider([ALLOW_ON_DPA]).decide("b2b-feature", "user", "maker-api", D)
    assert not decision.allowed and not decision.rules
    assert [(e.fact, e.subject, e.value) for e in decision.evidence] == [("processor.dpa.active", "maker", False)]


def test_a_deny_lists_the_facts_of_its_deny_rules_only() -> None:
    rules = [ALLOW_ON_DPA, {**DENY_LONG_RETENTION, "when": [{"route.zero_data_retention": False}]}]
    decision = decider(rules).decide("b2b-feature", "user", "maker-api", D)
    assert decision.rules == ["short-retention"]
    assert [e.fact for e in decision.evidence] == ["route.zero_data_retention"]


def test_feature_and_category_facts_carry_no_evidence() -> None:
    rule = {"id": "b2b", "effect": "allow", "reason": "b2b", "when": [{"feature.segment": "b2b"}]}
    decision = decider([rule]).decide("b2b-feature", "user", "cloud-eu", D)
    assert decision.allowed and decision.evidence == []


def test_matrix_decisions_stay_equal_to_decide_with_evidence() -> None:
    from compliance.policy.matrix import Matrix

    dec = decider([ALLOW_ON_DPA, DENY_LONG_RETENTION])
    result = Matrix(dec).evaluate(D)
    for f, c, r, outcome, _rule in result.rows():
        assert dec.decide(f, c, r, D).decision == outcome


@pytest.fixture
def example(tmp_path: Path, data_dir: Path) -> list[str]:
    return ["--db", f"sqlite:///{tmp_path / 'ev.db'}", "--data", str(data_dir)]


def test_check_json_carries_evidence_and_text_says_what_is_not_verified(
        example: list[str], data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    providers = data_dir / "providers.yaml"
    providers.write_text(providers.read_text().replace("status: verified", "status: unverified"))
    request = ["check", "--feature", "support-reply-draft", "--category", "user.contact.email",
               "--route", "claude-bedrock-eu", "--as-of", "2026-12-01"]
    assert main([*example, *request, "--json"]) == 0
    record = json.loads(capsys.readouterr().out)
    assert record["evidence"] and all({"fact", "subject", "value", "status", "url", "as_of"} == set(e)
                                      for e in record["evidence"])
    assert any(e["status"] != "verified" for e in record["evidence"])
    assert main([*example, *request]) == 0
    out = capsys.readouterr().out
    assert "evidence:   allowed, but rests on" in out and "of aws" in out


def test_flows_require_verified_fails_an_allow_resting_on_unverified_facts(
        example: list[str], data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    providers = data_dir / "providers.yaml"
    providers.write_text(providers.read_text().replace("status: verified", "status: unverified"))
    day = ["--as-of", "2026-12-01", "--feature", "support-reply-draft"]
    main([*example, "flows", *day, "--json"])
    flows = json.loads(capsys.readouterr().out)["flows"]
    assert any(f["compliant"] and not f["verified"] for f in flows)
    assert main([*example, "flows", *day, "--require-verified"]) == 1
    assert "UNVERIFIED" in capsys.readouterr().out


def test_alerts_list_stale_sources_and_unsourced_deciding_facts(
        example: list[str], data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*example, "alerts", "--as-of", "2026-12-01", "--json"]) == 0
    alerts = json.loads(capsys.readouterr().out)["alerts"]
    kinds = {a["kind"] for a in alerts}
    assert kinds & {"provider_source", "route_source"}
    for alert in alerts:
        if alert["severity"] == "unsourced":
            assert "carry no source" in alert["message"] and "decides" in alert["message"]


def test_stale_source_alert_names_the_record_and_the_date() -> None:
    from compliance.alerts import source_alerts

    route = small_store().routes[0].model_copy(update={"sources": [
        d.Source(field="retention_days", url="https://x.example", as_of=date(2026, 1, 1), status="verified"),
        d.Source(field="residency", url="https://x.example", as_of=date(2026, 11, 1), status="verified")]})
    found = source_alerts(route, "route", D, 180)
    assert len(found) == 1 and "retention_days (2026-01-01)" in found[0].message
    assert "residency" not in found[0].message
    assert source_alerts(route, "route", D, 400) == []


def test_unsourced_alert_lists_facts_deciding_declared_flows() -> None:
    from compliance.alerts import unsourced_alerts

    base = small_store().model_dump(mode="json")
    base["features"][0]["flows"] = [{"route": "cloud-eu", "categories": ["user"]}]
    dec = decider([ALLOW_ON_DPA], d.DataSet.model_validate(base))
    (alert,) = unsourced_alerts(dec, D)
    assert alert.subject == "cloud" and alert.kind == "provider_source"
    assert "dpa.active (decides b2b-feature -> cloud-eu)" in alert.message
