"""When a model on a route stops answering, and what that does to declared flows.

A model is *retired* on and after its `retires_on` date (the vendors' "shutdown date": requests
fail from that day), and *deprecated* on and after `deprecated_on`. A flow that names a retired
model is a `flows` violation; `alerts` names the flows a coming retirement breaks, with a
successor only where the policy allows the flow's categories on a route serving it.
"""

from __future__ import annotations

from datetime import date

from compliance.store import documents as d


def flow_model(flow: d.Flow, route: d.Route | None) -> str | None:
    """The model a flow sends to: the one it names, else the route's first (as costs price it)."""
    if flow.model is not None:
        return flow.model
    return route.model_ids[0] if route is not None and route.model_ids else None


def retired(route: d.Route, model: str, on: date) -> d.ModelEntry | None:
    """The lifecycle entry when `model` no longer answers on `route` on `on` (retires_on <= on)."""
    entry = route.model_entry(model)
    if entry is not None and entry.retires_on is not None and entry.retires_on <= on:
        return entry
    return None


def retirement_problem(route: d.Route | None, model: str | None, on: date) -> str | None:
    """Why a flow on `model` through `route` cannot work on `on`, or None."""
    if route is None or model is None:
        return None
    entry = retired(route, model, on)
    if entry is None:
        return None
    successor = f"; successor {entry.successor}" if entry.successor else ""
    return f"model {model} on {route.id} retired on {entry.retires_on}{successor}"
