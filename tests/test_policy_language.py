"""Policy validation: every mistake named with file and line, never a silent widening."""

from __future__ import annotations

from datetime import date
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


MIXED_POLICY = """\
rules:
  - id: r-a
    effect: deny
    reason: x
    match: {routes: [r9]}
  - id: r-b
    effect: deny
    waivable: false
    reason: x
    match: {routes: [r9]}
  - id: r-c
    effect: allow
    reason: x
    when:
      - route.residencey: {eq: eu}
  - id: r-a
    effect: deny
    reason: y
    match: {features: [nope]}
exceptions:
  - id: e1
    waives: r-b
    feature: code-assistant
    categories: [org.public]
    routes: [claude-direct]
    approved_by: dpo@x
    granted_on: 2026-02-01
    expires_on: 2026-12-31
  - id: e2
    waives: r-c
    feature: nope
    categories: [org.public]
    routes: [claude-direct]
    approved_by: dpo@x
    granted_on: 2026-02-01
    expires_on: 2026-12-31
  - id: e1
    waives: r-a
    feature: code-assistant
    categories: [org.public]
    routes: [claude-direct]
    granted_on: 2026-02-01
    expires_on: 2026-12-31
"""
MIXED_POLICY_PROBLEMS = [  # (line, field, part of the message)
    (5, "r-a.match.routes[0]", "unknown route 'r9'"),
    (10, "r-b.match.routes[0]", "unknown route 'r9'"),
    (15, "r-c.when[0].route.residencey", "unknown fact path"),
    (16, "r-a.id", "duplicate rule id 'r-a' (first at "),
    (19, "r-a.match.features[0]", "unknown feature 'nope'"),
    (22, "e1.waives", "rule 'r-b' is not waivable"),
    (30, "e2.waives", "rule 'r-c' is an allow rule"),
    (31, "e2.feature", "unknown feature 'nope'"),
    (37, "e1.approved_by", "required field is missing"),
    (37, "e1.id", "duplicate exception id 'e1' (first at "),
]


def test_an_exception_is_checked_against_a_rule_with_mistakes_of_its_own(tmp_path: Path) -> None:
    """A rule's own mistake (an unknown route, a duplicate id) or the exception's own mistake hides
    neither the exception's waives check nor a duplicate's mistakes: all are listed in one run."""
    (tmp_path / "mixed.yaml").write_text(MIXED_POLICY)
    dataset, _, _ = read_data_dir(EXAMPLE_DATA)
    assert dataset is not None
    policies, problems = read_policy_dir(tmp_path, Vocabulary.of(dataset), today=date(2026, 6, 1))
    assert policies is None
    found = sorted((p.line or 0, p.field, p.message) for p in problems)
    assert [(line, field) for line, field, _ in found] == [(line, field) for line, field, _ in
                                                           MIXED_POLICY_PROBLEMS], [str(p) for p in problems]
    for (*_, message), (*_, expected) in zip(found, MIXED_POLICY_PROBLEMS, strict=True):
        assert expected in message
    assert all(p.file.endswith("mixed.yaml") for p in problems)


def test_a_load_with_such_a_policy_set_lists_every_problem_and_changes_nothing(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from compliance.cli import main
    from tests.helpers import initialised_store, replace_in, store_state

    store = initialised_store(tmp_path, data_dir, monkeypatch)
    before = store_state(store)
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "mixed.yaml").write_text(MIXED_POLICY)
    replace_in(data_dir / "features.yaml", "  - id: code-assistant\n    name: Coding assistant",
               "  - id: code-assistant\n    name: Coding assistant (renamed)")  # the load would change this
    capsys.readouterr()

    code = main(["--policies", str(policies), "load", str(data_dir)])
    err = capsys.readouterr().err
    assert code == 2 and f"{len(MIXED_POLICY_PROBLEMS)} problems found; nothing was changed" in err
    for line, field, expected in MIXED_POLICY_PROBLEMS:
        assert f"mixed.yaml:{line}: {field}: " in err and expected in err
    assert store_state(store) == before
    store.dispose()
