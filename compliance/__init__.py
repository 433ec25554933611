"""LLM compliance and DPA tracking: which feature may send which data through which route."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from compliance.api import Compliance, Denied
    from compliance.policy.decide import Decision

__all__ = ["Compliance", "Decision", "Denied"]


def __getattr__(name: str) -> Any:
    """`from compliance import Compliance` loads the library on first use, so that a small module of the
    package (the `observe import` workers) can be imported without pandas and the rest."""
    if name in ("Compliance", "Denied"):
        from compliance import api

        return getattr(api, name)
    if name == "Decision":
        from compliance.policy.decide import Decision

        return Decision
    raise AttributeError(f"module 'compliance' has no attribute {name!r}")
