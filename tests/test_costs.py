"""Cost arithmetic on hand-computed cases, the unknown-price error, projection and history."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import pytest

from compliance.costs import (
    PriceNotFound,
    feature_costs,
    price_for,
    project,
    projection_frame,
    segment_margins,
    sensitivity_frame,
)
from compliance.costs.history import GPT4_CLASS, blended, fitted_annual_decline, gpt4_class_points, launch_ratio
from compliance.costs.prices import list_price
from compliance.store import documents as d

D = date(2026, 11, 30)


def store(routes: list[dict[str, Any]] | None = None, overrides: list[dict[str, Any]] | None = None,
          usage: dict[str, Any] | None = None, flows: list[dict[str, Any]] | None = None,
          segment: dict[str, Any] | None = None, projection: dict[str, Any] | None = None) -> d.DataSet:
    base_route = {"id": "api", "name": "API", "model_provider": "vendor", "processor": "vendor", "service": "S",
                  "residency": "us", "zero_data_retention": False, "trains_on_inputs": False, "status": "approved",
                  "price_provider": "openai", "models": ["gpt-5", "gpt-5-mini"], "last_verified_on": D}
    return d.DataSet.model_validate({
        "providers": [{"id": "vendor", "name": "Vendor", "dpa": {"status": "signed"}}],
        "routes": routes or [base_route],
        "categories": [{"key": "user", "name": "user", "sensitivity": "moderate"},
                       {"key": "user.health", "name": "health", "sensitivity": "special"}],
        "features": [{"id": "feat", "name": "Feat", "segment": "b2b", "human_review": True,
                      "flows": flows or [{"route": "api", "categories": ["user"], "model": "gpt-5"}],
                      "usage": usage or {"requests_per_user_month": 100, "input_tokens": 1000,
                                         "output_tokens": 500, "cached_input_share": 0.2}}],
        "costs": {"segments": [segment or {"id": "b2b", "users": 1000, "active_share": 0.5,
                                           "revenue_per_user_month": 10.0, "other_cogs_per_user_month": 1.0}],
                  "projection": projection or {"months": 13, "scenarios": {"base": 0.5}},
                  "price_overrides": overrides or []},
    })


NEGOTIATED = {"id": "deal", "price_provider": "openai", "model": "gpt-5", "input": 2.0, "output": 8.0,
              "cached_input": 0.5, "note": "negotiated"}


def test_cost_per_request_with_cached_input_by_hand() -> None:
    costs = feature_costs(store(overrides=[NEGOTIATED]), D)
    # 800 fresh input x $2 + 200 cached x $0.5 + 500 output x $8, per million tokens
    assert costs.loc[0, "cost_per_request"] == pytest.approx((800 * 2 + 200 * 0.5 + 500 * 8) / 1e6)
    assert costs.loc[0, "cost_per_active_user_month"] == pytest.approx(0.0057 * 100)
    assert costs.loc[0, "monthly_cost"] == pytest.approx(0.57 * 500)  # 1,000 users, half active


def test_list_price_comes_from_genai_prices_with_its_source() -> None:
    route = store().routes[0]
    price = price_for(route, "gpt-5", D, [])
    assert (price.input, price.output, price.cached_input) == (1.25, 10.0, 0.125)
    assert price.source.startswith("genai-prices 0.2.") and price.source.endswith("openai/gpt-5")


def test_regional_premium_raises_list_prices() -> None:
    dataset = store()
    route = dataset.routes[0].model_copy(update={"regional_premium": 0.1})
    price = price_for(route, "gpt-5", D, [])
    assert price.input == pytest.approx(1.375) and price.output == pytest.approx(11.0)
    assert "+10% regional premium" in price.source


def test_a_per_model_premium_replaces_the_routes_premium_for_that_model_only() -> None:
    """OpenAI's residency uplift: +10% for models released on/after 2026-03-05, none for gpt-5."""
    route = store().routes[0].model_copy(update={"regional_premium": 0.1, "regional_premium_models": {"gpt-5": 0.0}})
    older = price_for(route, "gpt-5", D, [])
    assert (older.input, older.output) == (1.25, 10.0) and "regional premium" not in older.source
    newer = price_for(route, "gpt-5-mini", D, [])
    assert newer.input == pytest.approx(0.275) and newer.output == pytest.approx(2.2)
    assert "+10% regional premium" in newer.source


def test_example_openai_eu_route_prices_gpt5_without_and_gpt56_with_the_uplift() -> None:
    from compliance.store.validate import read_data_dir
    from tests.conftest import EXAMPLE_DATA

    dataset, _, _ = read_data_dir(EXAMPLE_DATA)
    assert dataset is not None
    route = next(r for r in dataset.routes if r.id == "openai-direct-eu")
    for model in ("gpt-5", "gpt-5-mini"):
        listed = list_price("openai", model, D)
        assert listed is not None and price_for(route, model, D, []).input == listed.input
    listed = list_price("openai", "gpt-5.6-sol", D)
    assert listed is not None and price_for(route, "gpt-5.6-sol", D, []).input == pytest.approx(listed.input * 1.1)


def test_discount_override_applies_while_valid() -> None:
    deal = {"id": "edp", "price_provider": "openai", "model": "gpt-5", "discount": 0.2,
            "valid_from": date(2026, 1, 1), "valid_until": date(2026, 12, 31), "note": "8%"}
    dataset = store(overrides=[deal])
    price = price_for(dataset.routes[0], "gpt-5", D, dataset.costs.price_overrides)
    assert price.input == pytest.approx(1.0) and price.output == pytest.approx(8.0)
    assert price.source.startswith("override edp (20% off genai-prices")


def test_expired_override_no_longer_applies() -> None:
    expired = {**NEGOTIATED, "valid_from": date(2025, 1, 1), "valid_until": date(2025, 12, 31)}
    dataset = store(overrides=[expired])
    price = price_for(dataset.routes[0], "gpt-5", D, dataset.costs.price_overrides)
    assert price.input == 1.25 and "genai-prices" in price.source
    assert price_for(dataset.routes[0], "gpt-5", date(2025, 6, 1), dataset.costs.price_overrides).input == 2.0


def test_unknown_model_is_a_named_error_not_a_zero() -> None:
    dataset = store(flows=[{"route": "api", "categories": ["user"], "model": "gpt-9-imaginary"}])
    with pytest.raises(PriceNotFound, match=r"gpt-9-imaginary.*openai"):
        feature_costs(dataset, D)


def test_no_fallback_to_another_providers_price() -> None:
    # genai-prices itself would answer Azure's gpt-4.1 with OpenAI's table; we must not.
    assert list_price("azure", "gpt-4.1", D) is None
    route = store().routes[0].model_copy(update={"price_provider": "azure", "models": ["gpt-4.1"]})
    with pytest.raises(PriceNotFound, match="azure"):
        price_for(route, "gpt-4.1", D, [])


def test_route_without_price_provider_is_a_named_error() -> None:
    route = store().routes[0].model_copy(update={"price_provider": None})
    with pytest.raises(PriceNotFound, match="no price_provider"):
        price_for(route, "gpt-5", D, [])


def test_segment_margin_by_hand() -> None:
    margins = segment_margins(store(overrides=[NEGOTIATED]), D, target_margin=0.6)
    row = margins.iloc[0]
    llm = 0.0057 * 100 * 500  # 285 per month
    assert row["revenue"] == 10_000 and row["llm_cost"] == pytest.approx(llm)
    assert row["gross_margin"] == pytest.approx((10_000 - llm - 1_000) / 10_000)
    assert row["llm_share_of_revenue"] == pytest.approx(llm / 10_000)
    assert row["break_even_revenue_per_user"] == pytest.approx((llm + 1_000) / 1_000)
    assert row["usage_multiplier_at_target"] == pytest.approx((10_000 * 0.4 - 1_000) / llm)


def test_projection_applies_growth_and_annual_decline() -> None:
    frame = projection_frame(store(overrides=[NEGOTIATED], segment={
        "id": "b2b", "users": 1000, "monthly_growth": 0.1, "active_share": 0.5, "revenue_per_user_month": 10.0}), D)
    first, year = frame.iloc[0], frame[frame["month"] == 12].iloc[0]
    assert year["users"] == pytest.approx(1000 * 1.1 ** 12)
    assert year["llm_cost"] == pytest.approx(first["llm_cost"] * 1.1 ** 12 * 0.5)  # half the price after a year


def test_decline_is_per_tier() -> None:
    result = project(np.array([[100.0, 100.0]]), np.array([10.0]), np.array([0.0]), np.array([1.0]),
                     np.array([0.0]), np.array([[0.0, 0.75]]), 13)
    assert result.llm_cost[0, 12] == pytest.approx(100 + 25)  # the frontier tier held, the small tier fell 75%


def test_sensitivity_of_price_is_proportional() -> None:
    frame = sensitivity_frame(store(overrides=[NEGOTIATED]), D)
    price = frame[frame["driver"] == "price"].iloc[0]
    assert price["cost_high"] == pytest.approx(price["base_cost"] * 1.2)
    assert price["cost_low"] == pytest.approx(price["base_cost"] * 0.8)
    users = frame[frame["driver"] == "users"].iloc[0]
    assert users["margin_high"] == pytest.approx(users["base_margin"])  # revenue grows with users too


def test_history_gpt4_launched_at_about_20x_gpt35() -> None:
    assert 15 <= launch_ratio() <= 25


def test_history_projection_reproduces_the_gpt4_class_price_drop() -> None:
    points = gpt4_class_points()
    annual = fitted_annual_decline(points)
    assert 0.6 <= annual <= 0.9  # a steep decline, near the 'aggressive' scenario
    start, launch_price = points[0]
    end, actual = points[-1]
    months = round((end - start).days / 30.44)
    result = project(np.array([[launch_price]]), np.array([1.0]), np.array([0.0]), np.array([1.0]),
                     np.array([0.0]), np.array([[annual]]), months + 1)
    assert actual / 1.5 <= result.llm_cost[0, -1] <= actual * 1.5
    assert blended(GPT4_CLASS[0][0], start) / actual > 8  # GPT-4 to GPT-4o: more than 8x cheaper


def test_history_uses_dated_prices_from_genai_prices() -> None:
    before, after = list_price("openai", "o3", date(2025, 6, 9)), list_price("openai", "o3", date(2025, 6, 10))
    assert before is not None and after is not None
    assert (before.input, after.input) == (10.0, 2.0)
