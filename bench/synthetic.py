"""A synthetic store and policy set of any size, for benchmarks (deterministic for a seed)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

from compliance.store import documents as d

DAY = date(2026, 11, 30)
RESIDENCIES = ["eu", "us", "global", "on_premises", "uk"]
SENSITIVITY = ["low", "moderate", "high", "special"]


def synthetic_dataset(features: int = 1000, categories: int = 60, routes: int = 50, providers: int = 10,
                      seed: int = 7) -> d.DataSet:
    rng = random.Random(seed)
    provider_docs = []
    for i in range(providers):
        dpa_status = rng.choice(["signed", "signed", "signed", "in_review", "not_required"])
        expires = DAY + timedelta(days=rng.randint(-60, 400))
        provider_docs.append(d.Provider.model_validate({
            "id": f"p{i}", "name": f"Provider {i}", "transfer_mechanism": rng.choice(["dpf", "scc", "adequacy"]),
            "dpa": {"status": dpa_status, "signed_on": date(2024, 1, 1),
                    "expires_on": expires if dpa_status == "signed" else None},
            "baa": {"status": rng.choice(["signed", "available", "not_required"])},
            "certifications": [{"name": "soc2_type2", "valid_until": DAY + timedelta(days=rng.randint(-30, 300))}],
        }))
    route_docs = [d.Route.model_validate({
        "id": f"r{i}", "name": f"Route {i}", "model_provider": f"p{rng.randrange(providers)}",
        "processor": f"p{rng.randrange(providers)}", "service": "svc", "residency": rng.choice(RESIDENCIES),
        "zero_data_retention": rng.random() < 0.4, "retention_days": rng.choice([0, 7, 30, 55, 90]),
        "trains_on_inputs": rng.random() < 0.1, "status": rng.choice(["approved"] * 4 + ["under_review", "blocked"]),
        "last_verified_on": DAY - timedelta(days=rng.randint(0, 300)),
    }) for i in range(routes)]
    keys: list[str] = []
    tops = max(1, categories // 10)
    for t in range(tops):
        keys.append(f"c{t}")
    while len(keys) < categories:
        parent = rng.choice(keys)
        if parent.count(".") < 3:
            keys.append(f"{parent}.k{len(keys)}")
    category_docs = [d.Category.model_validate({"key": k, "name": k, "sensitivity": rng.choice(SENSITIVITY)})
                     for k in keys]
    feature_docs = [d.Feature.model_validate({
        "id": f"f{i}", "name": f"Feature {i}", "segment": rng.choice(["b2b", "consumer", "internal"]),
        "human_review": rng.random() < 0.5, "tags": rng.sample(["pilot", "rag", "chat", "agent"], k=rng.randint(0, 2)),
    }) for i in range(features)]
    return d.DataSet(providers=provider_docs, routes=route_docs, categories=category_docs, features=feature_docs)


# Conditions expressible both here and in Cedar (all facts known in the synthetic store).
CONDITIONS: list[tuple[dict[str, Any], str]] = [
    ({"route.residency": {"ne": "eu"}}, 'context.route.residency != "eu"'),
    ({"route.residency": {"in": ["eu", "on_premises"]}}, '["eu", "on_premises"].contains(context.route.residency)'),
    ({"route.zero_data_retention": {"ne": True}}, "!context.route.zdr"),
    ({"route.trains_on_inputs": True}, "context.route.trains"),
    ({"route.status": {"ne": "approved"}}, 'context.route.status != "approved"'),
    ({"route.status": "approved"}, 'context.route.status == "approved"'),
    ({"route.stale": True}, "context.route.stale"),
    ({"route.retention_days": {"gt": 30}}, "context.route.retention_days > 30"),
    ({"processor.dpa.active": True}, "context.route.dpa_active"),
    ({"processor.baa.active": {"ne": True}}, "!context.route.baa_active"),
    ({"feature.segment": "consumer"}, 'principal.segment == "consumer"'),
    ({"feature.human_review": False}, "!principal.human_review"),
    ({"category.sensitivity": {"in": ["high", "special"]}}, '["high", "special"].contains(resource.sensitivity)'),
]


def synthetic_rules(dataset: d.DataSet, count: int = 40, seed: int = 11) -> list[dict[str, Any]]:
    """Rules in the YAML form, with the Cedar text of each condition kept alongside under `_cedar`."""
    rng = random.Random(seed)
    keys = [c.key for c in dataset.categories]
    rules = []
    for i in range(count):
        effect = "allow" if i % 4 == 0 else "deny"
        rule: dict[str, Any] = {"id": f"rule-{i}", "effect": effect, "reason": f"rule {i} on {{route.name}}"}
        match: dict[str, Any] = {}
        if effect == "deny" or rng.random() < 0.5:
            match["categories"] = rng.sample(keys, k=rng.randint(1, 3))
        if rng.random() < 0.2:
            match["features"] = rng.sample([f.id for f in dataset.features],
                                           k=rng.randint(1, min(50, len(dataset.features))))
        if rng.random() < 0.2:
            match["routes"] = rng.sample([r.id for r in dataset.routes], k=rng.randint(1, min(10, len(dataset.routes))))
        if match:
            rule["match"] = match
        deny_pool = [c for i, c in enumerate(CONDITIONS) if i not in (5, 8)]
        picked = rng.sample(deny_pool, k=rng.randint(1, 3))
        if effect == "allow":
            picked = [CONDITIONS[8], CONDITIONS[5]]
        if len(picked) > 1 and rng.random() < 0.15:
            rule["when"] = [{"any": [c for c, _ in picked]}]
            rule["_cedar"] = "(" + " || ".join(c for _, c in picked) + ")"
        else:
            rule["when"] = [c for c, _ in picked]
            rule["_cedar"] = " && ".join(c for _, c in picked)
        rules.append(rule)
    return rules


def without_cedar(rules: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "_cedar"} for r in rules]


def with_flows_and_costs(dataset: d.DataSet, seed: int = 13) -> d.DataSet:
    """Give every feature 1-2 declared flows with usage, price every route, and add cost inputs."""
    rng = random.Random(seed)
    models = [("openai", ["gpt-5", "gpt-5-mini"]), ("anthropic", ["claude-sonnet-4-5", "claude-haiku-4-5"]),
              ("google", ["gemini-2.5-pro", "gemini-2.5-flash"])]
    routes = []
    for route in dataset.routes:
        provider, served = rng.choice(models)
        routes.append(route.model_copy(update={"price_provider": provider, "models": served}))
    keys = [c.key for c in dataset.categories]
    features = []
    for feature in dataset.features:
        flows = []
        for _ in range(rng.randint(1, 2)):
            route = rng.choice(routes)
            flows.append(d.Flow(route=route.id, categories=rng.sample(keys, k=rng.randint(1, 4)),
                                model=rng.choice(route.model_ids), share=0.5))
        usage = d.Usage(requests_per_user_month=rng.randint(10, 500), input_tokens=rng.randint(500, 12000),
                        output_tokens=rng.randint(100, 1500), cached_input_share=rng.choice([None, 0.2, 0.5]))
        features.append(feature.model_copy(update={"flows": flows, "usage": usage}))
    costs = d.Costs.model_validate({
        "segments": [
            {"id": "b2b", "users": 20000, "monthly_growth": 0.03, "active_share": 0.8, "revenue_per_user_month": 90.0,
             "other_cogs_per_user_month": 8.0},
            {"id": "consumer", "users": 3000000, "monthly_growth": 0.05, "active_share": 0.3,
             "revenue_per_user_month": 0.7, "other_cogs_per_user_month": 0.1},
            {"id": "internal", "users": 500, "revenue_per_user_month": 0.0},
        ],
        "projection": {"months": 36, "scenarios": {"conservative": 0.2, "base": 0.5, "aggressive": 0.8},
                       "tiers": {"frontier": ["gpt-5", "claude-sonnet-4-5", "gemini-2.5-pro"],
                                 "small": ["gpt-5-mini", "claude-haiku-4-5", "gemini-2.5-flash"]}},
    })
    return dataset.model_copy(update={"routes": routes, "features": features, "costs": costs})
