"""Every kind of mistake in a data folder is reported with file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.problems import Problem
from compliance.store.validate import read_data_dir
from tests.helpers import line_of, replace_in


def problems_in(directory: Path) -> list[Problem]:
    dataset, problems, _ = read_data_dir(directory)
    assert (dataset is None) == bool(problems)
    return problems


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


def test_example_data_is_valid(data_dir: Path) -> None:
    assert problems_in(data_dir) == []


def test_yaml_syntax_error_names_file_and_line(data_dir: Path) -> None:
    path = data_dir / "routes.yaml"
    replace_in(path, "models: [claude-sonnet-4-5, claude-haiku-4-5, claude-opus-4-5]",
               "models: [claude-sonnet-4-5, claude-haiku")
    problem = only(problems_in(data_dir))
    assert problem.file.endswith("routes.yaml")
    assert problem.line is not None and problem.line >= line_of(path, "models: [claude-sonnet-4-5, claude-haiku")
    assert "YAML error" in problem.message


def test_unknown_key_is_an_error(data_dir: Path) -> None:
    path = data_dir / "providers.yaml"
    replace_in(path, "    hq_country: FR", "    hq_country: FR\n    headquarter: Paris")
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, "headquarter: Paris")
    assert problem.field == "providers[mistral].headquarter"
    assert problem.message == "unknown key"


def test_wrong_type_is_an_error(data_dir: Path) -> None:
    path = data_dir / "routes.yaml"
    replace_in(path, "    retention_days: 55", '    retention_days: "55"')
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, 'retention_days: "55"')
    assert problem.field == "routes[gemini-api].retention_days"
    assert "valid integer" in problem.message


def test_wrong_enum_value_lists_the_allowed_ones(data_dir: Path) -> None:
    path = data_dir / "routes.yaml"
    replace_in(path, "    residency: on_premises", "    residency: onprem")
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, "residency: onprem")
    assert "on_premises" in problem.message and "'onprem'" in problem.message


def test_route_naming_unknown_processor_is_dangling(data_dir: Path) -> None:
    path = data_dir / "routes.yaml"
    replace_in(path, "    processor: northwind", "    processor: northwnd")
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, "processor: northwnd")
    assert problem.field == "routes[vllm-onprem].processor"
    assert "unknown provider 'northwnd'" in problem.message and "closest: northwind" in problem.message


def test_flow_naming_unknown_category_is_dangling(data_dir: Path) -> None:
    path = data_dir / "features.yaml"
    replace_in(path, "categories: [org.public]", "categories: [org.publik]")
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, "categories: [org.publik]")
    assert problem.field == "features[marketing-copy].flows[0].categories[0]"
    assert "unknown category 'org.publik'" in problem.message


def test_flow_naming_unknown_route_is_dangling(data_dir: Path) -> None:
    path = data_dir / "features.yaml"
    replace_in(path, "      - route: llama-bedrock-us", "      - route: llama-bedrock-eu")
    problems = problems_in(data_dir)
    assert any("unknown route 'llama-bedrock-eu'" in p.message and p.line == line_of(path, "llama-bedrock-eu")
               for p in problems)


def test_category_with_missing_parent_is_an_error(data_dir: Path) -> None:
    path = data_dir / "categories.yaml"
    with path.open("a") as f:
        f.write("  - key: user.place.imprecise\n    name: Somewhere\n    sensitivity: low\n")
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, "key: user.place.imprecise")
    assert "parent category 'user.place' is missing" in problem.message


def test_duplicate_id_names_both_places(data_dir: Path) -> None:
    path = data_dir / "features.yaml"
    with path.open("a") as f:
        f.write("  - id: code-assistant\n    name: Again\n    segment: internal\n    human_review: true\n")
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, "id: code-assistant", occurrence=2)
    assert f"first at {problem.file}:{line_of(path, 'id: code-assistant')}" in problem.message


def test_missing_required_field_points_at_its_record(data_dir: Path) -> None:
    path = data_dir / "routes.yaml"
    replace_in(path, "    trains_on_inputs: true\n    status: blocked\n    models: [llama-4-maverick]",
               "    status: blocked\n    models: [llama-4-maverick]")
    problem = only(problems_in(data_dir))
    assert problem.field == "routes[llama-api].trains_on_inputs"
    assert problem.message == "required field is missing"
    assert problem.line == line_of(path, "  - id: llama-api")


def test_unknown_file_in_data_folder_is_reported(data_dir: Path) -> None:
    (data_dir / "provider.yaml").write_text("providers: []\n")
    problem = only(problems_in(data_dir))
    assert problem.file.endswith("provider.yaml") and "unknown data file" in problem.message


def test_several_mistakes_are_all_listed(data_dir: Path) -> None:
    replace_in(data_dir / "providers.yaml", "    hq_country: FR", "    hq_country: France")
    replace_in(data_dir / "routes.yaml", "    processor: northwind", "    processor: nobody")
    replace_in(data_dir / "categories.yaml", "  - key: org.public", "  - key: org.public\n    colour: blue")
    replace_in(data_dir / "features.yaml", "    human_review: false\n    tags: [productivity]",
               "    human_review: maybe\n    tags: [productivity]")
    problems = problems_in(data_dir)
    files = sorted({Path(p.file).name for p in problems})
    assert files == ["categories.yaml", "features.yaml", "providers.yaml", "routes.yaml"]
    assert len(problems) == 4
    assert all(p.line for p in problems)


def test_python_object_tags_are_refused(data_dir: Path) -> None:
    (data_dir / "costs.yaml").write_text("segments: !!python/object/apply:os.system ['echo hacked']\n")
    problem = only(problems_in(data_dir))
    assert problem.line == 1 and "YAML error" in problem.message


def test_alias_bomb_is_refused_quickly(data_dir: Path) -> None:
    lines = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for i in range(1, 9):
        prev, name = chr(96 + i), chr(97 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    (data_dir / "costs.yaml").write_text("\n".join(lines) + "\n")
    problem = only(problems_in(data_dir))
    assert "too large" in problem.message


def test_segments_may_be_a_mapping_or_a_list(data_dir: Path) -> None:
    (data_dir / "costs.yaml").write_text(
        "segments:\n  - id: b2b\n    users: 10\n    revenue_per_user_month: 5.0\n"
    )
    dataset, problems, _ = read_data_dir(data_dir)
    assert problems == [] and dataset is not None
    assert [s.id for s in dataset.costs.segments] == ["b2b"]


def test_error_in_mapping_segment_points_at_its_line(data_dir: Path) -> None:
    path = data_dir / "costs.yaml"
    replace_in(path, "    users: 2500000", "    users: lots")
    problem = only(problems_in(data_dir))
    assert problem.line == line_of(path, "users: lots")
    assert "valid integer" in problem.message


def test_override_needs_prices_or_discount_not_both(data_dir: Path) -> None:
    path = data_dir / "costs.yaml"
    replace_in(path, "    discount: 0.08", "    discount: 0.08\n    input: 2.0")
    problem = only(problems_in(data_dir))
    assert "either absolute prices" in problem.message
    assert problem.line == line_of(path, "id: aws-edp-2026")


def test_country_codes_are_read_in_any_case_and_kept_upper_case(data_dir: Path) -> None:
    replace_in(data_dir / "providers.yaml", "    hq_country: FR", "    hq_country: fr")
    dataset, problems, _ = read_data_dir(data_dir)
    assert problems == [] and dataset is not None
    assert next(p for p in dataset.providers if p.id == "mistral").hq_country == "FR"


def test_free_labels_may_be_any_short_text(data_dir: Path) -> None:
    replace_in(data_dir / "features.yaml", "tags: [content]", "tags: [Content Team, GDPR Art. 6]")
    assert problems_in(data_dir) == []


def test_an_impossible_date_is_a_field_problem_and_validation_goes_on(data_dir: Path) -> None:
    providers = data_dir / "providers.yaml"
    lines = providers.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if "expires_on:" in line)
    lines[at] = lines[at].split("expires_on:")[0] + "expires_on: 2026-02-30"
    first_id = next(i for i, line in enumerate(lines) if line.strip().startswith("- id:"))
    lines[first_id] = lines[first_id].replace("- id:", "- id: Bad Id #")
    providers.write_text("\n".join(lines) + "\n")
    _, problems, _ = read_data_dir(data_dir)
    dated = [p for p in problems if "2026-02-30" in p.message]
    assert len(dated) == 1
    assert dated[0].line == at + 1 and dated[0].field.endswith("expires_on") and "valid date" in dated[0].message
    assert any(p.line == first_id + 1 and p.field.endswith(".id") for p in problems)  # the rest is still checked


def test_a_flow_listing_a_category_twice_is_a_problem_with_its_line(data_dir: Path) -> None:
    features = data_dir / "features.yaml"
    lines = features.read_text().splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip() == "- user.name")
    lines.insert(at + 1, lines[at])
    features.write_text("\n".join(lines) + "\n")
    _, problems, _ = read_data_dir(data_dir)
    assert [(p.line, p.message) for p in problems] == [(at + 2, "category 'user.name' is listed twice in this flow")]


def test_a_per_model_premium_for_a_model_the_route_does_not_serve_is_an_error(data_dir: Path) -> None:
    path = data_dir / "routes.yaml"
    replace_in(path, "regional_premium_models: {gpt-5: 0.0, gpt-5-mini: 0.0}",
               "regional_premium_models: {gpt-5: 0.0, gpt-5-mimi: 0.0}")
    problem = only(problems_in(data_dir))
    assert problem.file.endswith("routes.yaml") and problem.line == line_of(path, "gpt-5-mimi: 0.0")
    assert problem.field == "routes[openai-direct-eu].regional_premium_models.gpt-5-mimi"
    assert "not in this route's models" in problem.message and "gpt-5-mini" in problem.message


def test_a_per_model_premium_must_be_a_number(data_dir: Path) -> None:
    path = data_dir / "routes.yaml"
    replace_in(path, "regional_premium_models: {gpt-5: 0.0, gpt-5-mini: 0.0}",
               "regional_premium_models: {gpt-5: '0.1', gpt-5-mini: 0.0}")
    problem = only(problems_in(data_dir))
    assert problem.field == "routes[openai-direct-eu].regional_premium_models.gpt-5"


MIXED = {  # per-record mistakes and reference mistakes side by side; the comments are what validate must say
    "providers.yaml": """\
providers:
  - id: p1
    name: One
    transfer_mechanism: bogus
  - id: p2
    name: Two
  - id: p3
    name: Three
    hq_country: 12345
  - id: p1
    name: One again
""",  # 4: enum; 9: type; 10: duplicate of the p1 that failed its own checks
    "routes.yaml": """\
routes:
  - id: r1
    name: R one
    model_provider: p2
    processor: p9
    service: API
    residency: eu
    zero_data_retention: false
    trains_on_inputs: false
    status: approved
  - id: r2
    name: R two
    model_provider: p8
    processor: p3
    service: API
    residency: mars
    zero_data_retention: false
    trains_on_inputs: false
    status: approved
""",  # 5: unknown p9; 13: unknown p8 on a route with its own mistake (16: enum); p3 exists, though broken
    "categories.yaml": """\
categories:
  - key: user
    name: User
    sensitivity: moderate
  - key: user.name
    name: Name
    sensitivity: extreme
  - key: org.secret
    name: Secret
    sensitivity: extreme
""",  # 7, 10: enum; 8: parent 'org' is missing
    "features.yaml": """\
features:
  - id: f1
    name: F one
    segment: b2b
    human_review: false
    flows:
      - route: r7
        categories: [user.zzz, user.name]
      - route: r2
        categories: [org.secret]
  - id: f2
    name: F two
    segment: alien
    human_review: false
    flows:
      - route: r8
        categories: [user]
""",  # 7: unknown route; 8: unknown category; 13: enum; 16: unknown route in a feature with its own mistake
    "costs.yaml": """\
segments:
  - id: s1
    users: many
    revenue_per_user_month: 10
    features: [f1, f9, f2]
""",  # 3: type; 5: unknown f9 (f2 exists, though broken)
    "subprocessors.yaml": """\
notice:
  announcements:
    - processor: p7
      announced_on: soon
    - processor: p1
      announced_on: 2026-01-01
""",  # 3: unknown p7 in a notice with its own mistake (4: not a date); p1 exists
}
MIXED_PROBLEMS = [
    ("categories.yaml", 7, "categories[user.name].sensitivity", "must be one of"),
    ("categories.yaml", 8, "categories[org.secret].key", "parent category 'org' is missing"),
    ("categories.yaml", 10, "categories[org.secret].sensitivity", "must be one of"),
    ("costs.yaml", 3, "segments[s1].users", "valid integer"),
    ("costs.yaml", 5, "segments[s1].features[1]", "unknown feature 'f9'"),
    ("features.yaml", 7, "features[f1].flows[0].route", "unknown route 'r7'"),
    ("features.yaml", 8, "features[f1].flows[0].categories[0]", "unknown category 'user.zzz'"),
    ("features.yaml", 13, "features[f2].segment", "must be one of"),
    ("features.yaml", 16, "features[f2].flows[0].route", "unknown route 'r8'"),
    ("providers.yaml", 4, "providers[p1].transfer_mechanism", "must be one of"),
    ("providers.yaml", 9, "providers[p3].hq_country", "valid string"),
    ("providers.yaml", 10, "providers[p1].id", "duplicate provider id 'p1' (first at "),
    ("routes.yaml", 5, "routes[r1].processor", "unknown provider 'p9'"),
    ("routes.yaml", 13, "routes[r2].model_provider", "unknown provider 'p8'"),
    ("routes.yaml", 16, "routes[r2].residency", "must be one of"),
    ("subprocessors.yaml", 3, "notice.announcements[0].processor", "unknown provider 'p7'"),
    ("subprocessors.yaml", 4, "notice.announcements[0].announced_on", "date"),
]


def write_mixed(directory: Path) -> Path:
    directory.mkdir()
    for name, text in MIXED.items():
        (directory / name).write_text(text)
    return directory


def assert_mixed_problems(problems: list[Problem]) -> None:
    found = sorted((Path(p.file).name, p.line, p.field, p.message) for p in problems)
    assert [(f, line, field) for f, line, field, _ in found] == [(f, line, field) for f, line, field, _ in
                                                                 MIXED_PROBLEMS], [str(p) for p in problems]
    for (*_, message), (*_, expected) in zip(found, MIXED_PROBLEMS, strict=True):
        assert expected in message


def test_reference_mistakes_are_listed_beside_per_record_mistakes(tmp_path: Path) -> None:
    """A type or enum mistake hides no dangling reference or duplicate id, in its own record or another;
    a reference to a record that exists but has mistakes of its own is not reported as unknown."""
    assert_mixed_problems(problems_in(write_mixed(tmp_path / "mixed")))


def test_a_load_of_a_folder_with_both_kinds_of_mistakes_lists_them_all_and_changes_nothing(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from compliance.cli import main
    from tests.helpers import initialised_store, store_state

    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "allow.yaml").write_text("rules:\n  - id: ok\n    effect: allow\n    reason: fine\n")
    store = initialised_store(tmp_path, data_dir, monkeypatch)
    before = store_state(store)
    capsys.readouterr()

    code = main(["--policies", str(policies), "load", str(write_mixed(tmp_path / "mixed"))])
    err = capsys.readouterr().err
    assert code == 2 and f"{len(MIXED_PROBLEMS)} problems found; nothing was changed" in err
    for file, line, field, _ in MIXED_PROBLEMS:
        assert f"{file}:{line}: {field}: " in err
    assert store_state(store) == before
    store.dispose()
