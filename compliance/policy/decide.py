"""The one decision function: may feature F send category C through route R on date D?

Everything that answers this question (CLI, API, dashboard, policy tests, the matrix's
explanations) goes through `Decider.decide`. The matrix evaluates the same compiled rules
in bulk (matrix.py); both combine rule results with `evaluate.applies`, `unwaived` and `combine`,
and select rules and exceptions with `rule_scope` and `exception_covers` below, so the two cannot
drift; they are also tested to agree cell by cell.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, NamedTuple

from compliance.config import FRESHNESS_DAYS
from compliance.dates import check_evaluation_day
from compliance.policy.evaluate import (
    FALSE,
    TRUE,
    UNKNOWN,
    MaskTester,
    applying,
    combine,
    compile_masks,
    explain,
    flat_leaves,
    leaf_test,
    unwaived,
)
from compliance.policy.evidence import SOURCED_FACTS, Evidence, note, route_evidence
from compliance.policy.facts import (
    MODEL_FACTS,
    SUBJECT_OF,
    category_facts,
    feature_facts,
    model_facts,
    route_facts,
)
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


@dataclass(slots=True)
class Subject:
    """One feature, category, route (on a date) or named model as the decision needs it: its facts,
    and what its facts do to every rule, as bitmasks (leaves: bit per leaf; rules: bit per rule)."""

    facts: dict[str, Any]
    true: int  # leaves of this subject that are TRUE
    maybe: int  # leaves of this subject that are TRUE or UNKNOWN
    scope: int  # rules whose scope includes this subject
    evidence: dict[str, Evidence] = field(default_factory=dict)  # routes only: fact -> its source
    # Flat rules (evaluate.flat_leaves) this subject settles: an `all` with a leaf of this subject
    # not TRUE / FALSE; an `any` with a leaf of this subject TRUE / TRUE or UNKNOWN.
    all_missed: int = 0
    all_failed: int = 0
    any_met: int = 0
    any_open: int = 0
    # Per rule index: an id for the values this subject gives the facts the rule reads (its condition
    # and reason template), so that rule texts are cached by what they depend on (Decider._said).
    values: list[int] = field(default_factory=list)
    # Routes only: evidence lists by the rules they are for (Decider._evidence_for).
    evidence_lists: dict[tuple[int, int, int], list[Evidence]] = field(default_factory=dict)


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

    Every condition leaf gets one bit and every rule one bit. Each subject (feature, category,
    route on the date, named model) is computed once and cached with the rules its facts settle:
    for a flat `all`/`any` rule (the common case), which of its leaves are not TRUE, FALSE, TRUE or
    open; nested conditions are tested on the leaf masks. A decision ORs these masks, so the rules
    that apply are a few integer operations whatever the number of rules in scope.

    The texts of a decision (rendered reasons, the explanation of an allow rule that missed, the
    unknown facts of a deny) are pure functions of the rule, the date and the values of the facts
    the rule reads, and are cached under exactly that key; evidence lists are cached per route
    subject (one route on one date) and set of deciding rules. Every cache lives in this object,
    which belongs to one store snapshot and one policy set (`live.State`): a change to either builds
    a new Decider, so no cached text can outlive the facts or the rules it was made from.
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
        self._compile_masks(bit_of)
        self._features: dict[str, Subject] = {}
        self._categories: dict[str, Subject] = {}
        self._routes: dict[date, dict[str, Subject]] = {}
        self._models: dict[tuple[str, str | None, date], Subject] = {}
        self._said: dict[tuple[int, date, int, int, int, int], Said] = {}
        self._rule_sets: dict[int, tuple[tuple[int, ...], tuple[str, ...]]] = {}
        self._value_ids: dict[tuple[Any, ...], int] = {(): 0}
        self._next_value_id = itertools.count(1)
        self._no_model = self._subject("model", dict.fromkeys(MODEL_FACTS), date.min, -1)

    def _compile_masks(self, bit_of: dict[Leaf, int]) -> None:
        """The rule bitmasks `decide` combines, and per leaf the flat rules it belongs to."""
        self._allow = self._deny = self._always = self._flat_all = self._nested = self._waivable = 0
        self._sourced = 0
        self._all_of_leaf = [0] * len(self.leaves)
        self._any_of_leaf = [0] * len(self.leaves)
        index_of = {leaf: bit.bit_length() - 1 for leaf, bit in bit_of.items()}
        reads: dict[str, list[tuple[str, ...]]] = {s: [] for s in ("feature", "category", "route", "model")}
        for compiled in self.rules:
            bit, when = 1 << compiled.index, compiled.rule.when
            if compiled.deny:
                self._deny |= bit
            else:
                self._allow |= bit
            if compiled.exceptions:
                self._waivable |= bit
            if compiled.facts:
                self._sourced |= bit
            flat = flat_leaves(when) if when is not None else None
            if when is None:
                self._always |= bit
            elif flat is None:
                self._nested |= bit
            else:
                kind, leaves = flat
                if kind == "all":
                    self._flat_all |= bit
                for leaf in leaves:
                    (self._all_of_leaf if kind == "all" else self._any_of_leaf)[index_of[leaf]] |= bit
            read = [leaf.fact for leaf in when.leaves()] if when is not None else []
            read += [text for is_fact, text in compiled.template if is_fact and text in SUBJECT_OF]
            for subject, names in reads.items():
                names.append(tuple(dict.fromkeys(x for x in read if SUBJECT_OF[x] == subject)))
        self._reads = reads

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

    def _subject(self, kind: str, facts: dict[str, Any], on: date, scope: int,
                 evidence: dict[str, Evidence] | None = None) -> Subject:
        true, maybe = self._masks(kind, facts, on)
        found = Subject(facts, true, maybe, scope, evidence or {})
        for i, (owner, _, _) in enumerate(self._leaf_tests):
            if owner != kind:
                continue
            all_of, any_of = self._all_of_leaf[i], self._any_of_leaf[i]
            if true >> i & 1:
                found.any_met |= any_of
                found.any_open |= any_of
            elif maybe >> i & 1:
                found.all_missed |= all_of
                found.any_open |= any_of
            else:
                found.all_missed |= all_of
                found.all_failed |= all_of
        found.values = [self._value_id(tuple(_hashable(facts.get(x)) for x in names)) if names else 0
                        for names in self._reads[kind]]
        return found

    def _value_id(self, values: tuple[Any, ...]) -> int:
        """A number for a tuple of fact values, never given to other values (ids are not reused)."""
        found = self._value_ids.get(values)
        if found is None:
            if len(self._value_ids) > 1 << 16:
                self._value_ids = {(): 0}
            found = self._value_ids[values] = next(self._next_value_id)
        return found

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
            scope = self._scope(lambda rule: rule_scope(self.hierarchy, rule, "feature", feature))
            found = self._features[feature] = self._subject("feature", facts, date.min, scope)
        return found

    def category_subject(self, category: str) -> Subject:
        found = self._categories.get(category)
        if found is None:
            self.check_known("category", category, self.categories)
            facts = category_facts(self.categories[category])
            scope = self._scope(lambda rule: rule_scope(self.hierarchy, rule, "category", category))
            found = self._categories[category] = self._subject("category", facts, date.min, scope)
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
            scope = self._scope(lambda rule: rule_scope(self.hierarchy, rule, "route", route))
            found = day[route] = self._subject("route", facts, on, scope,
                                               route_evidence(self.routes[route], self.providers, facts))
        return found

    def _model(self, route: str, model: str | None, on: date) -> Subject:
        """The named model's facts on the route (all unknown when no model is named); no scope of its own."""
        if model is None:
            return self._no_model
        key = (route, model, on)
        found = self._models.get(key)
        if found is None:
            if len(self._models) > 4096:
                self._models.clear()
            found = self._models[key] = self._subject("model", model_facts(self.routes.get(route), model, on), on, -1)
        return found

    def unknown_ids(self, feature: str | None, category: str | None,
                    route: str | None) -> list[tuple[str, str, dict[str, Any]]]:
        """(kind, id, the known ids of that kind) for each id of a request the store lacks; None is not asked."""
        return [(kind, value, known) for kind, value, known in (
            ("feature", feature, self.features), ("category", category, self.categories), ("route", route, self.routes))
            if value is not None and value not in known]

    def check_known(self, kind: str, value: str, known: dict[str, Any]) -> None:
        if value not in known:
            raise NotFound(f"unknown {kind} {value!r}{closest(value, known)}")

    def waivers(self, compiled: CompiledRule, feature: str, category: str, route: str,
                on: date) -> list[PolicyException]:
        """Every exception active on `on` that waives this rule for this request."""
        return [exc for exc in compiled.exceptions
                if exception_covers(self.hierarchy, exc, feature, category, route, on)]

    # --- the decision ------------------------------------------------------------------------
    def _verdict(self, feature: str, category: str, route: str, on: date, model: str | None,
                 waived: list[str]) -> tuple[Subject, Subject, Subject, Subject, int, int, int, int, int]:
        """The subjects of a request, the rules in scope, those TRUE and those TRUE or UNKNOWN, and the allow
        and deny rules that apply (less the waived ones, whose exceptions go to `waived`)."""
        check_evaluation_day(on)
        try:
            f = self._features.get(feature) or self.feature_subject(feature)
            c = self._categories.get(category) or self.category_subject(category)
            day = self._routes.get(on)
            r = (day.get(route) if day is not None else None) or self.route_subject(route, on)
        except NotFound as exc:  # name every unknown id of the request, not only the first
            lines = [f"unknown {kind} {value!r}{closest(value, known)}"
                     for kind, value, known in self.unknown_ids(feature, category, route)]
            raise (NotFound("; ".join(lines)) if len(lines) > 1 else exc) from None
        m = self._no_model if model is None else self._model(route, model, on)
        in_scope = f.scope & c.scope & r.scope
        # rules whose condition is TRUE, and those whose condition is TRUE or UNKNOWN
        true_rules = (self._always | self._flat_all & ~(f.all_missed | c.all_missed | r.all_missed | m.all_missed)
                      | f.any_met | c.any_met | r.any_met | m.any_met)
        open_rules = (self._always | self._flat_all & ~(f.all_failed | c.all_failed | r.all_failed | m.all_failed)
                      | f.any_open | c.any_open | r.any_open | m.any_open)
        nested = in_scope & self._nested
        if nested:
            true_rules, open_rules = self._nested_results(nested, f, c, r, m, true_rules, open_rules)
        applied = applying(in_scope & self._deny, in_scope & self._allow, true_rules, open_rules)
        allows, denies = applied & self._allow, applied & self._deny
        if denies & self._waivable:
            denies = self._waive(denies, waived, feature, category, route, on)
        return f, c, r, m, in_scope, true_rules, open_rules, allows, denies

    def allowed(self, feature: str, category: str, route: str, on: date, model: str | None = None) -> bool:
        """`decide(...).allowed` without the record: no reasons and no evidence, for questions that only
        need the answer (which flows a change breaks, on many days)."""
        *_, allows, denies = self._verdict(feature, category, route, on, model, [])
        return bool(combine(bool(allows), bool(denies)))

    def decide(self, feature: str, category: str, route: str, on: date, model: str | None = None) -> Decision:
        """May `feature` send `category` through `route` on `on` (with `model`, when the request names one)?"""
        waived: list[str] = []
        f, c, r, m, in_scope, true_rules, open_rules, allows, denies = self._verdict(
            feature, category, route, on, model, waived)
        said, texts = self._said, []
        if combine(bool(allows), bool(denies)):
            indices, ids = self._rule_set(allows)
            for i in indices:
                key = (i, on, f.values[i], c.values[i], r.values[i], m.values[i])
                texts.append((said.get(key) or self._say(key, f, c, r, m, TRUE))[0])
            cleared = in_scope & self._deny & ~open_rules & self._sourced  # an allow rests on these too
            return _new(Decision, (feature, category, route, on, "allow", list(ids), texts, waived, [], [],
                                   self.policies.digest, self._evidence_for(r, 0, allows, cleared)))
        unknown: list[str] = []
        if denies:
            indices, ids = self._rule_set(denies)
            for i in indices:
                key = (i, on, f.values[i], c.values[i], r.values[i], m.values[i])
                found = said.get(key) or self._say(key, f, c, r, m, TRUE if true_rules >> i & 1 else UNKNOWN)
                texts.append(found[0])
                unknown += [x for x in found[2] if x not in unknown]
            return _new(Decision, (feature, category, route, on, "deny", list(ids), texts, waived, unknown, [],
                                   self.policies.digest, self._evidence_for(r, 1, denies, 0)))
        # the default deny: say why each allow rule in scope did not apply
        misses = in_scope & self._allow & ~true_rules
        texts.append(f"no allow rule lets {category} go through {route}")
        failed: list[dict[str, Any]] = []
        if misses:
            for i in self._rule_set(misses)[0]:
                key = (i, on, f.values[i], c.values[i], r.values[i], m.values[i])
                found = said.get(key) or self._say(key, f, c, r, m, FALSE)
                texts.append(found[0])
                failed += [dict(x) for x in found[1]]
                unknown += [x for x in found[2] if x not in unknown]
        else:
            texts.append("no allow rule is in scope for this feature, category and route")
        return _new(Decision, (feature, category, route, on, "deny", [], texts, waived, unknown, failed,
                               self.policies.digest, self._evidence_for(r, 2, misses, 0)))

    def _nested_results(self, nested: int, f: Subject, c: Subject, r: Subject, m: Subject,
                        true_rules: int, open_rules: int) -> tuple[int, int]:
        """`true_rules` and `open_rules` with the in-scope rules whose conditions are not flat tested."""
        true, maybe = f.true | c.true | r.true | m.true, f.maybe | c.maybe | r.maybe | m.maybe
        for i in self._rule_set(nested)[0]:
            test = self.rules[i].test
            assert test is not None
            result = test(true, maybe)
            if result == TRUE:
                true_rules |= 1 << i
            if result != FALSE:
                open_rules |= 1 << i
        return true_rules, open_rules

    def _waive(self, denies: int, waived: list[str], feature: str, category: str, route: str, on: date) -> int:
        """`denies` less the rules an active exception waives for this request; their ids go to `waived`."""
        for i in self._rule_set(denies & self._waivable)[0]:
            found = self.waivers(self.rules[i], feature, category, route, on)
            if not unwaived(True, bool(found)):
                denies &= ~(1 << i)
            waived += [exc.id for exc in found if exc.id not in waived]
        return denies

    def _rule_set(self, rules: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
        """The indices and ids of the rules in a bitmask, in policy-set order."""
        found = self._rule_sets.get(rules)
        if found is None:
            indices = tuple(i for i in range(rules.bit_length()) if rules >> i & 1)
            if len(self._rule_sets) > 1 << 14:
                self._rule_sets.clear()
            found = self._rule_sets[rules] = (indices, tuple(self.rules[i].rule.id for i in indices))
        return found

    def _evidence_for(self, r: Subject, kind: int, rules: int, also: int) -> list[Evidence]:
        """The evidence of `rules` then `also` (a fresh list; cached per route subject)."""
        key = (kind, rules, also)
        found = r.evidence_lists.get(key)
        if found is None:
            if len(r.evidence_lists) > 4096:
                r.evidence_lists.clear()
            chosen = [self.rules[i] for mask in (rules, also) for i in self._rule_set(mask)[0]]
            found = r.evidence_lists[key] = _evidence(r, chosen)
        return list(found)

    def _say(self, key: tuple[int, date, int, int, int, int], f: Subject, c: Subject, r: Subject, m: Subject,
             result: int) -> Said:
        """The texts of rule `key[0]` whose condition came out `result`, made once per key (see the class)."""
        compiled, on = self.rules[key[0]], key[1]
        facts = {**f.facts, **c.facts, **r.facts, **m.facts}
        if compiled.deny or result == TRUE:
            text = compiled.render(facts)
            unknown: tuple[str, ...] = ()
            if compiled.deny and result == UNKNOWN and compiled.rule.when is not None:
                _, misses = explain(compiled.rule.when, facts, on)
                unknown = tuple(dict.fromkeys(leaf.fact for leaf, value, _ in misses if value == UNKNOWN))
                text += f" (unknown: {', '.join(unknown)})"
            found: Said = (text, (), unknown)
        else:
            found = _missed(compiled, facts, on)
        if len(self._said) > 1 << 16:
            self._said.clear()
        self._said[key] = found
        return found


# A rule's texts in a decision: its reason, its failed conditions (allow rules that missed) and the
# facts that were unknown, in order.
Said = tuple[str, tuple[dict[str, Any], ...], tuple[str, ...]]
_new = tuple.__new__


def _hashable(value: Any) -> Any:
    """A fact value as part of a cache key (list facts become tuples; a fact's type never varies)."""
    return tuple(value) if isinstance(value, list) else value


def _missed(compiled: CompiledRule, facts: dict[str, Any], on: date) -> Said:
    """Why an allow rule in scope did not apply: each condition that was false or unknown, with its fact."""
    assert compiled.rule.when is not None
    _, leaves = explain(compiled.rule.when, facts, on)
    failed: list[dict[str, Any]] = []
    unknown: list[str] = []
    parts = []
    for leaf, value, actual in leaves:
        state = "unknown" if value == UNKNOWN else "false"
        failed.append({"rule": compiled.rule.id, "condition": leaf.text, "fact": leaf.fact,
                       "value": show(actual), "result": state})
        if value == UNKNOWN and leaf.fact not in unknown:
            unknown.append(leaf.fact)
        parts.append(f"{leaf.text} is {state}" + ("" if value == UNKNOWN else f" ({leaf.fact} is {show(actual)})"))
    return f"allow rule {compiled.rule.id} did not apply: {'; '.join(parts)}", tuple(failed), tuple(unknown)
