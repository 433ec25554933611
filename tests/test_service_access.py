"""Access to the service: hashed bearer tokens per client with a role; loopback only without tokens."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from compliance.config import PROJECT_ROOT, Settings
from compliance.problems import InvalidInput
from compliance.service.run import ServeRefused, access_notice, is_loopback
from compliance.service.tokens import ServiceRole, add_client, load_tokens, token_hash
from compliance.store import Store
from tests.helpers import replace_in
from tests.service_helpers import Running, copy_policies, free_port, running_service

EMAIL = {"feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu"}
ROUTES = "/v1/routes?feature=support-reply-draft&category=user.contact.email"
FLOW = {"feature": EMAIL["feature"], "route": EMAIL["route"], "categories": [EMAIL["category"]]}


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Running, dict[str, str], Path]]:
    tmp = tmp_path_factory.mktemp("secured")
    shutil.copytree(PROJECT_ROOT / "data", tmp / "data", ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    policies = copy_policies(tmp)
    store = Store.open(Settings(database_url=f"sqlite:///{tmp / 'store.db'}", data_dir=tmp / "data",
                                policy_dir=policies))
    path = tmp / "tokens.yaml"
    tokens = {"checkout": add_client(path, "checkout", ServiceRole.service),
              "dashboard": add_client(path, "dashboard", ServiceRole.viewer)}
    with running_service(store, policies, tokens=load_tokens(path)) as running:
        yield running, tokens, path
    store.dispose()


def test_tokens_are_stored_only_as_hashes(secured: tuple[Running, dict[str, str], Path]) -> None:
    _, tokens, path = secured
    text = path.read_text(encoding="utf-8")
    for token in tokens.values():
        assert token not in text
        assert token_hash(token) in text


@pytest.mark.parametrize("path", ["/v1/decide", "/v1/decide/batch", "/v1/flows/check", ROUTES, "/v1/health"])
def test_no_token_is_401(secured: tuple[Running, dict[str, str], Path], path: str) -> None:
    service, _, _ = secured
    body = {"/v1/decide": EMAIL, "/v1/decide/batch": {"requests": [EMAIL]}, "/v1/flows/check": FLOW}.get(path)
    status, answer = service.call("POST" if body else "GET", path, body)
    assert status == 401 and answer["error"] == "unauthorized"


def test_a_wrong_token_is_401(secured: tuple[Running, dict[str, str], Path]) -> None:
    service, tokens, _ = secured
    assert service.post("/v1/decide", EMAIL, token=tokens["checkout"] + "x")[0] == 401
    assert service.post("/v1/decide", EMAIL, token=token_hash(tokens["checkout"]))[0] == 401  # the hash is no token


def test_service_role_may_decide_but_not_read_routes_or_flows(secured: tuple[Running, dict[str, str], Path]) -> None:
    service, tokens, _ = secured
    token = tokens["checkout"]
    assert service.post("/v1/decide", EMAIL, token=token)[0] == 200
    assert service.post("/v1/decide/batch", {"requests": [EMAIL]}, token=token)[0] == 200
    assert service.get("/v1/health", token=token)[0] == 200
    status, answer = service.get(ROUTES, token=token)
    assert status == 403 and "viewer" in answer["message"]
    assert service.post("/v1/flows/check", FLOW, token=token)[0] == 403


def test_viewer_role_may_also_read_routes_and_flows(secured: tuple[Running, dict[str, str], Path]) -> None:
    service, tokens, _ = secured
    token = tokens["dashboard"]
    assert service.post("/v1/decide", EMAIL, token=token)[0] == 200
    assert service.get(ROUTES, token=token)[0] == 200
    assert service.post("/v1/flows/check", FLOW, token=token)[0] == 200


def test_without_tokens_only_loopback_is_allowed(tmp_path: Path) -> None:
    assert "loopback only" in access_notice(None, "127.0.0.1", tmp_path / "none.yaml")
    with pytest.raises(ServeRefused, match="loopback only"):
        access_notice(None, "0.0.0.0", tmp_path / "none.yaml")
    assert is_loopback("::1") and is_loopback("localhost") and not is_loopback("10.0.0.1")


def test_a_bad_tokens_file_names_file_line_and_field(tmp_path: Path) -> None:
    path = tmp_path / "tokens.yaml"
    add_client(path, "checkout", ServiceRole.service)
    replace_in(path, "role: service", "role: admin")
    with pytest.raises(InvalidInput) as caught:
        load_tokens(path)
    assert "clients.checkout.role" in str(caught.value) and "tokens.yaml:" in str(caught.value)


def test_serve_says_it_listens_on_loopback_only_and_answers(tmp_path: Path) -> None:
    import time
    import urllib.request

    port = free_port()
    env = {"COMPLIANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "PATH": "/usr/bin:/bin",
           "COMPLIANCE_SERVICE_TOKENS": str(tmp_path / "no-tokens.yaml")}
    process = subprocess.Popen([sys.executable, "-m", "compliance", "serve", "--port", str(port)], cwd=PROJECT_ROOT,
                               env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/v1/health", timeout=2) as response:
                    assert response.status == 200
                    break
            except OSError:
                assert process.poll() is None and time.monotonic() < deadline, "serve did not start"
                time.sleep(0.2)
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "listening on loopback only" in err
    assert "Traceback" not in err


def test_serve_refuses_a_public_address_without_tokens(tmp_path: Path) -> None:
    env = {"COMPLIANCE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.db'}", "PATH": "/usr/bin:/bin",
           "COMPLIANCE_SERVICE_TOKENS": str(tmp_path / "no-tokens.yaml")}
    result = subprocess.run([sys.executable, "-m", "compliance", "serve", "--host", "0.0.0.0"], cwd=PROJECT_ROOT,
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "loopback only" in result.stderr and "Traceback" not in result.stderr
