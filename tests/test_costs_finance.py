"""Finance answers: sensitivity that really varies each input, cost of compliance per feature."""

from __future__ import annotations

from typing import Any

import pytest

from compliance.costs import compliance_cost_by_feature, compliance_cost_frame, segment_margins, sensitivity_frame
from compliance.costs.compliance_cost import unpriced_reason
from compliance.store import documents as d
from tests.policy_helpers import decider
from tests.test_costs import NEGOTIATED, D, store


def changed(dataset: d.DataSet, driver: str, factor: float) -> d.DataSet:
    """The data set with one input really changed, to recompute from scratch."""
    raw: dict[str, Any] = dataset.model_dump()
    for segment in raw["costs"]["segments"]:
        if driver == "users":
            segment["users"] = round(segment["users"] * factor)
        if driver == "revenue_per_user":
            segment["revenue_per_user_month"] *= factor
    for feature in raw["features"]:
        usage = feature["usage"]
        if driver == "requests_per_user":
            usage["requests_per_user_month"] *= factor
        if driver == "input_tokens":
            usage["input_tokens"] = round(usage["input_tokens"] * factor)
        if driver == "output_tokens":
            usage["output_tokens"] = round(usage["output_tokens"] * factor)
        if driver == "cached_share":
            usage["cached_input_share"] = min(1.0, usage["cached_input_share"] * factor)
    for override in raw["costs"]["price_overrides"]:
        if driver == "price":
            for key in ("input", "output", "cached_input"):
                override[key] *= factor
    return d.DataSet.model_validate(raw)


@pytest.mark.parametrize("driver", ["users", "requests_per_user", "input_tokens", "output_tokens", "cached_share",
                                    "price", "revenue_per_user"])
def test_each_driver_matches_a_full_recomputation_with_that_input_changed(driver: str) -> None:
    dataset = store(overrides=[NEGOTIATED])
    row = sensitivity_frame(dataset, D).set_index("driver").loc[driver]
    for label, factor in (("low", 0.8), ("high", 1.2)):
        again = segment_margins(changed(dataset, driver, factor), D).iloc[0]
        assert row[f"cost_{label}"] == pytest.approx(again["llm_cost"]), (driver, label)
        assert row[f"margin_{label}"] == pytest.approx(again["gross_margin"]), (driver, label)


def test_input_and_output_tokens_move_the_cost_differently() -> None:
    frame = sensitivity_frame(store(overrides=[NEGOTIATED]), D).set_index("driver")
    changes = frame["cost_change_high"]
    assert changes["input_tokens"] != pytest.approx(changes["output_tokens"])
    assert changes["input_tokens"] + changes["output_tokens"] == pytest.approx(changes["price"])
    assert changes["revenue_per_user"] == 0 and frame.loc["revenue_per_user", "margin_change_high"] > 0
    assert frame.loc["users", "margin_change_high"] == pytest.approx(0)  # cost and revenue grow alike


def test_a_segment_without_revenue_has_no_margin() -> None:
    dataset = store(overrides=[NEGOTIATED], segment={"id": "b2b", "users": 10, "revenue_per_user_month": 0.0})
    frame = sensitivity_frame(dataset, D)
    assert frame["base_margin"].isna().all() and frame["margin_high"].isna().all()


def two_routes() -> tuple[d.DataSet, Any]:
    cheap = {"id": "cheap", "name": "Cheap", "model_provider": "vendor", "processor": "vendor", "service": "S",
             "residency": "us", "zero_data_retention": False, "trains_on_inputs": False, "status": "approved",
             "price_provider": "openai", "models": ["gpt-5-mini"], "last_verified_on": D}
    safe = {**cheap, "id": "safe", "name": "Safe", "models": ["gpt-5"]}
    dataset = store(routes=[cheap, safe], flows=[{"route": "cheap", "categories": ["user.health"],
                                                  "model": "gpt-5-mini"}],
                    usage={"requests_per_user_month": 1000, "input_tokens": 1000, "output_tokens": 0},
                    projection={"months": 12, "scenarios": {"base": 0.5}, "tiers": {"llm": ["gpt-5", "gpt-5-mini"]}})
    return dataset, {"id": "no-health-cheap", "effect": "deny", "reason": "no",
                     "match": {"routes": ["cheap"], "categories": ["user.health"]}}


def test_cost_of_compliance_on_a_store_where_the_answer_is_known() -> None:
    dataset, deny = two_routes()
    dec = decider([{"id": "ok", "effect": "allow", "reason": "ok"}, deny], dataset=dataset)
    row = compliance_cost_frame(dec, D).iloc[0]
    monthly_requests = 1000 * 500  # per active user x active users
    assert not row["compliant"]
    assert row["cheapest_route"] == "cheap" and row["cheapest_monthly"] == pytest.approx(monthly_requests * 0.25e-3)
    assert row["cheapest_allowed_route"] == "safe"
    assert row["cheapest_allowed_monthly"] == pytest.approx(monthly_requests * 1.25e-3)
    assert row["compliance_premium_monthly"] == pytest.approx(monthly_requests * 1.0e-3)
    assert row["switch_cost_monthly"] == pytest.approx(monthly_requests * 1.0e-3)


def test_cost_of_compliance_per_feature_sums_spend_now_allowed_and_cheapest() -> None:
    dataset, deny = two_routes()
    dec = decider([{"id": "ok", "effect": "allow", "reason": "ok"}, deny], dataset=dataset)
    row = compliance_cost_by_feature(dataset, compliance_cost_frame(dec, D)).iloc[0]
    monthly_requests = 1000 * 500
    assert row["feature"] == "feat" and row["name"] == "Feat" and not row["compliant"]
    assert row["current_monthly"] == pytest.approx(monthly_requests * 0.25e-3)
    assert row["cheapest_allowed_monthly"] == pytest.approx(monthly_requests * 1.25e-3)
    assert row["cheapest_monthly"] == pytest.approx(monthly_requests * 0.25e-3)
    assert row["compliance_premium"] == pytest.approx(monthly_requests * 1.0e-3)
    assert row["no_allowed_route"] == ""


def test_a_feature_with_no_allowed_route_is_named_not_dropped() -> None:
    dataset, deny = two_routes()
    everywhere = {**deny, "match": {"categories": ["user.health"]}}
    dec = decider([{"id": "ok", "effect": "allow", "reason": "ok"}, everywhere], dataset=dataset)
    frame = compliance_cost_by_feature(dataset, compliance_cost_frame(dec, D))
    assert list(frame["feature"]) == ["feat"]
    row = frame.iloc[0]
    assert row["no_allowed_route"] == "flow 1 (cheap)"
    assert row["cheapest_allowed_monthly"] is None or row["cheapest_allowed_monthly"] != row["cheapest_allowed_monthly"]
    assert "no route is allowed" in row["note"]


def test_a_feature_without_usage_is_listed_with_the_reason() -> None:
    dataset, _ = two_routes()
    raw = dataset.model_dump()
    raw["features"][0]["usage"] = None
    dataset = d.DataSet.model_validate(raw)
    dec = decider([{"id": "ok", "effect": "allow", "reason": "ok"}], dataset=dataset)
    row = compliance_cost_by_feature(dataset, compliance_cost_frame(dec, D)).iloc[0]
    assert row["feature"] == "feat" and "no usage figures" in row["note"]


def test_why_a_route_has_no_cost() -> None:
    dataset, _ = two_routes()
    raw = dataset.model_dump()
    raw["routes"].append({**raw["routes"][0], "id": "gpu", "name": "GPU", "price_provider": None,
                          "models": ["gpt-5-mini"]})
    raw["routes"].append({**raw["routes"][0], "id": "other", "name": "Other", "models": ["llama-9"]})
    dataset = d.DataSet.model_validate(raw)
    dec = decider([{"id": "ok", "effect": "allow", "reason": "ok"}], dataset=dataset)
    assert unpriced_reason(dec, "feat", "gpu", D) == "self-hosted with no configured cost (add a price override)"
    assert unpriced_reason(dec, "feat", "other", D) == "no llm-tier model on this route"
