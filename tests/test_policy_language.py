"""Policy validation: every mistake named with file and line, never a silent widening."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.store.validate import read_data_dir
from tests.conftest import EXAMPLE_DATA
from tests.policy_helpers import policy_problems, small_store

GOOD_RULE = """
rules:
  - id: ok
    effect: allow
    reason: fine
"""


def messages(text: str) -> list[str]:
    _, problems = policy_problems(text, small_store())
    return [str(p) for p in problems]


def test_baseline_policies_are_valid_for_the_example_data() -> None:
    dataset, _, _ = read_data_dir(EXAMPLE_DATA)
    assert dataset is not None
    policies, problems = read_policy_dir(EXAMPLE_DATA.parent / "policies", Vocabulary.of(dataset))
    assert problems == [] and policies is not None
    assert len(policies.rules) >= 10 and len(policies.exceptions) >= 2


def test_misspelt_fact_unknown_route_and_duplicate_id_are_all_named_with_lines(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(
        "rules:\n"
        "  - id: r1\n"
        "    effect: deny\n"
        "    reason: x\n"
        "    match: {routes: [cloud-eu, cloud-us]}\n"          # line 5: unknown route
        "    when:\n"
        "      - route.residencey: {ne: eu}\n"                 # line 7: misspelt fact
    )
    (tmp_path / "b.yaml").write_text(
        "rules:\n"
        "  - id: r1\n"                                         # line 2: duplicate of a.yaml:2
        "    effect: allow\n"
        "    reason: y\n"
    )
    _, problems = read_policy_dir(tmp_path, Vocabulary.of(small_store()))
    found = {(Path(p.file).name, p.line): p.message for p in problems}
    assert "unknown route 'cloud-us'" in found[("a.yaml", 5)]
    assert "unknown fact path" in found[("a.yaml", 7)] and "route.residency" in found[("a.yaml", 7)]
    assert "duplicate rule id 'r1'" in found[("b.yaml", 2)] and "a.yaml:2" in found[("b.yaml", 2)]
    assert len(problems) == 3


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("- route.retention_days: {gt: '30'}", "is a number"),
        ("- route.zero_data_retention: yes please", "true or false"),
        ("- processor.dpa.expires_on: {before: 30}", "is a date"),
        ("- route.residency: europe", "not a route.residency value"),
        ("- route.residency: {contains: eu}", "needs a list fact"),
        ("- feature.tags: pilot", "is a list: use contains"),
        ("- route.residency: {near: eu}", "unknown operator"),
        ("- route.status: {in: []}", "non-empty list"),
        ("- feature.segment: {lt: b2b}", "compares numbers or dates"),
        ("- route.id: {eq: nowhere}", "unknown route 'nowhere'"),
        ("- any: []", "non-empty list of conditions"),
        ("- {route.stale: true, route.status: approved}", "exactly one key"),
    ],
)
def test_condition_type_errors_are_reported(when: str, expected: str) -> None:
    text = f"rules:\n  - id: r\n    effect: deny\n    reason: x\n    when:\n      {when}\n"
    found = messages(text)
    assert any(expected in m and ":6:" in m for m in found), found


def test_relative_dates_are_accepted() -> None:
    text = ("rules:\n  - id: r\n    effect: deny\n    reason: x\n    when:\n"
            "      - processor.dpa.expires_on: {before: today+30d}\n"
            "      - processor.dpa.expires_on: {after: today-10d}\n")
    assert messages(text) == []


def test_unknown_keys_and_empty_match_lists_are_errors() -> None:
    text = "rules:\n  - id: r\n    effect: allow\n    reason: x\n    match: {categories: []}\n    colour: red\n"
    found = messages(text)
    assert any(":6:" in m and "unknown key" in m for m in found)
    assert any(":5:" in m and "non-empty list" in m for m in found)


def test_reason_placeholders_must_be_facts() -> None:
    found = messages("rules:\n  - id: r\n    effect: allow\n    reason: 'via {route.nme}'\n")
    assert any("unknown fact {route.nme}" in m and "route.name" in m for m in found)


def test_waivable_on_an_allow_rule_is_an_error() -> None:
    found = messages("rules:\n  - id: r\n    effect: allow\n    waivable: false\n    reason: x\n")
    assert any("only deny rules" in m for m in found)


EXCEPTION = """
rules:
  - id: deny-it
    effect: deny
    reason: x
  - id: hard
    effect: deny
    waivable: false
    reason: x
  - id: allow-it
    effect: allow
    reason: x
exceptions:
  - id: e1
    waives: {waives}
    feature: b2b-feature
    categories: [user]
    routes: [cloud-eu]
    approved_by: {approved_by}
    granted_on: {granted}
    expires_on: {expires}
"""


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"waives": "nope"}, "unknown rule 'nope'"),
        ({"waives": "hard"}, "is not waivable"),
        ({"waives": "allow-it"}, "only waive deny rules"),
        ({"approved_by": "null"}, "required field is missing"),
        ({"expires": "2026-01-01"}, "before it is granted"),
        ({"expires": "2027-06-01"}, "at most 365"),
    ],
)
def test_bad_exceptions_are_reported(fields: dict[str, str], expected: str) -> None:
    values = {"waives": "deny-it", "approved_by": "dpo@x", "granted": "2026-02-01", "expires": "2026-12-31"} | fields
    found = messages(EXCEPTION.format(**values))
    assert any(expected in m for m in found), found


def test_exception_without_expiry_is_an_error() -> None:
    text = EXCEPTION.format(waives="deny-it", approved_by="a", granted="2026-02-01", expires="2026-12-31")
    text = text.replace("    expires_on: 2026-12-31\n", "")
    assert any("expires_on" in m and "required" in m for m in messages(text))


def test_yaml_syntax_error_in_a_policy_names_the_line() -> None:
    found = messages("rules:\n  - id: r\n    effect: [deny\n")
    assert len(found) == 1 and "YAML error" in found[0] and "test.yaml:" in found[0]


def test_good_rule_is_valid() -> None:
    assert messages(GOOD_RULE) == []
