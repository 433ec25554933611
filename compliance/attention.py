"""Providers legal must act on: no signed DPA, an expired one, or one expiring within a chosen window."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from compliance.alerts import NOT_SIGNED, flows_by_processor
from compliance.store import documents as d
from compliance.store.derived import agreement_state, days_to_expiry

if TYPE_CHECKING:
    import pandas as pd

COLUMNS = ["id", "provider", "issue", "dpa_state", "dpa_expires_on", "days_to_expiry", "declared_flows", "owner"]


def needs_attention(dataset: d.DataSet, on: date, within: int) -> pd.DataFrame:
    """One row per provider whose DPA needs action, most urgent first; `declared_flows` counts the
    declared flows that send it data today (those make a missing DPA an alert)."""
    import pandas as pd  # imported where a frame is built: the CLI starts without pandas
    carried = flows_by_processor(dataset)
    rows: list[tuple[tuple[int, int, int], dict[str, object]]] = []
    for p in dataset.providers:
        dpa = p.dpa
        state = agreement_state(dpa, on)
        days = days_to_expiry(dpa, on)
        if dpa is None:
            rank, issue = 1, "no DPA recorded"
        elif dpa.status.value in NOT_SIGNED:
            rank, issue = 1, f"no signed DPA ({dpa.status.value.replace('_', ' ')})"
        elif state == "expired":
            rank, issue = 0, f"DPA expired on {dpa.expires_on}" if dpa.expires_on else "DPA marked expired"
        elif state == "signed, not yet in force":
            rank, issue = 2, f"DPA signed for {dpa.signed_on}, not yet in force"
        elif state == "signed" and days is not None and days <= within:
            rank, issue = 3, f"DPA expires on {dpa.expires_on} (in {days} day{'s' if days != 1 else ''})"
        else:
            continue
        flows = len(carried.get(p.id, []))
        rows.append(((rank, -flows, days if days is not None else 10**6), {
            "id": p.id, "provider": p.name, "issue": issue, "dpa_state": state or "none recorded",
            "dpa_expires_on": dpa.expires_on if dpa else None, "days_to_expiry": days, "declared_flows": flows,
            "owner": p.owner}))
    return pd.DataFrame([row for _, row in sorted(rows, key=lambda r: r[0])], columns=COLUMNS)
