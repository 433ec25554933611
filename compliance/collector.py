"""Pausing Python's cyclic garbage collector around work that builds many objects and no cycles."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """While a large batch of objects is built (a parsed module, a year of usage rows), the cyclic
    collector would sweep them again and again as they accumulate; where the work makes no reference
    cycles (each caller's tests check it), reference counting frees everything on its own, so the
    sweeps find nothing and only cost time. Nested pauses are fine: the outermost one resumes it."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
