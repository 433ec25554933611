"""Who may change what. Enforced in the library's write paths, not only by hiding buttons.

Roles: viewers read; engineers change features and their declared flows; legal changes
providers (agreements, certifications, reviews), routes (status and facts) and categories;
finance changes cost inputs and price overrides; admin does all. Policy exceptions live in the
policy files, which change through review of those files, not through the store.
"""

from __future__ import annotations

import enum
import os
from dataclasses import dataclass
from pathlib import Path

from compliance.config import PROJECT_ROOT
from compliance.problems import ComplianceError, InvalidInput, Problem
from compliance.yamlsource import read_yaml


class Role(str, enum.Enum):
    viewer = "viewer"
    engineer = "engineer"
    legal = "legal"
    finance = "finance"
    admin = "admin"


WRITERS: dict[str, frozenset[Role]] = {
    "provider": frozenset({Role.legal}),
    "route": frozenset({Role.legal}),
    "category": frozenset({Role.legal}),
    "notice": frozenset({Role.legal}),  # our subprocessor notice and announcements (records.md)
    "feature_legal": frozenset({Role.legal}),  # a feature's purposes, legal basis, AI Act block (records.md)
    "feature": frozenset({Role.engineer}),
    "segment": frozenset({Role.finance}),
    "projection": frozenset({Role.finance}),
    "price_override": frozenset({Role.finance}),
    "eval": frozenset({Role.engineer}),  # eval results (models.md)
    "scan": frozenset({Role.engineer}),  # recorded code scans (compliance.scan.record)
    "usage": frozenset({Role.finance, Role.engineer}),  # a feature's usage figures (requests, tokens)
    "observation": frozenset({Role.engineer}),  # imported telemetry (compliance.observe)
}


class PermissionDenied(ComplianceError):
    """The actor's role does not allow the change; nothing was written."""


@dataclass(frozen=True)
class Actor:
    """A person or process making changes, with the role that decides what they may change."""

    name: str
    role: Role

    def __str__(self) -> str:
        return f"{self.name} ({self.role.value})"

    def may_change(self, entity: str) -> bool:
        return self.role is Role.admin or self.role in WRITERS.get(entity, frozenset())


def require(actor: Actor, entities: set[str] | list[str]) -> None:
    """Raise PermissionDenied unless the actor may change every kind of record named."""
    refused = sorted(e for e in entities if not actor.may_change(e))
    if refused:
        allowed = sorted({r.value for e in refused for r in WRITERS.get(e, frozenset())} | {"admin"})
        raise PermissionDenied(f"{actor} may not change {', '.join(refused)}; that needs the role "
                               f"{' or '.join(allowed)}")


SYSTEM = Actor("system", Role.admin)
LOCAL_ADMIN = Actor("local-admin", Role.admin)


@dataclass(frozen=True)
class RoleMap:
    """Roles by email (or user name) and by email domain; everyone else gets the default (viewer)."""

    users: dict[str, Role]
    domains: dict[str, Role]
    default: Role = Role.viewer

    def role_for(self, identity: str) -> Role:
        key = normalise_actor(identity)
        if key in self.users:
            return self.users[key]
        domain = key.rsplit("@", 1)[1] if "@" in key else None
        return self.domains.get(domain, self.default) if domain else self.default

    def actor(self, identity: str) -> Actor:
        return Actor(normalise_actor(identity), self.role_for(identity))


def normalise_actor(identity: str) -> str:
    """The form names are looked up and recorded in: no surrounding space, case folded."""
    return identity.strip().casefold()


DEFAULT_ROLES_FILE = PROJECT_ROOT / "roles.yaml"


def roles_file() -> Path:
    return Path(os.environ.get("COMPLIANCE_ROLES_FILE") or DEFAULT_ROLES_FILE)


def load_role_map(path: Path | None = None) -> RoleMap | None:
    """The role mapping, or None in local mode (no COMPLIANCE_ROLES_FILE and no default roles.yaml).

    A roles file that was configured but is missing is an error, never local mode (which is admin):
    a typo in the path must not hand out administrator rights.
    """
    configured = path is not None or bool(os.environ.get("COMPLIANCE_ROLES_FILE"))
    path = path or roles_file()
    if not path.exists() and not path.is_symlink():
        if not configured:
            return None
        raise InvalidInput([Problem(str(path), None, "", "roles file does not exist (set by "
                                    "COMPLIANCE_ROLES_FILE); fix the path, or unset it for local mode")])
    if not path.is_file():
        raise InvalidInput([Problem(str(path), None, "", "roles file is not a readable file")])
    doc, problems = read_yaml(path, str(path))
    if doc is None:
        raise InvalidInput(problems)
    data = doc.data or {}
    problems = []
    if not isinstance(data, dict):
        raise InvalidInput([Problem(doc.file, 1, "", "a role file is a mapping with default, users, domains")])
    for key in data:
        if key not in ("default", "users", "domains"):
            problems.append(Problem(doc.file, doc.line_of((key,)), str(key), "unknown key"))

    def role(value: object, where: tuple[object, ...], field: str) -> Role:
        try:
            return Role(value)
        except ValueError:
            problems.append(Problem(doc.file, doc.line_of(where), field,
                                    f"unknown role {value!r}; use one of {', '.join(r.value for r in Role)}"))
            return Role.viewer

    mapped: dict[str, dict[str, Role]] = {"users": {}, "domains": {}}
    for section in mapped:
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            problems.append(Problem(doc.file, doc.line_of((section,)), section, "must be a mapping of name: role"))
            continue
        for name, value in entries.items():
            mapped[section][normalise_actor(str(name))] = role(value, (section, name), f"{section}.{name}")
    default = role(data.get("default", "viewer"), ("default",), "default")
    if problems:
        raise InvalidInput(problems)
    return RoleMap(mapped["users"], mapped["domains"], default)


def cli_actor(name: str | None, default_name: str) -> Actor:
    """The CLI's actor: --actor or the OS user, with the role from the mapping (admin in local mode)."""
    identity = normalise_actor(name if name is not None else default_name)
    if not identity:
        raise ComplianceError("--actor is empty; give a name or an email")
    mapping = load_role_map()
    return Actor(identity, Role.admin) if mapping is None else mapping.actor(identity)
