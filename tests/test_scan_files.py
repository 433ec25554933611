"""Which files a scan reads: virtual environments, VCS folders and .gitignore'd files are skipped."""

from __future__ import annotations

from pathlib import Path

from tests.scan_helpers import scan_code

CALL = """
from anthropic import Anthropic
def ask():
    return Anthropic().messages.create(model="claude-sonnet-4-5", messages=[])
"""


def test_skips_virtualenvs_vcs_node_modules_and_gitignored_files(tmp_path: Path) -> None:
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr\n")
    (tmp_path / ".gitignore").write_text("generated/\n*_local.py\n")
    report = scan_code(tmp_path, {
        "app.py": CALL, "venv/lib/site.py": CALL, ".git/hooks/x.py": CALL, "node_modules/pkg/x.py": CALL,
        "generated/client.py": CALL, "tools/try_local.py": CALL, "lib/site-packages/dep.py": CALL,
    })
    assert [f.file for f in report.findings] == ["app.py"]
    assert report.files == 1
