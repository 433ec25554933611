"""Token prices per route and model: genai-prices list prices (offline), then our overrides.

Every price carries its source. A model without a price is a named error, never a zero and
never another provider's price: genai-prices' provider fallbacks (e.g. Azure falling back to
OpenAI's table) are deliberately not followed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from decimal import Decimal
from functools import lru_cache
from importlib.metadata import version
from typing import Any

from compliance.problems import ComplianceError
from compliance.store import documents as d

PER = 1_000_000  # prices are per million tokens


class PriceNotFound(ComplianceError):
    """No list price and no override for a model on a route."""


@dataclass(frozen=True)
class Price:
    """USD per million tokens."""

    input: float
    output: float
    cached_input: float
    source: str

    def per_request(self, input_tokens: float, output_tokens: float, cached_share: float = 0.0) -> float:
        fresh = input_tokens * (1 - cached_share)
        cached = input_tokens * cached_share
        return (fresh * self.input + cached * self.cached_input + output_tokens * self.output) / PER


@lru_cache(maxsize=1)
def genai_prices_version() -> str:
    return version("genai-prices")


@lru_cache(maxsize=1)
def _snapshot() -> Any:
    from genai_prices.data_snapshot import get_snapshot

    return get_snapshot()  # the data shipped in the package; auto-update is never turned on


def _number(value: Any) -> float | None:
    if value is None:
        return None
    base = getattr(value, "base", value)  # tiered prices: the base tier (prompts up to the first threshold)
    return float(Decimal(base))


@lru_cache(maxsize=4096)
def list_price(price_provider: str, model: str, on: date) -> Price | None:
    """The list price in genai-prices for exactly this provider and model on `on`, or None."""
    snapshot = _snapshot()
    provider = next((p for p in snapshot.providers if p.id == price_provider), None)
    if provider is None:
        return None
    ref = model.lower()
    info = next((m for m in provider.models if m.id == ref), None) or next(
        (m for m in provider.models if m.is_match(ref)), None)
    if info is None:
        return None
    prices = info.get_prices(datetime.combine(on, time(12), tzinfo=UTC))
    input_price, output_price = _number(prices.input_mtok), _number(prices.output_mtok)
    if input_price is None or output_price is None:
        return None
    cached = _number(getattr(prices, "cache_read_mtok", None))
    return Price(input_price, output_price, input_price if cached is None else cached,
                 f"genai-prices {genai_prices_version()}: {provider.id}/{info.id}")


def _override(overrides: list[d.PriceOverride], price_provider: str, model: str, on: date) -> d.PriceOverride | None:
    for o in overrides:
        if o.price_provider == price_provider and o.model == model and (o.valid_from is None or o.valid_from <= on) \
                and (o.valid_until is None or on <= o.valid_until):
            return o
    return None


def regional_premium(route: d.Route, model: str) -> float:
    """The price uplift for `model` on `route`: its own entry in `regional_premium_models`, else the
    route's `regional_premium`, else none (e.g. OpenAI's residency uplift applies only to models
    released on or after 2026-03-05, so older models on the same route carry 0)."""
    return route.regional_premium_models.get(model, route.regional_premium or 0.0)


def price_for(route: d.Route, model: str, on: date, overrides: list[d.PriceOverride]) -> Price:
    """The price we pay for `model` on `route` on `on`.

    Order: a valid override with absolute prices is the price (no regional premium: it is what we
    negotiated); otherwise the list price, less a valid override's discount, times
    (1 + the model's regional premium, see `regional_premium`).
    """
    if not route.price_provider:
        raise PriceNotFound(f"route {route.id} has no price_provider, so {model!r} cannot be priced; "
                            "set price_provider (and a price override for self-hosted models)")
    listed = list_price(route.price_provider, model, on)
    override = _override(overrides, route.price_provider, model, on)
    if override is not None and override.discount is None:
        if override.input is None and listed is None:
            raise PriceNotFound(f"override {override.id} gives no input price and genai-prices has none for "
                                f"{route.price_provider}/{model}")
        base_in = override.input if override.input is not None else listed.input  # type: ignore[union-attr]
        base_out = override.output if override.output is not None else (listed.output if listed else None)
        if base_out is None:
            raise PriceNotFound(f"override {override.id} gives no output price and genai-prices has none for "
                                f"{route.price_provider}/{model}")
        cached = override.cached_input if override.cached_input is not None else (
            listed.cached_input * base_in / listed.input if listed and listed.input else base_in)
        return Price(base_in, base_out, cached, f"override {override.id}")
    if listed is None:
        raise PriceNotFound(f"no price for model {model!r} at price provider {route.price_provider!r} "
                            f"(route {route.id}) in genai-prices {genai_prices_version()}; "
                            "add a price override in costs.yaml")
    premium = regional_premium(route, model)
    factor = 1 + premium
    source = listed.source
    if override is not None and override.discount is not None:
        factor *= 1 - override.discount
        source = f"override {override.id} ({override.discount:.0%} off {listed.source})"
    if premium:
        source += f" +{premium:.0%} regional premium"
    return Price(listed.input * factor, listed.output * factor, listed.cached_input * factor, source)


def route_model(route: d.Route, model: str | None) -> str:
    """The model a flow uses: its own, or the route's first."""
    if model:
        return model
    if not route.model_ids:
        raise PriceNotFound(f"a flow on route {route.id} names no model and the route lists none")
    return route.model_ids[0]
