"""The one decision function: may feature F send category C through route R on date D?

Everything that answers this question (CLI, API, dashboard, policy tests, the matrix's
explanations) goes through `Decider.decide`. The matrix evaluates the same compiled rules
in bulk (matrix.py); both combine rule results with `evaluate.applies`, `unwaived` and `combine`,
and select rules and exceptions with `rule_scope` and `exception_covers` below, so the two cannot
drift; they are also tested to agree cell by cell.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, NamedTuple

from compliance.config import FRESHNESS_DAYS
from compliance.dates import check_evaluation_day
from compliance.policy.evaluate import (
    TRUE,
    UNKNOWN,
    MaskTester,
    applies,
    combine,
    compile_masks,
    explain,
    leaf_test,
    unwaived,
)
from compliance.policy.evidence import SOURCED_FACTS, Evidence, note, route_evidence
from compliance.policy.facts import SUBJECT_OF, category_facts, feature_facts, model_facts, route_facts
from compliance.policy.policyset import Leaf, PolicyException, PolicySet, Rule, show
from compliance.problems import NotFound, closest
from compliance.store import documents as d

_PLACEHOLDER = re.compile(r"\{([a-z_.]+)\}")
Outcome = Literal["allow", "deny"]


class Decision(NamedTuple):
    """A decision record (policy.md): the answer, the rules behind it and why. Immutable."""

    feature: str
    category: str
    route: str
    as_of: date
    decision: Outcome
    rules: list[str]
    reasons: list[str]
    waived_by: list[str]
    unknown_facts: list[str]
    failed_conditions: list[dict[str, Any]]
    policy_digest: str
    evidence: list[Evidence] = []  # noqa: RUF012 (never mutated; every decision passes its own)

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    @property
    def verified(self) -> bool:
        """Every vendor or route fact the deciding rules read has a verified source."""
        return all(e.verified for e in self.evidence)

    @property
    def evidence_note(self) -> str:
        """"allowed, but rests on 2 unverified facts: ...", or "" when all of it is verified."""
        return note(self.allowed, self.evidence)

    def as_dict(self) -> dict[str, Any]:
        return {
            "feature": self.feature, "category": self.category, "route": self.route,
            "as_of": self.as_of.isoformat(), "decision": self.decision, "rules": list(self.rules),
            "reasons": list(self.reasons), "waived_by": list(self.waived_by),
            "unknown_facts": list(self.unknown_facts), "failed_conditions": list(self.failed_conditions),
            "policy_digest": self.policy_digest, "evidence": [e.as_dict() for e in self.evidence],
        }


@dataclass
class CompiledRule:
    rule: Rule
    index: int
    test: MaskTester | None  # None: no `when`, the rule applies unconditionally in its scope
    template: list[tuple[bool, str]]
    exceptions: list[PolicyException] = field(default_factory=list)
    facts: tuple[str, ...] = ()  # the sourceable facts its conditions read, for the decision's evidence
    deny: bool = field(init=False)

    def __post_init__(self) -> None:
        self.deny = self.rule.effect == "deny"

    def render(self, facts: dict[str, Any]) -> str:
        parts = []
        for is_fact, text in self.template:
            if is_fact:
                value = facts.get(text)
                parts.append(value if type(value) is str else show(value))
            else:
                parts.append(text)
        return "".join(parts)


@dataclass
class Subject:
    """One feature, category or route (on a date) as the decision needs it: facts and leaf bitmasks."""

    facts: dict[str, Any]
    true: int  # leaves of this subject that are TRUE
    maybe: int  # leaves of this subject that are TRUE or UNKNOWN
    scope: int  # rules whose scope includes this subject
    evidence: dict[str, Evidence] = field(default_factory=dict)  # routes only: fact -> its source


def _template(reason: str) -> list[tuple[bool, str]]:
    parts: list[tuple[bool, str]] = []
    last = 0
    for match in _PLACEHOLDER.finditer(reason):
        parts.append((False, reason[last:match.start()]))
        parts.append((True, match.group(1)))
        last = match.end()
    parts.append((False, reason[last:]))
    return [p for p in parts if p[1]]


def _sourced_facts(rule: Rule) -> tuple[str, ...]:
    return tuple(dict.fromkeys(leaf.fact for leaf in (rule.when.leaves() if rule.when else [])
                               if leaf.fact in SOURCED_FACTS))


def _evidence(route: Subject, rules: Iterable[CompiledRule]) -> list[Evidence]:
    """The evidence of every sourceable fact the rules read, once each, in rule order."""
    found: dict[str, Evidence] = {}
    for compiled in rules:
        for fact in compiled.facts:
            if fact not in found:
                found[fact] = route.evidence[fact]
    return list(found.values())


def rule_scope(h: Hierarchy, rule: Rule, subject: str, key: str) -> bool:
    """Whether `rule`'s `match` selects this feature, category or route: the one scope test
    (Decider per subject, Matrix per axis). Allow selectors fit a category and its descendants,
    deny selectors also its ancestors (policy.md)."""
    if subject == "feature":
        return rule.features is None or key in rule.features
    if subject == "route":
        return rule.routes is None or key in rule.routes
    return (h.deny_fits if rule.effect == "deny" else h.allow_fits)(rule.categories, key)


def exception_covers(h: Hierarchy, exc: PolicyException, feature: str, category: str, route: str, on: date) -> bool:
    """Whether an exception waives its rule for this request on `on` (Decider.waivers and Matrix)."""
    return (exc.feature == feature and route in exc.routes and exc.active_on(on)
            and h.covers(exc.categories, category))


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
    """Compiled policies over one snapshot of the store. Build once; decide many times.

    Every condition leaf gets one bit. For a request, each subject (feature, category,
    route on the date) contributes the bits of its own leaves that are true or unknown, and
    each rule's condition is a test on those masks; rules in scope are a bitmask too. Each
    subject's masks are computed once and cached, so a decision is a few integer operations
    per rule in scope.
    """

    def __init__(self, dataset: d.DataSet, policies: PolicySet, *, freshness_days: int = FRESHNESS_DAYS):
        self.dataset = dataset
        self.policies = policies
        self.freshness_days = freshness_days
        self.features = {f.id: f for f in dataset.features}
        self.routes = {r.id: r for r in dataset.routes}
        self.categories = {c.key: c for c in dataset.categories}
        self.providers = {p.id: p for p in dataset.providers}
        self.hierarchy = Hierarchy(self.categories)
        self.leaves: list[Leaf] = []
        bit_of: dict[Leaf, int] = {}
        for rule in policies.rules:
            for leaf in rule.when.leaves() if rule.when else []:
                if leaf not in bit_of:
                    bit_of[leaf] = 1 << len(self.leaves)
                    self.leaves.append(leaf)
        self._leaf_tests = [(SUBJECT_OF[leaf.fact], leaf.fact, leaf_test(leaf)) for leaf in self.leaves]
        self.rules = [CompiledRule(rule, i, compile_masks(rule.when, bit_of) if rule.when else None,
                                   _template(rule.reason), facts=_sourced_facts(rule))
                      for i, rule in enumerate(policies.rules)]
        by_id = {c.rule.id: c for c in self.rules}
        for exc in policies.exceptions:
            by_id[exc.waives].exceptions.append(exc)
        self._features: dict[str, Subject] = {}
        self._categories: dict[str, Subject] = {}
        self._routes: dict[date, dict[str, Subject]] = {}
        self._models: dict[tuple[str, str | None, date], Subject] = {}

    # --- subjects ----------------------------------------------------------------------------
    def _masks(self, subject: str, facts: dict[str, Any], on: date) -> tuple[int, int]:
        true = maybe = 0
        for i, (owner, fact, test) in enumerate(self._leaf_tests):
            if owner == subject:
                value = test(facts[fact], on)
                if value == TRUE:
                    true |= 1 << i
                    maybe |= 1 << i
                elif value == UNKNOWN:
                    maybe |= 1 << i
        return true, maybe

    def _scope(self, fits: Any) -> int:
        mask = 0
        for compiled in self.rules:
            if fits(compiled.rule):
                mask |= 1 << compiled.index
        return mask

    def feature_subject(self, feature: str) -> Subject:
        found = self._features.get(feature)
        if found is None:
            self.check_known("feature", feature, self.features)
            facts = feature_facts(self.features[feature])
            true, maybe = self._masks("feature", facts, date.min)
            scope = self._scope(lambda rule: rule_scope(self.hierarchy, rule, "feature", feature))
            found = self._features[feature] = Subject(facts, true, maybe, scope)
        return found

    def category_subject(self, category: str) -> Subject:
        found = self._categories.get(category)
        if found is None:
            self.check_known("category", category, self.categories)
            facts = category_facts(self.categories[category])
            true, maybe = self._masks("category", facts, date.min)
            scope = self._scope(lambda rule: rule_scope(self.hierarchy, rule, "category", category))
            found = self._categories[category] = Subject(facts, true, maybe, scope)
        return found

    def route_subject(self, route: str, on: date) -> Subject:
        day = self._routes.get(on)
        if day is None:
            if len(self._routes) > 16:
                self._routes.clear()
            day = self._routes[on] = {}
        found = day.get(route)
        if found is None:
            self.check_known("route", route, self.routes)
            facts = route_facts(self.routes[route], self.providers, on, self.freshness_days, self.dataset.notice)
            true, maybe = self._masks("route", facts, on)
            scope = self._scope(lambda rule: rule_scope(self.hierarchy, rule, "route", route))
            found = day[route] = Subject(facts, true, maybe, scope,
                                          route_evidence(self.routes[route], self.providers, facts))
        return found

    def _model(self, route: str, model: str | None, on: date) -> Subject:
        """The named model's facts on the route (all unknown when no model is named); no scope of its own."""
        key = (route, model, on)
        found = self._models.get(key)
        if found is None:
            if len(self._models) > 4096:
                self._models.clear()
            facts = model_facts(self.routes.get(route), model, on)
            true, maybe = self._masks("model", facts, on)
            found = self._models[key] = Subject(facts, true, maybe, -1)
        return found

    def check_known(self, kind: str, value: str, known: dict[str, Any]) -> None:
        if value not in known:
            raise NotFound(f"unknown {kind} {value!r}{closest(value, known)}")

    def waivers(self, compiled: CompiledRule, feature: str, category: str, route: str,
                on: date) -> list[PolicyException]:
        """Every exception active on `on` that waives this rule for this request."""
        return [exc for exc in compiled.exceptions
                if exception_covers(self.hierarchy, exc, feature, category, route, on)]

    # --- the decision ------------------------------------------------------------------------
    def decide(self, feature: str, category: str, route: str, on: date, model: str | None = None) -> Decision:
        """May `feature` send `category` through `route` on `on` (with `model`, when the request names one)?"""
        check_evaluation_day(on)
        f, c, r = self.feature_subject(feature), self.category_subject(category), self.route_subject(route, on)
        m = self._model(route, model, on)
        true, maybe = f.true | c.true | r.true | m.true, f.maybe | c.maybe | r.maybe | m.maybe
        in_scope = f.scope & c.scope & r.scope
        denies: list[tuple[CompiledRule, int]] = []
        allows: list[CompiledRule] = []
        allow_misses: list[CompiledRule] = []
        cleared: list[CompiledRule] = []  # deny rules in scope that did not apply: an allow rests on them too
        waived: list[str] = []
        rules = self.rules
        while in_scope:
            low = in_scope & -in_scope
            in_scope ^= low
            compiled = rules[low.bit_length() - 1]
            result = TRUE if compiled.test is None else compiled.test(true, maybe)
            deny = compiled.deny
            if applies(deny, result):
                if deny:
                    found = self.waivers(compiled, feature, category, route, on) if compiled.exceptions else []
                    if unwaived(True, bool(found)):
                        denies.append((compiled, result))
                    waived += [exc.id for exc in found if exc.id not in waived]
                else:
                    allows.append(compiled)
            elif deny:
                if compiled.facts:
                    cleared.append(compiled)
            else:
                allow_misses.append(compiled)
        digest = self.policies.digest
        facts = {**f.facts, **c.facts, **r.facts, **m.facts}
        if combine(bool(allows), bool(denies)):
            return Decision(feature, category, route, on, "allow", [a.rule.id for a in allows],
                            [a.render(facts) for a in allows], waived, [], [], digest,
                            _evidence(r, [*allows, *cleared]))
        if denies:
            reasons, unknown = [], []
            for compiled, result in denies:
                text = compiled.render(facts)
                if result == UNKNOWN and compiled.rule.when is not None:
                    _, misses = explain(compiled.rule.when, facts, on)
                    missing = list(dict.fromkeys(leaf.fact for leaf, value, _ in misses if value == UNKNOWN))
                    unknown += [m for m in missing if m not in unknown]
                    text += f" (unknown: {', '.join(missing)})"
                reasons.append(text)
            return Decision(feature, category, route, on, "deny", [c.rule.id for c, _ in denies],
                            reasons, waived, unknown, [], digest, _evidence(r, (c for c, _ in denies)))
        return self._default_deny(feature, category, route, on, facts, allow_misses, waived,
                                  _evidence(r, allow_misses))

    def _default_deny(self, feature: str, category: str, route: str, on: date, facts: dict[str, Any],
                      misses: list[CompiledRule], waived: list[str], evidence: list[Evidence]) -> Decision:
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
        return Decision(feature, category, route, on, "deny", [], reasons, waived, unknown, failed,
                        self.policies.digest, evidence)
