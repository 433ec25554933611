"""Three-valued evaluation of conditions (Kleene logic), shared by single decisions and the matrix.

Truth values are small ints so that `all` is min, `any` is max and `not` is 2 - x, the same
in Python and in numpy: FALSE = 0, UNKNOWN = 1, TRUE = 2.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date
from typing import Any

from compliance.policy.policyset import Leaf, Node, RelativeDay

FALSE, UNKNOWN, TRUE = 0, 1, 2

# The operators of the policy language (policy.md), once: validation (language.py) accepts exactly these.
COMPARISONS: dict[str, Callable[[Any, Any], bool]] = {
    "eq": lambda v, x: v == x,
    "ne": lambda v, x: v != x,
    "in": lambda v, x: v in x,
    "not_in": lambda v, x: v not in x,
    "contains": lambda v, x: x in v,
    "lt": lambda v, x: v < x,
    "lte": lambda v, x: v <= x,
    "gt": lambda v, x: v > x,
    "gte": lambda v, x: v >= x,
    "before": lambda v, x: v < x,
    "after": lambda v, x: v > x,
}
OPERATORS = frozenset(COMPARISONS) | {"exists"}


def resolve(value: Any, today: date) -> Any:
    """Relative dates become dates on the evaluation day."""
    if isinstance(value, RelativeDay):
        return value.on(today)
    if isinstance(value, tuple):
        return tuple(resolve(v, today) for v in value)
    return value


@functools.lru_cache(maxsize=4096)
def leaf_test(leaf: Leaf) -> Callable[[Any, date], int]:
    """A function from (fact value, evaluation date) to FALSE/UNKNOWN/TRUE (one per distinct leaf)."""
    op, operand = leaf.op, leaf.value
    relative = isinstance(operand, RelativeDay) or (
        isinstance(operand, tuple) and any(isinstance(v, RelativeDay) for v in operand))

    if op == "exists":
        def exists(value: Any, _today: date) -> int:
            present = bool(value) if isinstance(value, list) else value is not None
            return TRUE if present == operand else FALSE
        return exists

    compare = COMPARISONS[op]

    if relative:
        def test_relative(value: Any, today: date) -> int:
            if value is None:
                return UNKNOWN
            return TRUE if compare(value, resolve(operand, today)) else FALSE
        return test_relative

    def test(value: Any, _today: date) -> int:
        if value is None:
            return UNKNOWN
        return TRUE if compare(value, operand) else FALSE
    return test


# --- combining rule results: the one implementation -------------------------------------------
# `Decider.decide` (one request, Python ints and bools) and `Matrix` (every cell, numpy arrays) both
# combine rule results with these three functions; they work elementwise on arrays and on scalars.

def applies(deny: bool, result: Any) -> Any:
    """Whether a rule in scope applies, from its condition's truth value: a deny rule applies unless
    its condition is false (an unknown fact fails closed); an allow rule only when it is true."""
    return result != FALSE if deny else result == TRUE


def applying(deny_rules: int, allow_rules: int, true_rules: int, open_rules: int) -> int:
    """`applies` over sets of rules as bitmasks (`Decider.decide`): of the rules in `deny_rules`, those
    whose condition is not FALSE (in `open_rules`: TRUE or UNKNOWN); of `allow_rules`, those whose
    condition is TRUE (in `true_rules`). Tested to agree with `applies` for every truth value."""
    return (deny_rules & open_rules) | (allow_rules & true_rules)


def unwaived(applied: Any, waived: Any) -> Any:
    """A deny rule stops applying where an active exception covers the request."""
    return applied & (waived ^ True)


def combine(any_allow: Any, any_deny: Any) -> Any:
    """The answer: allowed when some allow rule applies and no deny rule does (deny overrides allow;
    with no allow rule applying, the answer is deny)."""
    return any_allow & (any_deny ^ True)


Facts = dict[str, Any]
MaskTester = Callable[[int, int], int]


def flat_leaves(node: Node) -> tuple[str, list[Leaf]] | None:
    """("all" | "any", its leaves) for a single leaf (an `all` of one) or a flat `all`/`any` of leaves;
    None for a condition with `not` or nesting. A flat condition is TRUE when all (any) of its leaves
    are TRUE, and not FALSE when all (any) of them are TRUE or UNKNOWN. An `all` or `any` of one
    condition is that condition (a `when` list holding one `any` is a flat `any`)."""
    while node.leaf is None and node.kind in ("all", "any") and len(node.children) == 1:
        node = node.children[0]
    if node.leaf is not None:
        return "all", [node.leaf]
    if node.kind in ("all", "any") and all(c.leaf is not None for c in node.children):
        return node.kind, [c.leaf for c in node.children if c.leaf is not None]
    return None


def compile_masks(node: Node, bit_of: dict[Leaf, int]) -> MaskTester:
    """A function of (T, U) leaf bitmasks to a truth value.

    Bit i of T is set when leaf i is TRUE for the request; bit i of U when it is TRUE or UNKNOWN.
    Flat `all`/`any` of leaves (the common case) become two mask comparisons.
    """
    flat = flat_leaves(node)
    if flat is not None:
        kind, leaves = flat
        mask = 0
        for leaf in leaves:
            mask |= bit_of[leaf]
        if kind == "any":
            return lambda t, u: TRUE if t & mask else (UNKNOWN if u & mask else FALSE)
        return lambda t, u: TRUE if t & mask == mask else (UNKNOWN if u & mask == mask else FALSE)
    parts = [compile_masks(child, bit_of) for child in node.children]
    if node.kind == "not":
        only = parts[0]
        return lambda t, u: TRUE - only(t, u)
    if node.kind == "all":
        return lambda t, u: min(part(t, u) for part in parts)
    return lambda t, u: max(part(t, u) for part in parts)


def explain(node: Node, facts: Facts, today: date) -> tuple[int, list[tuple[Leaf, int, Any]]]:
    """Evaluate without short-cuts and return each leaf that was false or unknown, with its fact value."""
    if node.leaf is not None:
        value = facts[node.leaf.fact]
        result = leaf_test(node.leaf)(value, today)
        return result, ([] if result == TRUE else [(node.leaf, result, value)])
    results = [explain(child, facts, today) for child in node.children]
    misses = [miss for _, found in results for miss in found]
    values = [value for value, _ in results]
    if node.kind == "not":
        inner = values[0]
        if inner == FALSE:  # a `not` that holds: its inner misses are what made it hold
            return TRUE, []
        leaves = node.children[0].leaves()
        return TRUE - inner, [(leaf, FALSE if inner == TRUE else UNKNOWN, facts[leaf.fact]) for leaf in leaves]
    combined = min(values) if node.kind == "all" else max(values)
    if combined == TRUE:
        return TRUE, []
    return combined, misses
