"""What compliance costs: for each declared flow, the cheapest route policy allows for its
categories versus the cheapest route overall for the same model tier.

Allowed or not is asked of the policy engine's one decision function, never re-derived here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from compliance.costs.prices import PriceNotFound, price_for
from compliance.costs.projection import tier_of
from compliance.costs.usage import active_users, segment_of
from compliance.policy.decide import Decider
from compliance.store import documents as d


@dataclass(frozen=True)
class Option:
    route: str
    model: str
    monthly_cost: float
    allowed: bool


def options_for(decider: Decider, feature: d.Feature, categories: list[str], tier: str, model: str,
                on: date, monthly_requests: float) -> list[Option]:
    """Every priceable (route, model) serving the same tier (or the same model when it has no tier)."""
    dataset = decider.dataset
    usage = feature.usage
    assert usage is not None
    options = []
    for route in dataset.routes:
        candidates = [m for m in route.models if (tier_of(m, dataset.costs.projection) == tier if tier != "other"
                                                  else m == model)]
        if not candidates:
            continue
        allowed = all(decider.decide(feature.id, key, route.id, on).allowed for key in categories)
        for candidate in candidates:
            try:
                price = price_for(route, candidate, on, dataset.costs.price_overrides)
            except PriceNotFound:
                continue
            per_request = price.per_request(usage.input_tokens, usage.output_tokens, usage.cached_input_share or 0.0)
            options.append(Option(route.id, candidate, per_request * monthly_requests, allowed))
    return options


def compliance_cost_frame(decider: Decider, on: date) -> pd.DataFrame:
    """Per flow: current, cheapest allowed and cheapest overall monthly cost, and the differences."""
    dataset = decider.dataset
    routes = {r.id: r for r in dataset.routes}
    rows = []
    for feature in dataset.features:
        segment = segment_of(feature, dataset.costs)
        if feature.usage is None or segment is None:
            continue
        for i, flow in enumerate(feature.flows):
            route = routes[flow.route]
            model = flow.model or (route.models[0] if route.models else "")
            monthly_requests = feature.usage.requests_per_user_month * active_users(segment) * flow.share
            tier = tier_of(model, dataset.costs.projection)
            options = options_for(decider, feature, flow.categories, tier, model, on, monthly_requests)
            current = next((o for o in options if o.route == route.id and o.model == model), None)
            compliant = all(decider.decide(feature.id, key, route.id, on).allowed for key in flow.categories)
            cheapest = min(options, key=lambda o: o.monthly_cost, default=None)
            cheapest_allowed = min((o for o in options if o.allowed), key=lambda o: o.monthly_cost, default=None)
            rows.append({
                "feature": feature.id, "flow": i, "route": route.id, "model": model, "tier": tier,
                "compliant": compliant, "current_monthly": current.monthly_cost if current else None,
                "cheapest_route": cheapest.route if cheapest else None,
                "cheapest_model": cheapest.model if cheapest else None,
                "cheapest_monthly": cheapest.monthly_cost if cheapest else None,
                "cheapest_allowed_route": cheapest_allowed.route if cheapest_allowed else None,
                "cheapest_allowed_model": cheapest_allowed.model if cheapest_allowed else None,
                "cheapest_allowed_monthly": cheapest_allowed.monthly_cost if cheapest_allowed else None,
                "compliance_premium_monthly": (cheapest_allowed.monthly_cost - cheapest.monthly_cost
                                               if cheapest and cheapest_allowed else None),
                "switch_cost_monthly": (cheapest_allowed.monthly_cost - current.monthly_cost
                                        if not compliant and cheapest_allowed and current else None),
            })
    return pd.DataFrame(rows)


def route_costs(decider: Decider, feature_id: str, categories: list[str], on: date) -> dict[str, Option]:
    """For each route, the cheapest way to serve the feature's usage at the tier of its main model.

    The main model is the one of the feature's first declared flow; without flows or usage there
    is nothing to price and the result is empty.
    """
    dataset = decider.dataset
    decider.check_known("feature", feature_id, decider.features)
    feature = decider.features[feature_id]
    segment = segment_of(feature, dataset.costs)
    if feature.usage is None or not feature.flows or segment is None:
        return {}
    routes = {r.id: r for r in dataset.routes}
    first = feature.flows[0]
    model = first.model or (routes[first.route].models[0] if routes[first.route].models else "")
    monthly_requests = feature.usage.requests_per_user_month * active_users(segment)
    best: dict[str, Option] = {}
    for option in options_for(decider, feature, categories, tier_of(model, dataset.costs.projection), model, on,
                              monthly_requests):
        if option.route not in best or option.monthly_cost < best[option.route].monthly_cost:
            best[option.route] = option
    return best
