"""A real uvicorn server on a free loopback port, started and stopped by a test, and a tiny HTTP client."""

from __future__ import annotations

import json
import shutil
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI

from compliance.config import PROJECT_ROOT, Settings
from compliance.live import LiveState, load_state
from compliance.service.app import create_app
from compliance.service.decisionlog import DecisionLog
from compliance.service.tokens import Tokens
from compliance.store import Store


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    url: str
    live: LiveState
    store: Store
    policy_dir: Path

    def call(self, method: str, path: str, body: Any = None, token: str | None = None) -> tuple[int, Any]:
        data = json.dumps(body).encode() if body is not None else None
        headers = {"Content-Type": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")

    def post(self, path: str, body: Any, token: str | None = None) -> tuple[int, Any]:
        return self.call("POST", path, body, token)

    def get(self, path: str, token: str | None = None) -> tuple[int, Any]:
        return self.call("GET", path, None, token)


@contextmanager
def uvicorn_server(app: FastAPI) -> Iterator[str]:
    """Serve `app` with uvicorn on 127.0.0.1:<free port> in a thread; stop it afterwards."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False,
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def copy_policies(tmp_path: Path) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(PROJECT_ROOT / "policies", target, ignore=shutil.ignore_patterns("tests"))
    return target


@contextmanager
def running_service(store: Store, policy_dir: Path, *, max_staleness: float = 5.0, tokens: Tokens | None = None,
                    decision_log: bool = False, background: bool = True) -> Iterator[Running]:
    state = load_state(store, policy_dir)
    live = LiveState(state, store=store, policy_dir=policy_dir, max_staleness=max_staleness)
    log = DecisionLog(store, flush_every=0.05) if decision_log else None
    app = create_app(live, tokens=tokens, decision_log=log, background=background)
    with uvicorn_server(app) as url:
        yield Running(url, live, store, policy_dir)


def settings_for(store: Store, policy_dir: Path) -> Settings:
    return Settings(database_url=store.settings.database_url, data_dir=store.settings.data_dir, policy_dir=policy_dir)
