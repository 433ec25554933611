"""Hostile and random input: every reader ends in a clear error or a valid result, never a traceback,
a hang, or a change to the store (property-based, with hypothesis)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.access import SYSTEM
from compliance.cli import main
from compliance.config import PROJECT_ROOT
from compliance.policy.language import Vocabulary, build_policy_set
from compliance.problems import InvalidInput
from compliance.store import Store
from compliance.store.validate import FILES, read_data_dir
from compliance.yamlsource import YamlDocument, parse_yaml
from tests.conftest import EXAMPLE_DATA, Databases, examples, open_store

SLOW = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
FUZZ_EXAMPLES = examples(150)

scalars = st.one_of(st.none(), st.booleans(), st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=True), st.text(max_size=40), st.dates(), st.sampled_from(
                        ["signed", "approved", "eu", "user", "today+30d", "*", "", "\u202e", "\u200b", "🙂"]))
keys = st.one_of(st.text(max_size=12), st.sampled_from(
    ["id", "name", "key", "route", "processor", "model_provider", "categories", "flows", "dpa", "status",
     "sensitivity", "segment", "human_review", "residency", "when", "match", "effect", "reason", "rules"]))
structures = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                            st.dictionaries(keys, inner, max_size=5)),
                          max_leaves=30)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """One store per database for the module: what passes on SQLite must also pass on PostgreSQL."""
    databases = Databases(tmp_path_factory.mktemp("fuzz"))
    store = open_store(databases.url(str(request.param)), EXAMPLE_DATA)
    yield store
    store.dispose()
    databases.drop_all()


def snapshot(store: Store) -> tuple[Any, int]:
    from compliance.store.audit import latest_event_id

    with store.session() as session:
        return store.read(), latest_event_id(session)


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(st.text(max_size=2000))
def test_any_text_parses_or_is_a_problem(text: str) -> None:
    doc, problems = parse_yaml(text, "fuzz.yaml")
    assert (doc is None) == bool(problems)
    assert all(p.file == "fuzz.yaml" and p.message for p in problems)


@SLOW
@given(files=st.dictionaries(st.sampled_from(sorted(FILES)), structures, min_size=1, max_size=5))
def test_random_data_folders_are_rejected_cleanly_and_change_nothing(files: dict[str, Any], tmp_path: Path,
                                                                      shared_store: Store) -> None:
    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    for name, content in files.items():
        (folder / name).write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    dataset, problems, _ = read_data_dir(folder)
    assert (dataset is None) == bool(problems)
    before = snapshot(shared_store)
    try:
        shared_store.load(folder, actor=SYSTEM)
    except InvalidInput as exc:
        assert exc.problems
        assert snapshot(shared_store) == before
    else:
        shared_store.load(EXAMPLE_DATA, actor=SYSTEM)  # a valid random folder is possible; put the data back
    shutil.rmtree(folder)


BAD_VALUES = ["[", "{x", "!!python/name:os.system", "&a", "*a", "1e999", "-", '"', "null", "[1, [2, [3]]]", "~"]


def mutate(text: str, data: st.DataObject) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        i = data.draw(st.integers(min_value=0, max_value=len(lines) - 1))
        action = data.draw(st.sampled_from(["replace value", "delete", "duplicate", "indent", "garbage"]))
        if action == "replace value" and ":" in lines[i]:
            head = lines[i].split(":", 1)[0]
            lines[i] = f"{head}: {data.draw(st.sampled_from(BAD_VALUES))}"
        elif action == "delete":
            del lines[i]
        elif action == "duplicate":
            lines.insert(i, lines[i])
        elif action == "indent":
            lines[i] = "   " + lines[i]
        else:
            lines[i] = data.draw(st.text(max_size=30))
        if not lines:
            lines = [""]
    return "\n".join(lines)


@SLOW
@given(name=st.sampled_from(sorted(FILES)), data=st.data())
def test_mutated_example_files_load_or_fail_cleanly(name: str, data: st.DataObject, tmp_path: Path,
                                                    shared_store: Store) -> None:
    """Every problem a mutation causes is caught by validation (file, line, message), never by the
    database: a folder that validates must load, and one that does not leaves the store unchanged."""
    folder = Path(tempfile.mkdtemp(dir=tmp_path)) / "data"
    shutil.copytree(EXAMPLE_DATA, folder, ignore=shutil.ignore_patterns("*.db*"))
    (folder / name).write_text(mutate((EXAMPLE_DATA / name).read_text(), data), encoding="utf-8")
    _, problems, _ = read_data_dir(folder)
    before = snapshot(shared_store)
    if problems:
        with pytest.raises(InvalidInput) as caught:
            shared_store.load(folder, actor=SYSTEM)
        assert all(p.file and p.message for p in caught.value.problems)
        assert snapshot(shared_store) == before
    else:  # valid input: the database must accept it (a constraint error here is a validation gap)
        shared_store.load(folder, actor=SYSTEM)
        shared_store.load(EXAMPLE_DATA, actor=SYSTEM)
    shutil.rmtree(folder)


ADVERSARIAL = {
    "billion laughs": "a: &a [x,x,x,x,x,x,x,x,x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [{','.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(9)),
    "python object": "providers: !!python/object/apply:os.system ['true']\n",
    "python name": "providers: !!python/name:os.system\n",
    "python module": "providers: !!python/module:os\n",
    "deep flow nesting": "providers: " + "[" * 5000 + "]" * 5000 + "\n",
    "deep block nesting": "".join("  " * i + "k:\n" for i in range(300)),
    "huge number": "providers:\n  - id: x\n    name: y\n    hq_country: " + "9" * 5000 + "\n",
    "NUL byte": "providers: [\x00]\n",
    "NUL in a name": 'providers:\n  - id: x\n    name: "a\\0b"\n',
    "certification name PostgreSQL cannot hold": "providers:\n  - id: x\n    name: y\n    certifications:\n"
                                                 f"      - name: {'c' * 150}\n",
    "bool tag": "providers:\n  - id: x\n    name: !!bool maybe\n",
    "int tag": "providers:\n  - id: x\n    name: !!int ''\n",
    "timestamp tag": "providers:\n  - id: x\n    name: !!timestamp soon\n",
    "unicode tricks": "providers:\n  - id: \u202eaws\n    name: \u200b\n",
    "BOM and tabs": "\ufeffproviders:\n\t- id: x\n",
    "duplicate keys": "providers: []\nproviders: []\n",
    "merge of a scalar": "providers:\n  - <<: 5\n    id: x\n",
    "undefined alias": "providers: *nothing\n",
    "binary": "providers: !!binary aGVsbG8=\n",
}


@pytest.mark.parametrize("name", sorted(ADVERSARIAL))
def test_adversarial_yaml_is_a_clear_problem_and_changes_nothing(name: str, tmp_path: Path,
                                                                 shared_store: Store) -> None:
    folder = tmp_path / "bad"
    folder.mkdir()
    (folder / "providers.yaml").write_text(ADVERSARIAL[name], encoding="utf-8")
    before = snapshot(shared_store)
    with pytest.raises(InvalidInput) as caught:
        shared_store.load(folder, actor=SYSTEM)
    assert caught.value.problems and all(str(p) for p in caught.value.problems)
    assert snapshot(shared_store) == before


@settings(max_examples=FUZZ_EXAMPLES, deadline=None)
@given(rules=st.lists(structures, max_size=4), exceptions=st.lists(structures, max_size=2),
       extra=st.dictionaries(keys, structures, max_size=2))
def test_random_policy_files_never_raise(rules: list[Any], exceptions: list[Any], extra: dict[str, Any]) -> None:
    doc = YamlDocument("fuzz.yaml", {"rules": rules, "exceptions": exceptions, **extra})
    dataset, _, _ = read_data_dir(EXAMPLE_DATA)
    assert dataset is not None
    policies, problems = build_policy_set([doc], Vocabulary.of(dataset))
    assert (policies is None) == bool(problems)


CLI_WORDS = st.one_of(st.text(max_size=30), st.sampled_from(
    ["aws", "claude-direct", "user", "user.health_and_medical", "support-reply-draft", "today", "today+99999d",
     "2026-02-30", "-1", "0", "999999999999", "--json", "csv", "json", "table", "../../etc/passwd", "", "\x00",
     "b2b", "base", "features"]))
COMMANDS = {
    "check": ["--feature", "--category", "--route", "--as-of"],
    "routes": ["--feature", "--category", "--as-of"],
    "flows": ["--feature", "--as-of"],
    "matrix": ["--as-of", "--format"],
    "alerts": ["--within", "--as-of"],
    "costs": ["--segment", "--scenario", "--format", "--table", "--as-of"],
    "validate": [],
    "test": [],
    "audit": [],
}


@SLOW
@given(command=st.sampled_from(sorted(COMMANDS)), data=st.data())
def test_any_cli_arguments_end_in_an_answer_or_a_clear_error(command: str, data: st.DataObject,
                                                             shared_store: Store, monkeypatch: pytest.MonkeyPatch,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", shared_store.settings.database_url)
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(EXAMPLE_DATA))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(PROJECT_ROOT / "policies"))
    args = [command]
    if command == "audit":
        args.append(data.draw(st.sampled_from(["verify", "export", "frobnicate"])))
    if command == "test":
        args.append(data.draw(CLI_WORDS))
    for option in COMMANDS[command]:
        if data.draw(st.booleans()):
            args += [option, data.draw(CLI_WORDS)]
    args += data.draw(st.lists(CLI_WORDS, max_size=2))
    before = snapshot(shared_store)
    try:
        code = main(args)
    except SystemExit as exc:  # argparse's usage error
        code = exc.code
    _out, err = capsys.readouterr()
    assert code in (0, 1, 2), (args, err)
    assert "Traceback" not in err and "internal error" not in err, (args, err)
    assert snapshot(shared_store) == before
