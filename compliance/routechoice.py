"""The one route-choice function: every route for a feature and categories, allowed first, cheapest allowed marked.

The CLI's `routes` command, the dashboard's route checker, the Python API's `Compliance.routes` and the
service's `GET /v1/routes` all answer through `choose_routes`; each cell is decided once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from compliance.costs.compliance_cost import Option, route_costs
from compliance.policy.decide import Decider
from compliance.policy.flows import RouteOption, route_options


@dataclass(frozen=True)
class RouteChoice:
    feature: str
    categories: tuple[str, ...]
    as_of: date
    options: tuple[RouteOption, ...]  # allowed first, store order within each group
    prices: dict[str, Option]  # route -> cheapest way to serve the feature's usage there (when priceable)
    cheapest: str | None  # the cheapest allowed route, when any allowed route can be priced

    @property
    def allowed(self) -> int:
        return sum(o.allowed for o in self.options)


def choose_routes(decider: Decider, feature: str, categories: list[str], on: date) -> RouteChoice:
    options = route_options(decider, feature, categories, on)
    prices = route_costs(decider, feature, categories, on, {o.route: o.allowed for o in options})
    allowed_prices = [prices[o.route] for o in options if o.allowed and o.route in prices]
    cheapest = min(allowed_prices, key=lambda p: p.monthly_cost).route if allowed_prices else None
    return RouteChoice(feature, tuple(categories), on, tuple(options), prices, cheapest)
