"""The decline model checked against history: GPT-4-class prices from genai-prices' own data.

Launch dates are not in genai-prices; they come from the vendors' announcements as listed in
the domain notes (shared/reference/domain-notes.md). Prices come from the installed
genai-prices data, so the check runs offline and follows the pinned package.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

from compliance.costs.prices import list_price

# (model in genai-prices' openai table, launch date of that price)
GPT4_CLASS = [
    ("gpt-4", date(2023, 3, 14)),
    ("gpt-4-turbo", date(2023, 11, 6)),
    ("gpt-4o-2024-05-13", date(2024, 5, 13)),
    ("gpt-4o", date(2024, 8, 6)),
]
GPT35_AT_GPT4_LAUNCH = ("gpt-3.5-0301", date(2023, 3, 1))
INPUT_WEIGHT = 0.75  # a 3:1 input:output blend, as in the domain notes


def blended(model: str, on: date, provider: str = "openai") -> float:
    price = list_price(provider, model, on)
    if price is None:
        raise LookupError(f"genai-prices has no {provider}/{model}")
    return INPUT_WEIGHT * price.input + (1 - INPUT_WEIGHT) * price.output


def years_between(start: date, end: date) -> float:
    return (end - start).days / 365.25


def fitted_annual_decline(points: list[tuple[date, float]]) -> float:
    """Least-squares fit of log(price) over time: the annual decline the points imply."""
    t0 = points[0][0]
    xs = [years_between(t0, day) for day, _ in points]
    ys = [math.log(price) for _, price in points]
    mean_x, mean_y = sum(xs) / len(xs), sum(ys) / len(ys)
    slope = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys, strict=True)) / sum((x - mean_x) ** 2 for x in xs)
    return 1 - math.exp(slope)


def gpt4_class_points() -> list[tuple[date, float]]:
    return [(day, blended(model, day)) for model, day in GPT4_CLASS]


def launch_ratio() -> float:
    """GPT-4's blended price over GPT-3.5's at GPT-4's launch."""
    gpt4, day = GPT4_CLASS[0]
    return blended(gpt4, day) / blended(*GPT35_AT_GPT4_LAUNCH)



@dataclass(frozen=True)
class DeclineFit:
    """A model family's annual price decline fitted from history, beside the projection's scenarios."""

    family: str
    start: date
    end: date
    fitted: float
    assumed: dict[str, float]
    closest: str | None  # the assumed scenario nearest the fitted decline


def fitted_vs_assumed(scenarios: dict[str, float]) -> DeclineFit:
    """The GPT-4-class decline fitted from genai-prices' history beside the projection's assumed
    scenarios, and the scenario closest to history (models.md: prices change every few months)."""
    points = gpt4_class_points()
    fitted = fitted_annual_decline(points)
    closest = min(scenarios, key=lambda name: abs(scenarios[name] - fitted)) if scenarios else None
    return DeclineFit("GPT-4 class (" + ", ".join(m for m, _ in GPT4_CLASS) + ")", points[0][0], points[-1][0],
                      fitted, dict(scenarios), closest)
