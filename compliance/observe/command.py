"""`python -m compliance observe import|report` (observe.md): thin glue between the CLI and the library."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from compliance.observe.importing import ImportResult, import_files, resolve_stored
from compliance.observe.records import FORMATS
from compliance.observe.report import ObserveReport, build_report, group_values_seen, read_counts, read_usage
from compliance.textout import money, table

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
EXIT_OK, EXIT_UNDECLARED = 0, 1


def cmd_observe(args: argparse.Namespace) -> int:
    from compliance import cli

    if args.observe_command == "import":
        from compliance.store import Store

        store = Store.open(cli._settings(args))
        result = import_files(store, [Path(p) for p in args.files], actor=cli._actor(args), fmt=args.format,
                              feature_attribute=args.feature_attribute, reason=args.reason, workers=args.workers)
        print(render_import(result))
        return EXIT_OK
    if args.observe_command == "resolve":
        from compliance.store import Store

        moved = resolve_stored(Store.open(cli._settings(args)), actor=cli._actor(args), reason=args.reason)
        print(f"{moved.rows:,} unattributed or unresolved rows looked at; {moved.moved:,} placed now "
              f"({moved.records:,} requests)" + ("" if moved.moved else "; the store is unchanged"))
        for where, requests in moved.placed.most_common():
            print(f"  {requests:>9,}  {where}")
        return EXIT_OK
    from compliance.dates import parse_day

    since = parse_day(args.since) if args.since else None
    until = parse_day(args.until) if args.until else None
    if since and until and since > until:
        from compliance.problems import ComplianceError

        raise ComplianceError(f"--since {since} is after --until {until}: the window holds no day")
    c = cli._compliance(args)
    assert c.store is not None
    with c.store.snapshot() as session:
        rows = read_usage(session, since, until, c.dataset)
        counts, seen = read_counts(session)
    report = build_report(rows, c.dataset, c.decider, as_of=date.today(), since=since, until=until, counts=counts,
                          values_seen=seen)
    print(json.dumps(report.as_dict(), indent=2) if args.format == "json" else render_report(report))
    return EXIT_UNDECLARED if report.failed else EXIT_OK


def render_import(result: ImportResult) -> str:
    n = result.counts
    lines = [f"read {n['records']:,} records from {len(result.files)} file(s): {n['genai']:,} LLM calls, "
             f"{n['ignored']:,} other spans ignored, {n['malformed']:,} malformed",
             f"  counted {n['attributed'] + n['unattributed']:,}: {n['attributed']:,} attributed to a feature, "
             f"{n['resolved']:,} resolved to a route ({n['unattributed']:,} unattributed, {n['unresolved']:,} "
             "unresolved)",
             f"  skipped: {n['duplicates']:,} already counted (same span or request id), {n['merged']:,} merged "
             f"(a second span of one call), {n['failed']:,} failed and {n['cache_hits']:,} cache hits (not priced)"]
    for scope, count in result.cached_beside.items():
        lines.append(f"  {scope}: cached input reported beside input tokens ({count:,} records); added once")
    for kind, values in group_values_seen(dict(result.seen)).items():
        lines.append(f"  {kind}, values seen:")
        lines += [f"    {count:>7,}  {text}" for text, count in values[:20]]
    if result.malformed:
        lines.append("  malformed:")
        lines += [f"    {m}" for m in result.malformed]
    lines.append(f"stored as import {result.import_id} (audited)" if result.import_id is not None
                 else "nothing new to store; the store is unchanged")
    return "\n".join(lines)


def _variance(value: float | None) -> str:
    return "-" if value is None else f"{value:+.1f}%"


def render_report(report: ObserveReport) -> str:
    window = f"{report.since or 'first day'} .. {report.until or 'last day'}"
    undeclared = report.undeclared
    denied = [p for p in undeclared if p.decision == "deny"]
    out = [f"observed usage {window} (as of {report.as_of}): {len(undeclared)} undeclared (feature, route) pairs"
           f", {len(denied)} of them denied by the policy; {len(report.never_seen)} declared flows never seen"]
    if undeclared:
        out.append("\nUndeclared use (undeclared and denied first):")
        rows = []
        for p in undeclared:
            mark = {"deny": "DENY", "allow": "allow"}.get(p.decision or "", "-")
            why = ", ".join(p.rules) or ("default deny" if p.decision == "deny" else "-")
            rows.append([f"UNDECLARED {mark}", p.feature, p.route, f"{p.requests:,}", f"{p.first_seen}..{p.last_seen}",
                         why])
            rows += [["", "", "", "", "", f"  {r}"] for r in p.reasons[:3]]
        out.append(table(["status", "feature", "route", "requests", "seen", "rules"], rows, max_width=90))
    if report.never_seen:
        out.append("\nDeclared, never seen in the window (stale declarations?):")
        out.append(table(["feature", "route"], [list(p) for p in report.never_seen]))
    declared = [p for p in report.pairs if p.declared]
    if declared:
        out.append("\nDeclared and seen:")
        out.append(table(["feature", "route", "requests", "input tokens", "output tokens", "seen"],
                         [[p.feature, p.route, f"{p.requests:,}", f"{p.input_tokens:,}", f"{p.output_tokens:,}",
                           f"{p.first_seen}..{p.last_seen}"] for p in declared]))
    if report.costs:
        out.append("\nActual vs modelled, per feature and month (priced with the cost model's price table):")
        out.append(table(["feature", "month", "requests", "modelled req.", "observed cost", "reported cost",
                          "modelled cost", "variance"],
                         [[c.feature, c.month, f"{c.requests:,}", "-" if c.modelled_requests is None
                           else f"{c.modelled_requests:,.0f}", money(c.observed_cost)
                           + (f" (+{c.unpriced_requests:,} unpriced)" if c.unpriced_requests else ""),
                           money(c.reported_cost), money(c.modelled_cost), _variance(c.variance_pct)]
                          for c in report.costs], max_width=40))
    n = report.counts
    out.append(f"\nrecords {n['records']:,}: {n['genai']:,} LLM calls, {n['attributed']:,} attributed, "
               f"{n['resolved']:,} resolved, {n['unattributed']:,} unattributed, {n['unresolved']:,} unresolved, "
               f"{n['malformed']:,} malformed, {n['duplicates']:,} duplicates, {n['merged']:,} merged, "
               f"{n['ignored']:,} ignored")
    for kind, values in group_values_seen(report.values_seen).items():
        out.append(f"{kind}, values seen (fix the mapping: app.feature / services:, or a route's scan: hosts):")
        out += [f"  {count:>7,}  {text}" for text, count in values[:10]]
    return "\n".join(out)


def register(add: Add, parser_class: type[argparse.ArgumentParser]) -> None:
    sub = add("observe", cmd_observe, "import LLM call telemetry and hold what production did against the declared "
              "flows, the policy and the cost model (report: exit 1 on undeclared use)")
    commands = sub.add_subparsers(dest="observe_command", required=True, parser_class=parser_class)
    imp = commands.add_parser("import", help="read OTLP JSON or LiteLLM SpendLogs CSV files (gzip too) into daily "
                              "aggregates; the same span or request id never counts twice")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--format", choices=[*FORMATS, "auto"], default="auto")
    imp.add_argument("--feature-attribute", default="app.feature",
                     help="span or resource attribute naming the feature (default app.feature)")
    imp.add_argument("--reason", help="why, recorded in the audit log")
    imp.add_argument("--workers", type=int, default=None,
                     help="processes reading large plain OTLP files (default: one per CPU, at most 8; 1: none)")
    res = commands.add_parser("resolve", help="place stored unattributed and unresolved usage again, after a "
                              "feature's services: or a route's scan: hints were fixed (audited)")
    res.add_argument("--reason", help="why, recorded in the audit log")
    rep = commands.add_parser("report", help="undeclared use with the policy's decision, declared flows never seen, "
                              "actual vs modelled cost")
    rep.add_argument("--since", help="first day (YYYY-MM-DD), inclusive")
    rep.add_argument("--until", help="last day (YYYY-MM-DD), inclusive")
    rep.add_argument("--format", choices=["table", "json"], default="table")
