"""The command line: exit codes, messages, and never a traceback on bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.config import PROJECT_ROOT
from tests.helpers import replace_in


@pytest.fixture
def cli_env(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    return data_dir


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_init_then_alerts_shows_expiring_and_expired_agreements(
    cli_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "init")
    assert code == 0 and "loaded" in out
    code, out, _ = run(capsys, "alerts", "--as-of", "2026-11-30")
    assert code == 0
    assert "DPA with Anthropic is marked expired (ended on 2026-10-31)" in out
    assert "DPA with Google Cloud expires on 2027-01-15 (in 46 days)" in out
    assert "facts of route llama-bedrock-us last verified on 2026-04-02" in out


def test_init_twice_loads_nothing_the_second_time(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run(capsys, "init")
    code, out, _ = run(capsys, "init")
    assert code == 0 and "already holds data" in out


def test_alerts_json_is_machine_readable(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "alerts", "--as-of", "2026-11-30", "--within", "10", "--json")
    data = json.loads(out)
    assert code == 0 and data["within_days"] == 10
    kinds = {(a["kind"], a["subject"], a["severity"]) for a in data["alerts"]}
    assert ("dpa", "anthropic", "expired") in kinds
    assert ("dpa", "google", "expiring") not in kinds  # 46 days away, outside 10


def test_load_of_folder_with_mistakes_lists_them_and_exits_2(
    cli_env: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    run(capsys, "init")
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("providers.yaml", "routes.yaml", "categories.yaml", "features.yaml", "costs.yaml"):
        (bad / name).write_text((cli_env / name).read_text())
    replace_in(bad / "routes.yaml", "    processor: northwind", "    processor: nobody")
    replace_in(bad / "features.yaml", "categories: [org.public]", "categories: [org.publik]")
    code, _, err = run(capsys, "load", str(bad))
    assert code == 2
    assert "2 problems found; nothing was changed" in err
    assert "routes.yaml:" in err and "features.yaml:" in err


def test_validate_reports_valid_data(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate")
    assert code == 0 and "valid" in out


def test_bad_date_is_a_clear_error(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "alerts", "--as-of", "next week")
    assert code == 2 and "is not a date" in err


def test_unreachable_database_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", "postgresql+psycopg://nobody@127.0.0.1:1/none", "alerts")
    assert code == 2 and "cannot open the store" in err


def test_invalid_database_url_is_a_clear_error(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", "not a url", "alerts")
    assert code == 2 and "not valid" in err


def test_unknown_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["frobnicate"])
    assert caught.value.code == 2


def test_module_entry_point_runs_without_traceback(tmp_path: Path, data_dir: Path) -> None:
    env = {**os.environ, "COMPLIANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'm.db'}",
           "COMPLIANCE_DATA_DIR": str(data_dir)}
    done = subprocess.run([sys.executable, "-m", "compliance", "load", str(tmp_path / "missing")],
                          capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=60)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "not a directory" in done.stderr


def test_a_decision_from_the_command_line_does_not_load_pandas(tmp_path: Path, data_dir: Path) -> None:
    """pandas is imported where a cost or attention frame is built, so `check` (a CI gate's command, run per
    question) starts without its import time (about 0.2 s)."""
    env = {**os.environ, "COMPLIANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'p.db'}",
           "COMPLIANCE_DATA_DIR": str(data_dir)}
    script = ("import sys\nfrom compliance.cli import main\n"
              "code = main(['check', '--feature', 'clinic-notes-summary', '--category', 'user.health_and_medical',"
              " '--route', 'openai-direct', '--as-of', '2026-11-30'])\n"
              "print(code, 'pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=PROJECT_ROOT, env=env,
                          timeout=120)
    assert "Traceback" not in done.stderr
    assert done.stdout.splitlines()[-1] == "1 False"  # denied (no BAA with OpenAI), and pandas never imported


def test_check_names_every_unknown_id_with_its_closest(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", "--feature", "support-reply-draf", "--category", "user.contact.emal",
                       "--route", "claude-bedrock-ue")
    assert code == 2 and "Traceback" not in err
    assert "unknown feature 'support-reply-draf' (closest: support-reply-draft)" in err
    assert "unknown category 'user.contact.emal' (closest: user.contact.email" in err
    assert "unknown route 'claude-bedrock-ue' (closest: claude-bedrock-eu" in err
