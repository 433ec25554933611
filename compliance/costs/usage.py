"""Cost per request, per active user and per month for each feature flow, and segment margins."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from compliance.costs.prices import Price, PriceNotFound, price_for, route_model
from compliance.store import documents as d


@dataclass(frozen=True)
class FlowCost:
    feature: str
    flow: int
    route: str
    model: str
    share: float
    price: Price | None
    cost_per_request: float | None  # this flow's share of one feature request
    error: str | None = None


def segment_of(feature: d.Feature, costs: d.Costs) -> d.CostSegment | None:
    """The cost segment a feature's users belong to: one that lists it, else the one named like its segment."""
    for segment in costs.segments:
        if feature.id in segment.features:
            return segment
    listed = {fid for s in costs.segments for fid in s.features}
    if feature.id in listed:
        return None
    return next((s for s in costs.segments if s.id == feature.segment.value), None)


def segments_by_feature(dataset: d.DataSet) -> dict[str, d.CostSegment | None]:
    """Each feature's cost segment, computed once for a whole table."""
    return {f.id: segment_of(f, dataset.costs) for f in dataset.features}


def flow_costs(dataset: d.DataSet, on: date) -> list[FlowCost]:
    routes = {r.id: r for r in dataset.routes}
    result = []
    for feature in dataset.features:
        usage = feature.usage
        for i, flow in enumerate(feature.flows):
            route = routes[flow.route]
            try:
                model = route_model(route, flow.model)
                price = price_for(route, model, on, dataset.costs.price_overrides)
            except PriceNotFound as exc:
                result.append(FlowCost(feature.id, i, route.id, flow.model or "", flow.share, None, None, str(exc)))
                continue
            per_request = None
            if usage is not None:
                per_request = flow.share * price.per_request(usage.input_tokens, usage.output_tokens,
                                                             usage.cached_input_share or 0.0)
            result.append(FlowCost(feature.id, i, route.id, model, flow.share, price, per_request))
    return result


def active_users(segment: d.CostSegment) -> float:
    return segment.users * segment.active_share
