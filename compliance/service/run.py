"""`python -m compliance serve`: configuration, the start-up message, and uvicorn.

Several workers each hold their own state and check for changes on their own; the
configuration reaches them through the environment (the same variables as the CLI).
"""

from __future__ import annotations

import ipaddress
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from compliance.config import Settings, load_settings
from compliance.live import LiveState, load_state, max_staleness_setting
from compliance.problems import ComplianceError
from compliance.service.app import create_app
from compliance.service.decisionlog import DecisionLog
from compliance.service.tokens import Tokens, load_tokens, tokens_file
from compliance.store import Store


class ServeRefused(ComplianceError):
    """The service would not be safe to start as asked."""


@dataclass(frozen=True)
class ServiceConfig:
    settings: Settings
    max_staleness: float
    tokens_path: Path
    decision_log: bool = False

    def to_env(self) -> dict[str, str]:
        return {"COMPLIANCE_DATABASE_URL": self.settings.database_url,
                "COMPLIANCE_DATA_DIR": str(self.settings.data_dir),
                "COMPLIANCE_POLICY_DIR": str(self.settings.policy_dir),
                "COMPLIANCE_MAX_STALENESS": str(self.max_staleness),
                "COMPLIANCE_SERVICE_TOKENS": str(self.tokens_path),
                "COMPLIANCE_DECISION_LOG": "1" if self.decision_log else ""}

    @classmethod
    def from_env(cls) -> ServiceConfig:
        return cls(load_settings(), max_staleness_setting(), tokens_file(),
                   bool(os.environ.get("COMPLIANCE_DECISION_LOG")))


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def build_app(config: ServiceConfig) -> FastAPI:
    store = Store.open(config.settings)
    state = load_state(store, config.settings.policy_dir, config.settings.freshness_days)
    live = LiveState(state, store=store, policy_dir=config.settings.policy_dir, max_staleness=config.max_staleness,
                     freshness_days=config.settings.freshness_days)
    tokens = load_tokens(config.tokens_path)
    return create_app(live, tokens=tokens, decision_log=DecisionLog(store) if config.decision_log else None)


def app_from_env() -> FastAPI:
    """The uvicorn factory for worker processes."""
    return build_app(ServiceConfig.from_env())


def access_notice(tokens: Tokens | None, host: str, tokens_path: Path) -> str:
    if tokens is None:
        if not is_loopback(host):
            raise ServeRefused(f"no tokens are configured ({tokens_path} does not exist), so the service listens on "
                               f"loopback only; add clients with `python -m compliance service-token NAME --role "
                               f"service` to listen on {host}")
        return (f"no tokens configured ({tokens_path} does not exist): listening on loopback only, and every local "
                "caller may decide and read routes and flows")
    return f"{len(tokens.clients)} client token(s) from {tokens_path}: callers must present a bearer token"


def serve(config: ServiceConfig, *, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    tokens = load_tokens(config.tokens_path)  # refuse a bad tokens file before binding anything
    notice = access_notice(tokens, host, config.tokens_path)
    app = build_app(config) if workers == 1 else None  # validates store and policies before listening
    if app is None:
        build_app_check(config)
    print(f"compliance decision service on http://{host}:{port} ({workers} worker(s)); freshness bound "
          f"{config.max_staleness:g} s; decision log {'on' if config.decision_log else 'off'}", file=sys.stderr)
    print(notice, file=sys.stderr)
    options = {"host": host, "port": port, "access_log": False, "log_level": "warning", "http": "httptools",
               "loop": "uvloop", "timeout_keep_alive": 30}
    if app is not None:
        uvicorn.run(app, **options)  # type: ignore[arg-type]
        return
    os.environ.update(config.to_env())
    uvicorn.run("compliance.service.run:app_from_env", factory=True, workers=workers, **options)  # type: ignore[arg-type]


def build_app_check(config: ServiceConfig) -> None:
    """Open the store and compile the policies once, so a problem is reported before workers start."""
    store = Store.open(config.settings)
    try:
        load_state(store, config.settings.policy_dir, config.settings.freshness_days)
    finally:
        store.dispose()
