"""Every feature x category x route decision for a date, evaluated in bulk.

The compiled rules of `Decider` are evaluated over whole arrays: each condition leaf once
per feature, category or route, then combined with the same three-valued logic (all = min,
any = max, not = 2 - x), and rule results are combined by the functions `Decider.decide` uses
(evaluate.applies/unwaived/combine; scopes and exceptions by decide.rule_scope/exception_covers).
The property tests check that every cell equals `decide`.
After a route or provider changes, only the columns of the routes it touches are redone.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO

import numpy as np

from compliance.dates import check_evaluation_day
from compliance.policy.decide import CompiledRule, Decider, exception_covers, rule_scope
from compliance.policy.evaluate import TRUE, applies, combine, leaf_test, unwaived
from compliance.policy.facts import SUBJECT_OF, route_facts
from compliance.policy.policyset import Leaf, Node, Rule
from compliance.store import documents as d

AXIS = {"feature": 0, "category": 1, "route": 2}


@dataclass
class MatrixResult:
    """`allowed[f, c, r]`, and `deciding[f, c, r]`: the first deciding rule's index, -1 for default deny.

    `rule_hits[i]` marks the cells where rule i applied (a deny rule: and was not waived);
    `exception_hits[id]` the cells where that exception waived a deny rule that applied.
    """

    as_of: date
    features: list[str]
    categories: list[str]
    routes: list[str]
    allowed: np.ndarray
    deciding: np.ndarray
    rule_ids: list[str]
    rule_hits: list[np.ndarray] = field(default_factory=list)
    rule_effects: list[str] = field(default_factory=list)
    exception_hits: dict[str, np.ndarray] = field(default_factory=dict)

    def decision(self, feature: str, category: str, route: str) -> bool:
        return bool(self.allowed[self.features.index(feature), self.categories.index(category),
                                 self.routes.index(route)])

    def rows(self):  # type: ignore[no-untyped-def]
        """(feature, category, route, decision, first deciding rule) for every cell."""
        for fi, f in enumerate(self.features):
            for ci, c in enumerate(self.categories):
                for ri, r in enumerate(self.routes):
                    rule = int(self.deciding[fi, ci, ri])
                    yield f, c, r, "allow" if self.allowed[fi, ci, ri] else "deny", \
                        self.rule_ids[rule] if rule >= 0 else ""


    def deciding_rules(self) -> np.ndarray:
        """Per cell, every deciding rule (policy.md: deny rules that applied unwaived, or allow rules that
        applied), as ids joined by ";" in policy-set order; "" for a default deny."""
        allow_code, deny_code = _codes([h for h, e in zip(self.rule_hits, self.rule_effects, strict=True)
                                        if e == "allow"]), \
            _codes([h for h, e in zip(self.rule_hits, self.rule_effects, strict=True) if e == "deny"])
        allow_ids = [r for r, e in zip(self.rule_ids, self.rule_effects, strict=True) if e == "allow"]
        deny_ids = [r for r, e in zip(self.rule_ids, self.rule_effects, strict=True) if e == "deny"]
        return np.where(self.allowed, _labels(allow_code, allow_ids), _labels(deny_code, deny_ids)).astype(object)

    def waivers(self) -> np.ndarray:
        """Per cell, the exceptions that waived a deny rule that applied, joined by ";"."""
        ids = list(self.exception_hits)
        return np.broadcast_to(_labels(_codes([self.exception_hits[i] for i in ids]), ids), self.allowed.shape)

    def full_rows(self) -> Iterator[tuple[str, str, str, str, str, str, str]]:
        """(as_of, feature, category, route, decision, rules, waived_by) for every cell."""
        rules, waivers, day = self.deciding_rules(), self.waivers(), self.as_of.isoformat()
        for fi, f in enumerate(self.features):
            for ci, c in enumerate(self.categories):
                allowed, rule_row, waiver_row = self.allowed[fi, ci], rules[fi, ci], waivers[fi, ci]
                for ri, r in enumerate(self.routes):
                    yield day, f, c, r, "allow" if allowed[ri] else "deny", str(rule_row[ri]), str(waiver_row[ri])


def _codes(hits: list[np.ndarray]) -> np.ndarray:
    """One integer per cell whose bit i says hits[i] holds there (an object array past 62 hits)."""
    if not hits:
        return np.zeros((1, 1, 1), dtype=np.int64)
    if len(hits) <= 62:
        code = np.zeros(hits[0].shape, dtype=np.int64)
        for i, hit in enumerate(hits):
            code |= hit.astype(np.int64) << i
        return code
    code = np.zeros(hits[0].shape, dtype=object)
    for i, hit in enumerate(hits):
        code = code + np.where(hit, 1 << i, 0).astype(object)
    return code


def _labels(code: np.ndarray, ids: list[str]) -> np.ndarray:
    """Each distinct code once: the ids of its set bits joined by ";"."""
    unique, inverse = np.unique(code, return_inverse=True)
    names = np.array([";".join(ids[i] for i in range(len(ids)) if int(u) >> i & 1) for u in unique], dtype=object)
    return names[inverse].reshape(code.shape)


CSV_COLUMNS = ["as_of", "feature", "category", "route", "decision", "rules", "waived_by"]


def write_csv(result: MatrixResult, out: TextIO) -> None:
    """The matrix as CSV: one row per cell with its date, every deciding rule and the waiving exceptions."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(result.full_rows())


def csv_text(result: MatrixResult) -> str:
    buffer = io.StringIO()
    write_csv(result, buffer)
    return buffer.getvalue()


class Matrix:
    """Bulk evaluation over a Decider's store snapshot and compiled policy set."""

    def __init__(self, decider: Decider):
        self.decider = decider
        self.features = [f.id for f in decider.dataset.features]
        self.categories = [c.key for c in decider.dataset.categories]
        self.routes = [r.id for r in decider.dataset.routes]
        self.route_docs = dict(decider.routes)
        self.providers = dict(decider.providers)
        self.leaves: dict[Leaf, int] = {}
        for compiled in decider.rules:
            for leaf in compiled.rule.when.leaves() if compiled.rule.when else []:
                self.leaves.setdefault(leaf, len(self.leaves))
        self._static = {leaf: self._static_values(leaf) for leaf in self.leaves
                        if SUBJECT_OF[leaf.fact] != "route"}
        self._scopes = [self._scope(c.rule) for c in decider.rules]
        self.result: MatrixResult | None = None
        self._route_values: dict[Leaf, np.ndarray] = {}

    # --- building blocks -------------------------------------------------------------------
    def _shape(self, values: np.ndarray, subject: str) -> np.ndarray:
        shape = [1, 1, 1]
        shape[AXIS[subject]] = values.shape[0]
        return values.reshape(shape)

    def _static_values(self, leaf: Leaf) -> np.ndarray:
        subject = SUBJECT_OF[leaf.fact]
        test = leaf_test(leaf)
        if subject == "model":  # the matrix asks without naming a model: model facts are unknown
            return np.array([test(None, date.min)], dtype=np.int8).reshape(1, 1, 1)
        facts = [self.decider.feature_subject(k).facts for k in self.features] if subject == "feature" else \
            [self.decider.category_subject(k).facts for k in self.categories]
        today = date.min  # feature and category facts never depend on the date
        return self._shape(np.array([test(f[leaf.fact], today) for f in facts], dtype=np.int8), subject)

    def _route_leaf_values(self, route_ids: list[str], on: date) -> dict[Leaf, np.ndarray]:
        facts = [route_facts(self.route_docs[r], self.providers, on, self.decider.freshness_days,
                             self.decider.dataset.notice)
                 for r in route_ids]
        values = {}
        for leaf in self.leaves:
            if SUBJECT_OF[leaf.fact] == "route":
                test = leaf_test(leaf)
                values[leaf] = np.array([test(f[leaf.fact], on) for f in facts], dtype=np.int8).reshape(1, 1, -1)
        return values

    def _scope(self, rule: Rule) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        h = self.decider.hierarchy
        f = np.array([rule_scope(h, rule, "feature", x) for x in self.features], dtype=bool)
        c = np.array([rule_scope(h, rule, "category", x) for x in self.categories], dtype=bool)
        r = np.array([rule_scope(h, rule, "route", x) for x in self.routes], dtype=bool)
        return f.reshape(-1, 1, 1), c.reshape(1, -1, 1), r

    def _node(self, node: Node, route_values: dict[Leaf, np.ndarray]) -> np.ndarray:
        if node.leaf is not None:
            leaf = node.leaf
            return self._static[leaf] if leaf in self._static else route_values[leaf]
        parts = [self._node(child, route_values) for child in node.children]
        if node.kind == "not":
            return (TRUE - parts[0]).astype(np.int8)
        combine = np.minimum if node.kind == "all" else np.maximum
        result = parts[0]
        for part in parts[1:]:
            result = combine(result, part)
        return result

    # --- evaluation ------------------------------------------------------------------------
    def _evaluate(self, route_idx: list[int], on: date
                  ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], dict[str, np.ndarray]]:
        route_ids = [self.routes[i] for i in route_idx]
        route_values = self._route_leaf_values(route_ids, on)
        shape = (len(self.features), len(self.categories), len(route_idx))
        denied = np.zeros(shape, dtype=bool)
        allowed_any = np.zeros(shape, dtype=bool)
        deciding = np.full(shape, -1, dtype=np.int32)
        first_allow = np.full(shape, -1, dtype=np.int32)
        cat_pos = {c: i for i, c in enumerate(self.categories)}
        route_pos = {r: i for i, r in enumerate(route_ids)}
        feature_pos = {f: i for i, f in enumerate(self.features)}
        hits = [np.zeros(shape, dtype=bool) for _ in self.decider.rules]
        exception_hits = {e.id: np.zeros(shape, dtype=bool) for c in self.decider.rules for e in c.exceptions}
        for compiled, (f_scope, c_scope, r_scope_all) in zip(self.decider.rules, self._scopes, strict=True):
            r_scope = r_scope_all[route_idx].reshape(1, 1, -1)
            if not (f_scope.any() and c_scope.any() and r_scope.any()):
                continue
            rule = compiled.rule
            when = self._node(rule.when, route_values) if rule.when else np.full((1, 1, 1), TRUE, dtype=np.int8)
            applied = np.broadcast_to(applies(compiled.deny, when) & f_scope & c_scope & r_scope, shape)
            if compiled.deny:
                before = applied
                for exc_id, waived in self._waived(compiled, on, feature_pos, cat_pos, route_pos, shape).items():
                    exception_hits[exc_id] |= before & waived
                    applied = unwaived(applied, waived)
                deciding[applied & ~denied] = compiled.index
                denied |= applied
            else:
                first_allow[applied & ~allowed_any] = compiled.index
                allowed_any |= applied
            hits[compiled.index] = np.array(applied)
        allowed = combine(allowed_any, denied)
        deciding = np.where(allowed, first_allow, deciding)
        return allowed, deciding, hits, exception_hits

    def _waived(self, compiled: CompiledRule, on: date, feature_pos: dict[str, int], cat_pos: dict[str, int],
                route_pos: dict[str, int], shape: tuple[int, int, int]) -> dict[str, np.ndarray]:
        """Per exception of this rule, the cells it covers on `on` (decide.exception_covers, cell by cell
        within the exception's feature and routes)."""
        result = {}
        h = self.decider.hierarchy
        for exc in compiled.exceptions:
            if exc.feature not in feature_pos:
                continue
            cells = [(i, route_pos[r]) for r in exc.routes if r in route_pos for c, i in cat_pos.items()
                     if exception_covers(h, exc, exc.feature, c, r, on)]
            if cells:
                waived = np.zeros(shape, dtype=bool)
                rows, columns = zip(*cells, strict=True)
                waived[feature_pos[exc.feature], list(rows), list(columns)] = True
                result[exc.id] = waived
        return result

    def evaluate(self, on: date) -> MatrixResult:
        """The whole matrix for `on`."""
        check_evaluation_day(on)
        allowed, deciding, hits, exception_hits = self._evaluate(list(range(len(self.routes))), on)
        self.result = MatrixResult(on, self.features, self.categories, self.routes, allowed, deciding,
                                   [c.rule.id for c in self.decider.rules], hits,
                                   [c.rule.effect for c in self.decider.rules], exception_hits)
        return self.result

    def update_route(self, route: d.Route) -> MatrixResult:
        """Replace one route's facts and redo only its column."""
        self.route_docs[route.id] = route
        return self._redo([self.routes.index(route.id)])

    def update_provider(self, provider: d.Provider) -> MatrixResult:
        """Replace one provider's facts and redo the columns of the routes it processes or made."""
        self.providers[provider.id] = provider
        touched = [i for i, r in enumerate(self.routes)
                   if provider.id in (self.route_docs[r].processor, self.route_docs[r].model_provider)]
        return self._redo(touched)

    def _redo(self, route_idx: list[int]) -> MatrixResult:
        if self.result is None:
            raise RuntimeError("evaluate() the matrix before updating it")
        if route_idx:
            allowed, deciding, hits, exception_hits = self._evaluate(route_idx, self.result.as_of)
            self.result.allowed[:, :, route_idx] = allowed
            self.result.deciding[:, :, route_idx] = deciding
            for whole, part in zip(self.result.rule_hits, hits, strict=True):
                whole[:, :, route_idx] = part
            for exc_id, part in exception_hits.items():
                self.result.exception_hits[exc_id][:, :, route_idx] = part
        return self.result
