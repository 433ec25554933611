"""`load` cannot silently empty the store; `export` never leaves a partial folder (issue 9, item 2)."""

from __future__ import annotations

import errno
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.config import load_settings
from compliance.problems import ComplianceError
from compliance.store import Store
from compliance.store import documents as d
from compliance.store.export import write_dataset
from compliance.store.validate import read_data_dir
from tests.helpers import replace_in

MINIMAL_POLICY = """policy: minimal
rules:
  - id: deny-everything
    effect: deny
    reason: "nothing is allowed"
"""


@pytest.fixture
def cli_store(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The CLI's store, filled with the example data."""
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    store = Store.open(load_settings())
    yield store
    store.dispose()


def _folder(tmp_path: Path, data_dir: Path, keep: tuple[str, ...]) -> Path:
    folder = tmp_path / "partial"
    folder.mkdir()
    for name in keep:
        shutil.copy(data_dir / name, folder / name)
    return folder


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_load_of_a_folder_with_only_costs_is_refused_and_names_the_missing_files(
        cli_store: Store, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    before = cli_store.read()
    code, _, err = _run(capsys, "load", str(_folder(tmp_path, data_dir, ("costs.yaml",))))
    assert code == 2
    for name in ("providers", "routes", "categories", "features"):
        assert f"partial/{name}.yaml: file is missing" in err and f"--allow-empty {name}" in err
    assert cli_store.read() == before


def test_load_of_a_folder_of_empty_files_is_refused(cli_store: Store, data_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    before = cli_store.read()
    folder = tmp_path / "empty"
    folder.mkdir()
    for name in ("providers.yaml", "routes.yaml", "categories.yaml", "features.yaml", "costs.yaml"):
        (folder / name).write_text("# nothing here\n" if name != "routes.yaml" else "routes: []\n")
    code, _, err = _run(capsys, "load", str(folder))
    assert code == 2
    assert "empty/providers.yaml:1: providers: file has no records" in err
    assert "empty/routes.yaml:1: routes: file has no records" in err
    assert cli_store.read() == before


def test_load_is_refused_when_the_policies_do_not_fit_the_new_data(
        cli_store: Store, data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    replace_in(data_dir / "routes.yaml", "  - id: claude-vertex-eu\n", "  - id: claude-vertex-europe\n")
    replace_in(data_dir / "features.yaml", "route: claude-vertex-eu", "route: claude-vertex-europe")
    assert read_data_dir(data_dir)[1] == []  # the data alone is valid
    before = cli_store.read()
    code, _, err = _run(capsys, "load")
    assert code == 2 and "unknown route 'claude-vertex-eu'" in err and "policies/" in err
    assert cli_store.read() == before
    assert _run(capsys, "validate")[0] == 2  # load and validate agree


def test_allow_empty_lets_a_kind_be_emptied_on_purpose(cli_store: Store, data_dir: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    (data_dir / "costs.yaml").unlink()
    assert _run(capsys, "load")[0] == 2
    code, out, _ = _run(capsys, "load", "--allow-empty", "costs")
    assert code == 0 and "deleted" in out
    assert cli_store.read().costs.segments == []


def test_dry_run_prints_the_changes_and_changes_nothing(cli_store: Store, data_dir: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    replace_in(data_dir / "providers.yaml", "expires_on: 2026-10-31", "expires_on: 2027-10-31")
    (data_dir / "costs.yaml").write_text("segments: {}\n")
    before = cli_store.read()
    code, out, _ = _run(capsys, "load", "--dry-run", "--allow-empty", "costs")
    assert code == 0
    assert "provider: 0 added, 1 changed, 0 deleted" in out
    assert f"segment: 0 added, 0 changed, {len(before.costs.segments)} deleted" in out
    assert cli_store.read() == before


@pytest.fixture
def small_folder(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Minimal policies, and a folder that keeps one provider and nothing else."""
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "minimal.yaml").write_text(MINIMAL_POLICY)
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(policies))
    folder = tmp_path / "small"
    folder.mkdir()
    (folder / "providers.yaml").write_text("providers:\n  - id: aws\n    name: Amazon Web Services\n")
    return folder


SMALL_ARGS = ("--allow-empty", "routes", "--allow-empty", "categories", "--allow-empty", "features",
              "--allow-empty", "costs")


def test_load_deleting_more_than_it_keeps_needs_yes_without_a_terminal(
        cli_store: Store, small_folder: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    before = cli_store.read()
    code, _, err = _run(capsys, "load", str(small_folder), *SMALL_ARGS)
    assert code == 2 and "--yes" in err and "nothing was changed" in err
    assert cli_store.read() == before
    code, _, _ = _run(capsys, "load", str(small_folder), *SMALL_ARGS, "--yes")
    assert code == 0
    assert [p.id for p in cli_store.read().providers] == ["aws"]


@pytest.mark.parametrize(("answer", "code"), [("n", 2), ("", 2), ("y", 0)])
def test_load_deleting_more_than_it_keeps_asks_on_a_terminal(
        cli_store: Store, small_folder: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, answer: str, code: int) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    prompts: list[str] = []
    monkeypatch.setattr("builtins.input", lambda prompt: prompts.append(prompt) or answer)
    before = cli_store.read()
    assert _run(capsys, "load", str(small_folder), *SMALL_ARGS)[0] == code
    assert len(prompts) == 1 and "keeps 1" in prompts[0]
    assert (cli_store.read() == before) == (code != 0)


def test_load_that_keeps_most_records_does_not_ask(cli_store: Store, data_dir: Path,
                                                   capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    replace_in(data_dir / "providers.yaml", "expires_on: 2026-10-31", "expires_on: 2027-10-31")
    assert _run(capsys, "load")[0] == 0


def _failing_third_write(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}
    real = Path.write_text

    def write_text(self: Path, *args: object, **kwargs: object) -> int:
        calls["n"] += 1
        if calls["n"] == 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Path, "write_text", write_text)


def test_failed_export_to_a_new_folder_leaves_no_folder(cli_store: Store, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = cli_store.read()
    target = tmp_path / "out" / "export"
    _failing_third_write(monkeypatch)
    with pytest.raises(ComplianceError, match="No space left on device"):
        write_dataset(dataset, target)
    assert not target.exists()
    assert list((tmp_path / "out").iterdir()) == []  # no temporary folder left behind


def test_failed_export_over_an_old_export_keeps_the_old_files(cli_store: Store, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = cli_store.read()
    target = tmp_path / "export"
    write_dataset(dataset, target)
    old = {p.name: p.read_text() for p in target.iterdir()}
    changed = dataset.model_copy(update={"providers": [*dataset.providers, d.Provider(id="newco", name="NewCo")]})
    _failing_third_write(monkeypatch)
    with pytest.raises(ComplianceError):
        write_dataset(changed, target)
    assert {p.name: p.read_text() for p in target.iterdir()} == old
    assert [p for p in tmp_path.iterdir() if ".export-" in p.name] == []  # no temporary folder left behind


def test_export_cli_failure_is_a_message_not_a_traceback(cli_store: Store, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    _failing_third_write(monkeypatch)
    code, _, err = _run(capsys, "export", str(tmp_path / "exp"))
    assert code == 2 and "No space left on device" in err and "Traceback" not in err
    assert not (tmp_path / "exp").exists()


def test_load_without_subprocessors_warns_that_the_notice_rule_denies_customer_data(
        cli_store: Store, data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = _folder(tmp_path, data_dir, ("providers.yaml", "routes.yaml", "categories.yaml", "features.yaml",
                                          "costs.yaml", "evals.yaml"))
    code, _, err = _run(capsys, "load", str(folder), "--yes")
    assert code == 0
    assert "subprocessors.yaml is missing" in err and "customer-data-needs-subprocessor-notice" in err
    assert cli_store.read().notice is None  # the load still happened: a warning, not a refusal


def test_load_with_subprocessors_does_not_warn(cli_store: Store, data_dir: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = _run(capsys, "load", str(data_dir), "--yes")
    assert code == 0 and "warning" not in err
