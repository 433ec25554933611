"""Alerts for models deprecated or retiring on routes, naming the declared flows each retirement
breaks and a successor only where the policy allows the flow's categories on a route serving it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING

from compliance.alerts import Alert
from compliance.models.lifecycle import flow_model
from compliance.store import documents as d

if TYPE_CHECKING:
    from compliance.policy.decide import Decider


@dataclass(frozen=True)
class Successor:
    model: str
    route: str
    allowed: bool


def successor_options(decider: Decider, feature: d.Feature, flow: d.Flow, successor: str, on: date) -> list[Successor]:
    """Routes serving `successor` (the flow's own route first), each with whether the policy allows
    every category of the flow there on `on`."""
    routes = sorted((r for r in decider.dataset.routes if successor in r.model_ids), key=lambda r: r.id != flow.route)
    return [Successor(successor, r.id,
                      all(decider.decide(feature.id, key, r.id, on).allowed for key in flow.categories))
            for r in routes]


def flows_on(dataset: d.DataSet, route: d.Route, model: str) -> list[tuple[d.Feature, d.Flow]]:
    return [(f, flow) for f in dataset.features for flow in f.flows
            if flow.route == route.id and flow_model(flow, route) == model]


def model_alerts(decider: Decider, on: date, within: int = 60) -> list[Alert]:
    """Models deprecated or retiring within `within` days (or already retired) on routes not retired,
    each with the declared flows that break on the retirement date (`breaks`), or, once retired, the
    declared flows still naming it, broken today (`carries`)."""
    alerts = []
    for route in decider.dataset.routes:
        if route.status.value == "retired":
            continue
        for entry in (m for m in route.models if isinstance(m, d.ModelEntry)):
            alert = _model_alert(decider, route, entry, on, within)
            if alert is not None:
                alerts.append(alert)
    return alerts


def _model_alert(decider: Decider, route: d.Route, entry: d.ModelEntry, on: date, within: int) -> Alert | None:
    subject = f"{route.id}/{entry.id}"
    flows = flows_on(decider.dataset, route, entry.id)
    if entry.retires_on is not None and (entry.retires_on - on).days <= within:
        days = (entry.retires_on - on).days
        severity = "expired" if days <= 0 else "expiring"
        verb = "retired" if days <= 0 else "retires"
        when = "today" if days == 0 else (f"{-days} days ago" if days < 0 else f"in {days} days")
        message = f"model {entry.id} on {route.id} {verb} on {entry.retires_on} ({when})"
        flows_on_it = tuple(_broken(decider, f, flow, entry, on) for f, flow in flows)
        if days <= 0:  # already retired: the flows are broken today, so they are what the model carries
            return Alert(severity, "model", subject, message, entry.retires_on, days, None, carries=flows_on_it)
        return Alert(severity, "model", subject, message, entry.retires_on, days, entry.retires_on, flows_on_it)
    if entry.deprecated_on is not None and entry.deprecated_on <= on + timedelta(days=within):
        days = (entry.deprecated_on - on).days
        verb = "is deprecated since" if days <= 0 else "will be deprecated on"
        retires = f"; retires on {entry.retires_on}" if entry.retires_on else "; no retirement date announced"
        return Alert("due", "model", subject, f"model {entry.id} on {route.id} {verb} {entry.deprecated_on}{retires}",
                     entry.deprecated_on, days, carries=tuple(f"{f.id} -> {route.id}" for f, _ in flows))
    return None


def _broken(decider: Decider, feature: d.Feature, flow: d.Flow, entry: d.ModelEntry, on: date) -> str:
    label = f"{feature.id} -> {flow.route} ({entry.id})"
    if not entry.successor:
        return f"{label}; no successor recorded"
    options = successor_options(decider, feature, flow, entry.successor, on)
    allowed = [o for o in options if o.allowed]
    if allowed:
        return f"{label}; successor {entry.successor} on {allowed[0].route} is allowed for its categories"
    if options:  # a successor is suggested only where the policy allows it (models.md)
        return f"{label}; no allowed successor: the policy denies its categories on every route serving the successor"
    return f"{label}; the recorded successor is not served on any route in the store"
