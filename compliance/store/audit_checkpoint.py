"""Checkpoints of the audit log's head, kept outside the database.

A hash chain (keyed or not) cannot show that its newest events were deleted: what remains is
still a valid chain. A checkpoint records how many events there were and the head's hash (and
MAC); `audit verify --checkpoint FILE` then proves that those events are all still there,
unchanged. Events written after the checkpoint are covered by the chain and, with a key, by
their MACs.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compliance.problems import ComplianceError
from compliance.store.audit_key import same
from compliance.store.tables import AuditEventRow

FORMAT = "compliance-audit-checkpoint/1"
GENESIS = "0" * 64


@dataclass(frozen=True)
class Checkpoint:
    events: int
    head_id: int | None
    head_hash: str
    head_mac: str | None
    taken_at: str
    mac: str | None = None  # HMAC of the checkpoint itself, when taken with a key

    def body(self) -> str:
        return f"{FORMAT}:{self.events}:{self.head_id}:{self.head_hash}:{self.head_mac}:{self.taken_at}"

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, "events": self.events, "head_id": self.head_id, "head_hash": self.head_hash,
                "head_mac": self.head_mac, "taken_at": self.taken_at, "mac": self.mac}


def _sign(key: bytes, body: str) -> str:
    return hmac.new(key, body.encode("utf-8"), "sha256").hexdigest()


def take_checkpoint(events: list[AuditEventRow], key: bytes | None) -> Checkpoint:
    """The head of the log as it is now (events oldest first)."""
    head = events[-1] if events else None
    point = Checkpoint(events=len(events), head_id=head.id if head else None,
                       head_hash=head.hash if head else GENESIS, head_mac=head.mac if head else None,
                       taken_at=datetime.now(UTC).isoformat(timespec="seconds"))
    if key is None:
        return point
    return Checkpoint(**{**point.__dict__, "mac": _sign(key, point.body())})


def read_checkpoint(path: Path) -> Checkpoint:
    """A checkpoint file, or a ComplianceError saying what is wrong with it."""
    from compliance.yamlsource import read_limited

    try:
        raw = json.loads(read_limited(path, 64 * 1024).decode("utf-8"))
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise ComplianceError(f"checkpoint {path} cannot be read: {getattr(exc, 'strerror', None) or exc}") from None
    def bad(what: str) -> ComplianceError:
        return ComplianceError(f"checkpoint {path} is not a checkpoint: {what}")
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise bad(f"expected a JSON object with format {FORMAT!r}")
    events, head_id = raw.get("events"), raw.get("head_id")
    if not isinstance(events, int) or isinstance(events, bool) or events < 0:
        raise bad("events must be a count")
    if head_id is not None and (not isinstance(head_id, int) or isinstance(head_id, bool)):
        raise bad("head_id must be an event id")
    texts = {name: raw.get(name) for name in ("head_hash", "head_mac", "taken_at", "mac")}
    if not isinstance(texts["head_hash"], str) or not isinstance(texts["taken_at"], str):
        raise bad("head_hash and taken_at must be text")
    if any(value is not None and not isinstance(value, str) for value in texts.values()):
        raise bad("head_mac and mac must be text or null")
    return Checkpoint(events=events, head_id=head_id, head_hash=str(texts["head_hash"]), head_mac=texts["head_mac"],
                      taken_at=str(texts["taken_at"]), mac=texts["mac"])


def compare(events: list[AuditEventRow], point: Checkpoint, key: bytes | None) -> tuple[str, int | None, str]:
    """(problem, first bad event id, note): an empty problem means the checkpoint still holds."""
    if point.mac is not None and key is not None and not same(_sign(key, point.body()), point.mac):
        return "the checkpoint file does not match the audit key: it was altered (or taken with another key)", None, ""
    if len(events) < point.events:
        missing = point.events - len(events)
        return (f"the checkpoint of {point.taken_at} recorded {point.events} events, the log now has {len(events)}: "
                f"{missing} event{'s were' if missing != 1 else ' was'} deleted"), None, ""
    if point.events:
        head = events[point.events - 1]
        if head.hash != point.head_hash:
            return (f"event #{head.id} is not the head the checkpoint of {point.taken_at} recorded "
                    f"(#{point.head_id}): the log before it was rewritten"), head.id, ""
        if point.head_mac is not None and head.mac != point.head_mac:
            return (f"the MAC of event #{head.id} is not the one the checkpoint of {point.taken_at} recorded: "
                    "MACs were removed or replaced"), head.id, ""
    later = len(events) - point.events
    return "", None, (f"checkpoint of {point.taken_at} holds: its {point.events} events are all there, unchanged; "
                      f"{later} event{'s' if later != 1 else ''} written since")
