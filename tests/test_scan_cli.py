"""`scan` and `flows --scan` on the command line: exit codes, JSON as a baseline, SARIF, recording in the store."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from compliance.cli import main
from compliance.config import PROJECT_ROOT, Settings
from compliance.scan.record import last_scan
from compliance.store import Store
from compliance.store.audit import list_events
from tests.helpers import replace_in
from tests.scan_helpers import working_dir

SCHEMA = PROJECT_ROOT / "tests" / "fixtures" / "sarif-2.1.0-subset.schema.json"
UNDECLARED = """
    from anthropic import Anthropic
    def copy():  # compliance: feature=marketing-copy
        return Anthropic().messages.create(model="claude-sonnet-4-5", messages=[])
    """
DECLARED = """
    import boto3
    runtime = boto3.client("bedrock-runtime", region_name="us-east-1")
    def copy():  # compliance: feature=marketing-copy
        return runtime.converse(modelId="meta.llama3-3-70b-instruct-v1:0", messages=[])
    """


@pytest.fixture
def repo(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch repository root with its own store; the tests run from there, as CI does."""
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    root = tmp_path / "repo"
    (root / "src").mkdir(parents=True)
    monkeypatch.chdir(root)
    return root


def write(root: Path, name: str, code: str) -> None:
    (root / name).write_text(textwrap.dedent(code), encoding="utf-8")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_declared_calls_exit_0(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "src/copy.py", DECLARED)
    code, out, _ = run(capsys, "scan", "src")
    assert code == 0
    assert "DECLARED (1)" in out and "src/copy.py:5" in out


def test_undeclared_call_exits_1_and_is_listed_first(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "src/copy.py", DECLARED)
    write(repo, "src/direct.py", UNDECLARED)
    code, out, _ = run(capsys, "scan", "src")
    assert code == 1
    assert out.index("UNDECLARED (1)") < out.index("DECLARED (1)")
    assert "claude-direct" in out


def test_missing_path_or_bad_baseline_exits_2(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "scan", "nowhere")
    assert code == 2 and "nowhere" in err
    (repo / "baseline.json").write_text("{not json", encoding="utf-8")
    code, _, err = run(capsys, "scan", "src", "--baseline", "baseline.json")
    assert code == 2 and "baseline.json:1" in err
    code, _, err = run(capsys, "scan", "src", "--baseline", "absent.json")
    assert code == 2 and "absent.json" in err and "Traceback" not in err


def test_json_output_is_a_baseline_that_accepts_its_findings(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "src/direct.py", UNDECLARED)
    code, out, _ = run(capsys, "scan", "src", "--format", "json", "--out", "baseline.json")
    assert code == 1
    data = json.loads((repo / "baseline.json").read_text())
    assert data["summary"]["by_status"] == {"undeclared": 1}
    assert data["findings"][0]["region"] == {"value": "global", "how": "default"}
    code, out, _ = run(capsys, "scan", "src", "--baseline", "baseline.json", "--format", "json")
    assert code == 0
    assert [f["status"] for f in json.loads(out)["findings"]] == ["accepted"]


def test_a_new_call_fails_even_with_a_baseline(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "src/direct.py", UNDECLARED)
    run(capsys, "scan", "src", "--format", "json", "--out", "baseline.json")
    write(repo, "src/other.py", UNDECLARED.replace("def copy", "def more"))
    code, _, _ = run(capsys, "scan", "src", "--baseline", "baseline.json")
    assert code == 1


def test_sarif_is_valid_and_carries_fingerprints(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "src/direct.py", UNDECLARED)
    write(repo, "src/copy.py", DECLARED)
    write(repo, "src/broken.py", "def broken(:\n")
    code, out, _ = run(capsys, "scan", "src", "--format", "sarif")
    assert code == 1
    log = json.loads(out)
    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text())).validate(log)
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"llm-undeclared", "llm-unparsed"}  # declared calls are not results
    undeclared = next(r for r in results if r["ruleId"] == "llm-undeclared")
    assert undeclared["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "src/direct.py"
    assert undeclared["partialFingerprints"]["llmCallId/v1"].startswith("llm-")
    assert "marketing-copy" in undeclared["message"]["text"] and "claude-direct" in undeclared["message"]["text"]
    rules = log["runs"][0]["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules][undeclared["ruleIndex"]] == "llm-undeclared"


def test_sarif_schema_fixture_rejects_what_sarif_forbids() -> None:
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    assert not validator.is_valid({"version": "2.0.0", "runs": []})
    assert not validator.is_valid({"version": "2.1.0", "runs": [{"tool": {"driver": {}}}]})
    bad_line = {"version": "2.1.0", "runs": [{"tool": {"driver": {"name": "x"}}, "results": [
        {"message": {"text": "m"}, "locations": [{"physicalLocation": {"artifactLocation": {"uri": "a.py"},
                                                                        "region": {"startLine": 0}}}]}]}]}
    assert not validator.is_valid(bad_line)


def test_flows_with_scan_fails_naming_the_undeclared_call(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "src/direct.py", UNDECLARED)
    code, out, _ = run(capsys, "flows", "--feature", "marketing-copy", "--as-of", "2026-11-30", "--scan", "src")
    assert code == 1
    assert "declared vs actual" in out and "src/direct.py:4" in out and "claude-direct" in out
    code, out, _ = run(capsys, "flows", "--feature", "marketing-copy", "--as-of", "2026-11-30", "--scan", "src",
                       "--json")
    data = json.loads(out)
    assert data["compliant"] is False and data["scan"]["summary"]["by_status"] == {"undeclared": 1}


def test_record_keeps_the_findings_in_the_store_with_an_audit_event(
        repo: Path, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "src/direct.py", UNDECLARED)
    code, _, err = run(capsys, "scan", "src", "--record")
    assert code == 1 and "recorded as scan 1" in err
    store = Store.open(Settings(database_url=f"sqlite:///{tmp_path / 'cli.db'}", data_dir=data_dir,
                                policy_dir=PROJECT_ROOT / "policies"))
    with store.session() as session:
        recorded = last_scan(session)
        events = list_events(session)
    assert recorded is not None and recorded.paths == ["src"]
    assert [(f["file"], f["status"]) for f in recorded.findings] == [("src/direct.py", "undeclared")]
    assert events[0].entity == "scan" and events[0].changes["findings"]["new"] == 1
    store.dispose()


def test_code_patterns_attribute_files_from_the_features_yaml(
        repo: Path, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replace_in(data_dir / "features.yaml", "code: [examples/northwind-app/marketing/**]", "code: [src/marketing/**]")
    (repo / "src" / "marketing").mkdir()
    write(repo, "src/marketing/copy.py", DECLARED.replace("  # compliance: feature=marketing-copy", ""))
    code, out, _ = run(capsys, "scan", "src", "--format", "json")
    finding = json.loads(out)["findings"][0]
    assert (code, finding["feature"], finding["status"]) == (0, "marketing-copy", "declared")


def test_scan_paths_are_relative_to_the_working_directory(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write(repo, "src/direct.py", UNDECLARED)
    with working_dir(repo / "src"):
        _, out, _ = run(capsys, "scan", "--format", "json")
    assert json.loads(out)["findings"][0]["file"] == "direct.py"


def test_the_readme_walk_through_of_the_example_codebase_holds(tmp_path: Path, data_dir: Path,
                                                               monkeypatch: pytest.MonkeyPatch,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    """README, "A walk-through on the example codebase": each status it names, on the file it names."""
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'walk.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.chdir(PROJECT_ROOT)
    code, out, _ = run(capsys, "scan", "examples/northwind-app", "--format", "json")
    assert code == 1
    found = {(f["file"].removeprefix("examples/northwind-app/"), f["status"], f["route"])
             for f in json.loads(out)["findings"]}
    assert {("marketing/copy.py", "undeclared", "claude-direct"),
            ("notebooks/explore_search.ipynb", "undeclared", "gemini-api"),
            ("fraud/backfill.py", "unresolved", None), ("fraud/triage.py", "declared", "azure-openai-eu"),
            ("jobs/digest.py", "unattributed", "cohere-direct"), ("legacy/prompt_v1.py", "unparsed", None),
            ("shop/dating_match.py", "declared", "openai-direct"),
            ("support/drafts.py", "declared", "claude-bedrock-eu")} <= found
