"""Between the YAML form (documents) and the tables, in both directions."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from compliance.store import documents as d
from compliance.store import tables as t
from compliance.store.enums import AgreementKind

AGREEMENT_FIELDS = ("status", "signed_on", "expires_on", "document", "notes")


def provider_values(p: d.Provider) -> dict[str, Any]:
    sub = p.subprocessors
    return {
        "name": p.name,
        "legal_entity": p.legal_entity,
        "hq_country": p.hq_country,
        "transfer_mechanism": p.transfer_mechanism,
        "owner": p.owner,
        "last_reviewed_on": p.last_reviewed_on,
        "next_review_on": p.next_review_on,
        "subprocessors_url": sub.url if sub else None,
        "subprocessors_last_checked_on": sub.last_checked_on if sub else None,
        "notes": p.notes,
    }


def provider_children(p: d.Provider) -> list[Any]:
    rows: list[Any] = []
    for kind in AgreementKind:
        agreement = getattr(p, kind.value)
        if agreement is not None:
            rows.append(t.AgreementRow(
                provider_id=p.id, kind=kind, version_label=agreement.version,
                **{name: getattr(agreement, name) for name in AGREEMENT_FIELDS},
            ))
    rows += [
        t.CertificationRow(provider_id=p.id, position=i, name=c.name, valid_until=c.valid_until, evidence=c.evidence)
        for i, c in enumerate(p.certifications)
    ]
    rows += source_rows(p.sources, provider_id=p.id)
    return rows


def source_rows(sources: list[d.Source], *, provider_id: str | None = None,
                route_id: str | None = None) -> list[t.FactSourceRow]:
    return [
        t.FactSourceRow(position=i, provider_id=provider_id, route_id=route_id, field=s.field, url=s.url,
                        as_of=s.as_of, status=s.status, note=s.note)
        for i, s in enumerate(sources)
    ]


def route_values(r: d.Route) -> dict[str, Any]:
    values = r.model_dump(exclude={"id", "model_provider", "processor", "sources", "models", "ip_indemnity",
                                   "latency"})
    values["models"] = [m if isinstance(m, str) else m.model_dump(mode="json", exclude_none=True) for m in r.models]
    values["ip_indemnity"] = r.ip_indemnity.model_dump(mode="json", exclude_none=True) if r.ip_indemnity else None
    values["latency"] = [x.model_dump(mode="json", exclude_none=True) for x in r.latency]
    values["model_provider_id"] = r.model_provider
    values["processor_id"] = r.processor
    return values


def category_values(c: d.Category) -> dict[str, Any]:
    return {**c.model_dump(exclude={"key"}), "parent_key": c.parent}


def feature_values(f: d.Feature) -> dict[str, Any]:
    values = f.model_dump(exclude={"id", "flows", "usage", "ai_act"})
    values["ai_act"] = f.ai_act.model_dump(mode="json", exclude_none=True) if f.ai_act else None
    usage = f.usage.model_dump() if f.usage else dict.fromkeys(d.Usage.model_fields)
    return {**values, **usage}


def segment_values(s: d.CostSegment) -> dict[str, Any]:
    return s.model_dump(exclude={"id"})


def override_values(o: d.PriceOverride) -> dict[str, Any]:
    return o.model_dump(exclude={"id"})


def eval_values(e: d.EvalResult) -> dict[str, Any]:
    return e.model_dump(exclude={"id"})


def select(model: Any) -> Any:
    """A plain select of a table's columns: rows come back as named tuples, not ORM objects (which cost
    several times more to build, and the documents are built from the values anyway)."""
    return sa.select(*model.__table__.c)


def read_dataset(session: Session, only: tuple[str, str] | None = None) -> d.DataSet:
    """The whole store (without the audit log) in its YAML form.

    `only=(entity, key)` reads just that record (e.g. `("provider", "aws")`), for edits.
    """
    entity, key = only if only else (None, None)
    session.flush()  # the rows are read through the connection: first send this session's pending changes
    rows = session.connection().execute

    def wanted(kind: str) -> bool:
        return entity is None or entity == kind

    def filtered(query: Any, column: Any, kind: str) -> Any:
        return query.where(column == key) if entity == kind else query

    agreements: dict[str, dict[str, Any]] = defaultdict(dict)
    certs: dict[str, list[Any]] = defaultdict(list)
    sources: dict[tuple[str, str], list[Any]] = defaultdict(list)
    if wanted("provider"):
        for a in rows(filtered(select(t.AgreementRow), t.AgreementRow.provider_id, "provider")):
            agreements[a.provider_id][str(a.kind)] = a
        for c in rows(filtered(select(t.CertificationRow), t.CertificationRow.provider_id, "provider")
                              .order_by(col(t.CertificationRow.position))):
            certs[c.provider_id].append(c)
    if wanted("provider") or wanted("route"):
        query = select(t.FactSourceRow).order_by(col(t.FactSourceRow.position))
        query = filtered(filtered(query, t.FactSourceRow.provider_id, "provider"), t.FactSourceRow.route_id, "route")
        for s in rows(query):
            owner = ("provider", s.provider_id) if s.provider_id else ("route", s.route_id or "")
            sources[owner].append(s)

    def source_docs(owner: tuple[str, str]) -> list[d.Source]:
        return [d.Source(field=s.field, url=s.url, as_of=s.as_of, status=s.status, note=s.note)
                for s in sources[owner]]

    def agreement_doc(row: Any, model: type[Any]) -> Any:
        if row is None:
            return None
        return model(version=row.version_label, **{name: getattr(row, name) for name in AGREEMENT_FIELDS})

    providers = []
    if wanted("provider"):
        query = filtered(select(t.ProviderRow), t.ProviderRow.id, "provider")
        for p in rows(query.order_by(col(t.ProviderRow.position), col(t.ProviderRow.id))):
            sub = None
            if p.subprocessors_url or p.subprocessors_last_checked_on:
                sub = d.Subprocessors(url=p.subprocessors_url, last_checked_on=p.subprocessors_last_checked_on)
            providers.append(d.Provider(
                id=p.id, name=p.name, legal_entity=p.legal_entity, hq_country=p.hq_country,
                dpa=agreement_doc(agreements[p.id].get("dpa"), d.DpaAgreement),
                baa=agreement_doc(agreements[p.id].get("baa"), d.BaaAgreement),
                transfer_mechanism=p.transfer_mechanism,
                certifications=[d.Certification(name=c.name, valid_until=c.valid_until, evidence=c.evidence)
                                for c in certs[p.id]],
                subprocessors=sub, owner=p.owner, last_reviewed_on=p.last_reviewed_on,
                next_review_on=p.next_review_on, notes=p.notes, sources=source_docs(("provider", p.id)),
            ))

    routes = []
    if wanted("route"):
        query = filtered(select(t.RouteRow), t.RouteRow.id, "route")
        for r in rows(query.order_by(col(t.RouteRow.position), col(t.RouteRow.id))):
            values = {name: getattr(r, name) for name in d.Route.model_fields
                      if name not in {"model_provider", "processor", "sources"}}
            routes.append(d.Route(**values, model_provider=r.model_provider_id, processor=r.processor_id,
                                  sources=source_docs(("route", r.id))))

    categories = []
    if wanted("category"):
        query = filtered(select(t.CategoryRow), t.CategoryRow.key, "category")
        categories = [d.Category(**{name: getattr(c, name) for name in d.Category.model_fields})
                      for c in rows(query.order_by(col(t.CategoryRow.position), col(t.CategoryRow.key)))]

    features = []
    if wanted("feature"):
        flows: dict[str, list[d.Flow]] = defaultdict(list)
        flow_query = filtered(select(t.FlowRow), t.FlowRow.feature_id, "feature")
        flow_rows = list(rows(flow_query.order_by(col(t.FlowRow.position))))
        flow_categories: dict[int, list[str]] = defaultdict(list)
        category_query = select(t.FlowCategoryRow).order_by(col(t.FlowCategoryRow.position))
        if entity == "feature":
            category_query = category_query.where(col(t.FlowCategoryRow.flow_id).in_([f.id for f in flow_rows]))
        for fc in rows(category_query):
            flow_categories[fc.flow_id].append(fc.category_key)
        for fl in flow_rows:
            flows[fl.feature_id].append(d.Flow(route=fl.route_id, categories=flow_categories[fl.id or 0],
                                               model=fl.model, share=fl.share))
        query = filtered(select(t.FeatureRow), t.FeatureRow.id, "feature")
        for f in rows(query.order_by(col(t.FeatureRow.position), col(t.FeatureRow.id))):
            usage = None
            if f.requests_per_user_month is not None:
                usage = d.Usage(requests_per_user_month=f.requests_per_user_month, input_tokens=f.input_tokens or 0,
                                output_tokens=f.output_tokens or 0, cached_input_share=f.cached_input_share)
            features.append(d.Feature(
                id=f.id, name=f.name, description=f.description, owner=f.owner, segment=f.segment,
                human_review=f.human_review, tags=list(f.tags), flows=flows[f.id], usage=usage, code=list(f.code or []),
                purposes=list(f.purposes or []), data_subjects=list(f.data_subjects or []), legal_basis=f.legal_basis,
                customer_data=f.customer_data, ai_act=d.AiAct.model_validate(f.ai_act) if f.ai_act else None,
                services=list(f.services or []),
                quality=f.quality, latency=f.latency,
            ))

    segments = []
    if wanted("segment"):
        query = filtered(select(t.CostSegmentRow), t.CostSegmentRow.id, "segment")
        segments = [d.CostSegment(id=s.id, **{name: getattr(s, name) for name in d.CostSegment.model_fields
                                              if name != "id"})
                    for s in rows(query.order_by(col(t.CostSegmentRow.position)))]
    overrides = []
    if wanted("price_override"):
        query = filtered(select(t.PriceOverrideRow), t.PriceOverrideRow.id, "price_override")
        overrides = [d.PriceOverride(**{name: getattr(o, name) for name in d.PriceOverride.model_fields})
                     for o in rows(query.order_by(col(t.PriceOverrideRow.position)))]
    evals = []
    if wanted("eval"):
        query = filtered(select(t.EvalResultRow), t.EvalResultRow.id, "eval")
        evals = [d.EvalResult(**{name: getattr(e, name) for name in d.EvalResult.model_fields})
                 for e in rows(query.order_by(col(t.EvalResultRow.position)))]
    projection = d.Projection()
    projection_row = session.get(t.ProjectionRow, 1) if wanted("projection") else None
    if projection_row is not None:
        projection = d.Projection(months=projection_row.months, scenarios=projection_row.scenarios,
                                  tiers=projection_row.tiers, tier_scenarios=projection_row.tier_scenarios)
    notice_row = session.get(t.NoticeRow, 1) if wanted("notice") else None
    notice = notice_doc(notice_row) if notice_row is not None else None
    return d.DataSet(
        providers=providers, routes=routes, categories=categories, features=features,
        costs=d.Costs(segments=segments, projection=projection, price_overrides=overrides), notice=notice,
        evals=evals,
    )


def notice_doc(row: t.NoticeRow) -> d.Notice:
    return d.Notice(notice_days=row.notice_days,
                    announcements=[d.Announcement.model_validate(a) for a in row.announcements or []])


def notice_values(notice: d.Notice) -> dict[str, Any]:
    return {"notice_days": notice.notice_days,
            "announcements": [a.model_dump(mode="json", exclude_none=True) for a in notice.announcements]}
