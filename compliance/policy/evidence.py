"""What a decision rests on: for each vendor or route fact a deciding rule read, its value and source.

A fact's status is its source's status (`verified`, `secondary`, `unverified`), or `unsourced` when
no source names it. A source written without a status is `unverified` (documents.Source), never
`verified`. Feature and category facts, and a route's own status, ids and names, are the company's
own records and carry no evidence.

Used by `Decider.decide` (decision records), `alerts.unsourced_alerts` and the CLI, API and
dashboard notes ("allowed, but rests on 2 unverified facts: ..."). The matrix computes none.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal, NamedTuple

from compliance.store import documents as d

EvidenceStatus = Literal["verified", "secondary", "unverified", "unsourced"]

# Fact paths (policy.md) with a source field in the record; the source is looked up by this field,
# then by its parents (`dpa.expires_on`, then `dpa`).
ROUTE_SOURCED = {
    "route.service": ("service",), "route.region": ("region",), "route.residency": ("residency",),
    "route.zero_data_retention": ("zero_data_retention",), "route.retention_days": ("retention_days",),
    "route.trains_on_inputs": ("trains_on_inputs",),
    "route.ip_indemnity.covered": ("ip_indemnity.covered", "ip_indemnity"),
}
PROVIDER_SOURCED = {
    "hq_country": ("hq_country",), "transfer_mechanism": ("transfer_mechanism",),
    "certifications": ("certifications",), "dpa.status": ("dpa.status", "dpa"),
    "dpa.active": ("dpa.active", "dpa"), "dpa.expires_on": ("dpa.expires_on", "dpa"),
    "dpa.days_to_expiry": ("dpa.expires_on", "dpa"), "baa.status": ("baa.status", "baa"),
    "baa.active": ("baa.active", "baa"),
}

SOURCED_FACTS = frozenset([*ROUTE_SOURCED, *(f"{prefix}.{name}" for prefix in ("processor", "model_provider")
                                            for name in PROVIDER_SOURCED)])


class Evidence(NamedTuple):
    """One fact a decision read: `{fact, subject, value, status, url, as_of}` in the decision record."""

    fact: str  # policy fact path, e.g. route.retention_days
    subject: str  # the route or provider id the fact belongs to
    value: Any
    status: EvidenceStatus
    url: str | None
    as_of: date | None

    @property
    def field(self) -> str:
        """The fact's name within its record (`retention_days`, `dpa.active`)."""
        return self.fact.split(".", 1)[1]

    @property
    def verified(self) -> bool:
        return self.status == "verified"

    def as_dict(self) -> dict[str, Any]:
        value = self.value
        if isinstance(value, date):
            value = value.isoformat()
        elif isinstance(value, (list, tuple)):
            value = list(value)
        return {"fact": self.fact, "subject": self.subject, "value": value, "status": self.status,
                "url": self.url, "as_of": self.as_of.isoformat() if self.as_of else None}


def source_for(sources: list[d.Source], fields: tuple[str, ...]) -> d.Source | None:
    """The source of a fact: one naming the field itself, else one naming a parent of it.

    For `certifications`, sources written per certification (`certifications.iso27001`) count too;
    the weakest of them stands for the list.
    """
    for name in fields:
        for source in sources:
            if source.field == name:
                return source
    if fields[0] == "certifications":
        per_name = [s for s in sources if (s.field or "").startswith("certifications.")]
        if per_name:
            return min(per_name, key=lambda s: _STRENGTH[s.status.value])
    return None


_STRENGTH = {"unverified": 0, "secondary": 1, "verified": 2}


def _evidence(fact: str, subject: str, value: Any, source: d.Source | None) -> Evidence:
    if source is None:
        return Evidence(fact, subject, value, "unsourced", None, None)
    status: EvidenceStatus = source.status.value
    return Evidence(fact, subject, value, status, source.url, source.as_of)


def route_evidence(route: d.Route, providers: dict[str, d.Provider], facts: dict[str, Any]) -> dict[str, Evidence]:
    """Evidence for every sourceable fact of a route and its two providers, from the route's facts on a date."""
    found = {fact: _evidence(fact, route.id, facts[fact], source_for(route.sources, fields))
             for fact, fields in ROUTE_SOURCED.items()}
    for prefix, provider_id in (("processor", route.processor), ("model_provider", route.model_provider)):
        provider = providers.get(provider_id)
        sources = provider.sources if provider else []
        for name, fields in PROVIDER_SOURCED.items():
            fact = f"{prefix}.{name}"
            found[fact] = _evidence(fact, provider_id, facts[fact], source_for(sources, fields))
    return found


def weak(evidence: list[Evidence]) -> list[Evidence]:
    """The facts that are not verified, one per (field, subject): what the answer rests on unconfirmed."""
    seen: dict[tuple[str, str], Evidence] = {}
    for item in evidence:
        if not item.verified:
            seen.setdefault((item.field, item.subject), item)
    return list(seen.values())


def note(allowed: bool, evidence: list[Evidence]) -> str:
    """In words, what an answer rests on that is not verified; empty when everything it read is verified.

    "allowed, but rests on 2 unverified facts: retention_days of claude-vertex-eu, ..."
    """
    items = weak(evidence)
    if not items:
        return ""
    groups: dict[str, list[str]] = {}
    for item in items:
        groups.setdefault(item.status, []).append(f"{item.field} of {item.subject}")
    parts = [f"{len(names)} {status} fact{'s' if len(names) != 1 else ''}: {', '.join(names)}"
             for status, names in sorted(groups.items(), key=lambda g: _ORDER[g[0]])]
    return f"{'allowed' if allowed else 'denied'}, but rests on {'; '.join(parts)}"


_ORDER = {"unsourced": 0, "unverified": 1, "secondary": 2, "verified": 3}
