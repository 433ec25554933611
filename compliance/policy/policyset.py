"""The parsed policy set: rules, conditions and exceptions, each remembering where it was written."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from compliance.dates import shift


@dataclass(frozen=True)
class RelativeDay:
    """`today`, `today+30d`, `today-180d`: a date relative to the evaluation date."""

    days: int

    def on(self, today: date) -> date:
        return shift(today, self.days)

    def __str__(self) -> str:
        if self.days == 0:
            return "today"
        return f"today{'+' if self.days > 0 else '-'}{abs(self.days)}d"


OP_TEXT = {"eq": "==", "ne": "!=", "in": "in", "not_in": "not in", "contains": "contains", "lt": "<",
           "lte": "<=", "gt": ">", "gte": ">=", "before": "before", "after": "after", "exists": "exists"}


def show(value: Any) -> str:
    """A value as a policy author would write it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "unknown"
    if isinstance(value, (list, tuple, frozenset, set)):
        return "[" + ", ".join(show(v) for v in value) + "]"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


@dataclass(frozen=True)
class Leaf:
    """One comparison of one fact."""

    fact: str
    op: str
    value: Any
    line: int | None

    @functools.cached_property
    def text(self) -> str:
        return f"{self.fact} {OP_TEXT[self.op]} {show(self.value)}"


@dataclass(frozen=True)
class Node:
    """`all`, `any` or `not` over conditions, or a single leaf."""

    kind: str  # all | any | not | leaf
    children: tuple[Node, ...] = ()
    leaf: Leaf | None = None

    def leaves(self) -> list[Leaf]:
        if self.leaf is not None:
            return [self.leaf]
        return [leaf for child in self.children for leaf in child.leaves()]


@dataclass(frozen=True)
class Rule:
    id: str
    effect: str  # allow | deny
    waivable: bool
    reason: str
    features: frozenset[str] | None  # None: every feature
    routes: frozenset[str] | None
    categories: tuple[str, ...] | None
    when: Node | None
    file: str
    line: int | None
    position: int
    policy: str
    description: str | None = None


@dataclass(frozen=True)
class PolicyException:
    """A narrow, approved, dated waiver of one deny rule."""

    id: str
    waives: str
    feature: str
    categories: tuple[str, ...]
    routes: frozenset[str]
    approved_by: str
    granted_on: date | None
    expires_on: date
    ticket: str | None
    justification: str | None
    file: str
    line: int | None

    def active_on(self, day: date) -> bool:
        return (self.granted_on is None or self.granted_on <= day) and day <= self.expires_on


@dataclass
class PolicySet:
    rules: list[Rule] = field(default_factory=list)
    exceptions: list[PolicyException] = field(default_factory=list)
    digest: str = ""
    files: list[str] = field(default_factory=list)
    descriptions: dict[str, str] = field(default_factory=dict)
