"""The TypeScript example client, built with tsc and run by Node.js against a real service."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from compliance.config import PROJECT_ROOT
from compliance.store import Store
from tests.service_helpers import copy_policies, running_service

EXAMPLE = PROJECT_ROOT / "examples" / "guard-ts"


def test_typescript_client_runs_against_the_service(tmp_path: Path, store: Store, backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the TypeScript client is the same on every database: run it once")
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.skip("node and npm are not installed (Debian: apt-get install nodejs npm): the TypeScript example "
                    "client is not tested")
    if not (EXAMPLE / "node_modules" / ".bin" / "tsc").exists():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXAMPLE, check=True, capture_output=True,
                       timeout=300)
    subprocess.run([str(EXAMPLE / "node_modules" / ".bin" / "tsc"), "-p", "."], cwd=EXAMPLE, check=True,
                   capture_output=True, timeout=300)
    with running_service(store, copy_policies(tmp_path)) as service:
        result = subprocess.run([node, "dist/example.js", service.url], cwd=EXAMPLE, capture_output=True, text=True,
                                timeout=60)
        head = service.live.current().store_head
    assert result.returncode == 0, result.stderr
    steps = {line["step"]: line for line in map(json.loads, result.stdout.splitlines())}
    assert steps["require"]["decision"] == "allow" and steps["require"]["store_head"] == head
    assert steps["denied"]["decision"] == "deny" and steps["denied"]["rules"]
    assert steps["batch"]["decisions"][0] == "allow"
    assert steps["unknown"] == {"step": "unknown", "status": 404, "closest": steps["unknown"]["closest"]}
    assert "claude-bedrock-eu" in steps["unknown"]["closest"]
