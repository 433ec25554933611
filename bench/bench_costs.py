"""Cost projection benchmark: 10,000 scenario variations x 60 months, vectorised.

Run:  .venv/bin/python -m bench.bench_costs
Each variation draws user growth, annual price decline per tier, a usage multiplier and a
price multiplier around the example data's B2B and consumer segments.
"""

from __future__ import annotations

import sys
import time
from datetime import date

import numpy as np

from compliance.config import PROJECT_ROOT
from compliance.costs.projection import cost_by_segment_and_tier, project
from compliance.store.validate import read_data_dir

VARIATIONS, MONTHS = 10_000, 60


def main() -> int:
    dataset, problems, _ = read_data_dir(PROJECT_ROOT / "data")
    assert dataset is not None, problems
    on = date(2026, 11, 30)
    costs = cost_by_segment_and_tier(dataset, on)
    tiers = sorted({t for by_tier in costs.values() for t in by_tier})
    rng = np.random.default_rng(1)
    segments = {s.id: s for s in dataset.costs.segments}
    for name in ("b2b", "consumer"):
        seg = segments[name]
        base = np.array([costs[name].get(t, 0.0) for t in tiers])
        start = time.perf_counter()
        usage = rng.uniform(0.5, 2.0, VARIATIONS)
        price = rng.uniform(0.8, 1.2, VARIATIONS)
        result = project(
            base_cost=base[None, :] * (usage * price)[:, None],
            users=np.full(VARIATIONS, float(seg.users)),
            growth=rng.uniform(0.0, 0.08, VARIATIONS),
            revenue_per_user=np.full(VARIATIONS, seg.revenue_per_user_month),
            other_per_user=np.full(VARIATIONS, seg.other_cogs_per_user_month),
            declines=rng.uniform(0.0, 0.9, (VARIATIONS, len(tiers))),
            months=MONTHS,
        )
        margin = result.gross_margin
        elapsed = time.perf_counter() - start
        print(f"{name}: {VARIATIONS:,} variations x {MONTHS} months in {elapsed * 1000:.0f} ms "
              f"(target <= 500 ms); month-60 gross margin p10 {np.nanpercentile(margin[:, -1], 10):.0%}, "
              f"median {np.nanmedian(margin[:, -1]):.0%}, p90 {np.nanpercentile(margin[:, -1], 90):.0%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
