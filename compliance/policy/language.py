"""Parse and validate policy files (policy.md): every problem at once, with file and line.

Validation knows the fact paths and their types and the ids in the store, so a typo can
never silently widen an allow or narrow a deny.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from compliance.dates import RELATIVE_DAY
from compliance.policy.evaluate import OPERATORS
from compliance.policy.facts import FACTS, FactType
from compliance.policy.policyset import Leaf, Node, PolicyException, PolicySet, RelativeDay, Rule
from compliance.problems import Problem, closest, display_path
from compliance.store import documents as d
from compliance.store.limits import ID_PATTERN
from compliance.yamlsource import PathKey, YamlDocument, read_limited, read_yaml

ID_RE = re.compile(ID_PATTERN)
PLACEHOLDER_RE = re.compile(r"\{([^{}]*)\}")
FILE_KEYS = {"policy", "description", "rules", "exceptions"}
RULE_KEYS = {"id", "effect", "waivable", "reason", "match", "when", "description"}
MATCH_KEYS = {"features", "routes", "categories"}
EXCEPTION_KEYS = {"id", "waives", "feature", "categories", "routes", "approved_by", "ticket", "granted_on",
                  "expires_on", "justification"}
OPS = OPERATORS
MAX_EXCEPTION_DAYS = 365


@dataclass
class Vocabulary:
    """The ids a policy may name, from the store."""

    features: set[str] = field(default_factory=set)
    routes: set[str] = field(default_factory=set)
    categories: set[str] = field(default_factory=set)
    providers: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, dataset: d.DataSet) -> Vocabulary:
        return cls(
            features={f.id for f in dataset.features},
            routes={r.id for r in dataset.routes},
            categories={c.key for c in dataset.categories},
            providers={p.id for p in dataset.providers},
        )

    def known(self, kind: str) -> set[str]:
        return {"feature": self.features, "route": self.routes, "category": self.categories,
                "provider": self.providers}[kind]


def policy_files(directory: Path) -> list[Path]:
    """Every *.yaml directly in the folder, by name (policy-set order).

    Everything named like a policy file is listed, so a folder, a FIFO, a device or a broken link
    is reported by the reader ("not a regular file") instead of being skipped silently.
    """
    return sorted(directory.glob("*.y*ml"))


def digest_of(files: Iterable[Path]) -> str:
    """A hash of the policy files' names and bytes: the version a decision came from."""
    h = hashlib.sha256()
    for path in files:
        try:
            body = read_limited(path)
        except (OSError, ValueError):  # unreadable: reported as a problem by the reader
            body = b""
        h.update(path.name.encode() + b"\0" + body + b"\0")
    return h.hexdigest()


class _FileReader:
    """Validates one policy file, collecting problems with their lines."""

    def __init__(self, doc: YamlDocument, vocabulary: Vocabulary, problems: list[Problem], *,
                 today: date | None = None):
        self.doc = doc
        self.vocab = vocabulary
        self.problems = problems
        self.today = today or date.today()

    def report(self, path: PathKey, field_name: str, message: str) -> None:
        self.problems.append(Problem(self.doc.file, self.doc.line_of(path), field_name, message))

    def unknown_keys(self, data: dict[str, Any], allowed: set[str], path: PathKey, label: str) -> None:
        for key in data:
            if key not in allowed:
                self.report((*path, key), f"{label}.{key}" if label else str(key),
                            f"unknown key{closest(str(key), allowed)}")

    # --- rules -------------------------------------------------------------------------
    def rule(self, raw: Any, path: PathKey, position: int, policy: str) -> Rule | None:
        if not isinstance(raw, dict):
            self.report(path, "rules", "a rule must be a mapping")
            return None
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"rules[{path[-1]}]"
        ok = True
        self.unknown_keys(raw, RULE_KEYS, path, str(label))
        rule_id = raw.get("id")
        if not isinstance(rule_id, str) or not ID_RE.match(rule_id):
            self.report((*path, "id"), f"{label}.id", "required: lower-case id ([a-z0-9._-])")
            ok = False
        effect = raw.get("effect")
        if effect not in ("allow", "deny"):
            self.report((*path, "effect"), f"{label}.effect", f"must be allow or deny (got {effect!r})")
            ok = False
        waivable = raw.get("waivable", True)
        if not isinstance(waivable, bool):
            self.report((*path, "waivable"), f"{label}.waivable", "must be true or false")
            ok = False
        elif "waivable" in raw and effect == "allow":
            self.report((*path, "waivable"), f"{label}.waivable", "only deny rules can be waived")
            ok = False
        reason = raw.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            self.report((*path, "reason"), f"{label}.reason", "required: a sentence a person can read")
            ok = False
        else:
            ok &= self.template(reason, (*path, "reason"), f"{label}.reason")
        description = raw.get("description")
        if description is not None and not isinstance(description, str):
            self.report((*path, "description"), f"{label}.description", "must be text")
        features, routes, categories = None, None, None
        match = raw.get("match")
        if match is not None:
            if not isinstance(match, dict):
                self.report((*path, "match"), f"{label}.match", "must be a mapping of features, routes, categories")
                ok = False
            else:
                self.unknown_keys(match, MATCH_KEYS, (*path, "match"), f"{label}.match")
                features = self.selector(match, "features", "feature", path, label)
                routes = self.selector(match, "routes", "route", path, label)
                categories = self.selector(match, "categories", "category", path, label)
                ok &= all(x is not False for x in (features, routes, categories))
        when = None
        if "when" in raw:
            when = self.conditions(raw["when"], (*path, "when"), f"{label}.when")
            ok &= when is not None
        if not ok:
            return None
        assert isinstance(rule_id, str) and isinstance(reason, str)
        return Rule(
            id=rule_id, effect=str(effect), waivable=bool(waivable) if effect == "deny" else False,
            reason=reason.strip(),
            features=frozenset(features) if isinstance(features, list) else None,
            routes=frozenset(routes) if isinstance(routes, list) else None,
            categories=tuple(categories) if isinstance(categories, list) else None,
            when=when, file=self.doc.file, line=self.doc.line_of(path), position=position, policy=policy,
            description=description if isinstance(description, str) else None,
        )

    def selector(self, match: dict[str, Any], key: str, kind: str, path: PathKey, label: Any) -> Any:
        """A match list: ids that exist, or None for every value; False when invalid."""
        if key not in match or match[key] == "*":
            return None
        raw = match[key]
        where = (*path, "match", key)
        if not isinstance(raw, list) or not raw:
            self.report(where, f"{label}.match.{key}", 'must be a non-empty list of ids, or "*"')
            return False
        if "*" in raw:
            return None
        ok = True
        for i, value in enumerate(raw):
            if not isinstance(value, str) or value not in self.vocab.known(kind):
                known = self.vocab.known(kind)
                self.report((*where, i), f"{label}.match.{key}[{i}]",
                            f"unknown {kind} {value!r}{closest(str(value), known)}")
                ok = False
        return list(raw) if ok else False

    def template(self, text: str, path: PathKey, field_name: str) -> bool:
        ok = True
        for placeholder in PLACEHOLDER_RE.findall(text):
            if placeholder not in FACTS:
                self.report(path, field_name, f"unknown fact {{{placeholder}}} in reason{closest(placeholder, FACTS)}")
                ok = False
        return ok

    # --- conditions --------------------------------------------------------------------
    def conditions(self, raw: Any, path: PathKey, field_name: str) -> Node | None:
        """`when`: a list of conditions that must all hold."""
        if not isinstance(raw, list):
            self.report(path, field_name, "must be a list of conditions")
            return None
        children = [self.condition(item, (*path, i), f"{field_name}[{i}]") for i, item in enumerate(raw)]
        if any(c is None for c in children):
            return None
        return Node("all", tuple(c for c in children if c is not None))

    def condition(self, raw: Any, path: PathKey, field_name: str) -> Node | None:
        if not isinstance(raw, dict) or len(raw) != 1:
            self.report(path, field_name, "a condition is a mapping with exactly one key "
                        "(a fact path, any, all or not)")
            return None
        key, value = next(iter(raw.items()))
        if key in ("any", "all"):
            if not isinstance(value, list) or not value:
                self.report((*path, key), f"{field_name}.{key}", "must be a non-empty list of conditions")
                return None
            children = [self.condition(item, (*path, key, i), f"{field_name}.{key}[{i}]")
                        for i, item in enumerate(value)]
            if any(c is None for c in children):
                return None
            return Node(str(key), tuple(c for c in children if c is not None))
        if key == "not":
            child = self.condition(value, (*path, key), f"{field_name}.not")
            return Node("not", (child,)) if child else None
        if not isinstance(key, str) or key not in FACTS:
            self.report((*path, key), f"{field_name}.{key}", f"unknown fact path{closest(str(key), FACTS)}")
            return None
        fact_type = FACTS[key]
        if isinstance(value, dict):
            if not value:
                self.report((*path, key), f"{field_name}.{key}", "needs an operator, e.g. {eq: ...}")
                return None
            leaves = [self.leaf(key, fact_type, str(op), operand, (*path, key, op), f"{field_name}.{key}.{op}")
                      for op, operand in value.items()]
            if any(leaf is None for leaf in leaves):
                return None
            nodes = tuple(Node("leaf", leaf=leaf) for leaf in leaves if leaf is not None)
            return nodes[0] if len(nodes) == 1 else Node("all", nodes)
        leaf = self.leaf(key, fact_type, "eq", value, (*path, key), f"{field_name}.{key}")
        return Node("leaf", leaf=leaf) if leaf else None

    def leaf(self, fact: str, fact_type: FactType, op: str, operand: Any, path: PathKey,
             field_name: str) -> Leaf | None:
        if op not in OPS:
            self.report(path, field_name, f"unknown operator {op!r}{closest(op, OPS)}")
            return None
        value = self.operand(fact, fact_type, op, operand, path, field_name)
        if value is _INVALID:
            return None
        return Leaf(fact=fact, op=op, value=value, line=self.doc.line_of(path))

    def operand(self, fact: str, fact_type: FactType, op: str, operand: Any, path: PathKey,
                field_name: str) -> Any:
        def bad(message: str) -> Any:
            self.report(path, field_name, message)
            return _INVALID

        kind = fact_type.kind
        if op == "exists":
            return operand if isinstance(operand, bool) else bad("exists takes true or false")
        if kind == "list":
            if op != "contains":
                return bad(f"{fact} is a list: use contains (or exists), not {op}")
            return operand if isinstance(operand, str) else bad(f"contains takes one text value (got {operand!r})")
        if op == "contains":
            return bad(f"contains needs a list fact; {fact} is a {kind}")
        if op in ("in", "not_in"):
            if not isinstance(operand, list) or not operand:
                return bad(f"{op} takes a non-empty list of values")
            values = [self.scalar(fact, fact_type, item, path, field_name) for item in operand]
            return _INVALID if _INVALID in values else tuple(values)
        if op in ("lt", "lte", "gt", "gte") and kind not in ("int", "date"):
            return bad(f"{op} compares numbers or dates; {fact} is a {kind}")
        if op in ("before", "after") and kind != "date":
            return bad(f"{op} compares dates; {fact} is a {kind}")
        return self.scalar(fact, fact_type, operand, path, field_name)

    def scalar(self, fact: str, fact_type: FactType, value: Any, path: PathKey, field_name: str) -> Any:
        kind = fact_type.kind

        def bad(expected: str) -> Any:
            self.report(path, field_name, f"{fact} is {expected}; cannot compare it with {value!r}")
            return _INVALID

        if kind == "bool":
            return value if isinstance(value, bool) else bad("true or false")
        if kind == "int":
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if ok and not math.isfinite(value):
                self.report(path, field_name, f"{fact} is a number; {value!r} is not a finite number")
                return _INVALID
            return value if ok else bad("a number")
        if kind == "date":
            if isinstance(value, datetime):  # `2026-10-01 10:00:00`: a date with a time cannot be compared
                return bad("a date without a time (YYYY-MM-DD)")
            if isinstance(value, date):
                return value
            if isinstance(value, str):
                match = RELATIVE_DAY.match(value.strip())
                if match:
                    sign, days = match.groups()
                    return RelativeDay(0 if not sign else int(days) * (1 if sign == "+" else -1))
                try:
                    return date.fromisoformat(value)
                except ValueError:
                    pass
            return bad("a date (YYYY-MM-DD, today, today+30d or today-30d)")
        if not isinstance(value, str):
            return bad("text")
        if kind == "enum" and value not in fact_type.choices:
            self.report(path, field_name, f"{value!r} is not a {fact} value; use one of {', '.join(fact_type.choices)}")
            return _INVALID
        if kind == "id" and value not in self.vocab.known(fact_type.ids):
            known = self.vocab.known(fact_type.ids)
            self.report(path, field_name, f"unknown {fact_type.ids} {value!r}{closest(value, known)}")
            return _INVALID
        return value

    # --- exceptions --------------------------------------------------------------------
    def exception(self, raw: Any, path: PathKey) -> tuple[PolicyException | None, dict[str, Any]]:
        """The exception, or None when it has problems; with its id, label and `waives` where readable,
        so the set can still check its id and the rule it waives (one mistake hides no other)."""
        if not isinstance(raw, dict):
            self.report(path, "exceptions", "an exception must be a mapping")
            return None, {}
        label = raw.get("id") if isinstance(raw.get("id"), str) else f"exceptions[{path[-1]}]"
        self.unknown_keys(raw, EXCEPTION_KEYS, path, str(label))
        ok = True

        def need(key: str, check: Any, message: str) -> Any:
            nonlocal ok
            value = raw.get(key)
            if value is None:
                self.report((*path, key) if key in raw else path, f"{label}.{key}", "required field is missing")
                ok = False
                return None
            if not check(value):
                self.report((*path, key), f"{label}.{key}", message)
                ok = False
                return None
            return value

        exc_id = need("id", lambda v: isinstance(v, str) and ID_RE.match(v), "must be a lower-case id")
        waives = need("waives", lambda v: isinstance(v, str), "must name a deny rule")
        feature = need("feature", lambda v: isinstance(v, str), "must be one feature id")
        if isinstance(feature, str) and feature not in self.vocab.features:
            self.report((*path, "feature"), f"{label}.feature",
                        f"unknown feature {feature!r}{closest(feature, self.vocab.features)}")
            ok = False
        lists = {}
        for key, kind in (("categories", "category"), ("routes", "route")):
            values = need(key, lambda v: isinstance(v, list) and v and all(isinstance(x, str) for x in v),
                          "must be a non-empty list of ids (an exception is narrow: no \"*\")")
            if values:
                known = self.vocab.known(kind)
                for i, value in enumerate(values):
                    if value not in known:
                        self.report((*path, key, i), f"{label}.{key}[{i}]",
                                    f"unknown {kind} {value!r}{closest(value, known)}")
                        ok = False
            lists[key] = values
        approved_by = need("approved_by", lambda v: isinstance(v, str) and v.strip(), "must name who approved it")
        granted = raw.get("granted_on")  # optional: without it the 365 days count from the validation date
        if granted is not None and (not isinstance(granted, date) or isinstance(granted, datetime)):
            self.report((*path, "granted_on"), f"{label}.granted_on", "must be a date (YYYY-MM-DD)")
            ok = False
            granted = None
        expires = need("expires_on", lambda v: isinstance(v, date) and not isinstance(v, datetime),
                       "must be a date (YYYY-MM-DD) without a time")
        for key in ("ticket", "justification"):
            if raw.get(key) is not None and not isinstance(raw.get(key), str):
                self.report((*path, key), f"{label}.{key}", "must be text")
                ok = False
        if isinstance(granted, date) and isinstance(expires, date):
            if expires < granted:
                self.report((*path, "expires_on"), f"{label}.expires_on", f"expires ({expires}) before it is granted "
                            f"({granted})")
                ok = False
            elif (expires - granted).days > MAX_EXCEPTION_DAYS:
                self.report((*path, "expires_on"), f"{label}.expires_on",
                            f"runs {(expires - granted).days} days; exceptions may run at most {MAX_EXCEPTION_DAYS}")
                ok = False
        elif granted is None and isinstance(expires, date) and (expires - self.today).days > MAX_EXCEPTION_DAYS:
            self.report((*path, "expires_on"), f"{label}.expires_on",
                        f"has no granted_on, so its {MAX_EXCEPTION_DAYS} days count from today ({self.today}): it "
                        f"would run {(expires - self.today).days} days; give granted_on or an earlier expires_on")
            ok = False
        info = {"id": exc_id, "waives": waives, "waives_path": (*path, "waives"), "label": label}
        if not ok:
            return None, info
        return PolicyException(
            id=exc_id, waives=waives, feature=feature, categories=tuple(lists["categories"]),
            routes=frozenset(lists["routes"]), approved_by=approved_by, granted_on=granted, expires_on=expires,
            ticket=raw.get("ticket"), justification=raw.get("justification"), file=self.doc.file,
            line=self.doc.line_of(path),
        ), info


class _Invalid:
    pass


_INVALID = _Invalid()


def read_policy_dir(directory: Path, vocabulary: Vocabulary, *,
                    today: date | None = None) -> tuple[PolicySet | None, list[Problem]]:
    """Parse and validate every policy file; the set is returned only when there is no problem.

    `today` (default: the system date) is where the 365 days of an exception without granted_on start.
    """
    if not directory.is_dir():
        return None, [Problem(display_path(directory), None, "", "policy folder not found")]
    files = policy_files(directory)
    problems: list[Problem] = []
    docs: list[YamlDocument] = []
    for path in files:
        doc, found = read_yaml(path, display_path(path))
        problems += found
        if doc is not None:
            docs.append(doc)
    policy_set, more = build_policy_set(docs, vocabulary, digest=digest_of(files), today=today)
    problems += more
    return (None, problems) if problems else (policy_set, [])


def build_policy_set(docs: list[YamlDocument], vocabulary: Vocabulary, *, digest: str = "",
                     today: date | None = None) -> tuple[PolicySet | None, list[Problem]]:
    """Validate parsed policy documents (in policy-set order) into one policy set."""
    problems: list[Problem] = []
    policy_set = PolicySet(digest=digest, files=[doc.file for doc in docs])
    rule_places: dict[str, tuple[str, int | None]] = {}
    rule_heads: dict[str, tuple[Any, Any]] = {}  # rule id -> its effect and waivable as written (first one)
    exception_places: dict[str, tuple[str, int | None]] = {}
    pending: list[tuple[_FileReader, PolicyException | None, dict[str, Any]]] = []
    for doc in docs:
        if doc.data is None:
            continue
        stem = Path(doc.file).stem
        reader = _FileReader(doc, vocabulary, problems, today=today)
        if not isinstance(doc.data, dict):
            reader.report((), "", "a policy file is a mapping with policy, description, rules, exceptions")
            continue
        reader.unknown_keys(doc.data, FILE_KEYS, (), "")
        name = doc.data.get("policy", stem)
        if not isinstance(name, str):
            reader.report(("policy",), "policy", "must be a name")
            name = stem
        if isinstance(doc.data.get("description"), str):
            policy_set.descriptions[name] = doc.data["description"]
        for section in ("rules", "exceptions"):
            if doc.data.get(section) is not None and not isinstance(doc.data.get(section), list):
                reader.report((section,), section, "must be a list")
        raw_rules: list[Any] = doc.data["rules"] if isinstance(doc.data.get("rules"), list) else []
        for i, raw in enumerate(raw_rules):
            rule_id = raw.get("id") if isinstance(raw, dict) else None
            duplicate = False
            if isinstance(raw, dict) and isinstance(rule_id, str):
                if rule_id in rule_places:
                    first_file, first_line = rule_places[rule_id]
                    reader.report(("rules", i, "id"), f"{rule_id}.id",
                                  f"duplicate rule id {rule_id!r} (first at {first_file}:{first_line})")
                    duplicate = True
                else:
                    rule_places[rule_id] = (doc.file, doc.line_of(("rules", i)))
                    rule_heads[rule_id] = (raw.get("effect"), raw.get("waivable", True))
            rule = reader.rule(raw, ("rules", i), len(policy_set.rules), name)  # a duplicate's mistakes count too
            if rule is not None and not duplicate:
                policy_set.rules.append(rule)
        raw_exceptions: list[Any] = doc.data["exceptions"] if isinstance(doc.data.get("exceptions"), list) else []
        for i, raw in enumerate(raw_exceptions):
            exc, info = reader.exception(raw, ("exceptions", i))
            exc_id = info.get("id")
            if isinstance(exc_id, str):
                if exc_id in exception_places:
                    first_file, first_line = exception_places[exc_id]
                    reader.report(("exceptions", i, "id"), f"{exc_id}.id",
                                  f"duplicate exception id {exc_id!r} (first at {first_file}:{first_line})")
                    continue
                exception_places[exc_id] = (doc.file, doc.line_of(("exceptions", i)))
            if isinstance(info.get("waives"), str):
                pending.append((reader, exc, info))

    rules_by_id = {r.id: r for r in policy_set.rules}
    for reader, exc, info in pending:
        waives, label = info["waives"], info["label"]
        rule = rules_by_id.get(waives)
        # a waived rule with mistakes of its own is judged by its effect and waivable as written
        effect, waivable = (rule.effect, rule.waivable) if rule else rule_heads.get(waives, (None, None))
        if waives not in rule_places:
            reader.report(info["waives_path"], f"{label}.waives",
                          f"unknown rule {waives!r}{closest(waives, rule_places)}")
        elif effect == "allow":
            reader.report(info["waives_path"], f"{label}.waives", f"rule {waives!r} is an allow rule; "
                          "exceptions only waive deny rules")
        elif effect == "deny" and waivable is False:
            reader.report(info["waives_path"], f"{label}.waives", f"rule {waives!r} is not waivable")
        elif rule is not None and exc is not None:
            policy_set.exceptions.append(exc)
    if problems:
        return None, problems
    return policy_set, []
