"""What every record names: the day it speaks of, the policy version and the store state it came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any


@dataclass(frozen=True)
class Stamp:
    as_of: date
    policy_digest: str
    store_head: str  # hash of the newest audit event ("" for a data set not read from a store)

    def as_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "policy_digest": self.policy_digest, "store_head": self.store_head}
