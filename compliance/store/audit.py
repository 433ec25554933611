"""The append-only audit log: one event per change, chained by hashes.

Each event's hash covers its content and the previous event's hash, so altering,
deleting or inserting an event breaks the chain. Events are written in the same
transaction as the change they record; writers take a store-wide write lock first,
so concurrent writers cannot fork the chain (`prev_hash` is also unique in the table).
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from compliance.store.tables import AuditEventRow

GENESIS = "0" * 64
_PG_LOCK_KEY = 0x434F4D50  # "COMP": the advisory lock every writer takes on PostgreSQL


def lock_for_write(session: Session) -> None:
    """Serialise writers: an advisory lock on PostgreSQL, the reserved lock on SQLite."""
    bind = session.get_bind()
    if bind.dialect.name == "postgresql":
        session.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    elif bind.dialect.name == "sqlite":
        session.execute(sa.text("UPDATE projection SET id = id WHERE 1 = 0"))


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value") and isinstance(value.value, str):
        return value.value
    return value


def event_hash(event: AuditEventRow) -> str:
    """The hash of an event's content chained to the previous event's hash."""
    at = event.at if event.at.tzinfo else event.at.replace(tzinfo=UTC)
    body = {
        "prev_hash": event.prev_hash,
        "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": event.actor,
        "action": event.action,
        "entity": event.entity,
        "entity_id": event.entity_id,
        "changes": event.changes,
        "reason": event.reason,
    }
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def last_hash(session: Session) -> str:
    found = session.exec(select(AuditEventRow.hash).order_by(AuditEventRow.id.desc()).limit(1)).first()  # type: ignore[union-attr]
    return found or GENESIS


class AuditTrail:
    """Appends events for one transaction, keeping the chain head in memory."""

    def __init__(self, session: Session, *, actor: str, reason: str | None = None):
        self.session = session
        self.actor = actor
        self.reason = reason
        self.head = last_hash(session)
        self.at = datetime.now(UTC)
        self.count = 0

    def record(self, *, action: str, entity: str, entity_id: str, changes: dict[str, Any]) -> AuditEventRow:
        event = AuditEventRow(
            at=self.at,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=_jsonable(changes),
            reason=self.reason,
            prev_hash=self.head,
            hash="",
        )
        event.hash = event_hash(event)
        self.head = event.hash
        self.session.add(event)
        self.count += 1
        return event


def field_changes(old: dict[str, Any] | None, new: dict[str, Any] | None) -> dict[str, Any]:
    """Field -> {old, new} for every top-level field that differs."""
    old = old or {}
    new = new or {}
    changes: dict[str, Any] = {}
    for key in list(old) + [k for k in new if k not in old]:
        if old.get(key) != new.get(key):
            changes[key] = {"old": old.get(key), "new": new.get(key)}
    return changes
