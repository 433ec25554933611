"""Monthly projection of users, LLM cost and margin per segment, under price-decline scenarios.

Prices fall per capability tier, not per model (domain notes): each model belongs to a tier in
`projection.tiers`, and each scenario gives an annual decline per tier (`tier_scenarios`) or for
all tiers (`scenarios`). The core is vectorised over any number of scenario variations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

import numpy as np

from compliance.costs.usage import flow_costs, segments_by_feature
from compliance.dates import check_evaluation_day
from compliance.store import documents as d

if TYPE_CHECKING:
    import pandas as pd

OTHER_TIER = "other"


def tier_of(model: str, projection: d.Projection) -> str:
    for tier, models in projection.tiers.items():
        if model in models:
            return tier
    return OTHER_TIER


def decline(projection: d.Projection, scenario: str, tier: str) -> float:
    """Annual price decline of `tier` under `scenario`."""
    return projection.tier_scenarios.get(tier, {}).get(scenario, projection.scenarios[scenario])


@dataclass(frozen=True)
class Projected:
    """Arrays of shape (variations, months)."""

    users: np.ndarray
    revenue: np.ndarray
    llm_cost: np.ndarray
    other_cogs: np.ndarray

    @property
    def gross_margin(self) -> np.ndarray:
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(self.revenue > 0, (self.revenue - self.llm_cost - self.other_cogs) / self.revenue, np.nan)


def project(base_cost: np.ndarray, users: np.ndarray, growth: np.ndarray, revenue_per_user: np.ndarray,
            other_per_user: np.ndarray, declines: np.ndarray, months: int) -> Projected:
    """Project V variations over `months` months.

    base_cost: (V, T) monthly LLM cost today per tier; declines: (V, T) annual decline per tier;
    users, growth, revenue_per_user, other_per_user: (V,). Month 0 is the evaluation month.
    """
    m = np.arange(months, dtype=float)
    user_path = users[:, None] * (1 + growth[:, None]) ** m[None, :]  # (V, M)
    scale = user_path / np.where(users > 0, users, 1)[:, None]
    price_path = (1 - declines)[:, :, None] ** (m[None, None, :] / 12)  # (V, T, M)
    llm = np.einsum("vt,vtm->vm", base_cost, price_path) * scale
    return Projected(user_path, user_path * revenue_per_user[:, None], llm, user_path * other_per_user[:, None])


def cost_by_segment_and_tier(dataset: d.DataSet, on: date) -> dict[str, dict[str, float]]:
    """Today's monthly LLM cost of each cost segment, split by model tier."""
    features = {f.id: f for f in dataset.features}
    owners = segments_by_feature(dataset)
    result: dict[str, dict[str, float]] = {s.id: {} for s in dataset.costs.segments}
    for flow in flow_costs(dataset, on):
        feature = features[flow.feature]
        segment = owners[feature.id]
        if segment is None or flow.cost_per_request is None or feature.usage is None:
            continue
        monthly = flow.cost_per_request * feature.usage.requests_per_user_month * segment.users * segment.active_share
        tier = tier_of(flow.model, dataset.costs.projection)
        result[segment.id][tier] = result[segment.id].get(tier, 0.0) + monthly
    return result


def projection_frame(dataset: d.DataSet, on: date, *, scenario: str | None = None,
                     segment: str | None = None) -> pd.DataFrame:
    """Long table: one row per segment, scenario and month."""
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    check_evaluation_day(on)
    projection = dataset.costs.projection
    scenarios = [scenario] if scenario else list(projection.scenarios)
    costs = cost_by_segment_and_tier(dataset, on)
    tiers = sorted({t for by_tier in costs.values() for t in by_tier} | set(projection.tiers))
    segments = [s for s in dataset.costs.segments if segment is None or s.id == segment]
    rows = []
    for seg in segments:
        base = np.array([[costs[seg.id].get(t, 0.0) for t in tiers] for _ in scenarios])
        declines = np.array([[decline(projection, name, t) for t in tiers] for name in scenarios])
        n = len(scenarios)
        result = project(base, np.full(n, float(seg.users)), np.full(n, seg.monthly_growth),
                         np.full(n, seg.revenue_per_user_month), np.full(n, seg.other_cogs_per_user_month),
                         declines, projection.months)
        margin = result.gross_margin
        for i, name in enumerate(scenarios):
            for month in range(projection.months):
                rows.append({
                    "segment": seg.id, "scenario": name, "month": month,
                    "date": pd.Timestamp(on) + pd.DateOffset(months=month),
                    "users": result.users[i, month], "revenue": result.revenue[i, month],
                    "llm_cost": result.llm_cost[i, month], "other_cogs": result.other_cogs[i, month],
                    "gross_margin": margin[i, month],
                    "llm_share_of_revenue": (result.llm_cost[i, month] / result.revenue[i, month]
                                             if result.revenue[i, month] else np.nan),
                })
    return pd.DataFrame(rows)
