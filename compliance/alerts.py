"""What needs attention on a date: expiring or expired agreements and certifications,
overdue reviews and stale route facts."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from typing import Any

from compliance.store import documents as d
from compliance.store.derived import FRESHNESS_DAYS, route_stale

SEVERITY_ORDER = {"expired": 0, "stale": 1, "overdue": 2, "expiring": 3, "due": 4}


@dataclass(frozen=True)
class Alert:
    severity: str  # expired | expiring | stale | overdue | due
    kind: str  # dpa | baa | certification | route | review | exception
    subject: str  # provider, route or exception id
    message: str
    due_on: date | None
    days: int | None  # days from the evaluation date to due_on (negative: in the past)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["due_on"] = self.due_on.isoformat() if self.due_on else None
        return data


def _dated(severity_past: str, severity_soon: str, due: date | None, on: date, within: int) -> tuple[str, int] | None:
    if due is None:
        return None
    days = (due - on).days
    if days < 0:
        return severity_past, days
    if days <= within:
        return severity_soon, days
    return None


def _when(days: int) -> str:
    if days < 0:
        return f"{-days} day{'s' if days != -1 else ''} ago"
    if days == 0:
        return "today"
    return f"in {days} day{'s' if days != 1 else ''}"


def agreement_alerts(provider: d.Provider, on: date, within: int) -> list[Alert]:
    alerts = []
    for kind in ("dpa", "baa"):
        agreement = getattr(provider, kind)
        if agreement is None:
            continue
        label = f"{kind.upper()} with {provider.name}"
        status = agreement.status.value
        if status == "expired":
            alerts.append(Alert("expired", kind, provider.id, f"{label} is marked expired",
                                agreement.expires_on,
                                (agreement.expires_on - on).days if agreement.expires_on else None))
            continue
        if status != "signed":
            continue
        found = _dated("expired", "expiring", agreement.expires_on, on, within)
        if found:
            severity, days = found
            verb = "expired" if days < 0 else "expires"
            message = f"{label} {verb} on {agreement.expires_on} ({_when(days)})"
            alerts.append(Alert(severity, kind, provider.id, message, agreement.expires_on, days))
    return alerts


def provider_alerts(provider: d.Provider, on: date, within: int) -> list[Alert]:
    alerts = agreement_alerts(provider, on, within)
    for cert in provider.certifications:
        found = _dated("expired", "expiring", cert.valid_until, on, within)
        if found:
            severity, days = found
            verb = "expired" if days < 0 else "expires"
            alerts.append(Alert(severity, "certification", provider.id,
                                f"{cert.name} of {provider.name} {verb} on {cert.valid_until} ({_when(days)})",
                                cert.valid_until, days))
    found = _dated("overdue", "due", provider.next_review_on, on, within)
    if found:
        severity, days = found
        alerts.append(Alert(severity, "review", provider.id,
                            f"vendor review of {provider.name} due on {provider.next_review_on} ({_when(days)})",
                            provider.next_review_on, days))
    return alerts


def route_alerts(route: d.Route, on: date, window_days: int = FRESHNESS_DAYS) -> list[Alert]:
    if route.status.value == "retired" or not route_stale(route.last_verified_on, on, window_days):
        return []
    if route.last_verified_on is None:
        return [Alert("stale", "route", route.id, f"facts of route {route.id} were never verified", None, None)]
    due = route.last_verified_on + timedelta(days=window_days)
    days = (due - on).days
    return [Alert("stale", "route", route.id,
                  f"facts of route {route.id} last verified on {route.last_verified_on}, "
                  f"stale since {due + timedelta(days=1)}", due, days)]


def store_alerts(dataset: d.DataSet, on: date, within: int = 60, window_days: int = FRESHNESS_DAYS) -> list[Alert]:
    """Every alert for the store on `on`, most urgent first."""
    alerts: list[Alert] = []
    for provider in dataset.providers:
        alerts += provider_alerts(provider, on, within)
    for route in dataset.routes:
        alerts += route_alerts(route, on, window_days)
    return sorted(alerts, key=lambda a: (SEVERITY_ORDER[a.severity], a.days if a.days is not None else -10**6,
                                         a.subject))
