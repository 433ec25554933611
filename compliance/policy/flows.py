"""Declared flows and route choices, answered with the one decision function."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from compliance.models.lifecycle import flow_model, retirement_problem
from compliance.policy.decide import Decider, Decision
from compliance.policy.evidence import note
from compliance.store.documents import Flow


@dataclass(frozen=True)
class FlowResult:
    """A feature's declared flow (route + categories): compliant when every category is allowed."""

    feature: str
    index: int
    route: str
    model: str | None
    share: float
    decisions: tuple[Decision, ...]
    retired: str | None = None  # why the flow's model no longer answers (models/lifecycle.py), or None

    @property
    def compliant(self) -> bool:
        return self.retired is None and all(d.allowed for d in self.decisions)

    @property
    def violations(self) -> tuple[Decision, ...]:
        return tuple(d for d in self.decisions if not d.allowed)

    @property
    def verified(self) -> bool:
        """Every fact its categories' decisions read has a verified source (`flows --require-verified`)."""
        return all(d.verified for d in self.decisions)

    @property
    def evidence_note(self) -> str:
        return note(self.compliant, [e for d in self.decisions for e in d.evidence])


@dataclass(frozen=True)
class RouteOption:
    """One route for a feature and a set of categories: allowed only if every category is."""

    route: str
    decisions: tuple[Decision, ...]

    @property
    def allowed(self) -> bool:
        return all(d.allowed for d in self.decisions)

    @property
    def verified(self) -> bool:
        return all(d.verified for d in self.decisions)

    @property
    def evidence_note(self) -> str:
        """"allowed, but rests on 2 unverified facts: ...", over every category's decision; "" if all verified."""
        return note(self.allowed, [e for d in self.decisions for e in d.evidence])


def evaluate_flows(decider: Decider, on: date, feature: str | None = None) -> list[FlowResult]:
    features = decider.dataset.features
    if feature is not None:
        decider.check_known("feature", feature, decider.features)
        features = [decider.features[feature]]
    return [
        FlowResult(f.id, i, flow.route, flow.model, flow.share,
                   tuple(decider.decide(f.id, key, flow.route, on, flow.model) for key in flow.categories),
                   retirement_problem(decider.routes.get(flow.route),
                                      flow_model(flow, decider.routes.get(flow.route)), on))
        for f in features for i, flow in enumerate(f.flows)
    ]


def denied_categories(decider: Decider, feature: str, flow: Flow, on: date) -> tuple[str, ...]:
    """The categories of a declared flow that policy denies on `on` (none: every one is allowed), without
    decision records: for questions asked on many days (what a change breaks or allows)."""
    return tuple(key for key in flow.categories if not decider.allowed(feature, key, flow.route, on, flow.model))


def route_options(decider: Decider, feature: str, categories: list[str], on: date) -> list[RouteOption]:
    """Every route for the request, allowed ones first (store order within each group)."""
    options = [RouteOption(r.id, tuple(decider.decide(feature, key, r.id, on) for key in categories))
               for r in decider.dataset.routes]
    return sorted(options, key=lambda o: not o.allowed)
