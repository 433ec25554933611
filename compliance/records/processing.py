"""GDPR Art. 30 records of processing and the AI system register, one row each, from the store and
the one decision function (records.md, "Records of processing (GDPR Art. 30) and the AI register")."""

from __future__ import annotations

from datetime import date
from typing import Any

from compliance.policy.decide import Decider
from compliance.policy.flows import evaluate_flows
from compliance.records.subprocessors import is_ourselves
from compliance.store import documents as d

EEA = frozenset({"AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE", "IT", "LV", "LT",
                 "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE", "IS", "LI", "NO"})
IN_EEA_RESIDENCY = frozenset({"eu", "on_premises"})

RECORD_COLUMNS = ["feature", "feature_name", "purpose", "legal_basis", "data_subjects", "categories", "recipients",
                  "transfers", "retention", "human_review", "flow_status"]
REGISTER_COLUMNS = ["feature", "feature_name", "segment", "role", "risk", "annex_iii", "art50", "disclosure",
                    "models", "routes", "human_review", "evals", "flags"]


def _personal(key: str) -> bool:
    return key == "user" or key.startswith("user.")


def _flow_status(decider: Decider, feature: d.Feature, on: date) -> dict[str, str]:
    """Route id -> "allowed" or "denied (rules)", over the feature's declared flows."""
    status: dict[str, str] = {}
    for result in evaluate_flows(decider, on, feature.id):
        if result.compliant:
            text = "allowed"
        else:
            rules = sorted({r for dec in result.violations for r in (dec.rules or ["default deny"])})
            text = f"denied ({', '.join(rules)})"
        status[result.route] = text if result.route not in status else f"{status[result.route]}; {text}"
    return status


def processing_records(decider: Decider, on: date) -> list[dict[str, Any]]:
    """One row per feature x purpose for every feature whose flows carry personal data."""
    dataset = decider.dataset
    providers = {p.id: p for p in dataset.providers}
    routes = {r.id: r for r in dataset.routes}
    rows = []
    for feature in dataset.features:
        personal_flows = [f for f in feature.flows if any(_personal(k) for k in f.categories)]
        if not personal_flows:
            continue
        categories: list[str] = []
        recipients: list[str] = []
        transfers: list[str] = []
        retention: list[str] = []
        for flow in personal_flows:
            route = routes[flow.route]
            categories += [k for k in flow.categories if _personal(k) and k not in categories]
            processor, maker = providers.get(route.processor), providers.get(route.model_provider)
            for who, role in ((processor, "processor"), (maker, "model maker")):
                if who is None:
                    continue
                label = f"{who.name} ({'ourselves' if is_ourselves(who) else role})"
                if who is maker and maker is processor:
                    continue
                if label not in recipients:
                    recipients.append(label)
            transfer = _transfer(route, processor)
            if transfer and transfer not in transfers:
                transfers.append(transfer)
            n = route.retention_days
            days = "unknown" if n is None else f"{n} day{'' if n == 1 else 's'}"
            kept = f"{route.id}: {days}" + (" (zero data retention)" if route.zero_data_retention else "")
            if kept not in retention:
                retention.append(kept)
        status = _flow_status(decider, feature, on)
        flows = [f"{route}: {text}" for route, text in status.items() if route in {f.route for f in personal_flows}]
        for purpose in feature.purposes or [""]:
            rows.append({
                "feature": feature.id, "feature_name": feature.name, "purpose": purpose,
                "legal_basis": feature.legal_basis.value if feature.legal_basis else "",
                "data_subjects": list(feature.data_subjects), "categories": list(categories),
                "recipients": list(recipients), "transfers": list(transfers), "retention": list(retention),
                "human_review": feature.human_review, "flow_status": list(flows),
            })
    return rows


def _transfer(route: d.Route, processor: d.Provider | None) -> str:
    """A transfer outside the EU/EEA: processing there, or a processor established there; "" if neither."""
    if processor is not None and is_ourselves(processor):
        return ""
    abroad = route.residency.value not in IN_EEA_RESIDENCY
    country = processor.hq_country if processor else None
    foreign = country is None or country not in EEA
    if not abroad and not foreign:
        return ""
    mechanism = processor.transfer_mechanism.value if processor and processor.transfer_mechanism else "unknown"
    name = processor.name if processor else route.processor
    return f"{route.id}: processed in {route.residency.value}; {name} in {country or 'unknown'}; mechanism {mechanism}"


def ai_register(decider: Decider, on: date) -> list[dict[str, Any]]:
    """One row per feature: its AI Act classification, what it runs on, oversight, evals, and what is missing."""
    rows = []
    evals: dict[str, list[str]] = {}
    for result in decider.dataset.evals:  # eval evidence, where the store records it (models.md)
        where = f" on {result.route}" if result.route else ""
        evals.setdefault(result.feature, []).append(
            f"{result.id}: {result.model}{where}, {result.metric} {result.score:g} ({result.samples:,} samples, "
            f"run on {result.run_on}; {result.source})")
    for feature in decider.dataset.features:
        ai = feature.ai_act
        models: list[str] = []
        for flow in feature.flows:
            if flow.model and flow.model not in models:
                models.append(flow.model)
        flags = []
        if ai is None:
            flags.append("not classified")
        else:
            if ai.risk.value == "high" and not feature.human_review:
                flags.append("high-risk without human review")
            if ai.risk.value == "high" and not ai.annex_iii:
                flags.append("high-risk without Annex III point")
            if ai.art50 and not ai.disclosure:
                flags.append("Art. 50 duties without a declared disclosure")
            if ai.risk.value == "prohibited":
                flags.append("prohibited practice")
        rows.append({
            "feature": feature.id, "feature_name": feature.name, "segment": feature.segment.value,
            "role": ai.role.value if ai else "", "risk": ai.risk.value if ai else "",
            "annex_iii": (ai.annex_iii or "") if ai else "", "art50": [x.value for x in ai.art50] if ai else [],
            "disclosure": (ai.disclosure or "") if ai else "", "models": models,
            "routes": list(dict.fromkeys(f.route for f in feature.flows)), "human_review": feature.human_review,
            "evals": evals.get(feature.id, []), "flags": flags,
        })
    return rows
