"""Tables the dashboard shows, as DataFrames built from the store's contents (no SQL, no streamlit)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import pandas as pd

from compliance.config import FRESHNESS_DAYS
from compliance.policy.policyset import PolicySet, show
from compliance.store import documents as d
from compliance.store.derived import (
    active_certifications,
    agreement_active,
    agreement_state,
    days_to_expiry,
    route_stale,
)
from compliance.store.tables import AuditEventRow

WEB_ADDRESS = re.compile(r"https?://[^\s()<>\[\]`]+")
MARKDOWN_PUNCTUATION = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~:$])")


def md_text(text: str) -> str:
    """`text` shown as typed inside markdown: its punctuation escaped, its line breaks as spaces."""
    return MARKDOWN_PUNCTUATION.sub(r"\\\1", " ".join(text.split()))


def md_link(label: str, url: str) -> str:
    """A markdown link to `url` when it is a web address; otherwise the label and the text as typed, not a link."""
    if WEB_ADDRESS.fullmatch(url.strip()):
        return f"[{md_text(label)}]({url.strip()})"
    return f"{md_text(label)} ({md_text(url)}: not a web address)"


def _unverified(sources: list[d.Source]) -> list[str]:
    return [s.field or "(record)" for s in sources if s.status.value == "unverified"]


def providers_frame(dataset: d.DataSet, on: date) -> pd.DataFrame:
    rows = []
    for p in dataset.providers:
        rows.append({
            "id": p.id, "name": p.name,
            "dpa_state": agreement_state(p.dpa, on) or "none recorded",
            "legal_entity": p.legal_entity, "hq": p.hq_country,
            "dpa_status": p.dpa.status.value if p.dpa else "none recorded",
            "dpa_active": agreement_active(p.dpa, on), "dpa_signed_on": p.dpa.signed_on if p.dpa else None,
            "dpa_expires_on": p.dpa.expires_on if p.dpa else None, "dpa_days_to_expiry": days_to_expiry(p.dpa, on),
            "baa_state": agreement_state(p.baa, on) or "none recorded",
            "baa_status": p.baa.status.value if p.baa else "none recorded", "baa_active": agreement_active(p.baa, on),
            "transfer_mechanism": p.transfer_mechanism.value if p.transfer_mechanism else None,
            "certifications": ", ".join(active_certifications(p.certifications, on)),
            "last_reviewed_on": p.last_reviewed_on, "next_review_on": p.next_review_on, "owner": p.owner,
            "unverified_facts": ", ".join(_unverified(p.sources)),
        })
    return pd.DataFrame(rows)


def search(frame: pd.DataFrame, query: str) -> pd.DataFrame:
    """Rows where any cell contains `query` (case-insensitive, literal); empty cells match nothing."""
    if not query.strip() or frame.empty:
        return frame
    text = frame.astype(object).where(frame.notna(), "").map(str).agg(" ".join, axis=1)
    return frame[text.str.contains(query.strip(), case=False, regex=False)]


def expiry_events(dataset: d.DataSet) -> pd.DataFrame:
    """Every dated end (agreements, certifications, reviews), for the timeline chart."""
    rows: list[dict[str, Any]] = []
    for p in dataset.providers:
        for kind in ("dpa", "baa"):
            agreement = getattr(p, kind)
            if agreement and agreement.expires_on:
                rows.append({"provider": p.name, "what": f"{kind.upper()} expires", "date": agreement.expires_on,
                             "kind": kind.upper()})
        for cert in p.certifications:
            if cert.valid_until:
                rows.append({"provider": p.name, "what": f"{cert.name} valid until", "date": cert.valid_until,
                             "kind": "certification"})
        if p.next_review_on:
            rows.append({"provider": p.name, "what": "next review", "date": p.next_review_on, "kind": "review"})
    return pd.DataFrame(rows, columns=["provider", "what", "date", "kind"])


def processor_note(route: d.Route, providers: dict[str, d.Provider]) -> str:
    """In words: who receives the prompts on this route, and whose DPA therefore matters."""
    maker = providers[route.model_provider].name
    processor = providers[route.processor].name
    if route.processor == route.model_provider:
        return f"{processor} made the model and processes the prompts: {processor}'s DPA must cover it."
    return (f"The model is {maker}'s, but {processor} receives and processes the prompts on this route, "
            f"so {processor}'s DPA covers it and {maker} is not in the DPA chain.")


def routes_frame(dataset: d.DataSet, on: date, freshness_days: int = FRESHNESS_DAYS) -> pd.DataFrame:
    providers = {p.id: p for p in dataset.providers}
    rows = []
    for r in dataset.routes:
        stale = route_stale(r.last_verified_on, on, freshness_days)
        rows.append({
            "id": r.id, "name": r.name, "model_provider": providers[r.model_provider].name,
            "processor": providers[r.processor].name, "processor_differs": r.processor != r.model_provider,
            "service": r.service, "region": r.region, "residency": r.residency.value,
            "zero_data_retention": r.zero_data_retention,
            "retention_days": r.retention_days, "trains_on_inputs": r.trains_on_inputs, "status": r.status.value,
            "last_verified_on": r.last_verified_on, "stale": stale,
            "models": ", ".join(r.model_ids), "unverified_facts": ", ".join(_unverified(r.sources)),
            "who_processes": processor_note(r, providers),
        })
    return pd.DataFrame(rows)


def sources_frame(record: d.Provider | d.Route) -> pd.DataFrame:
    return pd.DataFrame([{"field": s.field or "(record)", "status": s.status.value, "as_of": s.as_of,
                          "url": s.url, "note": s.note} for s in record.sources],
                        columns=["field", "status", "as_of", "url", "note"])


def rules_frame(policies: PolicySet) -> pd.DataFrame:
    rows = []
    for r in policies.rules:
        rows.append({
            "id": r.id, "effect": r.effect, "waivable": r.waivable if r.effect == "deny" else None,
            "categories": ", ".join(r.categories) if r.categories else "all",
            "features": ", ".join(sorted(r.features)) if r.features else "all",
            "routes": ", ".join(sorted(r.routes)) if r.routes else "all",
            "when": "; ".join(leaf.text for leaf in r.when.leaves()) if r.when else "always",
            "reason": r.reason, "where": f"{r.file}:{r.line}", "policy": r.policy,
        })
    return pd.DataFrame(rows)


def exceptions_frame(policies: PolicySet, on: date) -> pd.DataFrame:
    rows = []
    for e in policies.exceptions:
        state = "active" if e.active_on(on) else ("expired" if e.expires_on < on else "not yet active")
        rows.append({"id": e.id, "state": state, "waives": e.waives, "feature": e.feature,
                     "categories": show(list(e.categories)), "routes": show(sorted(e.routes)),
                     "granted_on": e.granted_on, "expires_on": e.expires_on, "approved_by": e.approved_by,
                     "ticket": e.ticket, "justification": e.justification, "where": f"{e.file}:{e.line}"})
    return pd.DataFrame(rows)


def _audit_value(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "(empty)"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_audit_value(v)}" for k, v in value.items() if v is not None) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_audit_value(v) for v in value) + "]"
    return show(value)


def _field_diff(path: str, old: Any, new: Any) -> list[str]:
    if isinstance(old, dict) and isinstance(new, dict):
        return [line for key in [*old, *(k for k in new if k not in old)] if old.get(key) != new.get(key)
                for line in _field_diff(f"{path}.{key}", old.get(key), new.get(key))]
    if isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        return [line for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b
                for line in _field_diff(f"{path}[{i}]", a, b)]
    return [f"{path}: {_audit_value(old)} -> {_audit_value(new)}"]


def change_lines(changes: dict[str, Any]) -> list[str]:
    """What an event changed, field by field (nested fields as `dpa.expires_on`), old -> new."""
    return [line for name, change in changes.items()
            for line in _field_diff(name, change.get("old"), change.get("new"))]


def audit_frame(events: list[AuditEventRow]) -> pd.DataFrame:
    return pd.DataFrame([{
        "id": e.id, "at": e.at, "actor": e.actor, "action": e.action, "entity": e.entity, "entity_id": e.entity_id,
        "changes": "; ".join(change_lines(e.changes)), "reason": e.reason, "hash": e.hash[:12],
    } for e in events], columns=["id", "at", "actor", "action", "entity", "entity_id", "changes", "reason", "hash"])
