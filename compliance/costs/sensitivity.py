"""How monthly LLM cost and margin move when one driver moves by +-20%, per segment (tornado chart)."""

from __future__ import annotations

from datetime import date

import pandas as pd

from compliance.costs.usage import flow_costs, segment_of
from compliance.store import documents as d

DRIVERS = ("users", "requests_per_user", "tokens_per_request", "price", "cached_share")


def _segment_cost(dataset: d.DataSet, on: date, segment: d.CostSegment, driver: str, factor: float) -> float:
    """Monthly LLM cost of a segment with one driver scaled by `factor`."""
    features = {f.id: f for f in dataset.features}
    total = 0.0
    for flow in flow_costs(dataset, on):
        feature = features[flow.feature]
        if flow.price is None or feature.usage is None:
            continue
        owner = segment_of(feature, dataset.costs)
        if owner is None or owner.id != segment.id:
            continue
        usage = feature.usage
        tokens = factor if driver == "tokens_per_request" else 1.0
        cached = min(1.0, (usage.cached_input_share or 0.0) * (factor if driver == "cached_share" else 1.0))
        per_request = flow.share * flow.price.per_request(usage.input_tokens * tokens, usage.output_tokens * tokens,
                                                          cached)
        if driver == "price":
            per_request *= factor
        requests = usage.requests_per_user_month * (factor if driver == "requests_per_user" else 1.0)
        users = segment.users * (factor if driver == "users" else 1.0)
        total += per_request * requests * users * segment.active_share
    return total


def sensitivity_frame(dataset: d.DataSet, on: date, *, swing: float = 0.2) -> pd.DataFrame:
    """One row per segment and driver: cost and margin at -swing and +swing, and the base."""
    rows = []
    for segment in dataset.costs.segments:
        base = _segment_cost(dataset, on, segment, "users", 1.0)
        for driver in DRIVERS:
            row: dict[str, object] = {"segment": segment.id, "driver": driver, "base_cost": base}
            for label, factor in (("low", 1 - swing), ("high", 1 + swing)):
                cost = _segment_cost(dataset, on, segment, driver, factor)
                users = segment.users * (factor if driver == "users" else 1.0)
                revenue = users * segment.revenue_per_user_month
                other = users * segment.other_cogs_per_user_month
                row[f"cost_{label}"] = cost
                row[f"cost_change_{label}"] = cost - base
                row[f"margin_{label}"] = (revenue - cost - other) / revenue if revenue else None
            revenue = segment.users * segment.revenue_per_user_month
            row["base_margin"] = ((revenue - base - segment.users * segment.other_cogs_per_user_month) / revenue
                                  if revenue else None)
            rows.append(row)
    return pd.DataFrame(rows)
