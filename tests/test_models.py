"""Models on routes: lifecycle boundaries, retirement alerts and flows, IP indemnity as a fact, the advisor."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from compliance.api import load_policies
from compliance.config import PROJECT_ROOT
from compliance.models.advisor import advise, advise_portfolio
from compliance.models.lifecycle import retired
from compliance.models.retirements import model_alerts
from compliance.policy.decide import Decider
from compliance.policy.flows import evaluate_flows
from compliance.store import documents as d
from tests.policy_helpers import decider, small_store
from tests.test_example_data import example

RETIRES = date(2026, 12, 15)
DAY_BEFORE = date(2026, 12, 14)
ALLOW_COVERED = [{"id": "covered", "effect": "allow", "match": {"categories": ["user", "org"]},
                  "reason": "covered", "when": [{"processor.dpa.active": True}]}]


def _routes(**extra: Any) -> list[dict[str, Any]]:
    """small_store's routes with prices and models: cloud-eu (DPA in force) and nodpa-api (no DPA)."""
    base = small_store().model_dump(mode="json")["routes"]
    for route in base:
        route.update(price_provider="test")
        route.pop("latency", None)
        route.pop("ip_indemnity", None)
    base[0]["models"] = [{"id": "old-model", "retires_on": RETIRES.isoformat(), "successor": "good-model"},
                         "cheap-model", "good-model", "big-model"]
    base[1]["models"] = []
    base[2]["models"] = ["mid-model", "new-model"]
    for route in base:
        route.update(extra.get(route["id"], {}))
    return base


def _price(model: str, per_mtok: float) -> dict[str, Any]:
    return {"price_provider": "test", "model": model, "input": per_mtok, "output": per_mtok, "note": "test price"}


def _store(feature: dict[str, Any] | None = None, evals: list[dict[str, Any]] | None = None,
           routes: list[dict[str, Any]] | None = None) -> d.DataSet:
    # 100 users x 10 requests = 1,000 requests a month of 500k input + 500k output tokens: a request
    # costs exactly the per-million price, so a month costs 1,000 x that price.
    raw_feature = {"id": "writer", "name": "Writer", "segment": "b2b", "human_review": True,
                   "flows": [{"route": "cloud-eu", "model": "big-model", "categories": ["user.contact.email"]}],
                   "usage": {"requests_per_user_month": 10, "input_tokens": 500_000, "output_tokens": 500_000},
                   "quality": {"metric": "accuracy", "min": 0.8}, **(feature or {})}
    return small_store(
        routes=routes or _routes(),
        features=[raw_feature],
        costs={"segments": [{"id": "b2b", "users": 100, "revenue_per_user_month": 50}],
               "price_overrides": [_price("cheap-model", 1), _price("mid-model", 2), _price("good-model", 3),
                                   _price("big-model", 10), _price("old-model", 0.5), _price("new-model", 0.6)]},
        evals=evals if evals is not None else [
            {"feature": "writer", "model": "cheap-model", "route": "cloud-eu", "metric": "accuracy", "score": 0.7,
             "samples": 100, "run_on": "2026-11-01", "source": "test"},
            {"feature": "writer", "model": "mid-model", "route": "nodpa-api", "metric": "accuracy", "score": 0.95,
             "samples": 100, "run_on": "2026-11-01", "source": "test"},
            {"feature": "writer", "model": "good-model", "route": "cloud-eu", "metric": "accuracy", "score": 0.85,
             "samples": 100, "run_on": "2026-11-01", "source": "test"},
        ],
    )


# --- lifecycle ---------------------------------------------------------------------------------

def test_a_model_answers_the_day_before_its_retirement_and_not_on_the_day() -> None:
    route = _store().routes[0]
    assert retired(route, "old-model", DAY_BEFORE) is None
    entry = retired(route, "old-model", RETIRES)
    assert entry is not None and entry.successor == "good-model"


def test_a_flow_on_a_retired_model_is_a_violation_from_the_retirement_day() -> None:
    store = _store({"flows": [{"route": "cloud-eu", "model": "old-model", "categories": ["user.contact.email"]}]})
    engine = decider(ALLOW_COVERED, store)
    before, = evaluate_flows(engine, DAY_BEFORE)
    on_day, = evaluate_flows(engine, RETIRES)
    assert before.compliant and before.retired is None
    assert not on_day.compliant and on_day.retired == "model old-model on cloud-eu retired on 2026-12-15; " \
                                                       "successor good-model"
    assert all(dec.allowed for dec in on_day.decisions)  # the policy still allows it: the model is gone


def test_alert_names_the_flow_a_retirement_breaks_and_an_allowed_successor() -> None:
    store = _store({"flows": [{"route": "cloud-eu", "model": "old-model", "categories": ["user.contact.email"]}]})
    alert, = model_alerts(decider(ALLOW_COVERED, store), DAY_BEFORE, within=60)
    assert (alert.severity, alert.kind, alert.subject, alert.days) == ("expiring", "model", "cloud-eu/old-model", 1)
    assert alert.breaks == ("writer -> cloud-eu (old-model); successor good-model on cloud-eu is allowed "
                            "for its categories",)


def test_a_successor_the_policy_denies_is_not_suggested() -> None:
    routes = _routes(**{"cloud-eu": {"models": [{"id": "old-model", "retires_on": RETIRES.isoformat(),
                                                 "successor": "new-model"}]}})
    store = _store({"flows": [{"route": "cloud-eu", "model": "old-model", "categories": ["user.contact.email"]}]},
                   routes=routes)
    alert, = model_alerts(decider(ALLOW_COVERED, store), DAY_BEFORE, within=60)
    assert "new-model" not in alert.breaks[0] and "no allowed successor" in alert.breaks[0]


def test_on_the_retirement_day_the_alert_is_expired() -> None:
    store = _store()
    alert, = model_alerts(decider(ALLOW_COVERED, store), RETIRES, within=60)
    assert (alert.severity, alert.days, alert.breaks_on) == ("expired", 0, None)
    assert "retired on 2026-12-15 (today)" in alert.message


def test_once_retired_the_flows_still_naming_the_model_are_carried_not_would_break() -> None:
    store = _store({"flows": [{"route": "cloud-eu", "model": "old-model", "categories": ["user.contact.email"]}]})
    alert, = model_alerts(decider(ALLOW_COVERED, store), RETIRES, within=60)
    assert alert.breaks == ()
    assert alert.carries == ("writer -> cloud-eu (old-model); successor good-model on cloud-eu is allowed "
                             "for its categories",)


def test_example_data_alerts_name_a_retiring_model_with_the_flow_it_breaks() -> None:
    alerts = model_alerts(_example_decider(), date(2026, 12, 2), within=60)
    gpt41, = (a for a in alerts if a.subject == "openai-direct/gpt-4.1")
    assert (gpt41.severity, gpt41.due_on, gpt41.breaks_on) == ("expiring", date(2027, 1, 14), date(2027, 1, 14))
    assert gpt41.breaks == ("code-assistant -> openai-direct (gpt-4.1); no successor recorded",)


def test_a_retirement_beyond_the_window_is_not_an_alert() -> None:
    assert model_alerts(decider(ALLOW_COVERED, _store()), date(2026, 9, 1), within=60) == []


def test_a_model_entry_cannot_retire_before_it_is_deprecated() -> None:
    with pytest.raises(ValueError, match="before deprecated_on"):
        d.ModelEntry(id="m", deprecated_on=date(2027, 1, 1), retires_on=date(2026, 1, 1))


def test_expected_latency_is_time_to_first_token_plus_output_over_throughput() -> None:
    fact = d.LatencyFact(model="m", ttft_p50_ms=800, output_tokens_per_s=50)
    assert fact.expected_ms(500) == 800 + 10_000


# --- IP indemnity as a policy fact -----------------------------------------------------------

INDEMNITY_RULES = [
    *ALLOW_COVERED,
    {"id": "publish-needs-indemnity", "effect": "deny", "match": {"categories": ["user"]}, "reason": "no indemnity",
     "when": [{"feature.human_review": False}, {"route.ip_indemnity.covered": {"ne": True}}]},
]


def test_indemnity_covered_lets_unreviewed_output_through() -> None:
    routes = _routes(**{"cloud-eu": {"ip_indemnity": {"covered": True, "source": "https://example.test/terms"}}})
    engine = decider(INDEMNITY_RULES, _store({"human_review": False}, routes=routes))
    assert engine.decide("writer", "user.contact.email", "cloud-eu", DAY_BEFORE).allowed


def test_no_indemnity_recorded_is_unknown_and_denies() -> None:
    engine = decider(INDEMNITY_RULES, _store({"human_review": False}))
    decision = engine.decide("writer", "user.contact.email", "cloud-eu", DAY_BEFORE)
    assert not decision.allowed and list(decision.rules) == ["publish-needs-indemnity"]
    assert "route.ip_indemnity.covered" in decision.unknown_facts


def test_human_review_makes_indemnity_unnecessary() -> None:
    engine = decider(INDEMNITY_RULES, _store({"human_review": True}))
    assert engine.decide("writer", "user.contact.email", "cloud-eu", DAY_BEFORE).allowed


# --- the advisor -------------------------------------------------------------------------------

def test_advisor_skips_a_cheaper_failing_eval_and_a_denied_route_and_picks_the_third() -> None:
    """Hand-checked: cheap-model $1,000 fails the eval (0.70 < 0.80), mid-model $2,000 is on a route
    without a DPA (default deny), good-model $3,000 scores 0.85: the answer. Today big-model: $10,000."""
    advice = advise(decider(ALLOW_COVERED, _store()), "writer", DAY_BEFORE)
    rec = advice.recommendation
    assert rec is not None and (rec.route, rec.model) == ("cloud-eu", "good-model")
    assert rec.monthly_cost == pytest.approx(3_000)
    assert advice.current_monthly == pytest.approx(10_000)
    assert advice.saving_monthly == pytest.approx(7_000)
    assert advice.why_not[("cloud-eu", "cheap-model")] == "eval accuracy 0.70 is below the 0.80 needed"
    assert advice.why_not[("nodpa-api", "mid-model")] == "denied by policy (default deny)"
    assert advice.why_not[("cloud-eu", "old-model")] == "no eval on accuracy"
    denied = [o for o in advice.options if not o.allowed]
    assert denied and advice.options[-len(denied):] == tuple(denied)  # denied options are listed after


def test_a_retired_model_is_never_recommended() -> None:
    evals = [{"feature": "writer", "model": "old-model", "route": "cloud-eu", "metric": "accuracy", "score": 0.99,
              "samples": 10, "run_on": "2026-11-01", "source": "test"}]
    engine = decider(ALLOW_COVERED, _store(evals=evals))
    assert advise(engine, "writer", DAY_BEFORE).recommendation.model == "old-model"  # type: ignore[union-attr]
    advice = advise(engine, "writer", RETIRES)
    assert advice.recommendation is None
    assert advice.why_not[("cloud-eu", "old-model")].startswith("retired on 2026-12-15")


def test_a_latency_need_rules_out_a_slow_model() -> None:
    routes = _routes(**{"cloud-eu": {"latency": [{"model": "good-model", "ttft_p50_ms": 1000,
                                                  "output_tokens_per_s": 100, "source": "test"}]}})
    store = _store({"latency": {"p50_ms": 4000}}, routes=routes)
    advice = advise(decider(ALLOW_COVERED, store), "writer", DAY_BEFORE)
    assert advice.recommendation is None  # 1 s + 500,000 tokens / 100 per s = 5,001 s
    assert "is over the 4.0 s needed" in advice.why_not[("cloud-eu", "good-model")]


def test_without_a_quality_need_the_cheapest_allowed_option_is_recommended_with_a_note() -> None:
    advice = advise(decider(ALLOW_COVERED, _store({"quality": None})), "writer", DAY_BEFORE)
    allowed = [o for o in advice.options if o.allowed and o.monthly_cost is not None and o.retired_on is None]
    assert advice.recommendation is not None and allowed
    assert advice.recommendation.monthly_cost == min(o.monthly_cost or 0.0 for o in allowed)
    assert advice.problem is None and "states no quality need" in (advice.note or "")
    assert advice.as_dict()["recommendation"] == {"route": advice.recommendation.route,
                                                  "model": advice.recommendation.model}


def test_portfolio_saving_is_the_sum_of_the_features_savings() -> None:
    portfolio = advise_portfolio(_example_decider(), date(2026, 12, 2))
    savings = [a.saving_monthly for a in portfolio.advice if a.saving_monthly is not None]
    assert len(savings) >= 2
    assert portfolio.saving_monthly == pytest.approx(sum(savings))


def _example_decider() -> Decider:
    dataset = example()
    return Decider(dataset, load_policies(PROJECT_ROOT / "policies", dataset))


def test_example_data_recommends_a_cheaper_allowed_model_that_meets_the_eval() -> None:
    advice = advise(_example_decider(), "code-assistant", date(2026, 12, 2))
    rec = advice.recommendation
    assert rec is not None and rec.allowed and rec.meets_quality and (rec.score or 0) >= 0.8
    assert advice.saving_monthly is not None and advice.saving_monthly > 0
    assert advice.why_not  # the cheaper options, each with its reason


# --- model facts (for requests that name a model) ----------------------------------------------

DEPRECATED_RULE = [*ALLOW_COVERED, {"id": "no-deprecated-models", "effect": "deny",
                                    "reason": "{model.id} is deprecated",
                                    "when": [{"model.id": {"exists": True}}, {"model.deprecated": True}]}]


def _deprecating_store() -> d.DataSet:
    routes = _routes(**{"cloud-eu": {"models": [{"id": "old-model", "deprecated_on": RETIRES.isoformat()},
                                                "good-model"]}})
    return _store({"flows": [{"route": "cloud-eu", "model": "old-model", "categories": ["user.contact.email"]}]},
                  routes=routes)


def test_model_deprecated_is_a_fact_from_its_deprecation_day() -> None:
    engine = decider(DEPRECATED_RULE, _deprecating_store())
    assert engine.decide("writer", "user.contact.email", "cloud-eu", DAY_BEFORE, "old-model").allowed
    on_day = engine.decide("writer", "user.contact.email", "cloud-eu", RETIRES, "old-model")
    assert not on_day.allowed and on_day.reasons == ["old-model is deprecated"]
    assert engine.decide("writer", "user.contact.email", "cloud-eu", RETIRES, "good-model").allowed


def test_a_request_naming_no_model_leaves_model_facts_unknown() -> None:
    engine = decider(DEPRECATED_RULE, _deprecating_store())
    assert engine.decide("writer", "user.contact.email", "cloud-eu", RETIRES).allowed  # exists: false -> rule off


def test_flows_name_their_model_to_the_policy() -> None:
    engine = decider(DEPRECATED_RULE, _deprecating_store())
    flow, = evaluate_flows(engine, RETIRES)
    assert not flow.compliant and flow.violations[0].rules == ["no-deprecated-models"]


def test_the_advisor_asks_per_model_when_the_policy_reads_model_facts() -> None:
    evals = [{"feature": "writer", "model": m, "route": "cloud-eu", "metric": "accuracy", "score": 0.9,
              "samples": 10, "run_on": "2026-11-01", "source": "test"} for m in ("old-model", "good-model")]
    store = _deprecating_store().model_copy(update={"evals": _store(evals=evals).evals})
    advice = advise(decider(DEPRECATED_RULE, store), "writer", RETIRES)
    by_model = {o.model: o for o in advice.options if o.route == "cloud-eu"}
    assert not by_model["old-model"].allowed and by_model["old-model"].denied_by == ("no-deprecated-models",)
    assert advice.recommendation is not None and advice.recommendation.model == "good-model"


def test_the_fitted_price_decline_sits_beside_the_assumed_scenarios() -> None:
    from compliance.costs.history import fitted_annual_decline, fitted_vs_assumed, gpt4_class_points

    trend = fitted_vs_assumed({"conservative": 0.2, "base": 0.5, "aggressive": 0.8})
    assert trend.fitted == pytest.approx(fitted_annual_decline(gpt4_class_points()))
    assert trend.closest == "aggressive"  # GPT-4 class fell about 77% a year
