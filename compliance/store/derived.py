"""Facts computed from stored ones for a given date (data.md, policy.md "Precise points").

`None` means unknown: an absent agreement has no status, no dates and no `active`.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from compliance.config import FRESHNESS_DAYS


def agreement_active(agreement: Any | None, on: date) -> bool | None:
    """Signed, already in force on `on`, and not yet expired; unknown when there is no agreement."""
    if agreement is None:
        return None
    status = getattr(agreement.status, "value", agreement.status)
    return (
        status == "signed"
        and (agreement.signed_on is None or agreement.signed_on <= on)
        and (agreement.expires_on is None or agreement.expires_on >= on)
    )


def agreement_state(agreement: Any | None, on: date) -> str | None:
    """What an agreement is on `on`, not only what is stored: a `signed` DPA past its expiry reads
    `expired`, one signed for a later date reads `signed, not yet in force`."""
    if agreement is None:
        return None
    status = str(getattr(agreement.status, "value", agreement.status))
    if status != "signed":
        return status.replace("_", " ")
    if agreement.expires_on is not None and agreement.expires_on < on:
        return "expired"
    if agreement.signed_on is not None and agreement.signed_on > on:
        return "signed, not yet in force"
    return "signed"


def days_to_expiry(agreement: Any | None, on: date) -> int | None:
    if agreement is None or agreement.expires_on is None:
        return None
    days: int = (agreement.expires_on - on).days
    return days


def active_certifications(certifications: list[Any], on: date) -> list[str]:
    """Names of certifications still valid on `on` (no `valid_until`, or on/after it)."""
    return [c.name for c in certifications if c.valid_until is None or c.valid_until >= on]


def route_stale(last_verified_on: date | None, on: date, window_days: int = FRESHNESS_DAYS) -> bool:
    """Stale when never verified or verified more than `window_days` before `on` (180 is fresh, 181 stale)."""
    return last_verified_on is None or (on - last_verified_on).days > window_days
