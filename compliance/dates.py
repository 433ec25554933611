"""Dates as users write them: ISO dates, `today`, `today+30d`, `today-180d`."""

from __future__ import annotations

import re
from datetime import date, timedelta

from compliance.problems import ComplianceError

_RELATIVE = re.compile(r"^today(?:([+-])(\d{1,5})d)?$")


def parse_day(text: str, today: date | None = None) -> date:
    """Parse a date argument; raise a ComplianceError naming the accepted forms."""
    today = today or date.today()
    value = text.strip().lower()
    match = _RELATIVE.match(value)
    if match:
        sign, days = match.groups()
        if not sign:
            return today
        delta = timedelta(days=int(days))
        return today + delta if sign == "+" else today - delta
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise ComplianceError(f"{text!r} is not a date; use YYYY-MM-DD, today, today+30d or today-30d") from None
