"""The facts a policy may name, their types, and their values for a request.

Facts belong to one of three subjects: the feature, the category, or the route (which
also carries its processor's and model provider's facts, some of which depend on the
evaluation date). `None` is an unknown fact; list facts are never unknown.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from compliance.store import documents as d
from compliance.store.derived import active_certifications, agreement_active, days_to_expiry, route_stale
from compliance.store.enums import (
    AiRisk,
    AiRole,
    BaaStatus,
    DpaStatus,
    LegalBasis,
    Residency,
    RouteStatus,
    Segment,
    Sensitivity,
    TransferMechanism,
)


@dataclass(frozen=True)
class FactType:
    """What values a fact holds: `kind` is bool, int, date, str, enum, id or list."""

    kind: str
    choices: tuple[str, ...] = ()  # enum values
    ids: str = ""  # for kind "id": which store ids ("feature", "route", "provider", "category")


BOOL, INT, DATE, STR, LIST = FactType("bool"), FactType("int"), FactType("date"), FactType("str"), FactType("list")


def _enum(kind: type[Any]) -> FactType:
    return FactType("enum", tuple(m.value for m in kind))


def _provider_facts(prefix: str) -> dict[str, FactType]:
    return {
        f"{prefix}.id": FactType("id", ids="provider"),
        f"{prefix}.name": STR,
        f"{prefix}.hq_country": STR,
        f"{prefix}.transfer_mechanism": _enum(TransferMechanism),
        f"{prefix}.certifications": LIST,
        f"{prefix}.dpa.status": _enum(DpaStatus),
        f"{prefix}.dpa.active": BOOL,
        f"{prefix}.dpa.expires_on": DATE,
        f"{prefix}.dpa.days_to_expiry": INT,
        f"{prefix}.baa.status": _enum(BaaStatus),
        f"{prefix}.baa.active": BOOL,
    }


# Our notice to customers before a processor receives their data (records.md); the route's processor only.
NOTICE_FACTS: dict[str, FactType] = {"processor.announced_on": DATE, "processor.notice_ends_on": DATE,
                                     "processor.notice_elapsed": BOOL}


FEATURE_FACTS: dict[str, FactType] = {
    "feature.id": FactType("id", ids="feature"),
    "feature.name": STR,
    "feature.segment": _enum(Segment),
    "feature.human_review": BOOL,
    "feature.tags": LIST,
    "feature.owner": STR,
    # legal's facts (records.md); customer_data defaults to the segment being b2b
    "feature.purposes": LIST,
    "feature.data_subjects": LIST,
    "feature.legal_basis": _enum(LegalBasis),
    "feature.customer_data": BOOL,
    "feature.ai_act.role": _enum(AiRole),
    "feature.ai_act.risk": _enum(AiRisk),
    "feature.ai_act.annex_iii": STR,
    "feature.ai_act.art50": LIST,
    "feature.ai_act.disclosure": STR,
}
CATEGORY_FACTS: dict[str, FactType] = {
    "category.key": FactType("id", ids="category"),
    "category.name": STR,
    "category.sensitivity": _enum(Sensitivity),
    "category.tags": LIST,
}
ROUTE_FACTS: dict[str, FactType] = {
    "route.id": FactType("id", ids="route"),
    "route.name": STR,
    "route.service": STR,
    "route.region": STR,
    "route.residency": _enum(Residency),
    "route.zero_data_retention": BOOL,
    "route.retention_days": INT,
    "route.trains_on_inputs": BOOL,
    "route.status": _enum(RouteStatus),
    "route.stale": BOOL,
    "route.ip_indemnity.covered": BOOL,  # unknown when the route records no ip_indemnity (models.md)
    **_provider_facts("processor"),
    **NOTICE_FACTS,
    **_provider_facts("model_provider"),
}
# Facts of the model a request names (models.md); unknown when it names none or the route does not serve it.
MODEL_FACTS: dict[str, FactType] = {
    "model.id": STR,
    "model.retires_on": DATE,
    "model.deprecated": BOOL,
}
FACTS: dict[str, FactType] = {**FEATURE_FACTS, **CATEGORY_FACTS, **ROUTE_FACTS, **MODEL_FACTS}
SUBJECT_OF = {path: path.split(".")[0] if not path.startswith(("processor.", "model_provider.")) else "route"
              for path in FACTS}


def model_facts(route: d.Route | None, model: str | None, on: date) -> dict[str, Any]:
    """`model.*` for a request that names `model` on `route`: a model served there without a recorded
    deprecation is not deprecated; a model not served there, or no model, leaves every fact unknown."""
    if route is None or model is None or model not in route.model_ids:
        return dict.fromkeys(MODEL_FACTS)
    entry = route.model_entry(model)
    deprecated_on = entry.deprecated_on if entry else None
    return {
        "model.id": model,
        "model.retires_on": entry.retires_on if entry else None,
        "model.deprecated": deprecated_on is not None and deprecated_on <= on,
    }


def feature_facts(feature: d.Feature) -> dict[str, Any]:
    ai = feature.ai_act
    return {
        "feature.id": feature.id,
        "feature.name": feature.name,
        "feature.segment": feature.segment.value,
        "feature.human_review": feature.human_review,
        "feature.tags": list(feature.tags),
        "feature.owner": feature.owner,
        "feature.purposes": list(feature.purposes),
        "feature.data_subjects": list(feature.data_subjects),
        "feature.legal_basis": feature.legal_basis.value if feature.legal_basis else None,
        "feature.customer_data": feature.processes_customer_data,
        "feature.ai_act.role": ai.role.value if ai else None,
        "feature.ai_act.risk": ai.risk.value if ai else None,
        "feature.ai_act.annex_iii": ai.annex_iii if ai else None,
        "feature.ai_act.art50": [duty.value for duty in ai.art50] if ai else [],
        "feature.ai_act.disclosure": ai.disclosure if ai else None,
    }


def category_facts(category: d.Category) -> dict[str, Any]:
    return {
        "category.key": category.key,
        "category.name": category.name,
        "category.sensitivity": category.sensitivity.value,
        "category.tags": list(category.tags),
    }


def provider_facts(prefix: str, provider: d.Provider | None, on: date) -> dict[str, Any]:
    if provider is None:  # cannot happen for a validated store; every fact is then unknown
        return {path: ([] if kind is LIST else None) for path, kind in _provider_facts(prefix).items()}
    dpa, baa = provider.dpa, provider.baa
    return {
        f"{prefix}.id": provider.id,
        f"{prefix}.name": provider.name,
        f"{prefix}.hq_country": provider.hq_country,
        f"{prefix}.transfer_mechanism": provider.transfer_mechanism.value if provider.transfer_mechanism else None,
        f"{prefix}.certifications": active_certifications(provider.certifications, on),
        f"{prefix}.dpa.status": dpa.status.value if dpa else None,
        f"{prefix}.dpa.active": agreement_active(dpa, on),
        f"{prefix}.dpa.expires_on": dpa.expires_on if dpa else None,
        f"{prefix}.dpa.days_to_expiry": days_to_expiry(dpa, on),
        f"{prefix}.baa.status": baa.status.value if baa else None,
        f"{prefix}.baa.active": agreement_active(baa, on),
    }


def notice_facts(processor: str, notice: d.Notice | None, on: date) -> dict[str, Any]:
    """`announced_on` is unknown when never announced; `notice_elapsed` then is unknown too."""
    announced = notice.announced_on(processor) if notice else None
    ends = notice_ends(announced, notice) if announced is not None and notice is not None else None
    return {"processor.announced_on": announced, "processor.notice_ends_on": ends,
            "processor.notice_elapsed": None if ends is None else ends <= on}


def notice_ends(announced_on: date, notice: d.Notice) -> date:
    """The first day a processor announced on `announced_on` may receive our customers' data."""
    return announced_on + timedelta(days=notice.notice_days)


def route_facts(route: d.Route, providers: dict[str, d.Provider], on: date, window_days: int,
                notice: d.Notice | None = None) -> dict[str, Any]:
    return {
        "route.id": route.id,
        "route.name": route.name,
        "route.service": route.service,
        "route.region": route.region,
        "route.residency": route.residency.value,
        "route.zero_data_retention": route.zero_data_retention,
        "route.retention_days": route.retention_days,
        "route.trains_on_inputs": route.trains_on_inputs,
        "route.status": route.status.value,
        "route.stale": route_stale(route.last_verified_on, on, window_days),
        "route.ip_indemnity.covered": route.ip_indemnity.covered if route.ip_indemnity else None,
        **provider_facts("processor", providers.get(route.processor), on),
        **notice_facts(route.processor, notice, on),
        **provider_facts("model_provider", providers.get(route.model_provider), on),
    }
