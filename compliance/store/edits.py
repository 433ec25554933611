"""Edits people make to single records, guarded by optimistic locking and audited."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, select

from compliance.problems import Conflict, InvalidInput, NotFound, Problem
from compliance.store import convert
from compliance.store import documents as d
from compliance.store import tables as t
from compliance.store.audit import AuditTrail, field_changes, lock_for_write
from compliance.store.sync import PROVIDER_KIND, delete_children
from compliance.store.validate import closest, describe_error


def provider_doc(session: Session, provider_id: str) -> tuple[d.Provider, int]:
    """A provider in its YAML form with the row version an edit must be based on."""
    row = session.get(t.ProviderRow, provider_id)
    if row is None:
        known = session.exec(select(t.ProviderRow.id)).all()
        raise NotFound(f"unknown provider {provider_id!r}{closest(provider_id, known)}")
    doc = next(p for p in convert.read_dataset(session).providers if p.id == provider_id)
    return doc, row.version


def update_provider(
    session: Session,
    *,
    provider_id: str,
    expected_version: int,
    changes: dict[str, Any],
    actor: str,
    reason: str | None = None,
) -> int:
    """Apply field changes to a provider (e.g. `{"dpa": {...}}`) and return its new version.

    Raises Conflict when the provider changed since `expected_version` was read, and
    InvalidInput when the result would not pass the same validation as a load.
    """
    lock_for_write(session)
    before, version = provider_doc(session, provider_id)
    if version != expected_version:
        raise Conflict(
            f"provider {provider_id!r} was changed by someone else (now version {version}, "
            f"your edit was based on version {expected_version}); reload and apply your edit again"
        )
    merged = {**before.model_dump(), **changes}
    try:
        after = d.Provider.model_validate(merged)
    except ValidationError as exc:
        raise InvalidInput([
            Problem(f"provider {provider_id}", None, ".".join(str(x) for x in e["loc"]), describe_error(e))
            for e in exc.errors()
        ]) from exc
    if after.id != provider_id:
        raise InvalidInput([Problem(f"provider {provider_id}", None, "id", "cannot be changed")])
    diff = field_changes(before.model_dump(mode="json"), after.model_dump(mode="json"))
    if not diff:
        return version
    row = session.get(t.ProviderRow, provider_id)
    assert row is not None
    for name, value in convert.provider_values(after).items():
        setattr(row, name, value)
    flag_modified(row, "name")  # child rows changed: the provider's version must move too
    delete_children(session, PROVIDER_KIND, provider_id)
    session.add_all(convert.provider_children(after))
    session.flush()
    AuditTrail(session, actor=actor, reason=reason).record(
        action="update", entity="provider", entity_id=provider_id, changes=diff
    )
    session.flush()
    return row.version


def set_agreement_expiry(
    session: Session, *, provider_id: str, kind: str, expires_on: date | None, expected_version: int, actor: str
) -> int:
    """The most common legal edit: move a DPA's or BAA's expiry date."""
    doc, _ = provider_doc(session, provider_id)
    agreement = getattr(doc, kind, None)
    if agreement is None:
        raise InvalidInput([Problem(f"provider {provider_id}", None, kind, "no agreement recorded to change")])
    new = {**agreement.model_dump(), "expires_on": expires_on}
    return update_provider(session, provider_id=provider_id, expected_version=expected_version,
                           changes={kind: new}, actor=actor)
