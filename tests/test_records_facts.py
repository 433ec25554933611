"""Legal's facts on features and the subprocessor notice: validated with file:line, stored, exported
and loaded back unchanged, and read by policies (records.md)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compliance.access import SYSTEM, Actor, PermissionDenied, Role
from compliance.policy.facts import feature_facts
from compliance.problems import Conflict, InvalidInput, Problem
from compliance.store import Store
from compliance.store.audit import list_events
from compliance.store.edits import record_doc, update_feature_legal_facts
from compliance.store.validate import read_data_dir
from tests.helpers import line_of, replace_in
from tests.records_helpers import decider_for, feature


def problems_in(directory: Path) -> list[Problem]:
    dataset, problems, _ = read_data_dir(directory)
    assert (dataset is None) == bool(problems)
    return problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_unknown_purpose_names_file_line_and_the_closest_fides_key(data_dir: Path) -> None:
    path = data_dir / "features.yaml"
    replace_in(path, "    purposes: [essential.service]\n", "    purposes: [essential.servise]\n")
    problem = only(problems_in(data_dir))
    assert problem.file.endswith("features.yaml") and problem.line == line_of(path, "essential.servise")
    assert problem.field == "features[mortgage-doc-extraction].purposes[0]"
    assert "unknown purpose (Fides data_use key) 'essential.servise'" in problem.message
    assert "essential.service" in problem.message


def test_unknown_data_subject_is_an_error(data_dir: Path) -> None:
    replace_in(data_dir / "features.yaml", "    data_subjects: [patient]", "    data_subjects: [patients]")
    problem = only(problems_in(data_dir))
    assert "unknown data subject (Fides data_subject key) 'patients'" in problem.message
    assert "closest: patient" in problem.message


def test_legal_basis_outside_art_6_is_an_error(data_dir: Path) -> None:
    path = data_dir / "features.yaml"
    replace_in(path, "    legal_basis: legal_obligation", "    legal_basis: legal_duty")
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, "legal_basis: legal_duty") and "legitimate_interests" in problem.message


def test_ai_act_risk_and_art50_duty_are_closed_lists(data_dir: Path) -> None:
    path = data_dir / "features.yaml"
    replace_in(path, "      risk: high\n      annex_iii: \"5(b)\"", "      risk: severe\n      annex_iii: \"5(b)\"")
    replace_in(path, "art50: [chatbot_disclosure]", "art50: [chatbot]")
    found = problems_in(data_dir)
    assert sorted(p.field for p in found) == ["features[mortgage-doc-extraction].ai_act.risk",
                                              "features[wellness-coach].ai_act.art50[0]"]
    assert {p.line for p in found} == {line_of(path, "risk: severe"), line_of(path, "art50: [chatbot]")}


def test_announcement_of_an_unknown_processor_names_file_and_line(data_dir: Path) -> None:
    path = data_dir / "subprocessors.yaml"
    replace_in(path, "processor: cohere", "processor: coherent")
    problem = only(problems_in(data_dir))
    assert problem.file.endswith("subprocessors.yaml") and problem.line == line_of(path, "processor: coherent")
    assert "unknown provider 'coherent'" in problem.message and "cohere" in problem.message


def test_unknown_key_in_the_notice_is_an_error(data_dir: Path) -> None:
    replace_in(data_dir / "subprocessors.yaml", "  notice_days: 30", "  notice_days: 30\n  notice_period: 30")
    assert only(problems_in(data_dir)).message == "unknown key"


def test_customer_data_defaults_to_b2b_and_can_be_declared_false(data_dir: Path) -> None:
    dataset, _, _ = read_data_dir(data_dir)
    assert dataset is not None
    assert feature_facts(feature(dataset, "mortgage-doc-extraction"))["feature.customer_data"] is True
    assert feature(dataset, "mortgage-doc-extraction").customer_data is None  # not written, derived
    assert feature_facts(feature(dataset, "wellness-coach"))["feature.customer_data"] is False


def test_feature_facts_carry_legal_and_ai_act_fields(data_dir: Path) -> None:
    dataset, _, _ = read_data_dir(data_dir)
    assert dataset is not None
    facts = feature_facts(feature(dataset, "mortgage-doc-extraction"))
    assert facts["feature.purposes"] == ["essential.service"] and facts["feature.legal_basis"] == "contract"
    assert (facts["feature.ai_act.risk"], facts["feature.ai_act.annex_iii"]) == ("high", "5(b)")
    chat = feature_facts(feature(dataset, "wellness-coach"))
    assert chat["feature.ai_act.art50"] == ["chatbot_disclosure"] and chat["feature.ai_act.disclosure"]


def test_the_example_shows_a_review_question_legitimate_interests_with_special_category_data(data_dir: Path) -> None:
    dataset, _, _ = read_data_dir(data_dir)
    assert dataset is not None
    specials = {c.key for c in dataset.categories if c.sensitivity.value == "special"}
    flagged = [f.id for f in dataset.features if f.segment.value == "consumer"
               and f.legal_basis and f.legal_basis.value == "legitimate_interests"
               and any(k in specials for flow in f.flows for k in flow.categories)]
    assert flagged == ["dating-profile-match"]


def test_store_round_trip_keeps_the_new_facts(store: Store, tmp_path: Path) -> None:
    before = store.read()
    assert before.notice is not None and before.notice.notice_days == 30
    store.export(tmp_path / "out")
    assert (tmp_path / "out" / "subprocessors.yaml").exists()
    store.load(tmp_path / "out", actor=SYSTEM)
    after = store.read()
    assert after.model_dump() == before.model_dump()
    wellness = feature(after, "wellness-coach")
    assert wellness.ai_act is not None and wellness.ai_act.art50[0].value == "chatbot_disclosure"


def test_a_change_to_the_notice_is_one_audited_update(store: Store, data_dir: Path) -> None:
    replace_in(data_dir / "subprocessors.yaml", "announced_on: 2026-11-20", "announced_on: 2026-11-01")
    report = store.load(data_dir, actor=SYSTEM)
    assert report.updated == {"notice": 1} and report.events == 1
    notice = store.read().notice
    assert notice is not None and notice.announced_on("microsoft") == date(2026, 11, 1)


# --- the notice gate ------------------------------------------------------------------------------
@pytest.mark.parametrize(("day", "allowed"), [(date(2026, 12, 19), False), (date(2026, 12, 20), True)])
def test_new_processor_is_denied_until_announced_on_plus_notice_days(data_dir: Path, day: date,
                                                                     allowed: bool) -> None:
    decider = decider_for(data_dir)  # Microsoft announced 2026-11-20, 30 days' notice
    decision = decider.decide("fraud-review-triage", "user.device.ip_address", "azure-openai-eu", day)
    assert decision.allowed is allowed
    if not allowed:
        assert decision.rules == ["customer-data-needs-subprocessor-notice"]
        assert "from 2026-12-20" in decision.reasons[0]


def test_notice_days_moves_the_boundary(data_dir: Path) -> None:
    replace_in(data_dir / "subprocessors.yaml", "notice_days: 30", "notice_days: 10")
    decider = decider_for(data_dir)
    assert not decider.decide("fraud-review-triage", "user.device.ip_address", "azure-openai-eu",
                              date(2026, 11, 29)).allowed
    assert decider.decide("fraud-review-triage", "user.device.ip_address", "azure-openai-eu",
                          date(2026, 11, 30)).allowed


def test_a_processor_never_announced_is_denied_with_the_unknown_fact(data_dir: Path) -> None:
    text = (data_dir / "subprocessors.yaml").read_text()
    start = text.index("    - processor: anthropic")
    end = text.index("    - processor: google")
    (data_dir / "subprocessors.yaml").write_text(text[:start] + text[end:])
    decision = decider_for(data_dir).decide("support-reply-draft", "user.name", "claude-direct", date(2026, 12, 2))
    assert "customer-data-needs-subprocessor-notice" in decision.rules
    assert "processor.notice_elapsed" in decision.unknown_facts


def test_the_gate_does_not_hold_features_without_customer_data(data_dir: Path) -> None:
    decision = decider_for(data_dir).decide("code-assistant", "org.confidential.source_code", "openai-direct",
                                            date(2026, 12, 2))
    assert "customer-data-needs-subprocessor-notice" not in decision.rules


# --- legal's edits --------------------------------------------------------------------------------
LEGAL = Actor("lena", Role.legal)


def _version(store: Store, feature_id: str) -> int:
    with store.session() as session:
        return record_doc(session, "feature", feature_id)[1]


def test_legal_edits_a_features_legal_facts_with_an_audit_event(store: Store) -> None:
    with store.session() as session:
        update_feature_legal_facts(session, feature_id="dating-profile-match",
                                   expected_version=_version(store, "dating-profile-match"),
                                   changes={"legal_basis": "consent"}, actor=LEGAL, reason="explicit consent flow")
    assert feature(store.read(), "dating-profile-match").legal_basis.value == "consent"  # type: ignore[union-attr]
    with store.session() as session:
        event = list_events(session, entity="feature", limit=1)[0]
    assert (event.actor, event.reason) == ("lena", "explicit consent flow")
    assert event.changes == {"legal_basis": {"old": "legitimate_interests", "new": "consent"}}


def test_legal_may_not_change_a_features_flows_and_engineers_may_not_change_its_legal_facts(store: Store) -> None:
    version = _version(store, "wellness-coach")
    with pytest.raises(InvalidInput, match="not one of legal's facts"), store.session() as session:
        update_feature_legal_facts(session, feature_id="wellness-coach", expected_version=version,
                                   changes={"human_review": True}, actor=LEGAL)
    with pytest.raises(PermissionDenied, match="feature_legal"), store.session() as session:
        update_feature_legal_facts(session, feature_id="wellness-coach", expected_version=version,
                                   changes={"legal_basis": "contract"}, actor=Actor("eve", Role.engineer))


def test_a_legal_edit_based_on_an_old_version_is_refused(store: Store) -> None:
    version = _version(store, "wellness-coach")
    with store.session() as session:
        update_feature_legal_facts(session, feature_id="wellness-coach", expected_version=version,
                                   changes={"purposes": ["essential.service", "personalize"]}, actor=LEGAL)
    with pytest.raises(Conflict), store.session() as session:
        update_feature_legal_facts(session, feature_id="wellness-coach", expected_version=version,
                                   changes={"legal_basis": "contract"}, actor=LEGAL)


def test_a_legal_edit_with_an_unknown_purpose_names_the_closest(store: Store) -> None:
    with pytest.raises(InvalidInput, match="closest: personalize") as caught, store.session() as session:
        update_feature_legal_facts(session, feature_id="wellness-coach",
                                   expected_version=_version(store, "wellness-coach"),
                                   changes={"purposes": ["personalise"]}, actor=LEGAL)
    assert caught.value.problems[0].field == "purposes[0]"
