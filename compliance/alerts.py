"""What needs attention on a date: expiring or expired agreements and certifications,
overdue reviews, stale route facts, stale sources and unsourced facts that decide declared flows."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from compliance.config import FRESHNESS_DAYS
from compliance.dates import in_evaluation_range, shift
from compliance.policy.flows import FlowResult, denied_categories, evaluate_flows
from compliance.store import documents as d
from compliance.store.derived import route_stale

if TYPE_CHECKING:
    from compliance.policy.decide import Decider

SEVERITY_ORDER = {"expired": 0, "unsigned": 1, "unannounced": 1,
                  "stale": 2, "unsourced": 3, "overdue": 4, "expiring": 5, "due": 6}


@dataclass(frozen=True)
class Alert:
    severity: str  # expired | unsigned | expiring | stale | unsourced | overdue | due
    kind: str  # dpa | baa | certification | route | review | exception | provider_source | route_source | model
    subject: str  # provider, route or exception id; "route/model" for a model
    message: str
    due_on: date | None
    days: int | None  # days from the evaluation date to due_on (negative: in the past)
    breaks_on: date | None = None  # the first day the change takes effect, when it is still ahead
    breaks: tuple[str, ...] = field(default=())  # declared flows compliant the day before, not on breaks_on
    carries: tuple[str, ...] = field(default=())  # declared flows that send data to the subject today
    allows: tuple[str, ...] = field(default=())  # declared flows denied the day before due_on, allowed on it

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("due_on", "breaks_on"):
            data[key] = data[key].isoformat() if data[key] else None
        data["breaks"] = list(self.breaks)
        data["carries"] = list(self.carries)
        data["allows"] = list(self.allows)
        return data

    @property
    def sort_key(self) -> tuple[int, int, str]:
        return SEVERITY_ORDER[self.severity], self.days if self.days is not None else -10**6, self.subject


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
            ended = f" (ended on {agreement.expires_on})" if agreement.expires_on else ""
            alerts.append(Alert("expired", kind, provider.id, f"{label} is marked expired{ended}",
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
            alerts.append(Alert(severity, kind, provider.id, message, agreement.expires_on, days,
                                _day_after(agreement.expires_on, on)))
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
                                cert.valid_until, days, _day_after(cert.valid_until, on)))
    found = _dated("overdue", "due", provider.next_review_on, on, within)
    if found:
        severity, days = found
        alerts.append(Alert(severity, "review", provider.id,
                            f"vendor review of {provider.name} due on {provider.next_review_on} ({_when(days)})",
                            provider.next_review_on, days))
    return alerts


def _day_after(day: date | None, on: date) -> date | None:
    """When an end date takes effect: the day after it, if that is still ahead."""
    if day is None or day < on:
        return None
    return shift(day, 1)


def route_alerts(route: d.Route, on: date, within: int = 60, window_days: int = FRESHNESS_DAYS) -> list[Alert]:
    if route.status.value == "retired":
        return []
    if not route_stale(route.last_verified_on, on, window_days):
        assert route.last_verified_on is not None
        stale_on = shift(route.last_verified_on, window_days + 1)
        days = (stale_on - on).days
        if days > within:
            return []
        return [Alert("expiring", "route", route.id, f"facts of route {route.id} go stale on {stale_on} "
                      f"({_when(days)}); re-verify them", stale_on, days, stale_on)]
    if route.last_verified_on is None:
        return [Alert("stale", "route", route.id, f"facts of route {route.id} were never verified", None, None)]
    due = shift(route.last_verified_on, window_days)
    days = (due - on).days
    return [Alert("stale", "route", route.id,
                  f"facts of route {route.id} last verified on {route.last_verified_on}, "
                  f"stale since {shift(due, 1)}", due, days)]


def flows_by_processor(dataset: d.DataSet) -> dict[str, list[str]]:
    """Declared flows ("feature -> route") per provider that receives their prompts."""
    processor = {r.id: r.processor for r in dataset.routes}
    found: dict[str, list[str]] = {}
    for feature in dataset.features:
        for flow in feature.flows:
            if flow.route in processor:
                found.setdefault(processor[flow.route], []).append(f"{feature.id} -> {flow.route}")
    return found


NOT_SIGNED = ("in_review", "requested", "not_started", "terminated")


def unsigned_dpa_alerts(dataset: d.DataSet) -> list[Alert]:
    """Processors that declared flows already send data to, without a DPA signed (or one not needed)."""
    carried = flows_by_processor(dataset)
    alerts = []
    for provider in dataset.providers:
        flows = carried.get(provider.id)
        status = provider.dpa.status.value if provider.dpa else None
        if not flows or (status is not None and status not in NOT_SIGNED):
            continue
        state = f"DPA {status.replace('_', ' ')}" if status else "no DPA recorded"
        alerts.append(Alert("unsigned", "dpa", provider.id,
                            f"no signed DPA with {provider.name} ({state}), but {len(flows)} declared "
                            f"{'flow sends' if len(flows) == 1 else 'flows send'} it data", None, None,
                            carries=tuple(flows)))
    return alerts


def store_alerts(dataset: d.DataSet, on: date, within: int = 60, window_days: int = FRESHNESS_DAYS) -> list[Alert]:
    """Every alert for the store on `on`, most urgent first."""
    alerts: list[Alert] = unsigned_dpa_alerts(dataset)
    for provider in dataset.providers:
        alerts += provider_alerts(provider, on, within)
    for route in dataset.routes:
        alerts += route_alerts(route, on, within, window_days)
    for provider in dataset.providers:
        alerts += source_alerts(provider, "provider", on, window_days)
    for route in dataset.routes:
        alerts += source_alerts(route, "route", on, window_days)
    return sorted(alerts, key=lambda a: a.sort_key)


def source_alerts(record: d.Provider | d.Route, what: str, on: date, window_days: int = FRESHNESS_DAYS) -> list[Alert]:
    """One alert per provider or route whose sources are older than the freshness window (or undated)."""
    if isinstance(record, d.Route) and record.status.value == "retired":
        return []
    old = [s for s in record.sources if s.as_of is None or (on - s.as_of).days > window_days]
    if not old:
        return []
    listed = ", ".join(f"{s.field or '(record)'} ({s.as_of or 'undated'})" for s in old)
    oldest = min((s.as_of for s in old if s.as_of), default=None)
    return [Alert("stale", f"{what}_source", record.id,
                  f"{len(old)} source{'s' if len(old) != 1 else ''} of {what} {record.id} older than "
                  f"{window_days} days or undated: {listed}; re-check them", oldest,
                  (oldest - on).days if oldest else None)]


def unsourced_alerts(decider: Decider, on: date, flows: list[FlowResult] | None = None) -> list[Alert]:
    """Facts that decide some declared flow but carry no source, one alert per route or provider.

    The facts come from the decisions' evidence (policy/evidence.py), so only facts a deciding rule
    actually reads are listed. `flows` may pass `evaluate_flows(decider, on)` already computed.
    """
    found: dict[str, dict[str, set[str]]] = {}
    for flow in evaluate_flows(decider, on) if flows is None else flows:
        for decision in flow.decisions:
            for item in decision.evidence:
                if item.status == "unsourced":
                    fields = found.setdefault(item.subject, {})
                    fields.setdefault(item.field, set()).add(f"{flow.feature} -> {flow.route}")
    alerts = []
    for subject, fields in found.items():
        what = "route" if subject in decider.routes else "provider"
        listed = "; ".join(f"{name} (decides {', '.join(sorted(flows))})" for name, flows in fields.items())
        alerts.append(Alert("unsourced", f"{what}_source", subject,
                            f"{what} {subject}: facts that decide declared flows carry no source: {listed}",
                            None, None))
    return alerts


def superseded_exceptions(decider: Decider, on: date) -> dict[str, str]:
    """Expired exceptions already replaced by a newer one (same rule and feature, covering at least the
    same routes and categories, expiring later): history, not alerts; the newest one is the alert. Maps each to
    the exception that replaced it."""
    replaced: dict[str, str] = {}
    h = decider.hierarchy
    for old in decider.policies.exceptions:
        if old.expires_on >= on:
            continue
        for new in decider.policies.exceptions:
            if (new.id != old.id and new.waives == old.waives and new.feature == old.feature
                    and new.expires_on > old.expires_on and old.routes <= new.routes
                    and all(h.covers(new.categories, c) for c in old.categories if c in h.ancestors)):
                replaced[old.id] = new.id
                break
    return replaced


def policy_alerts(decider: Decider, on: date, within: int = 60) -> list[Alert]:
    """Exceptions expiring or expired (unless already replaced: see `superseded_exceptions`), and the
    declared flows every upcoming change would break."""
    alerts = []
    history = superseded_exceptions(decider, on)
    for exc in decider.policies.exceptions:
        if exc.id in history:
            continue
        found = _dated("expired", "expiring", exc.expires_on, on, within)
        if found:
            severity, days = found
            verb = "expired" if days < 0 else "expires"
            alerts.append(Alert(severity, "exception", exc.id,
                                f"exception {exc.id} ({exc.waives} for {exc.feature}) {verb} on {exc.expires_on} "
                                f"({_when(days)})", exc.expires_on, days, _day_after(exc.expires_on, on)))
    return alerts


def with_breaks(alerts: list[Alert], decider: Decider) -> list[Alert]:
    """Attach to each upcoming change the declared flows it breaks (compliant the day before, not on the day).

    Only the flows a change can touch (through the provider, route or exception it is about) are decided,
    each once per day, so the answer costs a few decisions per alert, not the whole store per date.
    """
    cache: dict[tuple[str, int, date], tuple[str, ...]] = {}
    declared = [(f, i, flow) for f in decider.dataset.features for i, flow in enumerate(f.flows)]
    exceptions = {e.id: e for e in decider.policies.exceptions}

    def denied_on(feature: Any, index: int, flow: Any, day: date) -> tuple[str, ...]:
        """The flow's categories denied on `day` (none: the flow is compliant); only the answers are needed."""
        found = cache.get((feature.id, index, day))
        if found is None:
            found = cache[(feature.id, index, day)] = denied_categories(decider, feature.id, flow, day)
        return found

    result = []
    for alert in alerts:
        if alert.kind == "model":  # a retirement's flows are found by the model lifecycle (models/lifecycle.py)
            result.append(alert)
            continue
        if alert.breaks_on is None or not in_evaluation_range(shift(alert.breaks_on, -1)) \
                or not in_evaluation_range(alert.breaks_on):
            result.append(alert)
            continue
        day_before = shift(alert.breaks_on, -1)
        broken = []
        for feature, index, flow in declared:
            if not _touches(alert, feature.id, flow.route, decider, exceptions):
                continue
            after = denied_on(feature, index, flow, alert.breaks_on)
            if not after or denied_on(feature, index, flow, day_before):
                continue
            broken.append(f"{feature.id} -> {flow.route} ({', '.join(after)})")
        result.append(replace(alert, breaks=tuple(broken)))
    return result


def _touches(alert: Alert, feature: str, route_id: str, decider: Decider, exceptions: dict[str, Any]) -> bool:
    route = decider.routes.get(route_id)
    if route is None:
        return False
    if alert.kind in ("dpa", "baa", "certification"):
        return alert.subject in (route.processor, route.model_provider)
    if alert.kind == "route":
        return alert.subject == route_id
    if alert.kind == "exception":
        exc = exceptions[alert.subject]
        return bool(exc.feature == feature and route_id in exc.routes)
    return False


def every_alert(decider: Decider, on: date, within: int = 60, flows: list[FlowResult] | None = None) -> list[Alert]:
    """Everything that needs attention on `on`, looking `within` days ahead, each upcoming change with the
    declared flows it breaks, most urgent first: the one list the CLI `alerts`, the dashboard's overview
    and the evidence pack show. `flows` may pass `evaluate_flows(decider, on)` already computed."""
    # imported here: both modules build on this one's Alert
    from compliance.models.retirements import model_alerts
    from compliance.records.notice import notice_alerts

    found = (store_alerts(decider.dataset, on, within, decider.freshness_days) + policy_alerts(decider, on, within)
             + unsourced_alerts(decider, on, flows) + notice_alerts(decider, on, within)
             + model_alerts(decider, on, within))
    return sorted(with_breaks(found, decider), key=lambda a: a.sort_key)
