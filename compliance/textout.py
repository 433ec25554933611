"""Plain-text tables and values for the terminal: aligned columns, money as money."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


def money(value: float | None, currency: str = "$") -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{currency}{value:,.0f}"
    return f"{currency}{value:,.2f}"


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    return str(value)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], *, max_width: int = 80) -> str:
    """An aligned text table; long cells are cut with an ellipsis."""
    text_rows = [[_cut(cell(v), max_width) for v in row] for row in rows]
    widths = [len(h) for h in headers]
    for row in text_rows:
        for i, value in enumerate(row):
            widths[i] = max(widths[i], len(value))
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)).rstrip() for row in text_rows]
    return "\n".join(lines)


def _cut(text: str, width: int) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= width else text[: width - 1] + "…"
