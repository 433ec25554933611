"""Cost tables as pandas DataFrames, ready for the CLI and the dashboard's charts."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from compliance.costs.prices import PriceNotFound
from compliance.costs.usage import FlowCost, active_users, flow_costs, segments_by_feature
from compliance.dates import check_evaluation_day
from compliance.store import documents as d

if TYPE_CHECKING:
    import pandas as pd

DEFAULT_TARGET_MARGIN = 0.6


def _checked(dataset: d.DataSet, on: date, strict: bool) -> list[FlowCost]:
    check_evaluation_day(on)
    flows = flow_costs(dataset, on)
    errors = [f.error for f in flows if f.error]
    if strict and errors:
        raise PriceNotFound("cannot price every flow:\n  " + "\n  ".join(dict.fromkeys(e for e in errors if e)))
    return flows


def flows_frame(dataset: d.DataSet, on: date, *, strict: bool = True) -> pd.DataFrame:
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    rows = [{
        "feature": f.feature, "flow": f.flow, "route": f.route, "model": f.model, "share": f.share,
        "input_per_mtok": f.price.input if f.price else None, "output_per_mtok": f.price.output if f.price else None,
        "cached_input_per_mtok": f.price.cached_input if f.price else None,
        "price_source": f.price.source if f.price else None, "cost_per_request": f.cost_per_request,
        "error": f.error,
    } for f in _checked(dataset, on, strict)]
    return pd.DataFrame(rows, columns=["feature", "flow", "route", "model", "share", "input_per_mtok",
                                       "output_per_mtok", "cached_input_per_mtok", "price_source",
                                       "cost_per_request", "error"])


def feature_costs(dataset: d.DataSet, on: date, *, strict: bool = True) -> pd.DataFrame:
    """Per feature: cost per request, per active user per month, and per month for its segment's users."""
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    return pd.DataFrame(feature_cost_rows(dataset, on, strict=strict))


def feature_cost_rows(dataset: d.DataSet, on: date, *, strict: bool = True) -> list[dict[str, Any]]:
    """`feature_costs`' rows as plain dicts (None where the table has NaN), for callers that price many days."""
    by_feature: dict[str, list[FlowCost]] = {}
    for flow in _checked(dataset, on, strict):
        by_feature.setdefault(flow.feature, []).append(flow)
    owners = segments_by_feature(dataset)
    rows = []
    for feature in dataset.features:
        mine = by_feature.get(feature.id, [])
        segment = owners[feature.id]
        priced = bool(mine) and all(f.cost_per_request is not None for f in mine) and feature.usage is not None
        per_request = sum(f.cost_per_request or 0.0 for f in mine) if priced else None
        requests = feature.usage.requests_per_user_month if feature.usage else None
        per_user = per_request * requests if per_request is not None and requests is not None else None
        users = active_users(segment) if segment else None
        rows.append({
            "feature": feature.id, "name": feature.name, "segment": segment.id if segment else None,
            "cost_per_request": per_request, "requests_per_user_month": requests,
            "cost_per_active_user_month": per_user, "active_users": users,
            "monthly_cost": per_user * users if per_user is not None and users is not None else None,
            "error": "; ".join(f.error for f in mine if f.error) or (None if feature.usage else "no usage figures"),
        })
    return rows


def segment_margins(dataset: d.DataSet, on: date, *, target_margin: float = DEFAULT_TARGET_MARGIN,
                    strict: bool = True, features: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per segment: revenue, LLM cost, gross margin, LLM share of revenue, break-even and usage headroom.

    `features` may pass a `feature_costs` table already computed for the same data and date.
    """
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    if features is None:
        features = feature_costs(dataset, on, strict=strict)
    rows = []
    for segment in dataset.costs.segments:
        llm = float(features.loc[features["segment"] == segment.id, "monthly_cost"].fillna(0).sum())
        revenue = segment.users * segment.revenue_per_user_month
        other = segment.users * segment.other_cogs_per_user_month
        margin = (revenue - llm - other) / revenue if revenue else None
        headroom = (revenue * (1 - target_margin) - other) / llm if llm and revenue else None
        rows.append({
            "segment": segment.id, "name": segment.name or segment.id, "users": segment.users,
            "active_users": active_users(segment), "revenue": revenue, "llm_cost": llm, "other_cogs": other,
            "gross_profit": revenue - llm - other, "gross_margin": margin,
            "llm_share_of_revenue": llm / revenue if revenue else None,
            "llm_cost_per_user": llm / segment.users if segment.users else None,
            "break_even_revenue_per_user": (llm + other) / segment.users if segment.users else None,
            "target_margin": target_margin,
            "usage_multiplier_at_target": headroom,
        })
    return pd.DataFrame(rows)
