"""Dates as users write them: ISO dates, `today`, `today+30d`, `today-180d`; and the range we evaluate.

Data may hold any date (`expires_on: 9999-12-31` is a common "never"), but decisions, flows and
cost projections are evaluated only on days in EVALUATION_RANGE, so relative dates (up to 99,999
days either way) and month-by-month projections (pandas timestamps end in 2262) never overflow.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

from compliance.problems import ComplianceError

RELATIVE_DAY = re.compile(r"^today(?:([+-])(\d{1,5})d)?$")  # the one pattern: CLI, policies, API
EVALUATION_RANGE = (date(1900, 1, 1), date(2199, 12, 31))


def check_evaluation_day(on: date) -> date:
    """`on`, or a ComplianceError when it is outside the range decisions are evaluated in."""
    first, last = EVALUATION_RANGE
    if not isinstance(on, date):
        raise ComplianceError(f"{on!r} is not a date")
    if not first <= on <= last:
        raise ComplianceError(f"{on.isoformat()} is outside the dates decisions are evaluated on "
                              f"({first.isoformat()} to {last.isoformat()})")
    return on


def in_evaluation_range(on: date) -> bool:
    return EVALUATION_RANGE[0] <= on <= EVALUATION_RANGE[1]


def shift(day: date, days: int) -> date:
    """`day` plus `days`, held at the first or last representable date instead of overflowing."""
    try:
        return day + timedelta(days=days)
    except OverflowError:
        return date.max if days > 0 else date.min


def parse_day(text: str, today: date | None = None) -> date:
    """Parse a date argument; raise a ComplianceError naming the accepted forms."""
    today = today or date.today()
    value = text.strip().lower()
    match = RELATIVE_DAY.match(value)
    if match:
        sign, days = match.groups()
        if not sign:
            return check_evaluation_day(today)
        return check_evaluation_day(shift(today, int(days) if sign == "+" else -int(days)))
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise ComplianceError(f"{text!r} is not a date; use YYYY-MM-DD, today, today+30d or today-30d") from None
    return check_evaluation_day(day)
