"""Headline figures for the store, for the dashboard's overview page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from compliance.store import documents as d
from compliance.store.derived import agreement_active


@dataclass(frozen=True)
class Headline:
    providers: int
    providers_with_active_dpa: int
    routes: int
    approved_routes: int
    categories: int
    features: int


def headline(dataset: d.DataSet, on: date) -> Headline:
    return Headline(
        providers=len(dataset.providers),
        providers_with_active_dpa=sum(1 for p in dataset.providers if agreement_active(p.dpa, on)),
        routes=len(dataset.routes),
        approved_routes=sum(1 for r in dataset.routes if r.status.value == "approved"),
        categories=len(dataset.categories),
        features=len(dataset.features),
    )
