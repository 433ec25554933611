"""The append-only audit log: one event per change, chained by hashes.

Each event's hash covers its content and the previous event's hash, so altering,
deleting or inserting an event breaks the chain. That recipe is public: with an audit key
configured (audit_key.py) each event also carries a MAC of its hash that only a key holder can
make, and checkpoints kept outside the database (audit_checkpoint.py) pin the head, so
truncation, forged appends and recomputed chains are noticed too (docs/reliability.md). Events are written in the same
transaction as the change they record; writers take a store-wide write lock first,
so concurrent writers cannot fork the chain (`prev_hash` is also unique in the table).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, select

from compliance.access import Actor
from compliance.problems import ComplianceError
from compliance.store.audit_checkpoint import Checkpoint, compare
from compliance.store.audit_key import KEY_ENV, KEY_FILE_ENV, audit_key, event_mac, same
from compliance.store.limits import ACTOR_LEN, REASON_LEN, text_problem
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


def _log_is_keyed(session: Session) -> bool:
    found = session.exec(select(AuditEventRow.mac).order_by(AuditEventRow.id.desc()).limit(1)).first()  # type: ignore[union-attr]
    return found is not None


class AuditTrail:
    """Appends events for one transaction, keeping the chain head in memory."""

    def __init__(self, session: Session, *, actor: Actor, reason: str | None = None):
        for what, value, limit in (("actor", actor.name, ACTOR_LEN), ("reason", reason, REASON_LEN)):
            problem = text_problem(value, limit) if value is not None else None
            if problem:
                raise ComplianceError(f"the {what} {problem}; nothing was changed")
        self.key = audit_key()
        if self.key is None and _log_is_keyed(session):
            raise ComplianceError(f"the audit log is signed with a key, but no key is configured ({KEY_ENV} or "
                                  f"{KEY_FILE_ENV}); nothing was changed")
        self.session = session
        self.actor = actor.name
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
        if self.key is not None:
            event.mac = event_mac(self.key, event.hash)
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


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    problem: str = ""
    keyed: bool = False             # a key was used to check MACs
    signed: int = 0                 # events that carry a MAC
    first_signed_id: int | None = None
    checkpoint: str = ""            # what the checkpoint comparison found, when one was given

    def __str__(self) -> str:
        if not self.ok:
            where = f" at event #{self.first_bad_id}" if self.first_bad_id is not None else ""
            return f"audit log broken{where}: {self.problem} ({self.checked} events checked)"
        lines = [f"audit log intact: {self.checked} events, hash chain verified"]
        earlier = self.checked - self.signed
        if self.keyed and self.signed:
            lines.append(f"keyed: the MACs of {self.signed} events (#{self.first_signed_id} onwards) verified with the "
                         "audit key" + (f"; the {earlier} earlier events predate the key and have the public hash "
                                        "chain only" if earlier else ""))
        elif self.keyed:
            lines.append("keyed: an audit key is configured, but no event carries a MAC yet (all were written before "
                         "the key was set); every new event will be signed")
        elif self.signed:
            lines.append(f"{self.signed} events carry MACs, but no audit key is configured, so they were not checked: "
                         f"set {KEY_ENV} or {KEY_FILE_ENV} to verify them")
        else:
            lines.append(f"unkeyed: no audit key is configured ({KEY_ENV} or {KEY_FILE_ENV}), so anyone who can write "
                         "to the database could alter events and recompute every later hash, or append forged "
                         "events, unnoticed")
        lines.append(self.checkpoint or "no checkpoint compared: deleting the newest events is only noticed against "
                     "a checkpoint kept outside the database (`audit checkpoint`, then `audit verify --checkpoint`)")
        return "\n".join(lines)


_CONFIGURED: Any = object()


EVENT = AuditEventRow.__table__.c  # type: ignore[attr-defined]


def _read(session: Session, query: Any) -> list[AuditEventRow]:
    """Events as read-only rows with the event's columns as attributes (a plain select: building ORM
    objects for a whole log costs several times more, and readers only read)."""
    session.flush()
    return list(session.connection().execute(query))  # type: ignore[arg-type]


def chain_events(session: Session) -> list[AuditEventRow]:
    """Every event, oldest first."""
    return _read(session, sa.select(*EVENT).order_by(EVENT.id))


def verify_chain(session: Session, *, key: bytes | None = _CONFIGURED,
                 checkpoint: Checkpoint | None = None) -> ChainReport:
    """Walk the chain; name the first event that was altered, deleted, inserted or forged.

    `key` defaults to the configured audit key; with one, every event from the first signed one
    on must carry a MAC made with it. A checkpoint, when given, must still hold.
    """
    key = audit_key() if key is _CONFIGURED else key
    events = chain_events(session)
    position = {e.hash: i for i, e in enumerate(events)}
    expected = GENESIS
    signed, first_signed = 0, None
    for i, event in enumerate(events):
        if event_hash(event) != event.hash:
            return ChainReport(False, i + 1, event.id, "its content does not match its hash: it was altered")
        if event.prev_hash != expected:
            earlier = position.get(event.prev_hash)
            if earlier is not None and earlier < i - 1:
                inserted = events[earlier + 1]
                return ChainReport(False, i + 1, inserted.id,
                                   f"it is not part of the chain (event #{event.id} follows #{events[earlier].id}): "
                                   "it was inserted")
            return ChainReport(False, i + 1, event.id, "the event before it is missing: an event was deleted "
                               "(or its link was altered)")
        if event.mac is not None:
            if key is not None and not same(event_mac(key, event.hash), event.mac):
                return ChainReport(False, i + 1, event.id, "its MAC does not match the audit key: it was altered or "
                                   "forged, and the hashes after it recomputed (or it was signed with another key)")
            signed += 1
            first_signed = first_signed if first_signed is not None else event.id
        elif first_signed is not None and key is not None:
            return ChainReport(False, i + 1, event.id, f"it has no MAC although event #{first_signed} before it was "
                               "signed: it was forged, or its MAC removed")
        expected = event.hash
    note = ""
    if checkpoint is not None:
        problem, bad_id, note = compare(events, checkpoint, key)
        if problem:
            return ChainReport(False, len(events), bad_id, problem, keyed=key is not None, signed=signed,
                               first_signed_id=first_signed)
    return ChainReport(True, len(events), keyed=key is not None, signed=signed, first_signed_id=first_signed,
                       checkpoint=note)


def list_events(session: Session, *, entity: str | None = None, entity_id: str | None = None,
                actor: str | None = None, since: datetime | None = None, until: datetime | None = None,
                limit: int | None = None) -> list[AuditEventRow]:
    """Audit events, newest first, filtered."""
    query = _filtered(sa.select(*EVENT), entity=entity, entity_id=entity_id, actor=actor, since=since, until=until)
    query = query.order_by(EVENT.id.desc())
    if limit:
        query = query.limit(limit)
    return _read(session, query)


def _filtered(query: Any, *, entity: str | None = None, entity_id: str | None = None, actor: str | None = None,
              since: datetime | None = None, until: datetime | None = None) -> Any:
    for column, value in ((EVENT.entity, entity), (EVENT.entity_id, entity_id), (EVENT.actor, actor)):
        if value:
            query = query.where(column == value)
    if since:
        query = query.where(EVENT.at >= since)
    if until:
        query = query.where(EVENT.at <= until)
    return query


@dataclass(frozen=True)
class LogSummary:
    """What the audit page's filters offer: the entities and actors in the log, its first day and size."""

    events: int
    entities: list[str]
    actors: list[str]
    first: datetime | None


def log_summary(session: Session) -> LogSummary:
    connection = session.connection()
    count, first = connection.execute(sa.select(sa.func.count(), sa.func.min(EVENT.at))).one()
    entities = sorted(connection.execute(sa.select(EVENT.entity).distinct()).scalars())
    actors = sorted(connection.execute(sa.select(EVENT.actor).distinct()).scalars())
    return LogSummary(int(count), entities, actors, first)


def count_events(session: Session, **filters: Any) -> int:
    """How many events `list_events` with the same filters would return, without reading them."""
    return int(session.connection().execute(_filtered(sa.select(sa.func.count()).select_from(
        AuditEventRow.__table__), **filters)).scalar_one())  # type: ignore[attr-defined]


def latest_event_id(session: Session) -> int:
    """The newest event's id: a cheap marker that changes with every write to the store."""
    found = session.exec(select(AuditEventRow.id).order_by(AuditEventRow.id.desc()).limit(1)).first()  # type: ignore[union-attr]
    return found or 0


def export_records(events: list[AuditEventRow]) -> list[dict[str, Any]]:
    """Events oldest first, every field an auditor needs to re-check the chain (full hashes, prev_hash)."""
    ordered = sorted(events, key=lambda e: e.id or 0)
    return [{"id": e.id, "at": e.at.isoformat(), "actor": e.actor, "action": e.action, "entity": e.entity,
             "entity_id": e.entity_id, "changes": e.changes, "reason": e.reason, "prev_hash": e.prev_hash,
             "hash": e.hash} for e in ordered]


def export_text(events: list[AuditEventRow], fmt: str = "csv") -> str:
    """The auditors' export, as `audit export` prints it and the dashboard downloads it."""
    records = export_records(events)
    if fmt == "json":
        return json.dumps({"events": records}, indent=2, ensure_ascii=False) + "\n"
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(records[0]) if records else ["id"])
    writer.writeheader()
    writer.writerows({key: spreadsheet_safe(value) for key, value in
                      {**r, "changes": json.dumps(r["changes"], ensure_ascii=False)}.items()} for r in records)
    return out.getvalue()


def spreadsheet_safe(value: Any) -> Any:
    """A CSV cell a spreadsheet will not run as a formula (OWASP: prefix =, +, -, @, tab, CR with ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
