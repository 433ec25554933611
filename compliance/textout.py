"""Plain-text tables and values for the terminal: aligned columns, money as money."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from typing import Any, TextIO

# C0 controls except tab and newline, a carriage return not ending a line, DEL and C1 controls:
# an ANSI escape in a provider name must never recolour, move or clear the user's terminal.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]|\r(?!\n)")


def printable(text: str) -> str:
    """`text` with terminal control characters shown as \\u001b-style escapes."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


class SafeStream:
    """Wraps a text stream so that nothing written to it can drive the terminal."""

    def __init__(self, stream: TextIO):
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(printable(text))
        return len(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


def _missing(value: float | None) -> bool:
    return value is None or value != value  # None or NaN


def money(value: float | None, currency: str = "$", digits: int = 2) -> str:
    """$1,234 for large amounts, $12.34 (or more digits) for small ones, - when unknown."""
    if _missing(value):
        return "-"
    assert value is not None
    sign = "-" if value < 0 else ""
    if abs(value) >= 100:
        return f"{sign}{currency}{abs(value):,.0f}"
    return f"{sign}{currency}{abs(value):,.{digits}f}"


def percent(value: float | None) -> str:
    """Every percentage with one precision: one decimal place."""
    return "-" if _missing(value) else f"{value:.1%}"


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (list, tuple)):
        return ", ".join(cell(v) for v in value)
    return printable(str(value))


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


def progress(message: str) -> None:
    """A progress line on stderr for long work, only when a person is watching (a terminal)."""
    if sys.stderr.isatty():
        print(f"… {message}", file=sys.stderr, flush=True)
