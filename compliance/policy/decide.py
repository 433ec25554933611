"""The one decision function: may feature F send category C through route R on date D?

Everything that answers this question (CLI, API, dashboard, policy tests, the matrix's
explanations) goes through `Decider.decide`. The matrix evaluates the same compiled rules
in bulk (matrix.py) and is tested to agree with it cell by cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from compliance.policy.evaluate import FALSE, TRUE, UNKNOWN, Tester, compile_node, explain
from compliance.policy.facts import category_facts, feature_facts, route_facts
from compliance.policy.model import PolicyException, PolicySet, Rule, show
from compliance.problems import NotFound
from compliance.store import documents as d
from compliance.store.derived import FRESHNESS_DAYS
from compliance.store.validate import closest

_PLACEHOLDER = re.compile(r"\{([a-z_.]+)\}")


@dataclass(frozen=True)
class Decision:
    """A decision record (policy.md): the answer, the rules behind it and why."""

    feature: str
    category: str
    route: str
    as_of: date
    decision: str  # allow | deny
    rules: tuple[str, ...]
    reasons: tuple[str, ...]
    waived_by: tuple[str, ...] = ()
    unknown_facts: tuple[str, ...] = ()
    failed_conditions: tuple[dict[str, Any], ...] = ()
    policy_digest: str = ""

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature, "category": self.category, "route": self.route,
            "as_of": self.as_of.isoformat(), "decision": self.decision, "rules": list(self.rules),
            "reasons": list(self.reasons), "waived_by": list(self.waived_by),
            "unknown_facts": list(self.unknown_facts), "failed_conditions": list(self.failed_conditions),
            "policy_digest": self.policy_digest,
        }


@dataclass
class CompiledRule:
    rule: Rule
    index: int
    test: Tester | None
    template: list[tuple[bool, str]]
    exceptions: list[PolicyException] = field(default_factory=list)

    def applies(self, facts: dict[str, Any], today: date) -> int:
        return TRUE if self.test is None else self.test(facts, today)

    def render(self, facts: dict[str, Any]) -> str:
        return "".join(show(facts.get(text)) if is_fact else text for is_fact, text in self.template)


def _template(reason: str) -> list[tuple[bool, str]]:
    parts: list[tuple[bool, str]] = []
    last = 0
    for match in _PLACEHOLDER.finditer(reason):
        parts.append((False, reason[last:match.start()]))
        parts.append((True, match.group(1)))
        last = match.end()
    parts.append((False, reason[last:]))
    return [p for p in parts if p[1]]


class Hierarchy:
    """Category keys with their ancestors and descendants, for the asymmetric scope rules."""

    def __init__(self, keys: Iterable[str]):
        self.keys = list(keys)
        self.ancestors: dict[str, frozenset[str]] = {}
        for key in self.keys:
            parts = key.split(".")
            self.ancestors[key] = frozenset(".".join(parts[:i]) for i in range(1, len(parts) + 1))
        below: dict[str, set[str]] = {key: set() for key in self.keys}
        for key, ups in self.ancestors.items():
            for up in ups:
                if up != key and up in below:
                    below[up].add(key)
        self.descendants = {key: frozenset(v) for key, v in below.items()}

    def allow_fits(self, selectors: tuple[str, ...] | None, key: str) -> bool:
        """An allow selector fits C when it is C or an ancestor of C."""
        return selectors is None or not self.ancestors[key].isdisjoint(selectors)

    def deny_fits(self, selectors: tuple[str, ...] | None, key: str) -> bool:
        """A deny selector fits C when it is C, an ancestor or a descendant of C."""
        if selectors is None:
            return True
        return not self.ancestors[key].isdisjoint(selectors) or not self.descendants[key].isdisjoint(selectors)

    def covers(self, selectors: Iterable[str], key: str) -> bool:
        """An exception covers C when one of its categories is C or an ancestor of C."""
        return not self.ancestors[key].isdisjoint(selectors)


class Decider:
    """Compiled policies over one snapshot of the store. Build once; decide many times."""

    def __init__(self, dataset: d.DataSet, policies: PolicySet, *, freshness_days: int = FRESHNESS_DAYS):
        self.dataset = dataset
        self.policies = policies
        self.freshness_days = freshness_days
        self.features = {f.id: f for f in dataset.features}
        self.routes = {r.id: r for r in dataset.routes}
        self.categories = {c.key: c for c in dataset.categories}
        self.providers = {p.id: p for p in dataset.providers}
        self.hierarchy = Hierarchy(self.categories)
        self.rules = [CompiledRule(rule, i, compile_node(rule.when) if rule.when else None, _template(rule.reason))
                      for i, rule in enumerate(policies.rules)]
        by_id = {c.rule.id: c for c in self.rules}
        for exc in policies.exceptions:
            by_id[exc.waives].exceptions.append(exc)
        self._feature_facts = {fid: feature_facts(f) for fid, f in self.features.items()}
        self._category_facts = {key: category_facts(c) for key, c in self.categories.items()}
        self._route_facts: dict[date, dict[str, dict[str, Any]]] = {}
        self._feature_rules: dict[str, frozenset[int]] = {}
        self._route_rules: dict[str, frozenset[int]] = {}
        self._category_rules: dict[str, frozenset[int]] = {}

    # --- look-ups ----------------------------------------------------------------------------
    def _known(self, kind: str, value: str, known: dict[str, Any]) -> None:
        if value not in known:
            raise NotFound(f"unknown {kind} {value!r}{closest(value, known)}")

    def route_facts(self, route_id: str, on: date) -> dict[str, Any]:
        day = self._route_facts.get(on)
        if day is None:
            if len(self._route_facts) > 16:
                self._route_facts.clear()
            day = self._route_facts[on] = {}
        facts = day.get(route_id)
        if facts is None:
            facts = day[route_id] = route_facts(self.routes[route_id], self.providers, on, self.freshness_days)
        return facts

    def facts(self, feature: str, category: str, route: str, on: date) -> dict[str, Any]:
        return {**self._feature_facts[feature], **self._category_facts[category], **self.route_facts(route, on)}

    def _candidates(self, feature: str, category: str, route: str) -> list[CompiledRule]:
        f = self._feature_rules.get(feature)
        if f is None:
            f = self._feature_rules[feature] = frozenset(
                c.index for c in self.rules if c.rule.features is None or feature in c.rule.features)
        r = self._route_rules.get(route)
        if r is None:
            r = self._route_rules[route] = frozenset(
                c.index for c in self.rules if c.rule.routes is None or route in c.rule.routes)
        k = self._category_rules.get(category)
        if k is None:
            fits = self.hierarchy.allow_fits, self.hierarchy.deny_fits
            k = self._category_rules[category] = frozenset(
                c.index for c in self.rules if fits[c.rule.effect == "deny"](c.rule.categories, category))
        return [self.rules[i] for i in sorted(f & r & k)]

    def waiver(self, compiled: CompiledRule, feature: str, category: str, route: str,
               on: date) -> PolicyException | None:
        for exc in compiled.exceptions:
            if (exc.feature == feature and route in exc.routes and exc.active_on(on)
                    and self.hierarchy.covers(exc.categories, category)):
                return exc
        return None

    # --- the decision ------------------------------------------------------------------------
    def decide(self, feature: str, category: str, route: str, on: date) -> Decision:
        self._known("feature", feature, self.features)
        self._known("category", category, self.categories)
        self._known("route", route, self.routes)
        facts = self.facts(feature, category, route, on)
        denies: list[tuple[CompiledRule, int]] = []
        allows: list[CompiledRule] = []
        allow_misses: list[CompiledRule] = []
        waived: list[str] = []
        for compiled in self._candidates(feature, category, route):
            result = compiled.applies(facts, on)
            if compiled.rule.effect == "deny":
                if result != FALSE:
                    exc = self.waiver(compiled, feature, category, route, on)
                    if exc is None:
                        denies.append((compiled, result))
                    elif exc.id not in waived:
                        waived.append(exc.id)
            elif result == TRUE:
                allows.append(compiled)
            else:
                allow_misses.append(compiled)
        digest = self.policies.digest
        if denies:
            reasons, unknown = [], []
            for compiled, result in denies:
                text = compiled.render(facts)
                if result == UNKNOWN and compiled.rule.when is not None:
                    _, misses = explain(compiled.rule.when, facts, on)
                    missing = [leaf.fact for leaf, value, _ in misses if value == UNKNOWN]
                    unknown += [m for m in missing if m not in unknown]
                    text += f" (unknown: {', '.join(dict.fromkeys(missing))})"
                reasons.append(text)
            return Decision(feature, category, route, on, "deny", tuple(c.rule.id for c, _ in denies),
                            tuple(reasons), tuple(waived), tuple(unknown), (), digest)
        if allows:
            return Decision(feature, category, route, on, "allow", tuple(c.rule.id for c in allows),
                            tuple(c.render(facts) for c in allows), tuple(waived), (), (), digest)
        return self._default_deny(feature, category, route, on, facts, allow_misses, waived)

    def _default_deny(self, feature: str, category: str, route: str, on: date, facts: dict[str, Any],
                      misses: list[CompiledRule], waived: list[str]) -> Decision:
        reasons = [f"no allow rule lets {category} go through {route}"]
        failed: list[dict[str, Any]] = []
        unknown: list[str] = []
        for compiled in misses:
            assert compiled.rule.when is not None
            _, leaves = explain(compiled.rule.when, facts, on)
            parts = []
            for leaf, value, actual in leaves:
                state = "unknown" if value == UNKNOWN else "false"
                failed.append({"rule": compiled.rule.id, "condition": leaf.text, "fact": leaf.fact,
                               "value": show(actual), "result": state})
                if value == UNKNOWN and leaf.fact not in unknown:
                    unknown.append(leaf.fact)
                parts.append(f"{leaf.text} is {state}" + ("" if value == UNKNOWN else f" ({leaf.fact} is "
                                                                                      f"{show(actual)})"))
            reasons.append(f"allow rule {compiled.rule.id} did not apply: {'; '.join(parts)}")
        if not misses:
            reasons.append("no allow rule is in scope for this feature, category and route")
        return Decision(feature, category, route, on, "deny", (), tuple(reasons), tuple(waived), tuple(unknown),
                        tuple(failed), self.policies.digest)
