"""Our own subprocessor list: every processor that receives our customers' data on a declared flow
of a `customer_data` feature, with what it does, where, how data is transferred, and since when our
customers have been told (records.md, "Subprocessor list and notice")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from compliance.policy.facts import notice_ends
from compliance.store import documents as d
from compliance.store import taxonomy

CUSTOMER_DATA = ("user", "org.customer")  # the categories our DPA with customers covers (the notice rule's match)
TRANSFER_WORDS = {
    "dpf": "EU-US Data Privacy Framework", "scc": "Standard Contractual Clauses", "bcr": "Binding Corporate Rules",
    "adequacy": "adequacy decision", "none": "none recorded", "not_applicable": "not applicable",
}
RESIDENCY_WORDS = {"eu": "EU", "us": "United States", "uk": "United Kingdom", "ca": "Canada", "au": "Australia",
                   "jp": "Japan", "in": "India", "global": "global (any region)", "on_premises": "our own premises"}


def is_customer_data(key: str) -> bool:
    return any(key == prefix or key.startswith(prefix + ".") for prefix in CUSTOMER_DATA)


def is_ourselves(provider: d.Provider | None) -> bool:
    """Our own infrastructure needs no DPA and is nobody's subprocessor (the baseline's reading of not_required)."""
    return provider is not None and provider.dpa is not None and provider.dpa.status.value == "not_required"


@dataclass
class Subprocessor:
    processor: str
    name: str
    legal_entity: str | None
    hq_country: str | None
    transfer_mechanism: str | None
    purposes: list[str] = field(default_factory=list)  # Fides data_use keys of the features using it
    features: list[str] = field(default_factory=list)
    services: list[str] = field(default_factory=list)
    locations: list[str] = field(default_factory=list)  # "eu (eu-central-1)"
    routes: list[str] = field(default_factory=list)
    announced_on: date | None = None
    notice_ends_on: date | None = None

    def status(self, on: date) -> str:
        if self.announced_on is None or self.notice_ends_on is None:
            return "not announced"
        if self.notice_ends_on > on:
            return f"announced {self.announced_on}; receives customer data from {self.notice_ends_on}"
        return f"listed since {self.announced_on}"

    def as_dict(self, on: date) -> dict[str, Any]:
        return {
            "processor": self.processor, "name": self.name, "legal_entity": self.legal_entity,
            "hq_country": self.hq_country, "transfer_mechanism": self.transfer_mechanism,
            "purposes": list(self.purposes), "features": list(self.features), "services": list(self.services),
            "locations": list(self.locations), "routes": list(self.routes),
            "announced_on": self.announced_on.isoformat() if self.announced_on else None,
            "notice_ends_on": self.notice_ends_on.isoformat() if self.notice_ends_on else None,
            "status": self.status(on),
        }


def _add(values: list[str], value: str | None) -> None:
    if value and value not in values:
        values.append(value)


def subprocessor_list(dataset: d.DataSet) -> list[Subprocessor]:
    """The processors on customer-data flows of customer_data features, in provider order."""
    providers = {p.id: p for p in dataset.providers}
    routes = {r.id: r for r in dataset.routes}
    found: dict[str, Subprocessor] = {}
    for feature in dataset.features:
        if not feature.processes_customer_data:
            continue
        for flow in feature.flows:
            route = routes.get(flow.route)
            if route is None or not any(is_customer_data(key) for key in flow.categories):
                continue
            provider = providers.get(route.processor)
            if provider is None or is_ourselves(provider):
                continue
            entry = found.get(provider.id)
            if entry is None:
                entry = found[provider.id] = Subprocessor(
                    provider.id, provider.name, provider.legal_entity, provider.hq_country,
                    provider.transfer_mechanism.value if provider.transfer_mechanism else None)
            for purpose in feature.purposes:
                _add(entry.purposes, purpose)
            _add(entry.features, feature.id)
            _add(entry.services, route.service)
            region = f" ({route.region})" if route.region and route.region != route.residency.value else ""
            _add(entry.locations, route.residency.value + region)
            _add(entry.routes, route.id)
    notice = dataset.notice
    for entry in found.values():
        entry.announced_on = notice.announced_on(entry.processor) if notice else None
        entry.notice_ends_on = notice_ends(entry.announced_on, notice) if notice and entry.announced_on else None
    order = {p.id: i for i, p in enumerate(dataset.providers)}
    return sorted(found.values(), key=lambda s: order[s.processor])


@dataclass(frozen=True)
class NoticeDiff:
    """The list against the announcements made."""

    not_announced: list[str]  # in use for customer data, never announced
    no_longer_used: list[str]  # announced, no customer-data flow uses it now
    in_notice: list[str]  # announced, notice period still running on the day

    def as_dict(self) -> dict[str, Any]:
        return {"not_announced": self.not_announced, "no_longer_used": self.no_longer_used,
                "in_notice": self.in_notice}


def notice_diff(dataset: d.DataSet, on: date) -> NoticeDiff:
    listed = subprocessor_list(dataset)
    used = {s.processor for s in listed}
    announced = [a.processor for a in dataset.notice.announcements] if dataset.notice else []
    return NoticeDiff(
        not_announced=[s.processor for s in listed if s.announced_on is None],
        no_longer_used=[p for p in announced if p not in used],
        in_notice=[s.processor for s in listed if s.notice_ends_on is not None and s.notice_ends_on > on],
    )


def purpose_words(keys: list[str]) -> str:
    names = taxonomy.purposes()
    return "; ".join(names.get(key, key) for key in keys) or "-"


def _md(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(dataset: d.DataSet, on: date, stamp: dict[str, Any], *, diff: bool = False) -> str:
    """The list as a public page: a short preamble, one table, and (with diff) the changes to announce."""
    listed = subprocessor_list(dataset)
    names = {p.id: p.name for p in dataset.providers}
    days = dataset.notice.notice_days if dataset.notice else None
    lines = ["# Subprocessors", ""]
    lines.append("These companies process our customers' data on our behalf to run the features listed "
                 "in our DPA" + (f". We announce a new subprocessor here at least {days} days before it "
                                 "receives customer data." if days is not None else "."))
    lines += ["", f"Last updated: {on.isoformat()}", ""]
    lines.append("| Subprocessor | Legal entity | What it does | Where data is processed | Headquarters "
                 "| Transfer mechanism | Status |")
    lines.append("|---|---|---|---|---|---|---|")
    for s in listed:
        what = f"LLM processing via {', '.join(s.services)} for: {purpose_words(s.purposes)}"
        where = ", ".join(_where(loc) for loc in s.locations)
        lines.append("| " + " | ".join(_md(cell) for cell in [
            s.name, s.legal_entity or "-", what, where, s.hq_country or "-",
            TRANSFER_WORDS.get(s.transfer_mechanism or "", s.transfer_mechanism or "-"), s.status(on)]) + " |")
    if diff:
        changes = notice_diff(dataset, on)
        lines += ["", "## Changes against our announcements", ""]
        lines += [f"- In use for customer data but never announced: {names.get(p, p)}" for p in changes.not_announced]
        lines += [f"- Announced, no longer receiving customer data: {names.get(p, p)}" for p in changes.no_longer_used]
        lines += [f"- Announced, notice period still running: {names.get(p, p)}" for p in changes.in_notice]
        if not (changes.not_announced or changes.no_longer_used or changes.in_notice):
            lines.append("- None: the list and the announcements agree.")
    lines += ["", f"<!-- as of {stamp['as_of']}; policy digest {stamp['policy_digest']}; "
              f"store head {stamp['store_head'] or '-'} -->", ""]
    return "\n".join(lines)


def _where(location: str) -> str:
    residency, _, region = location.partition(" ")
    return RESIDENCY_WORDS.get(residency, residency) + (f" {region}" if region else "")
