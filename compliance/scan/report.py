"""A scan's findings as a terminal table, JSON (a valid `--baseline`) or SARIF 2.1.0 for code scanning."""

from __future__ import annotations

import json
from typing import Any

from compliance.scan.findings import STATUSES, VIOLATIONS, Finding, Report
from compliance.textout import table

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
INFO_URI = "https://github.com/northwind-labs/llm-compliance"
RULE_TEXT = {
    "undeclared": ("LLM call through a route its feature does not declare",
                   "The call reaches a route that no flow of its feature declares. Declare the flow in "
                   "features.yaml (and let `flows` check it), or change the call."),
    "unresolved": ("LLM call whose route cannot be told",
                   "No route fits the call, or several fit and the feature does not declare all of them. "
                   "Pass the region/model explicitly, or add a `scan:` hint to the route."),
    "unattributed": ("LLM call that belongs to no feature",
                     "Mark it with `# compliance: feature=ID`, guard it with require(feature=...), or list the "
                     "file in the feature's `code:` patterns."),
    "unparsed": ("File that does not parse",
                 "The file is not valid Python, so its LLM calls cannot be found."),
}


def _value(fact: dict[str, Any]) -> str:
    value = fact.get("value")
    if value is not None:
        return str(value) + ("" if fact.get("how") in ("literal", "constant", "default") else f" ({fact['how']})")
    if fact.get("how") == "env":
        return f"${fact.get('env')}" + (f" (default {fact['default']})" if fact.get("default") is not None else "")
    if fact.get("how") == "argument":
        return f"param {fact.get('argument')}" + (f" (default {fact['default']})" if fact.get("default") else "")
    return "?"


def where(f: Finding) -> str:
    return f"{f.file}:{f.line}" if f.cell is None else f"{f.file}[cell {f.cell}]:{f.line}"


def render_table(report: Report) -> str:
    """Grouped by status, violations first (undeclared at the top); the main reason beside each finding."""
    out: list[str] = []
    summary = report.summary()
    counts = ", ".join(f"{n} {s}" for s, n in summary["by_status"].items()) or "no LLM calls"
    out.append(f"scanned {report.files} files, {report.lines:,} lines: {len(report.findings)} findings ({counts})")
    for status in STATUSES:
        group = [f for f in report.findings if f.status == status]
        if not group:
            continue
        mark = "FAIL" if status in VIOLATIONS else "ok"
        out.append("")
        out.append(f"{status.upper()} ({len(group)}) [{mark}]")
        rows = []
        for f in group:
            route = f.route or (" | ".join(f.candidates) + " ?" if f.candidates else "-")
            facts = ["-", "-"] if f.status == "unparsed" else [_value(f.region), _value(f.model)]
            rows.append([where(f), f.function, f.callee or "-", f.feature or "-", route, *facts, _main_reason(f)])
        out.append(table(["where", "function", "call", "feature", "route", "region", "model", "why"], rows,
                         max_width=60))
    if report.failed:
        out.append("")
        out.append("FAIL: LLM calls not covered by declared flows (see above; `--format json` has every reason)")
    return "\n".join(out)


def _main_reason(f: Finding) -> str:
    return f.reasons[-1] if f.reasons else ""


def render_json(report: Report) -> str:
    return json.dumps(report.as_dict(), indent=2, ensure_ascii=False)


def _message(f: Finding) -> str:
    feature = f"feature {f.feature}" if f.feature else "no feature"
    route = f"route {f.route}" if f.route else (f"one of {', '.join(f.candidates)}" if f.candidates else "no route")
    if f.status == "unparsed":
        return f.reasons[0]
    head = {"undeclared": f"{f.callee} reaches {route}, which {feature} does not declare",
            "unresolved": f"{f.callee} ({feature}): the route cannot be told ({route})",
            "unattributed": f"{f.callee} reaches {route} but belongs to no feature"}.get(f.status, f.callee or "")
    return head + ". " + " ".join(r if r.endswith(".") else r + "." for r in f.reasons[1:])


def render_sarif(report: Report, *, tool_version: str = "0") -> str:
    """SARIF 2.1.0: one rule per violation status, one result per violation, the finding id as fingerprint."""
    rules = [{"id": f"llm-{status}", "name": status.capitalize(),
              "shortDescription": {"text": RULE_TEXT[status][0]}, "fullDescription": {"text": RULE_TEXT[status][1]},
              "defaultConfiguration": {"level": "note" if status == "unparsed" else "error"},
              "help": {"text": RULE_TEXT[status][1]}}
             for status in ("undeclared", "unresolved", "unattributed", "unparsed")]
    index = {rule["id"]: i for i, rule in enumerate(rules)}
    results = []
    for f in report.findings:
        if f.status not in VIOLATIONS:
            continue
        rule_id = f"llm-{f.status}"
        results.append({
            "ruleId": rule_id, "ruleIndex": index[rule_id],
            "level": "note" if f.status == "unparsed" else "error",
            "message": {"text": _message(f)},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": f.file, "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": max(1, f.line)}}}],
            "partialFingerprints": {"llmCallId/v1": f.id},
            "properties": {"feature": f.feature, "route": f.route, "candidates": f.candidates, "sdk": f.sdk,
                           "cell": f.cell},
        })
    log = {
        "$schema": SARIF_SCHEMA, "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "compliance-scan", "informationUri": INFO_URI, "version": tool_version,
                                "rules": rules}},
            "originalUriBaseIds": {"%SRCROOT%": {"description": {"text": "the working directory of the scan"}}},
            "results": results,
            "properties": {"summary": report.summary()},
        }],
    }
    return json.dumps(log, indent=2, ensure_ascii=False)
