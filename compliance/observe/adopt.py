"""Finance's one audited action: replace a feature's modelled usage with what production really did.

The observed averages are per request over a month of imported telemetry (input and output tokens,
cached share of input), and optionally the requests per active user of that month. Only the
feature's `usage` changes, through the same audited, version-checked edit as any other change.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from compliance.access import Actor
from compliance.costs.usage import active_users, segment_of
from compliance.problems import ComplianceError
from compliance.store import documents as d
from compliance.store.edits import update_record
from compliance.store.tables import ObservedUsageRow


@dataclass(frozen=True)
class ObservedUsage:
    """A feature's observed averages in one month."""

    feature: str
    month: str
    requests: int
    input_tokens: int  # per request, cached input included
    output_tokens: int
    cached_input_share: float
    requests_per_user_month: float | None  # None when the feature has no segment with active users

    def as_usage(self, modelled: d.Usage | None, *, with_requests: bool) -> dict[str, object]:
        requests = (self.requests_per_user_month if with_requests and self.requests_per_user_month is not None
                    else (modelled.requests_per_user_month if modelled else None))
        if requests is None:
            raise ComplianceError(f"feature {self.feature} has no modelled requests per user, and none can be "
                                  "observed without a cost segment; adopt the requests too, or set them first")
        return {"requests_per_user_month": round(requests, 2), "input_tokens": self.input_tokens,
                "output_tokens": self.output_tokens, "cached_input_share": round(self.cached_input_share, 3)}


def observed_usage(session: Session, dataset: d.DataSet, feature_id: str, month: str) -> ObservedUsage | None:
    """The feature's averages over the month ("YYYY-MM"), from the stored aggregates; None when nothing was seen."""
    rows = [r for r in session.exec(select(ObservedUsageRow).where(col(ObservedUsageRow.feature) == feature_id))
            if r.day.strftime("%Y-%m") == month]
    requests = sum(r.requests for r in rows)
    if not requests:
        return None
    inputs = sum(r.input_tokens for r in rows)
    feature = next(f for f in dataset.features if f.id == feature_id)
    segment = segment_of(feature, dataset.costs)
    users = active_users(segment) if segment else 0
    return ObservedUsage(feature_id, month, requests, round(inputs / requests), round(sum(r.output_tokens for r in rows)
                                                                                   / requests),
                         sum(r.cached_input_tokens for r in rows) / inputs if inputs else 0.0,
                         requests / users if users else None)


def adopt_observed_usage(session: Session, *, dataset: d.DataSet, feature_id: str, month: str, expected_version: int,
                         actor: Actor, reason: str | None, with_requests: bool = False) -> int:
    """Set the feature's modelled usage to the month's observed averages (audited); returns the new version."""
    found = observed_usage(session, dataset, feature_id, month)
    if found is None:
        raise ComplianceError(f"no observed usage of {feature_id} in {month}; nothing was changed")
    feature = next(f for f in dataset.features if f.id == feature_id)
    usage = found.as_usage(feature.usage, with_requests=with_requests)
    return update_record(session, entity="feature", key=feature_id, expected_version=expected_version,
                         changes={"usage": usage}, actor=actor, permission="usage",
                         reason=reason or f"modelled usage from observed {month}")
