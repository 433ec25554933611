"""Policy engine benchmark (issue: policy engine targets).

Run:  .venv/bin/python -m bench.bench_policy
Prints single-decision latency through the public API, full-matrix time (cold and after
one route changes), policy load+validate time for 500 rules, and the same decisions made
with Cedar (cedarpy) on an equivalent policy, one call per decision, with the ratio.
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.synthetic import DAY, synthetic_dataset, synthetic_rules, without_cedar
from compliance import Compliance
from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.policy.matrix import Matrix
from compliance.policy.policyset import PolicySet
from compliance.store.derived import agreement_active, route_stale


def policy_set_from(rules: list[dict], dataset, directory: Path) -> PolicySet:  # type: ignore[no-untyped-def]
    (directory / "bench.yaml").write_text(yaml.safe_dump({"rules": without_cedar(rules)}, sort_keys=False))
    policies, problems = read_policy_dir(directory, Vocabulary.of(dataset))
    assert policies is not None, problems[:3]
    return policies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_single(c: Compliance, requests: list[tuple[str, str, str]]) -> tuple[float, float, float]:
    for f, k, r in requests[:2000]:  # warm the per-date fact caches, as a long-running guard would be
        c.decide(feature=f, category=k, route=r, as_of=DAY)
    times = []
    clock = time.perf_counter_ns
    for f, k, r in requests:
        start = clock()
        c.decide(feature=f, category=k, route=r, as_of=DAY)
        times.append((clock() - start) / 1000)
    total = sum(times) / 1e6
    return percentile(times, 0.5), percentile(times, 0.99), len(requests) / total


def cedar_text(rules: list[dict], dataset) -> str:  # type: ignore[no-untyped-def]
    parts = []
    for rule in rules:
        scope = []
        match = rule.get("match", {})
        if "features" in match:
            scope.append("principal in [" + ", ".join(f'Feature::"{x}"' for x in match["features"]) + "]")
        if "routes" in match:
            scope.append("[" + ", ".join(f'Route::"{x}"' for x in match["routes"]) + "].contains(context.route)")
        if "categories" in match:
            sels = match["categories"]
            down = "resource in [" + ", ".join(f'Category::"{x}"' for x in sels) + "]"
            if rule["effect"] == "deny":  # a deny also reaches the ancestors of its selectors
                up = " || ".join(f'Category::"{x}" in resource' for x in sels)
                scope.append(f"({down} || {up})")
            else:
                scope.append(down)
        body = " && ".join([*scope, rule["_cedar"]])
        effect = "permit" if rule["effect"] == "allow" else "forbid"
        parts.append(f'@id("{rule["id"]}")\n{effect}(principal, action == Action::"send", resource) when {{ {body} }};')
    return "\n".join(parts)


def cedar_entities(dataset) -> list[dict]:  # type: ignore[no-untyped-def]
    providers = {p.id: p for p in dataset.providers}
    entities = [{"uid": {"type": "Feature", "id": f.id}, "parents": [],
                 "attrs": {"segment": f.segment.value, "human_review": f.human_review}} for f in dataset.features]
    for c in dataset.categories:
        parent = c.key.rsplit(".", 1)[0] if "." in c.key else None
        entities.append({"uid": {"type": "Category", "id": c.key}, "attrs": {"sensitivity": c.sensitivity.value},
                         "parents": [{"type": "Category", "id": parent}] if parent else []})
    for r in dataset.routes:
        p = providers[r.processor]
        entities.append({"uid": {"type": "Route", "id": r.id}, "parents": [], "attrs": {
            "residency": r.residency.value, "zdr": r.zero_data_retention, "trains": r.trains_on_inputs,
            "status": r.status.value, "stale": route_stale(r.last_verified_on, DAY),
            "retention_days": r.retention_days, "dpa_active": bool(agreement_active(p.dpa, DAY)),
            "baa_active": bool(agreement_active(p.baa, DAY))}})
    return entities


def cedar_decide_all(rules, dataset, requests):  # type: ignore[no-untyped-def]
    """Cedar's answers for requests (feature, category, route), one is_authorized call each."""
    import cedarpy

    policies = cedarpy.PolicySet.from_str(cedar_text(rules, dataset))
    entities = cedarpy.Entities.from_json_str(json.dumps(cedar_entities(dataset)))
    return [cedarpy.is_authorized({"principal": f'Feature::"{f}"', "action": 'Action::"send"',
                                   "resource": f'Category::"{k}"',
                                   "context": {"route": {"__entity": {"type": "Route", "id": r}}}},
                                  policies, entities).allowed for f, k, r in requests]


def main() -> int:
    print("building synthetic store: 1,000 features x 60 categories x 50 routes; 40 rules")
    dataset = synthetic_dataset()
    rules = synthetic_rules(dataset, 40)
    with tempfile.TemporaryDirectory() as tmp:
        policies = policy_set_from(rules, dataset, Path(tmp))
    c = Compliance(dataset, policies)
    rng = random.Random(3)
    feats, cats, routes = ([f.id for f in dataset.features], [x.key for x in dataset.categories],
                           [r.id for r in dataset.routes])
    requests = [(rng.choice(feats), rng.choice(cats), rng.choice(routes)) for _ in range(50_000)]

    p50, p99, ours_rate = bench_single(c, requests)
    print(f"single decision (Compliance.decide, with explanation): p50 {p50:.1f} us, p99 {p99:.1f} us, "
          f"{ours_rate:,.0f} decisions/s   [target p50 <= 20 us, p99 <= 200 us]")
    sample = [c.decide(feature=f, category=k, route=r, as_of=DAY) for f, k, r in requests[:5000]]
    items = sum(len(x.evidence) for x in sample) / len(sample)
    weak = sum(not x.verified for x in sample) / len(sample)
    print(f"single decision with evidence (every decision carries it): p50 {p50:.1f} us; "
          f"{items:.1f} evidence items per decision, {weak:.0%} rest on a fact that is not verified   "
          f"[target p50 <= 10 us]")

    start = time.perf_counter()
    fresh = Compliance(dataset, policies)
    matrix = Matrix(fresh.decider)
    result = matrix.evaluate(DAY)
    cold = time.perf_counter() - start
    print(f"full matrix: {result.allowed.size:,} cells in {cold * 1000:.0f} ms cold (compile + evaluate), "
          f"{int(result.allowed.sum()):,} allowed   [target <= 2000 ms]")

    route = dataset.routes[7]
    changed = route.model_copy(update={"zero_data_retention": not route.zero_data_retention, "retention_days": 90})
    start = time.perf_counter()
    matrix.update_route(changed)
    update = time.perf_counter() - start
    print(f"matrix update after one route's facts change: {update * 1000:.1f} ms   [target <= 100 ms]")

    checks = rng.sample(range(len(requests)), 2000)
    mismatches = sum(result.decision(*requests[i]) != c.decide(feature=requests[i][0], category=requests[i][1],
                                                               route=requests[i][2], as_of=DAY).allowed
                     for i in checks if requests[i][2] != route.id)
    print(f"matrix vs decide on 2,000 sampled cells: {mismatches} mismatches")

    big = synthetic_rules(dataset, 500, seed=5)
    with tempfile.TemporaryDirectory() as tmp:
        for n in range(5):
            chunk = without_cedar(big[n * 100:(n + 1) * 100])
            (Path(tmp) / f"{n:02d}.yaml").write_text(yaml.safe_dump({"rules": chunk}, sort_keys=False))
        start = time.perf_counter()
        loaded, problems = read_policy_dir(Path(tmp), Vocabulary.of(dataset))
        load_time = time.perf_counter() - start
    assert loaded is not None and not problems
    print(f"load + validate 500 rules (5 files): {load_time * 1000:.0f} ms   [target <= 1000 ms]")

    sample = requests[:5000]
    agree = 0
    start = time.perf_counter()
    cedar_answers = cedar_decide_all(rules, dataset, sample)
    cedar_time = time.perf_counter() - start
    cedar_rate = len(sample) / cedar_time
    for (f, k, r), allowed in zip(sample, cedar_answers, strict=True):
        agree += allowed == c.decide(feature=f, category=k, route=r, as_of=DAY).allowed
    from importlib.metadata import version

    print(f"cedarpy {version('cedarpy')}: {cedar_rate:,.0f} decisions/s "
          f"({cedar_time / len(sample) * 1e6:.0f} us each; pre-parsed policies and entities), "
          f"agreement with ours {agree}/{len(sample)}")
    print(f"throughput ratio ours / cedarpy: {ours_rate / cedar_rate:.1f}x   [target >= 10x]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
