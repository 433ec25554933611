"""Who may ask the service: bearer tokens per client, each with a role, stored only as hashes.

The tokens file (`--tokens FILE`, env COMPLIANCE_SERVICE_TOKENS, default service-tokens.yaml):

    clients:
      checkout-api: {role: service, token_sha256: 5e88...}
      compliance-dashboard: {role: viewer, token_sha256: 9f86...}

A token is 32 random bytes, so one SHA-256 is enough to store it (no password stretching is
needed for a secret nobody chose); a presented token is hashed and compared with every
client's hash in constant time. `service` may decide; `viewer` may also read routes and flows.
"""

from __future__ import annotations

import enum
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

import yaml

from compliance.config import PROJECT_ROOT
from compliance.problems import InvalidInput, Problem
from compliance.yamlsource import read_yaml

_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class ServiceRole(str, enum.Enum):
    service = "service"  # may decide
    viewer = "viewer"  # may decide, and read routes and flows

    def may(self, needed: ServiceRole) -> bool:
        return self is ServiceRole.viewer or needed is ServiceRole.service


@dataclass(frozen=True)
class Client:
    name: str
    role: ServiceRole
    token_sha256: str


LOCAL = Client("local", ServiceRole.viewer, "")  # every caller when no tokens are configured (loopback only)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Tokens:
    clients: tuple[Client, ...]

    def client_for(self, authorization: str | None) -> Client | None:
        """The client whose token is presented (`Bearer TOKEN`), or None; constant time in the token."""
        if not authorization or authorization[:7].lower() != "bearer ":
            return None
        presented = token_hash(authorization[7:].strip())
        found = None
        for client in self.clients:  # no early exit: every hash is compared
            if hmac.compare_digest(presented, client.token_sha256):
                found = client
        return found


def tokens_file(path: str | Path | None = None) -> Path:
    return Path(path or os.environ.get("COMPLIANCE_SERVICE_TOKENS") or PROJECT_ROOT / "service-tokens.yaml")


def load_tokens(path: Path) -> Tokens | None:
    """The configured clients, or None when there is no tokens file (loopback-only mode)."""
    if not path.exists():
        return None
    doc, problems = read_yaml(path, str(path))
    if doc is None:
        raise InvalidInput(problems)
    data = doc.data or {}
    if not isinstance(data, dict) or set(data) - {"clients"}:
        raise InvalidInput([Problem(doc.file, 1, "", "a tokens file is a mapping with one key, clients")])
    entries = data.get("clients") or {}
    if not isinstance(entries, dict):
        raise InvalidInput([Problem(doc.file, doc.line_of(("clients",)), "clients",
                                    "must be a mapping of name: entry")])
    clients, problems = [], []
    for name, entry in entries.items():
        where = doc.line_of(("clients", name))
        if not isinstance(entry, dict) or set(entry) - {"role", "token_sha256"}:
            problems.append(Problem(doc.file, where, f"clients.{name}", "must be {role, token_sha256}"))
            continue
        try:
            role = ServiceRole(entry.get("role"))
        except ValueError:
            problems.append(Problem(doc.file, doc.line_of(("clients", name, "role")), f"clients.{name}.role",
                                    f"unknown role {entry.get('role')!r}; use service or viewer"))
            continue
        digest = str(entry.get("token_sha256") or "").lower()
        if not _HEX64.match(digest):
            problems.append(Problem(doc.file, doc.line_of(("clients", name, "token_sha256")),
                                    f"clients.{name}.token_sha256", "must be the 64-hex-digit SHA-256 of the token"))
            continue
        clients.append(Client(str(name), role, digest))
    if problems:
        raise InvalidInput(problems)
    return Tokens(tuple(clients))


def add_client(path: Path, name: str, role: ServiceRole) -> str:
    """Create a token for a client, store its hash in the file, and return the token (shown once)."""
    existing = load_tokens(path)
    if existing and any(c.name == name for c in existing.clients):
        raise InvalidInput([Problem(str(path), None, f"clients.{name}", "already has a token; remove it first")])
    token = secrets.token_urlsafe(32)
    data = yaml.safe_load(path.read_text(encoding="utf-8")) if path.exists() else None
    data = data or {}
    data.setdefault("clients", {})
    data["clients"] = data["clients"] or {}
    data["clients"][name] = {"role": role.value, "token_sha256": token_hash(token)}
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    os.chmod(path, 0o600)
    return token
