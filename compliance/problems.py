"""Problems a user can cause, as values with a location, never as tracebacks."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, order=True)
class Problem:
    """One mistake in an input file: where it is, which field, and what is wrong."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class ComplianceError(Exception):
    """An error a user caused or can fix; the CLI prints it without a traceback."""

    exit_code = 2


class InvalidInput(ComplianceError):
    """Input files with one or more problems; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.field, p.message))
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} found; nothing was changed"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class NotFound(ComplianceError):
    """An id that is not in the store; the message names the closest known ones."""


def closest_ids(word: str, known: Iterable[str]) -> list[str]:
    """The known ids closest to an unknown one (at most three, best first)."""
    return difflib.get_close_matches(word, list(known), n=3, cutoff=0.6)


def closest(word: str, known: Iterable[str]) -> str:
    """A hint naming the closest known ids, for messages about unknown ones (NotFound, validation)."""
    matches = closest_ids(word, known)
    return f" (closest: {', '.join(matches)})" if matches else ""


class Conflict(ComplianceError):
    """Someone else changed the row first (optimistic locking); nothing was overwritten."""


def display_path(path: Path) -> str:
    """A path as a user would type it: relative to the working directory where possible."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError, RuntimeError):  # elsewhere, or a symlink loop (Python 3.11 raises RuntimeError)
        return str(path)
