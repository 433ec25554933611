"""`observe report`: the stored aggregates held against the declared flows, the policy and the cost model.

Three answers (observe.md): undeclared use with the policy's decision (undeclared and denied first),
declared flows never seen, and observed against modelled cost per feature and month.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

import sqlalchemy as sa
from sqlmodel import Session, select

from compliance.collector import collector_paused
from compliance.costs.prices import PER, Price, PriceNotFound, price_for, route_model
from compliance.costs.tables import feature_cost_rows
from compliance.costs.usage import active_users, segments_by_feature
from compliance.dates import check_evaluation_day
from compliance.observe.importing import COUNTS
from compliance.policy.decide import Decider
from compliance.store import documents as d
from compliance.store.tables import USAGE_MONTH, ObservedImportRow, ObservedUsageRow

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class Pair:
    """One (feature, route) seen in the window, with its usage and, when undeclared, the policy's decision."""

    feature: str
    route: str
    declared: bool
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_input_tokens: int = 0
    first_seen: date | None = None
    last_seen: date | None = None
    decision: str | None = None
    rules: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "route": self.route, "declared": self.declared, "requests": self.requests,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "cached_input_tokens": self.cached_input_tokens,
                "first_seen": self.first_seen.isoformat() if self.first_seen else None,
                "last_seen": self.last_seen.isoformat() if self.last_seen else None,
                "decision": self.decision, "rules": self.rules if self.decision else None,
                **({"reasons": self.reasons} if self.decision else {})}


@dataclass
class MonthCost:
    feature: str
    month: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    observed_cost: float = 0.0
    reported_cost: float | None = None
    unpriced_requests: int = 0
    modelled_requests: float | None = None
    modelled_cost: float | None = None

    @property
    def variance_pct(self) -> float | None:
        if not self.modelled_cost:
            return None
        return round((self.observed_cost - self.modelled_cost) / self.modelled_cost * 100, 1)

    def as_dict(self) -> dict[str, Any]:
        return {"feature": self.feature, "month": self.month, "requests": self.requests,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens,
                "observed_cost": round(self.observed_cost, 6),
                "reported_cost": None if self.reported_cost is None else round(self.reported_cost, 6),
                "unpriced_requests": self.unpriced_requests,
                "modelled_requests": self.modelled_requests,
                "modelled_cost": None if self.modelled_cost is None else round(self.modelled_cost, 6),
                "variance_pct": self.variance_pct}


@dataclass
class ObserveReport:
    as_of: date
    since: date | None
    until: date | None
    pairs: list[Pair]
    never_seen: list[tuple[str, str]]
    costs: list[MonthCost]
    counts: dict[str, int]
    values_seen: dict[str, int]

    @property
    def undeclared(self) -> list[Pair]:
        return [p for p in self.pairs if not p.declared]

    @property
    def failed(self) -> bool:
        return bool(self.undeclared)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
                "pairs": [p.as_dict() for p in self.pairs],
                "never_seen": [{"feature": f, "route": r} for f, r in self.never_seen],
                "costs": [c.as_dict() for c in self.costs], "counts": self.counts, "values_seen": self.values_seen}


class UsageRow(NamedTuple):
    """One stored daily aggregate, as the report reads it (plain tuples: no ORM object per row)."""

    day: date
    feature: str | None
    route: str | None
    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    cached_input_tokens: int
    reported_cost: float | None
    last_day: date | None = None  # a month's sum: `day` is its first day seen, this its last


def _window(query: sa.Select[Any], c: Any, since: date | None, until: date | None) -> sa.Select[Any]:
    if since:
        query = query.where(c.day >= since)
    if until:
        query = query.where(c.day <= until)
    return query


@collector_paused()  # builds a row per month or day and no reference cycles (tests/test_observe.py)
def read_usage(session: Session, since: date | None, until: date | None,
               dataset: d.DataSet | None = None) -> list[UsageRow]:
    """The stored daily aggregates in the window, in day order; with `dataset`, summed in the database
    per feature, route, model and month wherever the route's price for that model is the same on every
    day of the month (the report's answer is the same; it reads a row per month instead of per day).
    A month in which a price changes is read per day, so each day is priced as it was."""
    c = ObservedUsageRow.__table__.c  # type: ignore[attr-defined]
    daily = sa.select(c.day, c.feature, c.route, c.model, c.requests, c.input_tokens, c.output_tokens,
                      c.cached_input_tokens, c.reported_cost)
    if dataset is None:
        query = _window(daily, c, since, until).order_by(c.day)
        return [UsageRow(*row) for row in session.connection().execute(query)]
    steady = _steady_prices(dataset)
    rows, split = [], set()
    for first, feature, route, model, requests, tokens_in, tokens_out, cached, cost, last, y, m \
            in session.connection().execute(monthly_sums(since, until)):
        values = (first, feature, route, model, int(requests), int(tokens_in), int(tokens_out), int(cached),
                  None if cost is None else float(cost))  # PostgreSQL sums integers as numeric
        if steady(route, model, first.year, first.month):
            rows.append(UsageRow(*values, last_day=last))
        else:
            split.add((values[1], values[2], values[3], int(y), int(m)))
    if split:
        for row in session.connection().execute(_window(daily, c, since, until)):
            if (row.feature, row.route, row.model, row.day.year, row.day.month) in split:
                rows.append(UsageRow(*row))
    return sorted(rows, key=lambda r: r.day)


def monthly_sums(since: date | None, until: date | None) -> sa.Select[Any]:
    """The daily aggregates in the window summed per feature, route, model and month, grouped in the order of
    ix_observed_usage_month so that the database reads that index alone, without sorting the rows."""
    c = ObservedUsageRow.__table__.c  # type: ignore[attr-defined]
    year, month = USAGE_MONTH
    return _window(sa.select(
        sa.func.min(c.day), c.feature, c.route, c.model, sa.func.sum(c.requests), sa.func.sum(c.input_tokens),
        sa.func.sum(c.output_tokens), sa.func.sum(c.cached_input_tokens), sa.func.sum(c.reported_cost),
        sa.func.max(c.day), year, month), c, since, until).group_by(c.feature, c.route, c.model, year, month)


def route_prices(dataset: d.DataSet) -> Callable[[str, str, date], Price | None]:
    """The price of `model` on a route (by id) on a day, or None where it has none; cached."""
    routes = {r.id: r for r in dataset.routes}
    overrides = dataset.costs.price_overrides

    @lru_cache(maxsize=1 << 20)
    def price(route: str, model: str, day: date) -> Price | None:
        try:
            return price_for(routes[route], model, day, overrides)
        except PriceNotFound:
            return None

    return price


def _steady_prices(dataset: d.DataSet) -> Callable[[str | None, str, int, int], bool]:
    """Whether `route`'s price for `model` is the same on every day of a month (or unknown on all)."""
    routes = {r.id for r in dataset.routes}
    price = route_prices(dataset)

    @cache
    def steady(route: str | None, model: str, year: int, month: int) -> bool:
        if route not in routes or not model:
            return True  # never priced
        first = date(year, month, 1)
        days = (date(year + month // 12, month % 12 + 1, 1) - first).days
        return len({price(route, model, first.replace(day=n)) for n in range(1, days + 1)}) == 1

    return steady


def read_counts(session: Session) -> tuple[dict[str, int], dict[str, int]]:
    """Counts summed over every import, and the unattributed / unresolved values seen (most first)."""
    counts: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for run in session.exec(select(ObservedImportRow)):
        counts.update({k: int(v) for k, v in (run.counts or {}).items()})
        seen.update({k: int(v) for k, v in (run.seen or {}).items()})
    return {k: counts[k] for k in COUNTS}, dict(seen.most_common(50))


def union_decision(decider: Decider, feature: d.Feature, route: str, on: date) -> tuple[str | None, list[str],
                                                                                         list[str]]:
    """The policy's answer for every category the feature declares (over all its flows) on `route`."""
    categories = list(dict.fromkeys(c for flow in feature.flows for c in flow.categories))
    if not categories:
        return None, [], ["the feature declares no categories, so there is nothing to decide"]
    decisions = [decider.decide(feature.id, c, route, on) for c in categories]
    denied = [x for x in decisions if not x.allowed]
    order = {c.rule.id: c.index for c in decider.rules}  # the rules in policy-set order, as a decision lists them

    def ranked(found: list[Any]) -> list[str]:
        return sorted(dict.fromkeys(r for x in found for r in x.rules), key=lambda r: order.get(r, len(order)))

    if not denied:
        return "allow", ranked(decisions), []
    rules = ranked(denied)
    reasons = [f"{x.category}: {x.reasons[0] if x.rules else x.reasons[-1]}" for x in denied]
    return "deny", rules, reasons


@collector_paused()
def build_report(rows: Sequence[UsageRow | ObservedUsageRow], dataset: d.DataSet, decider: Decider, *, as_of: date,
                 since: date | None = None, until: date | None = None, counts: dict[str, int] | None = None,
                 values_seen: dict[str, int] | None = None) -> ObserveReport:
    features = {f.id: f for f in dataset.features}
    routes = {r.id: r for r in dataset.routes}
    declared = {(f.id, flow.route) for f in dataset.features for flow in f.flows}
    pairs: dict[tuple[str, str], Pair] = {}
    costs: dict[tuple[str, str], MonthCost] = {}
    price = route_prices(dataset)
    months: dict[date, str] = {}
    for row in rows:
        if row.feature is None or row.feature not in features:
            continue
        month = months.get(row.day)
        if month is None:
            month = months[row.day] = row.day.strftime("%Y-%m")
        cost = costs.get((row.feature, month))  # not setdefault: no throw-away object per row
        if cost is None:
            cost = costs[(row.feature, month)] = MonthCost(row.feature, month)
        cost.requests += row.requests
        cost.input_tokens += row.input_tokens
        cost.output_tokens += row.output_tokens
        if row.reported_cost is not None:
            cost.reported_cost = (cost.reported_cost or 0.0) + row.reported_cost
        found = price(row.route, row.model, row.day) if row.route in routes and row.model else None
        if found is None:
            cost.unpriced_requests += row.requests
        else:
            fresh = max(row.input_tokens - row.cached_input_tokens, 0)
            cost.observed_cost += (fresh * found.input + row.cached_input_tokens * found.cached_input
                                   + row.output_tokens * found.output) / PER
        if row.route is None or row.route not in routes:
            continue
        key = (row.feature, row.route)
        pair = pairs.get(key)
        if pair is None:
            pair = pairs[key] = Pair(row.feature, row.route, key in declared)
        pair.requests += row.requests
        pair.input_tokens += row.input_tokens
        pair.output_tokens += row.output_tokens
        pair.cached_input_tokens += row.cached_input_tokens
        pair.first_seen = min(pair.first_seen or row.day, row.day)
        last = getattr(row, "last_day", None) or row.day
        pair.last_seen = max(pair.last_seen or last, last)
    for pair in pairs.values():
        if not pair.declared and pair.last_seen is not None:
            pair.decision, pair.rules, pair.reasons = union_decision(decider, features[pair.feature], pair.route,
                                                                     pair.last_seen)
    _model_costs(dataset, costs, price)
    order = {"deny": 0, "allow": 1, None: 2}
    ranked = sorted(pairs.values(), key=lambda p: (p.declared, order.get(p.decision, 2), p.feature, p.route))
    never = sorted(pair for pair in declared if pair not in pairs)
    return ObserveReport(as_of, since, until, ranked, never, sorted(costs.values(), key=lambda c: (c.feature, c.month)),
                         counts or dict.fromkeys(COUNTS, 0), values_seen or {})


def _model_costs(dataset: d.DataSet, costs: dict[tuple[str, str], MonthCost],
                 price: Callable[[str, str, date], Price | None]) -> None:
    """The cost model's monthly estimate per feature, priced on the first day of each month observed.

    The estimate depends on the day only through the prices of the flows' (route, model) pairs, so the cost
    model runs once per distinct set of those prices, not once per month."""
    flow_models = _flow_models(dataset)
    segments = segments_by_feature(dataset)
    requests: dict[str, float | None] = {}
    for f in dataset.features:
        segment = segments.get(f.id)
        requests[f.id] = None if segment is None or f.usage is None else round(
            f.usage.requests_per_user_month * active_users(segment), 1)
    by_prices: dict[tuple[Price | None, ...], dict[str, float | None]] = {}
    modelled: dict[str, dict[str, float | None]] = {}
    for month in sorted({c.month for c in costs.values()}):
        on = check_evaluation_day(date.fromisoformat(f"{month}-01"))
        prices = tuple(price(route, model, on) for route, model in flow_models)
        if prices not in by_prices:
            by_prices[prices] = {row["feature"]: row["monthly_cost"]
                                 for row in feature_cost_rows(dataset, on, strict=False)}
        modelled[month] = by_prices[prices]
    for (feature, month), cost in costs.items():
        value = modelled[month].get(feature)
        cost.modelled_cost = None if value is None else float(value)
        if requests.get(feature) is not None:
            cost.modelled_requests = requests[feature]


def _flow_models(dataset: d.DataSet) -> list[tuple[str, str]]:
    """The (route, model) of every declared flow the cost model can price, as `flow_costs` resolves them."""
    routes = {r.id: r for r in dataset.routes}
    found = set()
    for feature in dataset.features:
        for flow in feature.flows:
            try:
                found.add((flow.route, route_model(routes[flow.route], flow.model)))
            except PriceNotFound:
                continue  # no model: unpriced on every day
    return sorted(found)


def group_values_seen(values: dict[str, int]) -> dict[str, list[tuple[str, int]]]:
    """Values seen, split into unattributed (no feature) and unresolved (no route)."""
    out: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for text, count in values.items():
        kind = "unattributed" if text.startswith("feature=") else "unresolved"
        out[kind].append((text, count))
    return out


def cost_frame(report: ObserveReport) -> pd.DataFrame:
    """Actual vs modelled per feature and month, as the dashboard's costs page shows it."""
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    columns = ["feature", "month", "requests", "modelled_requests", "observed_cost", "reported_cost",
               "modelled_cost", "variance_pct", "unpriced_requests"]
    return pd.DataFrame([{k: c.as_dict()[k] for k in columns} for c in report.costs], columns=columns)


def observed_report(store: Any, dataset: d.DataSet, decider: Decider, *, as_of: date) -> ObserveReport:
    """The report over everything stored (the dashboard's view); empty before any import."""
    with store.snapshot() as session:
        rows = read_usage(session, None, None, dataset)
        counts, seen = read_counts(session)
    return build_report(rows, dataset, decider, as_of=as_of, counts=counts, values_seen=seen)
