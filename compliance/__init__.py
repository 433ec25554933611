"""LLM compliance and DPA tracking: which feature may send which data through which route."""

from compliance.api import Compliance, Denied
from compliance.policy.decide import Decision

__all__ = ["Compliance", "Decision", "Denied"]
