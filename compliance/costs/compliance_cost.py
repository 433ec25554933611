"""What compliance costs: for each declared flow, the cheapest route policy allows for its
categories versus the cheapest route overall for the same model tier.

Allowed or not is asked of the policy engine's one decision function, never re-derived here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import numpy as np

from compliance.costs.prices import PER, Price, PriceNotFound, price_for
from compliance.costs.projection import OTHER_TIER, tier_of
from compliance.costs.usage import active_users, segment_of
from compliance.policy.decide import Decider
from compliance.policy.matrix import Matrix, MatrixResult
from compliance.store import documents as d

if TYPE_CHECKING:
    import pandas as pd


@dataclass(frozen=True)
class Option:
    route: str
    model: str
    monthly_cost: float
    allowed: bool


def options_for(decider: Decider, feature: d.Feature, categories: list[str], tier: str, model: str,
                on: date, monthly_requests: float, allowed: Mapping[str, bool] | None = None) -> list[Option]:
    """Every priceable (route, model) serving the same tier (or the same model when it has no tier).

    `allowed`: route -> whether every category may go there, when the caller has decided it already
    (choose_routes), so no cell is decided twice."""
    dataset = decider.dataset
    usage = feature.usage
    assert usage is not None
    options = []
    for route in dataset.routes:
        candidates = [m for m in route.model_ids if (tier_of(m, dataset.costs.projection) == tier if tier != "other"
                                                  else m == model)]
        if not candidates:
            continue
        ok = allowed[route.id] if allowed is not None else all(
            decider.decide(feature.id, key, route.id, on).allowed for key in categories)
        for candidate in candidates:
            try:
                price = price_for(route, candidate, on, dataset.costs.price_overrides)
            except PriceNotFound:
                continue
            per_request = price.per_request(usage.input_tokens, usage.output_tokens, usage.cached_input_share or 0.0)
            options.append(Option(route.id, candidate, per_request * monthly_requests, ok))
    return options


@dataclass
class _Options:
    """Every priceable (route, model) of one tier, as arrays."""

    routes: list[str]
    models: list[str]
    route_index: np.ndarray
    prices: np.ndarray  # (options, 3): input, output, cached input per million tokens


def _priced_options(dataset: d.DataSet, on: date, route_pos: dict[str, int]) -> dict[str, _Options]:
    by_tier: dict[str, list[tuple[str, str, Price]]] = {}
    for route in dataset.routes:
        for model in route.model_ids:
            try:
                price = price_for(route, model, on, dataset.costs.price_overrides)
            except PriceNotFound:
                continue
            tier = tier_of(model, dataset.costs.projection)
            by_tier.setdefault(tier, []).append((route.id, model, price))
    return {tier: _Options([r for r, _, _ in rows], [m for _, m, _ in rows],
                           np.array([route_pos[r] for r, _, _ in rows], dtype=int),
                           np.array([[p.input, p.output, p.cached_input] for _, _, p in rows], dtype=float))
            for tier, rows in by_tier.items()}


def compliance_cost_frame(decider: Decider, on: date, matrix: MatrixResult | None = None) -> pd.DataFrame:
    """Per flow: current, cheapest allowed and cheapest overall monthly cost, and the differences.

    Whether a route is allowed comes from the policy engine's matrix for `on` (the bulk form of
    the one decision function, tested to agree with it cell by cell).
    """
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    dataset = decider.dataset
    result = matrix or Matrix(decider).evaluate(on)
    feature_pos = {f: i for i, f in enumerate(result.features)}
    category_pos = {c: i for i, c in enumerate(result.categories)}
    route_pos = {r: i for i, r in enumerate(result.routes)}
    tiers = _priced_options(dataset, on, route_pos)
    routes = {r.id: r for r in dataset.routes}
    rows = []
    for feature in dataset.features:
        segment = segment_of(feature, dataset.costs)
        usage = feature.usage
        if usage is None or segment is None:
            for i, flow in enumerate(feature.flows):
                rows_of_flow = result.allowed[feature_pos[feature.id], [category_pos[k] for k in flow.categories]]
                allowed_any = np.asarray(rows_of_flow.all(axis=0))
                rows.append({"feature": feature.id, "flow": i, "route": flow.route, "model": flow.model or "",
                             "compliant": bool(allowed_any[route_pos[flow.route]]),
                             "allowed_routes": [r for r, ok in zip(result.routes, allowed_any, strict=True) if ok],
                             "note": "no usage figures" if usage is None else "no cost segment"})
            continue
        cached = usage.cached_input_share or 0.0
        tokens = np.array([usage.input_tokens * (1 - cached), usage.output_tokens, usage.input_tokens * cached])
        for i, flow in enumerate(feature.flows):
            route = routes[flow.route]
            model = flow.model or (route.model_ids[0] if route.model_ids else "")
            tier = tier_of(model, dataset.costs.projection)
            rows_of_flow = result.allowed[feature_pos[feature.id], [category_pos[k] for k in flow.categories]]
            allowed_routes: np.ndarray = np.asarray(rows_of_flow.all(axis=0))
            compliant = bool(allowed_routes[route_pos[route.id]])
            options = tiers.get(tier)
            allowed_names = [r for r, ok in zip(result.routes, allowed_routes, strict=True) if ok]
            row: dict[str, Any] = {"feature": feature.id, "flow": i, "route": route.id, "model": model, "tier": tier,
                                   "compliant": compliant, "allowed_routes": allowed_names,
                                   "note": None if allowed_names else "no route is allowed for these categories"}
            if options is not None:
                keep = np.ones(len(options.models), dtype=bool) if tier != OTHER_TIER else \
                    np.array([m == model for m in options.models])
                monthly = usage.requests_per_user_month * active_users(segment) * flow.share
                cost = np.where(keep, options.prices @ tokens / PER * monthly, np.inf)
                allowed = keep & allowed_routes[options.route_index]
                current = [j for j, (r, m) in enumerate(zip(options.routes, options.models, strict=True))
                           if r == route.id and m == model]
                cheapest = int(np.argmin(cost)) if np.isfinite(cost).any() else None
                best = int(np.argmin(np.where(allowed, cost, np.inf))) if allowed.any() else None
                row |= {
                    "current_monthly": float(cost[current[0]]) if current else None,
                    "cheapest_route": options.routes[cheapest] if cheapest is not None else None,
                    "cheapest_model": options.models[cheapest] if cheapest is not None else None,
                    "cheapest_monthly": float(cost[cheapest]) if cheapest is not None else None,
                    "cheapest_allowed_route": options.routes[best] if best is not None else None,
                    "cheapest_allowed_model": options.models[best] if best is not None else None,
                    "cheapest_allowed_monthly": float(cost[best]) if best is not None else None,
                }
                if not current:
                    row["note"] = f"{model} on {route.id} has no price"
                if allowed_names and best is None:
                    row["note"] = (f"no allowed route can be priced at the {tier} tier (allowed: "
                                   f"{', '.join(allowed_names)})")
            elif allowed_names:
                row["note"] = f"no route can be priced at the {tier} tier"
            rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["compliance_premium_monthly"] = frame["cheapest_allowed_monthly"] - frame["cheapest_monthly"]
    frame["switch_cost_monthly"] = (frame["cheapest_allowed_monthly"] - frame["current_monthly"]).where(
        ~frame["compliant"].astype(bool))
    return frame


COLUMNS = ["feature", "flow", "route", "model", "tier", "compliant", "current_monthly", "cheapest_route",
           "cheapest_model", "cheapest_monthly", "cheapest_allowed_route", "cheapest_allowed_model",
           "cheapest_allowed_monthly", "compliance_premium_monthly", "switch_cost_monthly", "allowed_routes", "note"]


def compliance_cost_by_feature(dataset: d.DataSet, flows: pd.DataFrame) -> pd.DataFrame:
    """Per feature, what a CFO asks: spend now on the declared routes, on the cheapest routes the policy
    allows, and on the cheapest routes overall (all per month, summed over its flows).

    `flows` is `compliance_cost_frame`'s table. Every feature is listed, also those without usage,
    a cost segment or flows; `no_allowed_route` names the flows no allowed route can serve, and
    `note` says why a figure is missing. A feature's sum is unknown when any of its flows is unknown.
    Computed for all features at once (group by feature), not feature by feature.
    """
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    ids = [f.id for f in dataset.features]
    money_columns = ["current_monthly", "cheapest_allowed_monthly", "cheapest_monthly"]
    by = flows["feature"]
    totals = flows[money_columns].astype(float).groupby(by, sort=False).sum()
    unknown = flows[money_columns].isna().groupby(by, sort=False).any()
    totals = totals.mask(unknown).reindex(ids)
    compliant = flows["compliant"].astype(bool).groupby(by, sort=False).all().reindex(ids, fill_value=True)
    notes: dict[str, list[str]] = {}
    blocked: dict[str, list[str]] = {}
    for feature, flow, route, note, allowed in zip(by, flows["flow"], flows["route"], flows["note"],
                                                  flows["allowed_routes"], strict=True):
        label = f"flow {int(flow) + 1} ({route})"
        if isinstance(note, str):
            notes.setdefault(feature, []).append(f"{label}: {note}")
        if isinstance(allowed, list) and not allowed:
            blocked.setdefault(feature, []).append(label)
    present = set(by)
    for feature in dataset.features:
        if feature.id not in present:
            notes.setdefault(feature.id, []).append("declares no flows" if not feature.flows
                                                    else "no usage figures or cost segment")
    current, allowed_total, cheapest = (totals[c] for c in money_columns)
    return pd.DataFrame({
        "feature": ids, "name": [f.name for f in dataset.features],
        "segment": [f.segment.value for f in dataset.features],
        "compliant": compliant.to_numpy(dtype=bool),
        "current_monthly": current.to_numpy(), "cheapest_allowed_monthly": allowed_total.to_numpy(),
        "cheapest_monthly": cheapest.to_numpy(),
        "saving_on_cheapest_allowed": (current - allowed_total).to_numpy(),
        "compliance_premium": (allowed_total - cheapest).to_numpy(),
        "no_allowed_route": [", ".join(blocked.get(i, [])) for i in ids],
        "note": ["; ".join(notes.get(i, [])) for i in ids],
    }, columns=FEATURE_COLUMNS)


FEATURE_COLUMNS = ["feature", "name", "segment", "compliant", "current_monthly", "cheapest_allowed_monthly",
                   "cheapest_monthly", "saving_on_cheapest_allowed", "compliance_premium", "no_allowed_route", "note"]


def unpriced_reason(decider: Decider, feature_id: str, route_id: str, on: date) -> str:
    """Why a route has no cost for this feature: no model of the feature's tier, no price for its models,
    or a self-hosted route with no configured cost."""
    dataset = decider.dataset
    route = decider.routes[route_id]
    feature = decider.features[feature_id]
    if feature.usage is None:
        return "the feature has no usage figures"
    if not feature.flows:
        return "the feature declares no flows, so there is no model to price"
    if segment_of(feature, dataset.costs) is None:
        return "the feature belongs to no cost segment"
    first = feature.flows[0]
    routes = decider.routes
    model = first.model or (routes[first.route].model_ids[0] if routes[first.route].model_ids else "")
    tier = tier_of(model, dataset.costs.projection)
    candidates = [m for m in route.model_ids if (tier_of(m, dataset.costs.projection) == tier if tier != OTHER_TIER
                                              else m == model)]
    if not candidates:
        return f"no {tier}-tier model on this route" if tier != OTHER_TIER else f"{model} is not offered here"
    if not route.price_provider:
        return "self-hosted with no configured cost (add a price override)"
    return (f"no price for {', '.join(candidates)} at {route.price_provider} in genai-prices and no price override")


def route_costs(decider: Decider, feature_id: str, categories: list[str], on: date,
                allowed: Mapping[str, bool] | None = None) -> dict[str, Option]:
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
    model = first.model or (routes[first.route].model_ids[0] if routes[first.route].model_ids else "")
    monthly_requests = feature.usage.requests_per_user_month * active_users(segment)
    best: dict[str, Option] = {}
    for option in options_for(decider, feature, categories, tier_of(model, dataset.costs.projection), model, on,
                              monthly_requests, allowed):
        if option.route not in best or option.monthly_cost < best[option.route].monthly_cost:
            best[option.route] = option
    return best
