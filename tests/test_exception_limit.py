"""An exception cannot escape the 365-day limit by leaving out granted_on (issue 9, item 6).

Without granted_on the limit counts from the day the policy set is validated: an exception whose
expires_on is more than 365 days after that day is a problem with its file and line.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.config import PROJECT_ROOT
from compliance.policy.language import Vocabulary, build_policy_set
from compliance.yamlsource import parse_yaml
from tests.policy_helpers import small_store

TODAY = date(2026, 12, 1)
POLICY = """rules:
  - id: deny-it
    effect: deny
    reason: x
exceptions:
  - id: e1
    waives: deny-it
    feature: b2b-feature
    categories: [user]
    routes: [cloud-eu]
    approved_by: dpo@x
{granted}    expires_on: {expires}
"""


def problems(expires: date, granted: date | None = None) -> list[str]:
    text = POLICY.format(expires=expires.isoformat(),
                         granted=f"    granted_on: {granted.isoformat()}\n" if granted else "")
    doc, found = parse_yaml(text, "exc.yaml")
    assert doc is not None and not found
    _, found = build_policy_set([doc], Vocabulary.of(small_store()), today=TODAY)
    return [str(p) for p in found]


def test_exception_without_granted_on_expiring_in_2099_is_refused_with_file_and_line() -> None:
    found = problems(date(2099, 12, 31))
    assert len(found) == 1
    assert found[0].startswith("exc.yaml:12: e1.expires_on: has no granted_on")
    assert "365 days count from today (2026-12-01)" in found[0]


@pytest.mark.parametrize(("days", "ok"), [(365, True), (366, False), (0, True), (-30, True)])
def test_without_granted_on_the_limit_counts_from_the_validation_day(days: int, ok: bool) -> None:
    assert (problems(TODAY + timedelta(days=days)) == []) == ok


@pytest.mark.parametrize(("days", "ok"), [(365, True), (366, False)])
def test_with_granted_on_the_limit_counts_from_granted_on(days: int, ok: bool) -> None:
    granted = date(2026, 3, 1)
    assert (problems(granted + timedelta(days=days), granted) == []) == ok


def test_validate_refuses_an_endless_exception(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    policies = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", policies)
    path = policies / "40-allow.yaml"
    text = path.read_text()
    assert "    granted_on: 2026-10-01\n    expires_on: 2027-01-31\n" in text
    path.write_text(text.replace("    granted_on: 2026-10-01\n    expires_on: 2027-01-31\n",
                                 "    expires_on: 2099-12-31\n"))
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'x.db'}")
    assert main(["--data", str(data_dir), "--policies", str(policies), "validate"]) == 2
    err = capsys.readouterr().err
    assert "40-allow.yaml:" in err and "exc-2026-031.expires_on: has no granted_on" in err
