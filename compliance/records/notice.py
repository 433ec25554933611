"""Alerts for our subprocessor notice: notice periods ending within the window (with the declared flows
that start to be allowed that day), and processors receiving customer data that were never announced."""

from __future__ import annotations

from datetime import date, timedelta

from compliance.alerts import Alert
from compliance.policy.decide import Decider
from compliance.policy.flows import denied_categories
from compliance.records.subprocessors import subprocessor_list


def newly_allowed(decider: Decider, processor: str, day: date) -> list[str]:
    """Declared flows through `processor` denied the day before `day` and allowed on it."""
    found = []
    for feature in decider.dataset.features:
        for flow in feature.flows:
            route = decider.routes.get(flow.route)
            if route is None or route.processor != processor:
                continue
            if not denied_categories(decider, feature.id, flow, day) and \
                    denied_categories(decider, feature.id, flow, day - timedelta(days=1)):
                found.append(f"{feature.id} -> {flow.route} ({', '.join(flow.categories)})")
    return found


def held_back(decider: Decider, processor: str, day: date) -> list[str]:
    """Declared flows through `processor` that the policy denies on `day`."""
    return [f"{feature.id} -> {flow.route}" for feature in decider.dataset.features for flow in feature.flows
            if (route := decider.routes.get(flow.route)) is not None and route.processor == processor
            and denied_categories(decider, feature.id, flow, day)]


def notice_alerts(decider: Decider, on: date, within: int = 60) -> list[Alert]:
    alerts = []
    for s in subprocessor_list(decider.dataset):
        if s.notice_ends_on is None:
            held = held_back(decider, s.processor, on)
            alerts.append(Alert("unannounced", "subprocessor_notice", s.processor,
                                f"{s.name} receives our customers' data ({', '.join(s.features)}) but was never "
                                "announced on our subprocessor list; " + (
                                    f"the policy denies {len(held)} of its declared flows" if held else
                                    "the policy does not hold its flows back (no rule reads the notice)"),
                                None, None))
            continue
        days = (s.notice_ends_on - on).days
        if 0 <= days <= within:
            when = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
            alerts.append(Alert("due", "subprocessor_notice", s.processor,
                                f"notice for {s.name} (announced {s.announced_on}) ends on {s.notice_ends_on} "
                                f"({when}); it may then receive our customers' data", s.notice_ends_on, days,
                                allows=tuple(newly_allowed(decider, s.processor, s.notice_ends_on))))
    return alerts
