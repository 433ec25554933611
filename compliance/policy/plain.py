"""Why a decision went the way it did, as plain statements of the facts that decided it.

A rule's own reason template is written before anyone knows which of its conditions will hold,
so it can read like a contradiction ("needs human review (review: true)") or a condition dump.
Here each deciding condition is turned into a sentence about the actual fact: "the feature has
no human review and the route processes in the US"; "Google Cloud's DPA expired on 2027-01-15".
The CLI and the dashboard both show these; the decision record keeps the rendered templates
(`reasons`) and `failed_conditions` as they are.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from compliance.policy.decide import CompiledRule, Decider, Decision
from compliance.policy.evaluate import FALSE, TRUE, UNKNOWN, explain, leaf_test
from compliance.policy.policyset import Leaf, Node, show

RESIDENCY = {"eu": "in the EU", "us": "in the US", "uk": "in the UK", "ca": "in Canada", "au": "in Australia",
             "jp": "in Japan", "in": "in India", "global": "anywhere in the world (global)",
             "on_premises": "on our own premises"}
CERTIFICATES = {"soc2_type2": "SOC 2 Type II report", "soc2_type1": "SOC 2 Type I report",
                "iso27001": "ISO 27001 certificate", "iso27701": "ISO 27701 certificate",
                "iso42001": "ISO 42001 certificate", "hipaa": "HIPAA attestation"}
TRANSFER = {"none": "no transfer mechanism (DPF, SCCs, BCRs or adequacy)", "dpf": "the EU-US Data Privacy Framework",
            "scc": "standard contractual clauses", "bcr": "binding corporate rules",
            "adequacy": "an adequacy decision", "not_applicable": "no transfer (none is needed)"}


def _owner(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _words(value: Any) -> str:
    return show(value).replace("_", " ")


def agreement_phrase(facts: dict[str, Any], prefix: str, kind: str, on: date, signed_on: date | None = None) -> str:
    """The state of a DPA or BAA on `on`, in words."""
    name = facts.get(f"{prefix}.name") or "the processor"
    label = kind.upper()
    status = facts.get(f"{prefix}.{kind}.status")
    expires = facts.get(f"{prefix}.{kind}.expires_on") if kind == "dpa" else None
    active = facts.get(f"{prefix}.{kind}.active")
    if status is None:
        return f"no {label} with {name} is recorded"
    if status == "not_required":
        return f"{name} needs no {label} (status not_required)"
    if status == "signed":
        if active:
            return f"{_owner(name)} {label} is in force" + (f" until {expires.isoformat()}" if expires else "")
        if expires is not None and expires < on:
            return f"{_owner(name)} {label} expired on {expires.isoformat()}"
        if signed_on is not None and signed_on > on:
            return f"{_owner(name)} {label} is signed but only in force from {signed_on.isoformat()}"
        return f"{_owner(name)} {label} is not in force on {on.isoformat()}"
    return {
        "expired": f"{_owner(name)} {label} has expired" + (f" (on {expires.isoformat()})" if expires else ""),
        "terminated": f"{_owner(name)} {label} was terminated",
        "in_review": f"{_owner(name)} {label} is still in review, not signed",
        "requested": f"a {label} with {name} was requested but is not signed",
        "not_started": f"no {label} with {name} has been started",
        "available": f"{name} offers a {label}, but none is signed",
        "not_available": f"{name} offers no {label}",
    }.get(status, f"{_owner(name)} {label} is {_words(status)}, not signed")


def fact_phrase(leaf: Leaf, facts: dict[str, Any], on: date, decider: Decider | None = None) -> str:
    """A sentence about the actual value of the fact a condition tests (not about the condition)."""
    fact = leaf.fact
    value = facts.get(fact)
    route = facts.get("route.name") or "the route"
    subject, _, rest = fact.partition(".")
    if subject in ("processor", "model_provider"):
        name = facts.get(f"{subject}.name") or subject.replace("_", " ")
        kind, _, attribute = rest.partition(".")
        if kind in ("dpa", "baa"):
            if attribute == "days_to_expiry" or attribute == "expires_on":
                expires = facts.get(f"{subject}.dpa.expires_on")
                if expires is None:
                    return f"{_owner(name)} DPA has no expiry date recorded"
                days = (expires - on).days
                when = f"in {days} days" if days >= 0 else f"{-days} days ago"
                return f"{_owner(name)} DPA expires on {expires.isoformat()} ({when})"
            return agreement_phrase(facts, subject, kind, on, _signed_on(decider, facts, subject, kind))
        if rest == "certifications":
            wanted = leaf.value if isinstance(leaf.value, str) else None
            if wanted is not None:
                label = CERTIFICATES.get(wanted, wanted)
                has = wanted in (value or [])
                return f"{name} has a current {label}" if has else f"{name} has no current {label}"
            return f"{_owner(name)} current certifications: {', '.join(value) if value else 'none'}"
        if rest == "transfer_mechanism":
            if value is None:
                return f"no transfer mechanism is recorded for {name}"
            return f"{name} transfers data under {TRANSFER.get(value, _words(value))}"
        if rest == "hq_country":
            return f"{name} is headquartered in {value}" if value else f"{_owner(name)} headquarters are not recorded"
        return f"{_owner(name)} {rest.replace('_', ' ')} is {_words(value)}"
    if fact == "feature.human_review":
        if value is None:
            return "nobody recorded whether the feature has human review"
        return "a person reviews the feature's output" if value else "the feature has no human review"
    if fact == "feature.segment":
        return f"{facts.get('feature.name') or 'the feature'} is a {_words(value)} feature"
    if fact == "category.sensitivity":
        return f"{facts.get('category.name') or 'the category'} is {_words(value)}-sensitivity data"
    if fact == "route.residency":
        return f"the route processes {RESIDENCY.get(value, _words(value))}" if value else \
            "nobody recorded where the route processes"
    if fact == "route.status":
        return f"{route} is {_words(value)}"
    if fact == "route.zero_data_retention":
        if value is None:
            return f"nobody recorded whether zero data retention is in force on {route}"
        return f"zero data retention is in force on {route}" if value else \
            f"zero data retention is not in force on {route}"
    if fact == "route.retention_days":
        if value is None:
            return f"nobody recorded how long {route} keeps prompts"
        return f"{route} keeps prompts for up to {value} days"
    if fact == "route.trains_on_inputs":
        processor = facts.get("processor.name") or "the processor"
        if value is None:
            return f"nobody recorded whether {processor} trains on inputs sent through {route}"
        return f"{processor} may train on inputs sent through {route}" if value else \
            f"{processor} does not train on inputs sent through {route}"
    if fact == "route.stale":
        verified = _last_verified(decider, facts)
        window = decider.freshness_days if decider else 180
        if not value:
            return f"the facts of {route} were verified within {window} days"
        return (f"the facts of {route} were last verified on {verified.isoformat()}, more than {window} days ago"
                if verified else f"the facts of {route} were never verified")
    if value is None or value == []:
        return f"{fact.replace('_', ' ')} is not recorded"
    return f"{fact.replace('_', ' ')} is {_words(value)}"


def _signed_on(decider: Decider | None, facts: dict[str, Any], subject: str, kind: str) -> date | None:
    provider = decider.providers.get(facts.get(f"{subject}.id") or "") if decider else None
    agreement = getattr(provider, kind, None) if provider else None
    return agreement.signed_on if agreement else None


def _last_verified(decider: Decider | None, facts: dict[str, Any]) -> date | None:
    route = decider.routes.get(facts.get("route.id") or "") if decider else None
    return route.last_verified_on if route else None


def holding_leaves(node: Node, facts: dict[str, Any], on: date) -> list[Leaf]:
    """The conditions that made a true (or unknown) condition hold: for `any`, only the parts that held."""
    if node.leaf is not None:
        return [node.leaf] if leaf_test(node.leaf)(facts[node.leaf.fact], on) != FALSE else []
    if node.kind == "not":
        _, misses = explain(node.children[0], facts, on)
        return [leaf for leaf, _, _ in misses]
    if node.kind == "all":
        return [leaf for child in node.children for leaf in holding_leaves(child, facts, on)]
    results = [(explain(child, facts, on)[0], child) for child in node.children]
    best = TRUE if any(r == TRUE for r, _ in results) else UNKNOWN
    return [leaf for r, child in results if r == best for leaf in holding_leaves(child, facts, on)]


def _sentence(phrases: list[str]) -> str:
    unique = list(dict.fromkeys(phrases))
    if len(unique) <= 1:
        return unique[0] if unique else ""
    return ", ".join(unique[:-1]) + " and " + unique[-1]


def facts_of(decider: Decider, decision: Decision) -> dict[str, Any]:
    f = decider.feature_subject(decision.feature)
    c = decider.category_subject(decision.category)
    r = decider.route_subject(decision.route, decision.as_of)
    return {**f.facts, **c.facts, **r.facts}


def rule_statement(compiled: CompiledRule, facts: dict[str, Any], on: date, decider: Decider | None = None) -> str:
    """For a rule that applied: the facts that made it apply."""
    if compiled.rule.when is None:
        return f"rule {compiled.rule.id} applies to every such request"
    leaves = holding_leaves(compiled.rule.when, facts, on)
    return _sentence([fact_phrase(leaf, facts, on, decider) for leaf in leaves])


def missed_statement(compiled: CompiledRule, facts: dict[str, Any], on: date, decider: Decider | None = None) -> str:
    """For an allow rule that did not apply: the facts that kept it from applying."""
    assert compiled.rule.when is not None
    _, misses = explain(compiled.rule.when, facts, on)
    return _sentence([fact_phrase(leaf, facts, on, decider) for leaf, _, _ in misses])


def plain_reasons(decider: Decider, decision: Decision) -> list[str]:
    """One plain statement per deciding rule (or, for a default deny, per allow rule that missed)."""
    facts = facts_of(decider, decision)
    by_id = {c.rule.id: c for c in decider.rules}
    on = decision.as_of
    if decision.rules:
        return [rule_statement(by_id[rule_id], facts, on, decider) for rule_id in decision.rules]
    missed = list(dict.fromkeys(item["rule"] for item in decision.failed_conditions))
    if not missed:
        return [f"no allow rule covers {facts.get('category.name') or decision.category} on "
                f"{facts.get('route.name') or decision.route}"]
    return [missed_statement(by_id[rule_id], facts, on, decider) for rule_id in missed]


def plain_reason(decider: Decider, decision: Decision) -> str:
    """All the plain statements of a decision in one line."""
    return "; ".join(dict.fromkeys(plain_reasons(decider, decision)))


def decision_json(decider: Decider, decision: Decision) -> dict[str, Any]:
    """The decision record plus its plain statements and the reason templates of its rules."""
    by_id = {c.rule.id: c for c in decider.rules}
    templates = {rule: by_id[rule].rule.reason for rule in decision.rules} or {
        item["rule"]: by_id[item["rule"]].rule.reason for item in decision.failed_conditions}
    return {**decision.as_dict(), "plain_reasons": plain_reasons(decider, decision), "reason_templates": templates}
