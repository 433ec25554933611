"""Replace the store's contents with a validated data set, as one audited transaction.

Only what differs is written: each created, updated or deleted record gets one audit
event naming the fields that changed, so a load of identical data changes nothing. A record
whose child rows change (DPA, certifications, sources, flows) is updated, so its version moves
and an edit based on the version read before the load is refused. A new order of the records
of a kind is a change too: it needs the role that may change that kind and gets one `reorder`
event with the old and new order.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm.attributes import flag_modified
from sqlmodel import Session, SQLModel

from compliance.access import Actor, require
from compliance.store import convert
from compliance.store import documents as d
from compliance.store import tables as t
from compliance.store.audit import AuditTrail, field_changes, lock_for_write


@dataclass(frozen=True)
class Kind:
    """How one kind of record is written: its table, key, values and child rows."""

    entity: str
    table: type[SQLModel]
    model: type[Any]
    key: str
    docs: Callable[[d.DataSet], list[Any]]
    values: Callable[[Any], dict[str, Any]]
    children: Callable[[Session, Any], None] | None = None
    child_tables: tuple[type[SQLModel], ...] = ()


def _provider_children(session: Session, p: d.Provider) -> None:
    session.add_all(convert.provider_children(p))


def _route_children(session: Session, r: d.Route) -> None:
    session.add_all(convert.source_rows(r.sources, route_id=r.id))


def _feature_children(session: Session, f: d.Feature) -> None:
    for i, flow in enumerate(f.flows):
        row = t.FlowRow(feature_id=f.id, position=i, route_id=flow.route, model=flow.model, share=flow.share)
        session.add(row)
        session.flush()
        assert row.id is not None
        flow_id = row.id
        session.add_all(
            t.FlowCategoryRow(flow_id=flow_id, position=j, category_key=key) for j, key in enumerate(flow.categories)
        )


KINDS: tuple[Kind, ...] = (
    Kind("provider", t.ProviderRow, d.Provider, "id", lambda s: s.providers, convert.provider_values,
         _provider_children, (t.AgreementRow, t.CertificationRow, t.FactSourceRow)),
    Kind("category", t.CategoryRow, d.Category, "key",
         lambda s: sorted(s.categories, key=lambda c: c.key.count(".")), convert.category_values),
    Kind("route", t.RouteRow, d.Route, "id", lambda s: s.routes, convert.route_values, _route_children,
         (t.FactSourceRow,)),
    Kind("feature", t.FeatureRow, d.Feature, "id", lambda s: s.features, convert.feature_values,
         _feature_children, (t.FlowRow,)),
    Kind("segment", t.CostSegmentRow, d.CostSegment, "id", lambda s: s.costs.segments, convert.segment_values),
    Kind("price_override", t.PriceOverrideRow, d.PriceOverride, "id", lambda s: s.costs.price_overrides,
         convert.override_values),
    Kind("eval", t.EvalResultRow, d.EvalResult, "id", lambda s: s.evals, convert.eval_values),
)
KIND_OF = {kind.entity: kind for kind in KINDS}
_OWNER_COLUMN = {"provider": "provider_id", "route": "route_id", "feature": "feature_id"}


@dataclass
class LoadReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    reordered: list[str] = field(default_factory=list)
    events: int = 0

    def bump(self, counter: dict[str, int], entity: str) -> None:
        counter[entity] = counter.get(entity, 0) + 1

    def summary(self) -> str:
        def fmt(counter: dict[str, int]) -> str:
            return ", ".join(f"{n} {entity}" for entity, n in counter.items()) or "nothing"

        order = f"; reordered {', '.join(self.reordered)}" if self.reordered else ""
        return (f"created {fmt(self.created)}; updated {fmt(self.updated)}; deleted {fmt(self.deleted)}{order}; "
                f"{self.events} audit events")


def _dump(doc: Any) -> dict[str, Any]:
    dumped: dict[str, Any] = doc.model_dump(mode="json")
    return dumped


def delete_children(session: Session, kind: Kind, key: str) -> None:
    column = _OWNER_COLUMN[kind.entity]
    for child in kind.child_tables:
        table = child.__table__  # type: ignore[attr-defined]
        session.execute(sa.delete(table).where(table.c[column] == key))


def changed_entities(old: d.DataSet, new: d.DataSet) -> set[str]:
    """The kinds of record that differ between two data sets (positions aside)."""
    changed = set()
    for kind in KINDS:
        before = {getattr(x, kind.key): _dump(x) for x in kind.docs(old)}
        after = {getattr(x, kind.key): _dump(x) for x in kind.docs(new)}
        if before != after:
            changed.add(kind.entity)
    if _dump(old.costs.projection) != _dump(new.costs.projection):
        changed.add("projection")
    if notice_dump(old.notice) != notice_dump(new.notice):
        changed.add("notice")
    return changed


def notice_dump(notice: d.Notice | None) -> dict[str, Any] | None:
    return _dump(notice) if notice is not None else None


def reordered_entities(old: d.DataSet, new: d.DataSet) -> dict[str, dict[str, Any]]:
    """Kinds whose records kept in both data sets are in another relative order, with both orders.

    Positions that shift only because records were added or deleted are not a reorder (those
    records get their own create and delete events).
    """
    found: dict[str, dict[str, Any]] = {}
    for kind in KINDS:
        before = [getattr(x, kind.key) for x in file_order(old, kind)]
        after = [getattr(x, kind.key) for x in file_order(new, kind)]
        kept_after = set(after)
        kept_before = set(before)
        if [k for k in before if k in kept_after] != [k for k in after if k in kept_before]:
            found[kind.entity] = {"order": {"old": before, "new": after}}
    return found


def replace_dataset(session: Session, new: d.DataSet, *, actor: Actor, reason: str | None = None) -> LoadReport:
    """Make the store hold exactly `new`. Runs in the caller's transaction.

    The actor's role must allow every kind of record the load changes; otherwise nothing is written.
    """
    lock_for_write(session)
    old = convert.read_dataset(session)
    reordered = reordered_entities(old, new)
    require(actor, changed_entities(old, new) | set(reordered))
    trail = AuditTrail(session, actor=actor, reason=reason)
    report = LoadReport()

    for kind in KINDS:
        old_docs = {getattr(doc, kind.key): doc for doc in kind.docs(old)}
        positions = {getattr(doc, kind.key): i for i, doc in enumerate(file_order(new, kind))}
        for doc in kind.docs(new):
            key = getattr(doc, kind.key)
            previous = old_docs.get(key)
            if previous is not None and _dump(previous) == _dump(doc):
                row = session.get(kind.table, key)
                if row is not None and getattr(row, "position", None) != positions[key]:
                    row.position = positions[key]
                continue
            values = {**kind.values(doc), "position": positions[key]}
            if previous is None:
                session.add(kind.table(**{kind.key: key}, **values))
                report.bump(report.created, kind.entity)
                action = "create"
            else:
                row = session.get(kind.table, key)
                for name, value in values.items():
                    setattr(row, name, value)
                flag_modified(row, "position")  # the version moves even when only child rows changed
                if kind.children:
                    delete_children(session, kind, key)
                report.bump(report.updated, kind.entity)
                action = "update"
            session.flush()
            if kind.children:
                kind.children(session, doc)
                session.flush()
            trail.record(action=action, entity=kind.entity, entity_id=key,
                         changes=field_changes(_dump(previous) if previous else None, _dump(doc)))
        if kind.entity in reordered:
            report.reordered.append(kind.entity)
            trail.record(action="reorder", entity=kind.entity, entity_id="*", changes=reordered[kind.entity])

    for kind in reversed(KINDS):
        new_keys = {getattr(doc, kind.key) for doc in kind.docs(new)}
        gone = [doc for doc in kind.docs(old) if getattr(doc, kind.key) not in new_keys]
        for doc in sorted(gone, key=lambda x: -str(getattr(x, kind.key)).count(".")):
            key = getattr(doc, kind.key)
            row = session.get(kind.table, key)
            session.delete(row)
            session.flush()
            report.bump(report.deleted, kind.entity)
            trail.record(action="delete", entity=kind.entity, entity_id=key, changes=field_changes(_dump(doc), None))

    _write_projection(session, old.costs.projection, new.costs.projection, trail, report)
    _write_notice(session, old.notice, new.notice, trail, report)
    session.flush()
    report.events = trail.count
    return report


def file_order(dataset: d.DataSet, kind: Kind) -> list[Any]:
    """The records of a kind in file order (positions follow the file, not the write order)."""
    if kind.entity == "category":
        return dataset.categories
    return kind.docs(dataset)


def _write_projection(session: Session, old: d.Projection, new: d.Projection, trail: AuditTrail,
                      report: LoadReport) -> None:
    if _dump(old) == _dump(new) and session.get(t.ProjectionRow, 1) is not None:
        return
    row = session.get(t.ProjectionRow, 1)
    values = new.model_dump()
    if row is None:
        session.add(t.ProjectionRow(id=1, **values))
        if _dump(old) == _dump(new):
            return  # first write of the defaults is not a change anyone made
        report.bump(report.created, "projection")
    else:
        for name, value in values.items():
            setattr(row, name, value)
        report.bump(report.updated, "projection")
    trail.record(action="update", entity="projection", entity_id="projection",
                 changes=field_changes(_dump(old), _dump(new)))


def _write_notice(session: Session, old: d.Notice | None, new: d.Notice | None, trail: AuditTrail,
                  report: LoadReport) -> None:
    """The subprocessor notice (data/subprocessors.yaml): one row, or none when the file is absent."""
    if notice_dump(old) == notice_dump(new):
        return
    row = session.get(t.NoticeRow, 1)
    if new is None:
        if row is not None:
            session.delete(row)
        report.bump(report.deleted, "notice")
        action = "delete"
    elif row is None:
        session.add(t.NoticeRow(id=1, **convert.notice_values(new)))
        report.bump(report.created, "notice")
        action = "create"
    else:
        for name, value in convert.notice_values(new).items():
            setattr(row, name, value)
        report.bump(report.updated, "notice")
        action = "update"
    trail.record(action=action, entity="notice", entity_id="subprocessors",
                 changes=field_changes(notice_dump(old), notice_dump(new)))
