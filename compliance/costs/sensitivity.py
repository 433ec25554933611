"""How monthly LLM cost and gross margin move when one input moves by +-20%, per segment (tornado chart).

Each driver changes the input it names and nothing else, and the cost is recomputed from the
flow's terms (tested against a full recomputation on a changed data set):
- users: more users bring more LLM cost, more revenue and more other cost of goods;
- requests per active user, input tokens, output tokens, the cached share of input, and
  token prices change the LLM cost only (input and output tokens are priced differently);
- revenue per user changes revenue only.
Many inputs move the LLM cost by the same 20% because the cost is linear in them; their
effects differ on the margin, which is why both are given.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from compliance.costs.usage import flow_costs, segments_by_feature
from compliance.store import documents as d

if TYPE_CHECKING:
    import pandas as pd

DRIVERS = ("users", "requests_per_user", "input_tokens", "output_tokens", "cached_share", "price",
           "revenue_per_user")
DRIVER_LABELS = {"users": "users", "requests_per_user": "requests per active user",
                 "input_tokens": "input tokens per request", "output_tokens": "output tokens per request",
                 "cached_share": "cached share of input", "price": "token prices",
                 "revenue_per_user": "revenue per user"}


@dataclass(frozen=True)
class _FlowTerms:
    """One flow's monthly cost = volume x price x (input x (fresh x (1 - cached) + cached_price x cached) + output)."""

    volume: float  # requests per month in the segment, times the flow's share, per million tokens
    fresh: float  # input tokens x fresh input price
    cached_price: float  # input tokens x cached input price
    output: float  # output tokens x output price
    cached: float

    def cost(self, *, volume: float = 1.0, input_tokens: float = 1.0, output_tokens: float = 1.0,
             price: float = 1.0, cached: float | None = None) -> float:
        share = self.cached if cached is None else cached
        input_cost = input_tokens * (self.fresh * (1 - share) + self.cached_price * share)
        per_request = input_cost + output_tokens * self.output
        return self.volume * volume * price * per_request


def _terms(dataset: d.DataSet, on: date) -> dict[str, list[_FlowTerms]]:
    features = {f.id: f for f in dataset.features}
    owners = segments_by_feature(dataset)
    terms: dict[str, list[_FlowTerms]] = {s.id: [] for s in dataset.costs.segments}
    for flow in flow_costs(dataset, on):
        feature, segment = features[flow.feature], owners[flow.feature]
        if flow.price is None or feature.usage is None or segment is None:
            continue
        usage = feature.usage
        volume = flow.share * usage.requests_per_user_month * segment.users * segment.active_share / 1_000_000
        terms[segment.id].append(_FlowTerms(volume, usage.input_tokens * flow.price.input,
                                            usage.input_tokens * flow.price.cached_input,
                                            usage.output_tokens * flow.price.output, usage.cached_input_share or 0.0))
    return terms


def _cost(flows: list[_FlowTerms], driver: str, factor: float) -> float:
    if driver in ("users", "requests_per_user"):
        return sum(t.cost(volume=factor) for t in flows)
    if driver == "input_tokens":
        return sum(t.cost(input_tokens=factor) for t in flows)
    if driver == "output_tokens":
        return sum(t.cost(output_tokens=factor) for t in flows)
    if driver == "price":
        return sum(t.cost(price=factor) for t in flows)
    if driver == "cached_share":
        return sum(t.cost(cached=min(1.0, t.cached * factor)) for t in flows)
    return sum(t.cost() for t in flows)  # revenue per user: the LLM cost does not move


def sensitivity_frame(dataset: d.DataSet, on: date, *, swing: float = 0.2) -> pd.DataFrame:
    """One row per segment and driver: LLM cost and gross margin at -swing and +swing, and the base.

    A segment without revenue has no margin (None), never a made-up one.
    """
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    rows = []
    terms = _terms(dataset, on)
    for segment in dataset.costs.segments:
        flows = terms[segment.id]
        base = sum(t.cost() for t in flows)
        revenue = segment.users * segment.revenue_per_user_month
        other = segment.users * segment.other_cogs_per_user_month
        base_margin = (revenue - base - other) / revenue if revenue else None
        for driver in DRIVERS:
            row: dict[str, object] = {"segment": segment.id, "driver": driver, "label": DRIVER_LABELS[driver],
                                      "base_cost": base, "base_margin": base_margin}
            for label, factor in (("low", 1 - swing), ("high", 1 + swing)):
                cost = _cost(flows, driver, factor)
                users_scale = factor if driver == "users" else 1.0
                revenue_scale = factor if driver in ("users", "revenue_per_user") else 1.0
                new_revenue, new_other = revenue * revenue_scale, other * users_scale
                margin = (new_revenue - cost - new_other) / new_revenue if new_revenue else None
                row[f"cost_{label}"] = cost
                row[f"cost_change_{label}"] = cost - base
                row[f"margin_{label}"] = margin
                row[f"margin_change_{label}"] = (margin - base_margin) if margin is not None and \
                    base_margin is not None else None
            rows.append(row)
    return pd.DataFrame(rows)
