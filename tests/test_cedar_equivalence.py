"""Our decisions agree with Cedar's on policies expressible in both (all facts known).

This checks the decision semantics (deny overrides allow, default deny, allow covering
descendants, deny reaching ancestors and descendants) against an independent engine.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from bench.bench_policy import cedar_decide_all, policy_set_from
from bench.synthetic import DAY, synthetic_dataset, synthetic_rules
from compliance import Compliance

pytest.importorskip("cedarpy")


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_every_decision_matches_cedar(seed: int) -> None:
    dataset = synthetic_dataset(features=25, categories=20, routes=10, providers=6, seed=seed)
    rules = synthetic_rules(dataset, 12, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        policies = policy_set_from(rules, dataset, Path(tmp))
    ours = Compliance(dataset, policies)
    requests = [(f.id, c.key, r.id) for f in dataset.features for c in dataset.categories for r in dataset.routes]
    theirs = cedar_decide_all(rules, dataset, requests)
    mismatches = [req for req, allowed in zip(requests, theirs, strict=True)
                  if ours.decide(feature=req[0], category=req[1], route=req[2], as_of=DAY).allowed != allowed]
    assert mismatches == []
    assert 0 < sum(theirs) < len(requests)  # both answers occur, so the comparison means something
