"""Edits people make to single records, guarded by optimistic locking, validated and audited.

An edit names the version of the record it was based on; when someone else changed the record
since, the edit fails with Conflict and nothing is overwritten.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, select

from compliance.access import Actor, require
from compliance.problems import Conflict, InvalidInput, NotFound, Problem, closest
from compliance.store import convert
from compliance.store import documents as d
from compliance.store import tables as t
from compliance.store.audit import AuditTrail, field_changes, lock_for_write
from compliance.store.limits import REASON_LEN, text_problem
from compliance.store.sync import KIND_OF, Kind, delete_children, notice_dump
from compliance.store.validate import describe_error


def _kind(entity: str) -> Kind:
    if entity not in KIND_OF:
        raise NotFound(f"unknown kind of record {entity!r}{closest(entity, KIND_OF)}")
    return KIND_OF[entity]


def record_doc(session: Session, entity: str, key: str) -> tuple[Any, int]:
    """A record in its YAML form with the row version an edit must be based on."""
    kind = _kind(entity)
    row = session.get(kind.table, key)
    if row is None:
        known = session.exec(select(getattr(kind.table, kind.key))).all()
        raise NotFound(f"unknown {entity} {key!r}{closest(key, known)}")
    doc = next(x for x in kind.docs(convert.read_dataset(session, only=(entity, key))) if getattr(x, kind.key) == key)
    return doc, row.version  # type: ignore[attr-defined]


def _validated(model: type[Any], data: dict[str, Any], label: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise InvalidInput([Problem(label, None, ".".join(str(x) for x in e["loc"]), describe_error(e))
                            for e in exc.errors()]) from exc


def checked_reason(reason: str | None, label: str) -> str | None:
    """A reason as the audit log keeps it: trimmed, empty as none, and no longer than the log's limit."""
    text = (reason or "").strip()
    problem = text_problem(text, REASON_LEN)
    if problem:
        raise InvalidInput([Problem(label, None, "reason", f"reason {problem}")])
    return text or None


def update_record(session: Session, *, entity: str, key: str, expected_version: int, changes: dict[str, Any],
                  actor: Actor, reason: str | None = None, permission: str | None = None) -> int:
    """Apply field changes to one record and return its new version.

    `permission`: the kind of change the actor needs the right for, when narrower than the whole
    record (finance may replace a feature's `usage`, see compliance.observe.adopt).

    Raises Conflict when the record changed since `expected_version` was read, InvalidInput when
    the result would not pass the same validation as a load; references are checked by the
    database's foreign keys.
    """
    kind = _kind(entity)
    require(actor, {permission or entity})  # `permission`: a narrower right for some fields (legal's on features)
    reason = checked_reason(reason, f"{entity} {key}")
    lock_for_write(session)
    before, version = record_doc(session, entity, key)
    if version != expected_version:
        raise Conflict(f"{entity} {key!r} was changed by someone else (now version {version}, your edit was "
                       f"based on version {expected_version}); reload it and apply your edit again")
    after = _validated(kind.model, {**before.model_dump(), **changes}, f"{entity} {key}")
    if getattr(after, kind.key) != key:
        raise InvalidInput([Problem(f"{entity} {key}", None, kind.key, "cannot be changed")])
    diff = field_changes(before.model_dump(mode="json"), after.model_dump(mode="json"))
    if not diff:
        return version
    row = session.get(kind.table, key)
    assert row is not None
    for name, value in kind.values(after).items():
        setattr(row, name, value)
    flag_modified(row, "position")  # even when only child rows change, the record's version moves
    if kind.children:
        delete_children(session, kind, key)
        session.flush()
        kind.children(session, after)
    session.flush()
    AuditTrail(session, actor=actor, reason=reason).record(action="update", entity=entity, entity_id=key,
                                                           changes=diff)
    session.flush()
    return row.version  # type: ignore[attr-defined, no-any-return]


def update_projection(session: Session, *, expected_version: int, changes: dict[str, Any], actor: Actor,
                      reason: str | None = None) -> int:
    """Edit the projection settings (months, scenarios, tiers)."""
    require(actor, {"projection"})
    reason = checked_reason(reason, "projection")
    lock_for_write(session)
    row = session.get(t.ProjectionRow, 1)
    if row is None:
        row = t.ProjectionRow(id=1)
        session.add(row)
        session.flush()
    if row.version != expected_version:
        raise Conflict(f"the projection settings were changed by someone else (now version {row.version}, your "
                       f"edit was based on version {expected_version}); reload and apply your edit again")
    before = d.Projection(months=row.months, scenarios=row.scenarios, tiers=row.tiers,
                          tier_scenarios=row.tier_scenarios)
    after = _validated(d.Projection, {**before.model_dump(), **changes}, "projection")
    diff = field_changes(before.model_dump(mode="json"), after.model_dump(mode="json"))
    if not diff:
        return row.version
    for name, value in after.model_dump().items():
        setattr(row, name, value)
    session.flush()
    AuditTrail(session, actor=actor, reason=reason).record(action="update", entity="projection",
                                                           entity_id="projection", changes=diff)
    session.flush()
    return row.version


def update_usage(session: Session, *, feature_id: str, expected_version: int, usage: dict[str, Any] | None,
                 actor: Actor, reason: str | None = None) -> int:
    """Change only a feature's usage figures: finance may, as well as the feature's engineers."""
    return update_record(session, entity="feature", key=feature_id, expected_version=expected_version,
                         changes={"usage": usage}, actor=actor, reason=reason, permission="usage")


def projection_version(session: Session) -> int:
    row = session.get(t.ProjectionRow, 1)
    return row.version if row else 1


def provider_doc(session: Session, provider_id: str) -> tuple[d.Provider, int]:
    doc, version = record_doc(session, "provider", provider_id)
    return doc, version


def update_provider(session: Session, *, provider_id: str, expected_version: int, changes: dict[str, Any],
                    actor: Actor, reason: str | None = None) -> int:
    return update_record(session, entity="provider", key=provider_id, expected_version=expected_version,
                         changes=changes, actor=actor, reason=reason)


def set_agreement_expiry(session: Session, *, provider_id: str, kind: str, expires_on: date | None,
                         expected_version: int, actor: Actor) -> int:
    """The most common legal edit: move a DPA's or BAA's expiry date."""
    doc, _ = provider_doc(session, provider_id)
    agreement = getattr(doc, kind, None)
    if agreement is None:
        raise InvalidInput([Problem(f"provider {provider_id}", None, kind, "no agreement recorded to change")])
    return update_provider(session, provider_id=provider_id, expected_version=expected_version,
                           changes={kind: {**agreement.model_dump(), "expires_on": expires_on}}, actor=actor)


def record_versions(session: Session, entity: str) -> dict[str, int]:
    """The current version of every record of a kind, to base edits on."""
    kind = _kind(entity)
    key = getattr(kind.table, kind.key)
    return dict(session.exec(select(key, kind.table.version)).all())  # type: ignore[attr-defined]


LEGAL_FEATURE_FIELDS = ("purposes", "data_subjects", "legal_basis", "customer_data", "ai_act")


def update_feature_legal_facts(session: Session, *, feature_id: str, expected_version: int,
                               changes: dict[str, Any], actor: Actor, reason: str | None = None) -> int:
    """Legal's edit of a feature's records facts (records.md); the flows and the rest stay the engineers'."""
    from compliance.store import taxonomy

    label = f"feature {feature_id}"
    other = sorted(set(changes) - set(LEGAL_FEATURE_FIELDS))
    if other:
        raise InvalidInput([Problem(label, None, name, "not one of legal's facts on a feature "
                                    f"({', '.join(LEGAL_FEATURE_FIELDS)})") for name in other])
    problems = []
    for name, known, what in (("purposes", taxonomy.purposes(), "purpose (Fides data_use key)"),
                              ("data_subjects", taxonomy.data_subjects(), "data subject (Fides data_subject key)")):
        for i, key in enumerate(changes.get(name) or []):
            if key not in known:
                problems.append(Problem(label, None, f"{name}[{i}]", f"unknown {what} {key!r}{closest(key, known)}"))
    if problems:
        raise InvalidInput(problems)
    return update_record(session, entity="feature", key=feature_id, expected_version=expected_version,
                         changes=changes, actor=actor, reason=reason, permission="feature_legal")


def notice_record(session: Session) -> tuple[d.Notice, int]:
    """Our subprocessor notice and the version an announcement must be based on (0 while the store holds none)."""
    row = session.get(t.NoticeRow, 1)
    return (convert.notice_doc(row), row.version) if row else (d.Notice(), 0)


def record_announcement(session: Session, *, processor: str, announced_on: date, url: str | None,
                        expected_version: int, actor: Actor, reason: str | None = None) -> int:
    """Add our announcement of `processor` to the subprocessor notice (records.md) and return the notice's
    new version. The same checks as a load of data/subprocessors.yaml: a known provider, announced once."""
    require(actor, {"notice"})
    reason = checked_reason(reason, "notice")
    lock_for_write(session)
    if session.get(t.ProviderRow, processor) is None:
        known = session.exec(select(t.ProviderRow.id)).all()
        raise NotFound(f"unknown provider {processor!r}{closest(processor, known)}")
    before, version = notice_record(session)
    row = session.get(t.NoticeRow, 1)
    row_existed = row is not None
    if version != expected_version:
        raise Conflict(f"the subprocessor notice was changed by someone else (now version {version}, your edit was "
                       f"based on version {expected_version}); reload it and apply your edit again")
    earlier = before.announced_on(processor)
    if earlier is not None:
        raise InvalidInput([Problem("notice", None, "announcements.processor",
                                    f"{processor!r} was already announced on {earlier}")])
    entry = {"processor": processor, "announced_on": announced_on, "url": (url or "").strip() or None}
    after = _validated(d.Notice, {**before.model_dump(), "announcements": [
        *before.model_dump()["announcements"], entry]}, "notice")
    values = convert.notice_values(after)
    if row is None:
        row = t.NoticeRow(id=1, **values)
        session.add(row)
    else:
        for name, value in values.items():
            setattr(row, name, value)
        flag_modified(row, "announcements")
    session.flush()
    AuditTrail(session, actor=actor, reason=reason).record(
        action="update" if row_existed else "create", entity="notice", entity_id="subprocessors",
        changes=field_changes(notice_dump(before if row_existed else None), notice_dump(after)))
    session.flush()
    return row.version
