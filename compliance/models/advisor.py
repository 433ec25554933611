"""The model advisor: for a feature, the cheapest (route, model) the policy allows that is good
enough (its eval meets the feature's quality need) and fast enough (its expected latency meets
the latency need), with what switching would save against today's flows (models.md).

Allowed or not comes from `choose_routes` (the one decision function); prices from the cost
model's `price_for`; nothing here re-derives a decision.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from compliance.costs.prices import PriceNotFound, price_for
from compliance.costs.usage import active_users, segment_of
from compliance.models.lifecycle import flow_model, retired
from compliance.policy.decide import Decider
from compliance.policy.facts import SUBJECT_OF
from compliance.routechoice import choose_routes
from compliance.store import documents as d


@dataclass(frozen=True)
class ModelOption:
    """One (route, model) for a feature, with every fact the choice weighs."""

    route: str
    model: str
    allowed: bool
    denied_by: tuple[str, ...]  # deciding deny rules ("default deny" when no allow rule applied)
    monthly_cost: float | None  # at the feature's whole usage; None when the model has no price
    score: float | None  # eval score on the feature's quality metric; None: no eval
    eval_source: str | None
    latency_ms: float | None  # expected latency of one request (TTFT + output tokens / throughput)
    latency_verified: bool  # the latency fact names a source
    indemnified: bool | None
    retired_on: date | None
    meets_quality: bool
    meets_latency: bool
    current: bool  # one of the feature's declared flows uses it today

    @property
    def eligible(self) -> bool:
        return (self.allowed and self.retired_on is None and self.monthly_cost is not None
                and self.meets_quality and self.meets_latency)

    def as_dict(self) -> dict[str, Any]:
        return {"route": self.route, "model": self.model, "allowed": self.allowed, "denied_by": list(self.denied_by),
                "monthly_cost": self.monthly_cost, "score": self.score, "eval_source": self.eval_source,
                "expected_latency_ms": self.latency_ms, "latency_verified": self.latency_verified,
                "ip_indemnity": self.indemnified,
                "retired_on": self.retired_on.isoformat() if self.retired_on else None,
                "meets_quality": self.meets_quality, "meets_latency": self.meets_latency, "current": self.current}


@dataclass(frozen=True)
class Advice:
    feature: str
    as_of: date
    categories: tuple[str, ...]
    quality: d.QualityNeed | None
    latency: d.LatencyNeed | None
    options: tuple[ModelOption, ...]  # allowed first, then denied; cheapest first within each
    recommendation: ModelOption | None
    current_monthly: float | None  # today's flows, each at its share
    why_not: dict[tuple[str, str], str] = field(default_factory=dict)  # cheaper options not chosen -> why
    problem: str | None = None  # why nothing could be advised (no usage, no segment)
    note: str | None = None  # what the recommendation does not rest on (no stated need)

    @property
    def saving_monthly(self) -> float | None:
        """What switching every flow to the recommendation saves per month (negative: it costs more)."""
        if self.recommendation is None or self.current_monthly is None or self.recommendation.monthly_cost is None:
            return None
        return self.current_monthly - self.recommendation.monthly_cost

    def as_dict(self) -> dict[str, Any]:
        rec = self.recommendation
        return {
            "feature": self.feature, "as_of": self.as_of.isoformat(), "categories": list(self.categories),
            "quality": self.quality.model_dump() if self.quality else None,
            "latency": self.latency.model_dump() if self.latency else None,
            "current_monthly": self.current_monthly, "saving_monthly": self.saving_monthly,
            "recommendation": {"route": rec.route, "model": rec.model} if rec else None,
            "why_not": [{"route": r, "model": m, "why": why} for (r, m), why in self.why_not.items()],
            "options": [o.as_dict() for o in self.options], "problem": self.problem, "note": self.note,
        }


def eval_for(evals: list[d.EvalResult], feature: str, metric: str, route: str, model: str) -> d.EvalResult | None:
    """The latest eval of `model` on the feature's metric: on this route, else a route-less run of the model."""
    on_route = [e for e in evals if e.feature == feature and e.metric == metric and e.model == model
                and e.route == route]
    anywhere = [e for e in evals if e.feature == feature and e.metric == metric and e.model == model
                and e.route is None]
    found = on_route or anywhere
    return max(found, key=lambda e: e.run_on) if found else None


def _categories(feature: d.Feature) -> list[str]:
    seen: list[str] = []
    for flow in feature.flows:
        seen += [key for key in flow.categories if key not in seen]
    return seen


def advise(decider: Decider, feature_id: str, on: date) -> Advice:
    """Every (route, model) for the feature's declared categories, and the cheapest good-enough allowed one."""
    dataset = decider.dataset
    decider.check_known("feature", feature_id, decider.features)
    feature = decider.features[feature_id]
    categories = _categories(feature)
    segment = segment_of(feature, dataset.costs)
    usage = feature.usage
    if not categories or usage is None or segment is None:
        why = "it declares no flows" if not categories else "it has no usage or cost segment to price"
        return Advice(feature.id, on, tuple(categories), feature.quality, feature.latency, (), None, None,
                      problem=f"cannot advise {feature.id}: {why}")
    monthly_requests = usage.requests_per_user_month * active_users(segment)
    choice = choose_routes(decider, feature.id, categories, on)
    routes = {r.id: r for r in dataset.routes}

    def cost(route: d.Route, model: str) -> float | None:
        try:
            price = price_for(route, model, on, dataset.costs.price_overrides)
        except PriceNotFound:
            return None
        return price.per_request(usage.input_tokens, usage.output_tokens, usage.cached_input_share or 0.0) \
            * monthly_requests

    current = {(flow.route, flow_model(flow, routes.get(flow.route))) for flow in feature.flows}
    names_model = any(SUBJECT_OF[leaf.fact] == "model" for leaf in decider.leaves)
    options = []
    for route_option in choice.options:
        route = routes[route_option.route]
        for model in route.model_ids:
            decisions = route_option.decisions
            if names_model:  # the policy reads model.* facts: ask again, naming the model
                decisions = tuple(decider.decide(feature.id, key, route.id, on, model) for key in categories)
            allowed = all(dec.allowed for dec in decisions)
            denied = sorted({rule for dec in decisions if not dec.allowed for rule in (dec.rules or ("default deny",))})
            ev = eval_for(dataset.evals, feature.id, feature.quality.metric, route.id, model) \
                if feature.quality else None
            fact = route.latency_of(model)
            latency = fact.expected_ms(usage.output_tokens) if fact else None
            entry = retired(route, model, on)
            options.append(ModelOption(
                route=route.id, model=model, allowed=allowed, denied_by=tuple(denied),
                monthly_cost=cost(route, model), score=ev.score if ev else None, eval_source=ev.source if ev else None,
                latency_ms=latency, latency_verified=bool(fact and fact.source),
                indemnified=route.ip_indemnity.covered if route.ip_indemnity else None,
                retired_on=entry.retires_on if entry else None,
                meets_quality=feature.quality is None or (ev is not None and ev.score >= feature.quality.min),
                meets_latency=feature.latency is None or (latency is not None and latency <= feature.latency.p50_ms),
                current=(route.id, model) in current,
            ))
    inf = float("inf")
    options.sort(key=lambda o: (not o.allowed, o.monthly_cost if o.monthly_cost is not None else inf))
    # A need not stated is met by every option (models.md: the cheapest option that meets the needs), so a
    # feature without needs gets the cheapest allowed option, with a note that no eval stands behind it.
    eligible = [o for o in options if o.eligible]
    best = min(eligible, key=lambda o: o.monthly_cost or 0.0) if eligible else None
    current_monthly = _current_monthly(feature, routes, cost)
    limit = best.monthly_cost if best and best.monthly_cost is not None else inf
    why_not = {(o.route, o.model): why_not_chosen(o, feature)
               for o in options if o is not best and o.monthly_cost is not None and o.monthly_cost <= limit}
    note = None if feature.quality else (f"{feature.id} states no quality need, so no eval says the recommendation "
                                         "is good enough: add quality: {metric, min} and import evals")
    return Advice(feature.id, on, tuple(categories), feature.quality, feature.latency, tuple(options), best,
                  current_monthly, why_not, note=note)


def _current_monthly(feature: d.Feature, routes: dict[str, d.Route], cost: Any) -> float | None:
    total = 0.0
    for flow in feature.flows:
        route = routes.get(flow.route)
        model = flow_model(flow, route)
        value = cost(route, model) if route is not None and model else None
        if value is None:
            return None
        total += value * flow.share
    return total


def why_not_chosen(option: ModelOption, feature: d.Feature) -> str:
    """Why a cheaper option is not the recommendation, in the words of the need it fails."""
    reasons = []
    if not option.allowed:
        reasons.append(f"denied by policy ({', '.join(option.denied_by)})")
    if option.retired_on is not None:
        reasons.append(f"retired on {option.retired_on}")
    if feature.quality and not option.meets_quality:
        metric, need = feature.quality.metric, feature.quality.min
        reasons.append(f"no eval on {metric}" if option.score is None
                       else f"eval {metric} {option.score:.2f} is below the {need:.2f} needed")
    if feature.latency and not option.meets_latency:
        need_ms = feature.latency.p50_ms
        reasons.append("no latency measured" if option.latency_ms is None
                       else f"expected latency {option.latency_ms / 1000:.1f} s is over the "
                            f"{need_ms / 1000:.1f} s needed")
    return "; ".join(reasons) or "costs the same as the recommendation"


@dataclass(frozen=True)
class Portfolio:
    as_of: date
    advice: tuple[Advice, ...]

    @property
    def saving_monthly(self) -> float:
        """Switching every feature that has a recommendation and a priced current state to it."""
        return sum(a.saving_monthly for a in self.advice if a.saving_monthly is not None)


def advise_portfolio(decider: Decider, on: date) -> Portfolio:
    return Portfolio(on, tuple(advise(decider, f.id, on) for f in decider.dataset.features))
