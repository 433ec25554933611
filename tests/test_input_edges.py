"""Inputs at the edges (issue 9, items 7, 8 and Low): each is a problem with a location or a clear
error (exit 2), never an internal error, a hang, a silent change or a value PostgreSQL refuses."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import typing_extensions
from annotated_types import MaxLen

from compliance.access import Actor, Role
from compliance.api import Compliance
from compliance.cli import main
from compliance.config import PROJECT_ROOT, Settings
from compliance.policy.language import Vocabulary, build_policy_set
from compliance.policy.matrix import Matrix
from compliance.problems import ComplianceError, InvalidInput
from compliance.store import Store
from compliance.store import documents as d
from compliance.store import tables as t
from compliance.store.audit import latest_event_id, spreadsheet_safe
from compliance.store.edits import update_record
from compliance.store.validate import read_data_dir
from compliance.textout import printable
from compliance.yamlsource import YamlDocument, parse_yaml
from tests.conftest import EXAMPLE_DATA
from tests.helpers import line_of, replace_in

ADMIN = Actor("tester", Role.admin)


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def cli_env(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(policies))
    return data_dir


# --- 7: scalar tags and dates with a time ------------------------------------------------------------

@pytest.mark.parametrize("value", ["!!bool maybe", "!!timestamp soon", "!!int ''", "!!float x", "!!int 0x"])
def test_a_scalar_tag_that_cannot_be_read_is_a_problem_with_its_line(value: str) -> None:
    doc, problems = parse_yaml(f"providers:\n  - id: aws\n    name: {value}\n", "providers.yaml")
    assert doc is None
    assert [(p.file, p.line) for p in problems] == [("providers.yaml", 3)]
    assert "cannot be read" in problems[0].message


@pytest.mark.parametrize("value", ["!!bool maybe", "!!timestamp soon", "!!int ''"])
def test_validate_reports_a_bad_scalar_tag_in_a_data_file(cli_env: Path, value: str,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    line = line_of(cli_env / "routes.yaml", "zero_data_retention:")
    text = (cli_env / "routes.yaml").read_text().splitlines()
    text[line - 1] = text[line - 1].split(":")[0] + f": {value}"
    (cli_env / "routes.yaml").write_text("\n".join(text) + "\n")
    code, _, err = run(capsys, "validate")
    assert code == 2, err
    assert f"routes.yaml:{line}:" in err and "internal error" not in err


def test_a_policy_date_with_a_time_is_a_problem_with_its_line(cli_env: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    policy = Path(os.environ["COMPLIANCE_POLICY_DIR"]) / "40-allow.yaml"
    replace_in(policy, "expires_on: 2027-01-31", "expires_on: 2027-01-31 10:00:00")
    replace_in(policy, "granted_on: 2026-10-01", "granted_on: 2026-10-01 09:00:00")
    code, _, err = run(capsys, "validate")
    assert code == 2 and "internal error" not in err
    assert f"40-allow.yaml:{line_of(policy, 'expires_on: 2027-01-31')}:" in err
    assert f"40-allow.yaml:{line_of(policy, 'granted_on: 2026-10-01')}:" in err


def test_a_condition_date_with_a_time_is_a_problem(cli_env: Path) -> None:
    doc = YamlDocument("p.yaml", {"rules": [{"id": "r", "effect": "deny", "reason": "x", "when": [
        {"processor.dpa.expires_on": {"before": parse_yaml("d: 2026-10-01 10:00:00", "x")[0].data["d"]}}]}]})
    dataset, _, _ = read_data_dir(EXAMPLE_DATA)
    assert dataset is not None
    policies, problems = build_policy_set([doc], Vocabulary.of(dataset))
    assert policies is None and "without a time" in problems[0].message


@pytest.mark.parametrize("page", ["overview_page", "providers_page", "routes_page", "checker_page",
                                  "policies_page", "costs_page", "audit_page"])
def test_dashboard_pages_show_a_policy_date_with_a_time_as_a_problem(page: str, tmp_path: Path, data_dir: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    replace_in(policies / "40-allow.yaml", "expires_on: 2027-01-31", "expires_on: 2027-01-31 10:00:00")
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(policies))
    st.cache_resource.clear()
    st.cache_data.clear()
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(f"compliance/ui/{page}.py").run()
    st.cache_resource.clear()
    assert not at.exception, [e.value for e in at.exception]


# --- 8: what PostgreSQL refuses is refused by validation first ----------------------------------------

def _limit_in(metadata: Any) -> int | None:
    for meta in metadata:
        for inner in getattr(meta, "metadata", [meta]):
            if isinstance(inner, MaxLen):
                return inner.max_length
            if getattr(inner, "max_length", None):
                return int(inner.max_length)
    return None


def _string_limit(annotation: Any) -> int | None:
    found = _limit_in(getattr(annotation, "__metadata__", ()))
    if found:
        return found
    for arg in typing_extensions.get_args(annotation):
        found = _string_limit(arg)
        if found:
            return found
    return None


SCHEMA_TO_TABLE: list[tuple[type[Any], type[Any], dict[str, str]]] = [
    (d.Provider, t.ProviderRow, {}), (d.DpaAgreement, t.AgreementRow, {"version": "version_label"}),
    (d.BaaAgreement, t.AgreementRow, {"version": "version_label"}), (d.Certification, t.CertificationRow, {}),
    (d.Source, t.FactSourceRow, {}), (d.Subprocessors, t.ProviderRow, {"url": "subprocessors_url"}),
    (d.Route, t.RouteRow, {"model_provider": "model_provider_id", "processor": "processor_id"}),
    (d.Category, t.CategoryRow, {}), (d.Feature, t.FeatureRow, {}), (d.Flow, t.FlowRow, {"route": "route_id"}),
    (d.CostSegment, t.CostSegmentRow, {}), (d.PriceOverride, t.PriceOverrideRow, {}),
]


@pytest.mark.parametrize(("schema", "table", "renamed"), SCHEMA_TO_TABLE, ids=lambda x: getattr(x, "__name__", ""))
def test_every_text_limit_of_the_schema_fits_its_column(schema: type[Any], table: type[Any],
                                                         renamed: dict[str, str]) -> None:
    columns = table.__table__.columns  # type: ignore[attr-defined]
    checked = 0
    for name, info in schema.model_fields.items():
        column = columns.get(renamed.get(name, name))
        length = getattr(column.type, "length", None) if column is not None else None
        if length is None or column is None or isinstance(column.type, sa.Enum):
            continue
        limit = _limit_in(info.metadata) or _string_limit(info.annotation)
        assert limit is not None, f"{schema.__name__}.{name} has no length limit; its column holds {length}"
        assert limit <= length, f"{schema.__name__}.{name} allows {limit} characters; its column holds {length}"
        checked += 1
    assert checked


def _folder(tmp_path: Path, edit: Any) -> Path:
    folder = tmp_path / "edited"
    shutil.copytree(EXAMPLE_DATA, folder, ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    edit(folder / "providers.yaml")
    return folder


@pytest.mark.parametrize(("old", "new", "message"), [
    ("name: Amazon Web Services\n", 'name: "Amazon\\0Web Services"\n', "NUL"),
    ("- name: soc2_type2", "- name: " + "c" * 150, "at most 100"),
    ("name: Amazon Web Services\n", "name: " + "n" * 201 + "\n", "at most 200"),
])
def test_values_postgresql_cannot_store_are_problems_on_both_databases(store: Store, tmp_path: Path, old: str,
                                                                        new: str, message: str) -> None:
    folder = _folder(tmp_path, lambda p: replace_in(p, old, new))
    with pytest.raises(InvalidInput) as caught:
        store.load(folder, actor=ADMIN)
    assert message in str(caught.value)
    assert "providers.yaml:" in str(caught.value) and "SQL" not in str(caught.value)


def test_the_longest_allowed_values_load_on_both_databases(store: Store, tmp_path: Path) -> None:
    def edit(path: Path) -> None:
        replace_in(path, "- name: soc2_type2", "- name: " + "c" * 100)
        replace_in(path, "name: Amazon Web Services\n", "name: " + "n" * 200 + "\n")
    store.load(_folder(tmp_path, edit), actor=Actor("a" * 200, Role.admin), reason="r" * 2000)
    aws = next(p for p in store.read().providers if p.id == "aws")
    assert aws.name == "n" * 200 and aws.certifications[0].name == "c" * 100


@pytest.mark.parametrize(("actor", "reason", "message"), [
    ("a" * 201, None, "actor is 201 characters"), ("tester", "r" * 2001, "reason is 2,001 characters"),
    ("test\x00er", None, "NUL"), ("tester", "why\x00", "NUL")])
def test_an_actor_or_reason_the_audit_log_cannot_hold_is_refused(store: Store, actor: str, reason: str | None,
                                                                  message: str) -> None:
    with store.session() as session:
        before = latest_event_id(session)
    with pytest.raises(ComplianceError, match=message), store.session() as session:
        update_record(session, entity="provider", key="aws", changes={"owner": "someone-else"}, expected_version=1,
                      actor=Actor(actor, Role.admin), reason=reason)
    with pytest.raises(ComplianceError, match=message):
        store.load(EXAMPLE_DATA, actor=Actor(actor, Role.admin), reason=reason or "load")
    with store.session() as session:
        assert latest_event_id(session) == before


# --- Low ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [".nan", ".inf", "-.inf", ".NaN"])
def test_a_number_condition_must_be_finite(value: str) -> None:
    doc, _ = parse_yaml(f"rules:\n  - id: r\n    effect: deny\n    reason: x\n    when:\n"
                        f"      - route.retention_days: {{gte: {value}}}\n", "p.yaml")
    assert doc is not None
    dataset, _, _ = read_data_dir(EXAMPLE_DATA)
    assert dataset is not None
    policies, problems = build_policy_set([doc], Vocabulary.of(dataset))
    assert policies is None and problems[0].line == 6 and "finite" in problems[0].message


@pytest.fixture
def far_policies(tmp_path: Path) -> Path:
    """The baseline plus a rule with a relative date, evaluated near the end of the calendar."""
    policies = tmp_path / "far-policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    (policies / "50-relative.yaml").write_text(
        "rules:\n  - id: dpa-expiring-soon\n    effect: deny\n    reason: the DPA expires soon\n    when:\n"
        "      - processor.dpa.expires_on: {before: today+30d}\n")
    return policies


@pytest.mark.parametrize("command", [["check", "--feature", "support-reply-draft", "--category",
                                      "user.contact.email", "--route", "claude-bedrock-eu"],
                                     ["flows"], ["costs"], ["matrix"], ["alerts"],
                                     ["routes", "--feature", "support-reply-draft", "--category", "user"]])
@pytest.mark.parametrize("day", ["9999-12-31", "today+99999d"])
def test_dates_near_the_ends_of_the_calendar_are_a_clear_error(cli_env: Path, far_policies: Path, command: list[str],
                                                               day: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--policies", str(far_policies), *command, "--as-of", day)
    assert code == 2, err
    assert "outside the dates" in err and "internal error" not in err


def test_require_near_9999_raises_a_clear_error_not_overflow(tmp_path: Path, data_dir: Path,
                                                            far_policies: Path) -> None:
    c = Compliance.open(settings=Settings(database_url=f"sqlite:///{tmp_path / 'g.db'}", data_dir=data_dir,
                                          policy_dir=far_policies))
    with pytest.raises(ComplianceError, match="outside the dates"):
        c.require(feature="support-reply-draft", category="user.contact.email", route="claude-bedrock-eu",
                  as_of=date(9999, 12, 20))
    with pytest.raises(ComplianceError, match="outside the dates"):
        c.flows(as_of=date(9999, 12, 20))


def test_data_dates_near_9999_never_overflow(cli_env: Path, far_policies: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    replace_in(cli_env / "providers.yaml", "expires_on: 2027-06-30", "expires_on: 9999-12-31")
    text = (cli_env / "routes.yaml").read_text()
    (cli_env / "routes.yaml").write_text(text.replace("last_verified_on: 20", "last_verified_on: 9999-12-31 #"))
    for command in (["alerts", "--within", "36500"], ["flows"], ["costs"], ["matrix"]):
        code, _, err = run(capsys, "--policies", str(far_policies), *command)
        assert code in (0, 1), (command, err)


def test_matrix_names_the_deciding_rule_past_32767_rules() -> None:
    dataset = d.DataSet(
        providers=[d.Provider(id="p", name="P")],
        routes=[d.Route(id="r", name="R", model_provider="p", processor="p", service="s", residency="eu",
                        zero_data_retention=True, trains_on_inputs=False, status="approved")],
        categories=[d.Category(key="c", name="C", sensitivity="low")],
        features=[d.Feature(id="f", name="F", segment="b2b", human_review=True)])
    rules = [{"id": f"out-of-scope-{i}", "effect": "deny", "reason": "x", "match": {"features": ["g"]}}
             for i in range(33_000)]
    rules.append({"id": "the-last-one", "effect": "deny", "reason": "x"})
    vocabulary = Vocabulary.of(dataset)
    vocabulary.features.add("g")
    policies, problems = build_policy_set([YamlDocument("p.yaml", {"rules": rules})], vocabulary)
    assert policies is not None, problems[:3]
    from compliance.policy.decide import Decider

    result = Matrix(Decider(dataset, policies)).evaluate(date(2026, 12, 1))
    assert [row[4] for row in result.rows()] == ["the-last-one"]


def _read_both(data: Path, policies: Path) -> list[str]:
    """Read a data folder and a policy folder in a thread, failing (not hanging) if a read blocks."""
    from concurrent.futures import ThreadPoolExecutor

    from compliance.policy.language import read_policy_dir

    def read() -> list[str]:
        _, problems, _ = read_data_dir(data)
        _, policy_problems = read_policy_dir(policies, Vocabulary())
        return [str(p) for p in problems + policy_problems]

    pool = ThreadPoolExecutor(max_workers=1)
    try:
        return pool.submit(read).result(timeout=30)
    finally:
        pool.shutdown(wait=False)


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "loop", "folder"])
@pytest.mark.parametrize("where", ["data", "policies"])
def test_only_regular_files_are_read(kind: str, where: str, tmp_path: Path, data_dir: Path) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    target = (data_dir / "providers.yaml") if where == "data" else (policies / "10-routes.yaml")
    target.unlink()
    if kind == "fifo":
        os.mkfifo(target)
    elif kind == "dev-zero":
        target.symlink_to("/dev/zero")
    elif kind == "loop":
        target.symlink_to(target)
    else:
        target.mkdir()
    problems = [p for p in _read_both(data_dir, policies) if target.name in p]
    assert problems and ("not a regular file" in problems[0] or "cannot read" in problems[0]), problems


def test_validate_of_a_symlink_loop_is_exit_2(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (cli_env / "providers.yaml").unlink()
    (cli_env / "providers.yaml").symlink_to(cli_env / "providers.yaml")
    code, _, err = run(capsys, "validate")
    assert code == 2 and "providers.yaml" in err and "internal error" not in err


def test_a_file_over_the_size_limit_is_a_problem(tmp_path: Path) -> None:
    from compliance.yamlsource import MAX_BYTES, read_yaml

    big = tmp_path / "providers.yaml"
    with big.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    doc, problems = read_yaml(big, "providers.yaml")
    assert doc is None and "larger than" in problems[0].message


@pytest.mark.parametrize("out", ["missing/folder/m.csv", "/dev/full"])
def test_matrix_into_a_bad_path_is_exit_2(cli_env: Path, tmp_path: Path, out: str,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    if out == "/dev/full" and not Path(out).exists():
        pytest.skip("no /dev/full here")
    target = out if out.startswith("/") else str(tmp_path / out)
    code, _, err = run(capsys, "matrix", "--out", target)
    assert code == 2, err
    assert "cannot write" in err and "internal error" not in err


def test_export_onto_a_file_is_exit_2(cli_env: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init")[0] == 0
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    code, _, err = run(capsys, "export", str(blocker))
    assert code == 2, err
    assert "internal error" not in err and blocker.read_text() == "not a folder"


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "export"], ["check", "--feature", "f",
                                                                                "--category", "c", "--route", "r"]])
def test_a_db_that_is_not_a_database_is_exit_2(tmp_path: Path, command: list[str],
                                               capsys: pytest.CaptureFixture[str]) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("these are my notes, not a database\n" * 100)
    code, _, err = run(capsys, "--db", f"sqlite:///{text}", *command)
    assert code == 2, err
    assert "not a database" in err and "internal error" not in err
    assert text.read_text().startswith("these are my notes")


@pytest.mark.parametrize("command", [["audit", "verify"], ["audit", "export"], ["export", "out"]])
def test_read_only_commands_never_create_a_store(tmp_path: Path, command: list[str],
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    mistyped = tmp_path / "compliance-typo.db"
    code, out, err = run(capsys, "--db", f"sqlite:///{mistyped}", *command[:-1],
                         *([str(tmp_path / command[-1])] if command[0] == "export" else command[-1:]))
    assert code == 2, (out, err)
    assert "no store" in err and not mistyped.exists() and "intact" not in out
    empty = tmp_path / "empty.db"
    empty.touch()
    code, out, err = run(capsys, "--db", f"sqlite:///{empty}", *command[:-1],
                         *([str(tmp_path / command[-1])] if command[0] == "export" else command[-1:]))
    assert code == 2 and "no store" in err and empty.stat().st_size == 0


def test_read_only_commands_never_create_a_store_on_postgresql(databases: Any,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    url = databases.url("postgres")
    code, _, err = run(capsys, "--db", url, "audit", "verify")
    assert code == 2 and "no store" in err

    engine = sa.create_engine(url)
    with engine.connect() as connection:
        assert not sa.inspect(connection).get_table_names()
    engine.dispose()


@pytest.mark.parametrize("value", ["0", "20260101", "1.5", "true", "2026-01-01 10:00:00", "'2026'"])
def test_a_date_must_be_written_as_a_date(tmp_path: Path, value: str) -> None:
    folder = _folder(tmp_path, lambda p: replace_in(p, "signed_on: 2024-02-01", f"signed_on: {value}"))
    _, problems, _ = read_data_dir(folder)
    assert [p.field for p in problems] == ["providers[aws].dpa.signed_on"]
    assert "must be a date" in problems[0].message


@pytest.mark.parametrize("subprocessors", ['{url: ""}', "{}"])
def test_an_empty_subprocessors_entry_is_a_problem_not_dropped(tmp_path: Path, subprocessors: str) -> None:
    def edit(path: Path) -> None:
        text = path.read_text()
        start = text.index("    subprocessors:\n")
        end = text.index("\n", text.index("last_checked_on:", start)) + 1
        path.write_text(text[:start] + f"    subprocessors: {subprocessors}\n" + text[end:])
    _, problems, _ = read_data_dir(_folder(tmp_path, edit))
    assert problems and all(p.field.startswith("providers[aws].subprocessors") for p in problems), problems


def test_reloading_the_same_folder_writes_no_event(store: Store) -> None:
    with store.session() as session:
        before = latest_event_id(session)
    store.load(store.settings.data_dir, actor=ADMIN)
    store.load(store.settings.data_dir, actor=ADMIN)
    with store.session() as session:
        assert latest_event_id(session) == before


@pytest.mark.parametrize("cell", ["=HYPERLINK(\"http://x\")", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_escaped(cell: str) -> None:
    assert spreadsheet_safe(cell) == "'" + cell
    assert spreadsheet_safe("plain") == "plain" and spreadsheet_safe(5) == 5


def test_audit_export_csv_escapes_formulas(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "init")[0] == 0
    assert run(capsys, "--actor", "=cmd|' /C calc'!A0", "load", "--reason", "=HYPERLINK(\"http://evil\")")[0] == 0
    replace_in(cli_env / "providers.yaml", "owner: ", "owner: '@evil' #", count=1)
    assert run(capsys, "load", "--reason=-1+1")[0] == 0
    code, out, _ = run(capsys, "audit", "export", "--format", "csv")
    assert code == 0
    for line in out.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "-", "@")), line


class _Terminal:
    """A stand-in for a terminal: records what was written."""

    def __init__(self) -> None:
        self.written: list[str] = []

    def write(self, text: str) -> int:
        self.written.append(text)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True


def test_control_characters_in_names_never_reach_the_terminal(cli_env: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out, err = _Terminal(), _Terminal()
    monkeypatch.setattr(sys, "stdout", out)  # here, not in a fixture: pytest's capture resets them before the call
    monkeypatch.setattr(sys, "stderr", err)
    replace_in(cli_env / "providers.yaml", "name: Anthropic", 'name: "Anthropic\\e[2J\\e]0;pwned\\a\\x9b31m"')
    main(["check", "--feature", "support-reply-draft", "--category", "user.contact.email", "--route",
          "claude-direct"])
    main(["routes", "--feature", "support-reply-draft", "--category", "user.contact.email"])
    main(["alerts"])
    replace_in(cli_env / "routes.yaml", "id: claude-direct", 'id: "claude-direct\\e[31m"', count=1)
    main(["validate"])
    monkeypatch.undo()
    shown = "".join(out.written) + "".join(err.written)
    assert "Anthropic" in shown and "claude-direct" in "".join(err.written)
    assert not any(ch in shown for ch in "\x1b\x07\x9b")


def test_printable_keeps_newlines_tabs_and_text() -> None:
    assert printable("a\tb\nc é 🙂\r\n") == "a\tb\nc é 🙂\r\n"
    assert printable("\x1b[31mred\x00\r") == "\\u001b[31mred\\u0000\\u000d"


def test_a_category_listed_twice_in_a_flow_is_a_problem_not_a_database_error(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "dup"
    shutil.copytree(EXAMPLE_DATA, folder, ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    text = (folder / "features.yaml").read_text()
    start = text.index("categories: [") + len("categories: [")
    first = text[start:text.index(",", start)].strip().rstrip("]")
    (folder / "features.yaml").write_text(text[:start] + f"{first}, " + text[start:])
    with pytest.raises(InvalidInput, match="listed twice"):
        store.load(folder, actor=ADMIN)
