"""The README's examples run: every `python -m compliance ...` line of its shell blocks, in order,
against a private copy of the example data, and its Python block, so the examples cannot rot.

A command may answer allow/deny (exit 0 or 1, as the README says for the gates); an invalid-input
exit (2), a crash or a traceback fails the test. Placeholders (`...`) are not allowed in commands:
an example a reader cannot paste is a broken example. `serve` runs until stopped, so it is not in
that sequence: a test of its own starts it as the README does and pastes the curl walk-through.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.policy.decide import Decision
from tests.service_helpers import free_port

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"```(bash|sh|python)\n(.*?)```", re.S)
COMMAND = re.compile(r"python -m compliance\b([^)|>#]*)")
LONG_RUNNING = {"serve"}


def blocks(kind: set[str]) -> list[str]:
    return [body for lang, body in BLOCK.findall(README.read_text(encoding="utf-8")) if lang in kind]


def readme_commands() -> list[list[str]]:
    """Each CLI example as argv, in the README's order (continued lines joined, comments and shell
    redirections cut off)."""
    found = []
    for body in blocks({"bash", "sh"}):
        for line in body.replace("\\\n", " ").splitlines():
            match = COMMAND.search(line)
            if match:
                argv = [expanded for arg in shlex.split(match.group(1)) for expanded in _glob(arg)]
                if argv and argv[0] not in LONG_RUNNING:
                    found.append(argv)
    return found


def _glob(arg: str) -> list[str]:
    """A shell pattern as the shell expands it (in the project folder), or the argument itself."""
    if "*" not in arg:
        return [arg]
    return sorted(str(p.relative_to(ROOT)) for p in ROOT.glob(arg)) or [arg]


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The data, policies and examples the README names, in a folder of their own, with its own store."""
    for name in ("data", "policies", "examples", "tests/fixtures"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("*.db", "*.db-*", "node_modules", "dist", ".compliance-cache"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'readme.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(tmp_path / "policies"))
    monkeypatch.setenv("COMPLIANCE_SERVICE_TOKENS", str(tmp_path / "service-tokens.yaml"))
    return tmp_path


def test_the_readme_has_examples_to_run() -> None:
    commands = readme_commands()
    assert len(commands) >= 25
    assert commands[0] == ["init"]  # the walk-through starts from nothing
    assert not [c for c in commands if "..." in c], "a README command holds a placeholder"


def test_every_readme_command_runs(project_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    outcomes = []
    for argv in readme_commands():
        code = main(argv)
        out, err = capsys.readouterr()
        outcomes.append((" ".join(argv), code, err.strip().splitlines()[-1:] if err.strip() else []))
        assert "Traceback" not in out + err, argv
    failed = [o for o in outcomes if o[1] not in (0, 1)]
    assert not failed, failed
    assert (project_copy / "matrix.csv").read_text(encoding="utf-8").startswith("as_of,feature,category,route,")
    assert (project_copy / "backup" / "providers.yaml").is_file()


def test_the_readme_python_example_runs(project_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init"]) == 0
    (python,) = blocks({"python"})
    namespace: dict[str, object] = {}
    exec(compile(python, "README.md", "exec"), namespace)  # the README's own example
    decision = namespace["d"]
    assert isinstance(decision, Decision) and decision.allowed and decision.rules
    assert namespace.get("refused_by"), "the example's require() is refused, with its rules"


def curl_walkthrough() -> list[str]:
    """The README's curl commands (continued lines joined), in order."""
    (body,) = [b for b in blocks({"sh", "bash"}) if "curl " in b]
    return [line.strip() for line in body.replace("\\\n", " ").splitlines() if line.strip().startswith("curl ")]


def test_the_readme_curl_walkthrough_runs_against_serve(project_copy: Path) -> None:
    """`serve` as the README starts it (a real process), then every curl line of the walk-through,
    pasted as written but for the port; each answer is JSON of the kind its comment promises."""
    assert main(["init"]) == 0
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the project's package, run from the copy's folder
    server = subprocess.Popen([sys.executable, "-m", "compliance", "serve", "--port", str(port)], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{base}/v1/health", timeout=2):
                    break
            except OSError:
                assert server.poll() is None, server.stdout.read() if server.stdout else ""
                time.sleep(0.2)
        answers = []
        for line in curl_walkthrough():
            pasted = line.replace("http://127.0.0.1:8700", base)
            done = subprocess.run(["bash", "-c", pasted + " -w '\\n%{http_code}'"], capture_output=True, text=True,
                                  timeout=60, check=False)
            assert done.returncode == 0, (line, done.stderr)
            body, status = done.stdout.rsplit("\n", 1)
            answers.append((int(status), json.loads(body)))
    finally:
        server.terminate()
        server.wait(timeout=30)
    (s1, one), (s2, batch), (s3, flow), (s4, routes), (s5, health), (s6, typo) = answers
    assert s1 == 200 and one["decision"] in ("allow", "deny") and one["policy_digest"] and one["store_head"]
    assert s2 == 200 and [d["feature"] for d in batch["decisions"]] == ["clinic-notes-summary"]
    assert s3 == 200 and len(flow["decisions"]) == 2
    assert s4 == 200 and routes["routes"] and routes["routes"][0]["allowed"]
    assert s5 == 200 and health["status"] == "ok"
    assert s6 == 404 and "claude-bedrock-eu" in json.dumps(typo)
