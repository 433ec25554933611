"""How monthly LLM cost and margin move when one driver moves by +-20%, per segment (tornado chart).

Cost is linear in users, requests per user, tokens per request and price, so those drivers scale
the segment's cost directly; the cached-input share shifts input tokens between the fresh and the
cached price, so it is recomputed per flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from compliance.costs.usage import flow_costs, segments_by_feature
from compliance.store import documents as d

DRIVERS = ("users", "requests_per_user", "tokens_per_request", "price", "cached_share")


@dataclass(frozen=True)
class _FlowTerms:
    """One flow's monthly cost = volume x (fresh x (1 - cached) + cached_price x cached + output)."""

    volume: float  # requests per month in the segment, times the flow's share, per million tokens
    fresh: float
    cached_price: float
    output: float
    cached: float

    def cost(self, cached: float) -> float:
        return self.volume * (self.fresh * (1 - cached) + self.cached_price * cached + self.output)


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


def sensitivity_frame(dataset: d.DataSet, on: date, *, swing: float = 0.2) -> pd.DataFrame:
    """One row per segment and driver: cost and margin at -swing and +swing, and the base."""
    rows = []
    terms = _terms(dataset, on)
    for segment in dataset.costs.segments:
        flows = terms[segment.id]
        base = sum(t.cost(t.cached) for t in flows)
        revenue = segment.users * segment.revenue_per_user_month
        other = segment.users * segment.other_cogs_per_user_month
        base_margin = (revenue - base - other) / revenue if revenue else None
        for driver in DRIVERS:
            row: dict[str, object] = {"segment": segment.id, "driver": driver, "base_cost": base,
                                      "base_margin": base_margin}
            for label, factor in (("low", 1 - swing), ("high", 1 + swing)):
                if driver == "cached_share":
                    cost = sum(t.cost(min(1.0, t.cached * factor)) for t in flows)
                else:
                    cost = base * factor
                scale = factor if driver == "users" else 1.0  # more users bring more revenue too
                row[f"cost_{label}"] = cost
                row[f"cost_change_{label}"] = cost - base
                row[f"margin_{label}"] = ((revenue - other) * scale - cost) / (revenue * scale) if revenue else None
            rows.append(row)
    return pd.DataFrame(rows)
