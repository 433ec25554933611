"""From calls found in code to findings: the route each reaches, the feature it belongs to, and its status.

This is the one place that decides a finding's status (scan.md): the CLI, `flows --scan`, the
dashboard and the recorded scans all read the statuses made here.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pathspec

from compliance.routing import CallFacts, Known, Resolution, resolve
from compliance.store import documents as d

STATUSES = ("undeclared", "unresolved", "unattributed", "unparsed", "accepted", "declared")
VIOLATIONS = frozenset({"undeclared", "unresolved", "unattributed", "unparsed"})
ROUTE_FACTS = ("processor", "service", "region", "model")


@dataclass
class Finding:
    """One LLM call site (or one file that does not parse), held against the declared flows."""

    id: str
    file: str
    line: int
    function: str
    sdk: str | None
    callee: str | None
    client: str | None
    processor: dict[str, Any]
    service: dict[str, Any]
    region: dict[str, Any]
    model: dict[str, Any]
    route: str | None
    candidates: list[str]
    feature: str | None
    status: str
    guarded: bool
    reasons: list[str]
    cell: int | None = None
    host: dict[str, Any] | None = None

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "file": self.file, "line": self.line, "function": self.function, "sdk": self.sdk,
            "callee": self.callee, "client": self.client, "processor": self.processor, "service": self.service,
            "region": self.region, "model": self.model, "route": self.route, "candidates": self.candidates,
            "feature": self.feature, "status": self.status, "guarded": self.guarded, "reasons": self.reasons,
        }
        if self.cell is not None:
            out["cell"] = self.cell
        if self.host is not None:
            out["host"] = self.host
        return out

    @property
    def violation(self) -> bool:
        return self.status in VIOLATIONS


@dataclass
class Report:
    findings: list[Finding]
    files: int
    lines: int
    rules_version: str
    paths: list[str] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.violation for f in self.findings)

    def summary(self) -> dict[str, Any]:
        statuses = Counter(f.status for f in self.findings)
        sdks = Counter(f.sdk for f in self.findings if f.sdk)
        return {"by_status": {s: statuses[s] for s in STATUSES if statuses[s]}, "by_sdk": dict(sorted(sdks.items())),
                "findings": len(self.findings), "files": self.files, "lines": self.lines,
                "rules_version": self.rules_version}

    def as_dict(self) -> dict[str, Any]:
        return {"findings": [f.as_dict() for f in self.findings], "summary": self.summary()}


def finding_id(file: str, function: str, callee: str, ordinal: int) -> str:
    """Stable across unrelated edits: from where (file, function) and what (callee, ordinal), never the line."""
    key = f"{file}\0{function}\0{callee}\0{ordinal}"
    return "llm-" + hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]


class CodeOwners:
    """The features' `code:` glob patterns; the pattern with the most literal characters wins."""

    def __init__(self, features: Sequence[d.Feature]):
        self.patterns: list[tuple[int, str, str, pathspec.PathSpec[Any]]] = []
        for feature in features:
            for pattern in feature.code:
                literal = sum(1 for ch in pattern if ch not in "*?[]!")
                spec = pathspec.PathSpec.from_lines("gitignore", [pattern])
                self.patterns.append((literal, pattern, feature.id, spec))
        self.patterns.sort(key=lambda p: -p[0])
        self._owners: dict[str, tuple[str, str] | None] = {}  # a file's calls share its owner: match once

    def owner(self, file: str) -> tuple[str, str] | None:
        if file not in self._owners:
            self._owners[file] = next(((feature, pattern) for _, pattern, feature, spec in self.patterns
                                       if spec.match_file(file)), None)
        return self._owners[file]


def _known(fact: dict[str, Any] | None) -> Known | None:
    if not fact:
        return None
    how = fact.get("how")
    value = fact.get("value")
    if value is None and fact.get("default") is not None:
        value = fact["default"]
    if value is None and not fact.get("env") and not fact.get("options"):
        return None
    if how == "unknown" and value is None and not fact.get("options"):
        return None
    return Known(None if value is None else str(value), fact.get("env"), tuple(fact.get("options", ())))


def _shown(fact: dict[str, Any] | None) -> dict[str, Any]:
    if not fact:
        return {"value": None, "how": "unknown"}
    out = {"value": fact.get("value"), "how": fact.get("how", "unknown")}
    for key in ("env", "default", "argument", "options"):
        if fact.get(key) not in (None, []):
            out[key] = fact[key]
    return out


def _fact_reason(name: str, fact: dict[str, Any] | None, client: str | None) -> str | None:
    if name == "host" and fact and fact.get("value") is None and fact.get("how") == "env" and not fact.get("default"):
        return None  # the SDK's own endpoint unless the variable is set: nothing worth saying
    if not fact:
        return f"the {name} is not known from the code" if name in ("region", "model") else None
    how = fact.get("how")
    value = fact.get("value")
    detail = fact.get("detail")
    if how == "literal":
        if detail and detail.startswith("host "):
            return f"{name} {value!r} from the {detail}"
        if name in ("processor", "service"):
            return None
        return f"{name} {value!r} is written in the call"
    if how == "constant":
        return f"{name} {value!r} from a module constant" + (f" ({detail})" if detail else "")
    if how == "default":
        return f"{name} {value!r} is {client or 'the SDK'}'s documented default"
    if how == "env":
        text = f"{name} is read from the environment variable {fact.get('env')}"
        if detail == "read by the SDK":
            text = f"{name} is read by {client or 'the SDK'} from the environment variable {fact.get('env')}"
        if fact.get("default") is not None:
            text += f", with {fact['default']!r} as the code's default (used to match routes)"
        return text
    if how == "argument":
        text = f"{name} comes from the {fact.get('detail') or 'parameter ' + repr(fact.get('argument'))}"
        if fact.get("env"):
            text += f", whose default reads the environment variable {fact['env']}"
        if fact.get("default") is not None:
            text += f" (default {fact['default']!r}, used to match routes)"
        return text
    if how == "hint":
        return f"{name} {value!r} is supplied by the route's scan hint"
    if fact.get("options"):
        return f"{name} is one of {', '.join(fact['options'])}, decided at run time"
    return f"the {name} is not known from the code" + (f" ({detail})" if detail else "")


@dataclass
class Matcher:
    """The store's routes and features, ready to resolve and attribute calls."""

    dataset: d.DataSet
    baseline: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        self.owners = CodeOwners(self.dataset.features)
        self.flows = {f.id: {flow.route for flow in f.flows} for f in self.dataset.features}
        self.routes = {r.id: r for r in self.dataset.routes}
        self._resolved: dict[CallFacts, Resolution] = {}  # many calls share their facts: resolve each once

    def resolve(self, query: CallFacts) -> Resolution:
        found = self._resolved.get(query)
        if found is None:
            found = self._resolved[query] = resolve(query, self.dataset.routes, describe=False)
        return found

    def finding(self, file: str, call: dict[str, Any], ordinal: int) -> Finding:
        facts = call["facts"]
        query = CallFacts(**{name: _known(facts.get(name)) for name in (*ROUTE_FACTS, "host")})
        resolution = self.resolve(query)
        shown = {name: _shown(facts.get(name)) for name in ROUTE_FACTS}
        on = f" on {call['client']}" if call["client"] != call["callee"] else ""
        reasons = [f"{call['callee']}{on}" + (" (the model object is made here and used "
                                                               "elsewhere)" if call.get("construction") else "")]
        reasons += [r for name in (*ROUTE_FACTS, "host") if (r := _fact_reason(name, facts.get(name),
                                                                               call["client"]))]
        reasons += list(resolution.reasons)
        self._fill(shown, resolution)
        feature, how = self.attribute(file, call)
        reasons.append(how)
        status = self.status(feature, resolution, reasons)
        fid = finding_id(file, call["function"], call["callee"], ordinal)
        if status in VIOLATIONS and fid in self.baseline:
            reasons.append(f"accepted: listed in the baseline (was {status})")
            status = "accepted"
        guarded = feature is not None and any(at < call["line"] and f == feature for at, f in call["requires"])
        return Finding(
            id=fid, file=file, line=call["line"], function=call["function"], sdk=call["sdk"], callee=call["callee"],
            client=call["client"], processor=shown["processor"], service=shown["service"], region=shown["region"],
            model=shown["model"], route=resolution.route, candidates=list(resolution.candidates), feature=feature,
            status=status, guarded=guarded, reasons=reasons, cell=call.get("cell"),
            host=_shown(facts["host"]) if facts.get("host") else None,
        )

    def _fill(self, shown: dict[str, dict[str, Any]], resolution: Resolution) -> None:
        """When the call resolves, processor and service are the route's; hinted values say so."""
        for name, value in resolution.hinted.items():
            if name in shown:
                shown[name] = {**shown[name], "value": value, "how": "hint"}
        if resolution.route is not None:
            route = self.routes[resolution.route]
            for name in ("processor", "service"):
                if shown[name]["value"] is None:
                    shown[name] = {**shown[name], "value": getattr(route, name), "how": "hint"}
                else:
                    shown[name] = {**shown[name], "value": getattr(route, name)}

    def attribute(self, file: str, call: dict[str, Any]) -> tuple[str | None, str]:
        if call.get("marker"):
            return call["marker"], f"feature {call['marker']!r} from the '# compliance: feature=' comment on the call"
        if call.get("def_marker"):
            return call["def_marker"], (f"feature {call['def_marker']!r} from the '# compliance: feature=' comment "
                                        f"on the def of {call['function']}")
        requires = call.get("requires") or []
        if requires:
            before = [f for at, f in requires if at < call["line"]]
            feature = before[-1] if before else requires[0][1]
            return feature, f"feature {feature!r} from the require(feature=...) guard in {call['function']}"
        owner = self.owners.owner(file)
        if owner:
            return owner[0], f"feature {owner[0]!r} owns {file} through its code pattern {owner[1]!r}"
        return None, ("no feature: no '# compliance: feature=' comment, no require(feature=...) in the function, "
                      "and no feature's code pattern matches the file")

    def status(self, feature: str | None, resolution: Resolution, reasons: list[str]) -> str:
        if feature is None:
            return "unattributed"
        if feature not in self.flows:
            reasons.append(f"feature {feature!r} is not in the store")
            return "unattributed"
        declared = self.flows[feature]
        if resolution.route is not None:
            if resolution.route in declared:
                reasons.append(f"{feature} declares a flow through {resolution.route}")
                return "declared"
            reasons.append(f"{feature} declares no flow through {resolution.route}"
                           + (f" (it declares {', '.join(sorted(declared))})" if declared else ""))
            return "undeclared"
        if resolution.candidates and set(resolution.candidates) <= declared:
            reasons.append(f"{feature} declares every route that fits ({', '.join(resolution.candidates)})")
            return "declared"
        if resolution.candidates:
            missing = [r for r in resolution.candidates if r not in declared]
            reasons.append(f"{feature} does not declare {', '.join(missing)}, which may be the route")
        return "unresolved"


def build_report(results: Sequence[tuple[str, dict[str, Any]]], matcher: Matcher, *, rules_version: str,
                 paths: Sequence[str] = ()) -> Report:
    """Findings for every file's result, in file order, with ordinals per function and callee."""
    findings: list[Finding] = []
    lines = 0
    for file, result in results:
        lines += int(result.get("lines", 0))
        error = result.get("error")
        if error:
            fid = finding_id(file, "module", "<syntax>", 0)
            status = "accepted" if fid in matcher.baseline else "unparsed"
            where = f"cell {error['cell']}, line {error['line']}" if error.get("cell") is not None else (
                f"line {error['line']}")
            findings.append(Finding(
                id=fid, file=file, line=int(error["line"]), function="module", sdk=None, callee=None, client=None,
                processor=_shown(None), service=_shown(None), region=_shown(None), model=_shown(None), route=None,
                candidates=[], feature=None, status=status, guarded=False, cell=error.get("cell"),
                reasons=[f"the file does not parse ({error['message']} at {where}); its LLM calls, if any, are not "
                         "known"]))
        counts: Counter[tuple[str, str]] = Counter()
        for call in result.get("calls", ()):
            key = (call["function"], call["callee"])
            findings.append(matcher.finding(file, call, counts[key]))
            counts[key] += 1
    order = {s: i for i, s in enumerate(STATUSES)}
    findings.sort(key=lambda f: (order[f.status], f.file, f.line))
    return Report(findings, len(results), lines, rules_version, list(paths))
