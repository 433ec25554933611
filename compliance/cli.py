"""`python -m compliance COMMAND`: thin commands over the library (see shared/spec/cli.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from compliance import costs
from compliance.access import Actor, cli_actor
from compliance.alerts import every_alert
from compliance.api import Compliance
from compliance.config import Settings, load_settings
from compliance.costs.prices import genai_prices_version
from compliance.costs.tables import DEFAULT_TARGET_MARGIN
from compliance.dates import parse_day
from compliance.loading import EMPTY_KINDS, change_lines, check_load_folder, record_count, validate_folder
from compliance.policy.decide import Decision
from compliance.policy.matrix import Matrix, write_csv
from compliance.policy.plain import decision_json, plain_reason, plain_reasons
from compliance.policy.testing import run_policy_tests
from compliance.problems import ComplianceError, InvalidInput, NotFound, closest
from compliance.scan import command as scan_command
from compliance.store import LoadReport, Store, default_actor
from compliance.store.audit import chain_events, export_text, list_events, verify_chain
from compliance.store.audit_checkpoint import Checkpoint, read_checkpoint, take_checkpoint
from compliance.store.audit_key import audit_key
from compliance.textout import SafeStream, money, percent, printable, progress, table

EXIT_OK, EXIT_DENY, EXIT_INVALID = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INVALID)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(database_url=args.db, data_dir=args.data, policy_dir=args.policies)


def _actor(args: argparse.Namespace) -> Actor:
    return cli_actor(args.actor, default_actor())


def cmd_init(args: argparse.Namespace) -> int:
    settings = _settings(args)
    store = Store.open(settings, seed=False)
    if store.is_empty():
        report = store.load(settings.data_dir, actor=_actor(args), reason="init: load the data folder")
        print(f"store ready at {settings.database_url}; loaded {settings.data_dir}: {report.summary()}")
    else:
        print(f"store ready at {settings.database_url}; it already holds data, nothing loaded")
    return EXIT_OK


def cmd_load(args: argparse.Namespace) -> int:
    settings = _settings(args)
    directory = Path(args.dir) if args.dir else settings.data_dir
    progress(f"validating {directory} with the policies in {settings.policy_dir}")
    checked = check_load_folder(directory, settings.policy_dir, args.allow_empty or ())  # before touching the store
    dataset = checked.dataset
    for warning in checked.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    store = Store.open(settings, seed=False)
    actor = _actor(args)
    plan = store.load_dataset(dataset, actor=actor, dry_run=True)
    if args.dry_run:
        print(f"dry run of loading {directory}; nothing was changed:")
        print("\n".join(change_lines(plan)))
        if plan.reordered:
            print(f"  new order of {', '.join(plan.reordered)}")
        return EXIT_OK
    confirm_deletions(store, plan, yes=args.yes)
    progress("writing the changes and their audit events in one transaction")
    report = store.load_dataset(dataset, actor=actor, reason=args.reason or f"load {directory}")
    print(f"loaded {directory}: {report.summary()}")
    return EXIT_OK


def confirm_deletions(store: Store, plan: LoadReport, *, yes: bool) -> None:
    """A load that deletes more records than it keeps needs --yes, or a yes on a terminal."""
    deleted = sum(plan.deleted.values())
    kept = record_count(store.read()) - deleted
    if yes or deleted <= kept:
        return
    what = ", ".join(f"{n} {kind}" for kind, n in plan.deleted.items())
    if not sys.stdin.isatty():
        raise ComplianceError(f"this load would delete {deleted} records ({what}) and keep {kept}; nothing was "
                              "changed. Check with --dry-run, then run again with --yes to confirm")
    answer = input(f"This load deletes {deleted} records ({what}) and keeps {kept}. Continue? [y/N] ")
    if answer.strip().lower() not in ("y", "yes"):
        raise ComplianceError("load not confirmed; nothing was changed")


def cmd_export(args: argparse.Namespace) -> int:
    store = Store.open(_settings(args), create=False)
    written = store.export(Path(args.dir))
    print(f"wrote {', '.join(str(p) for p in written)}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    check = validate_folder(settings.data_dir, settings.policy_dir)
    problems, policies = check.problems, check.policies
    if problems or policies is None:
        raise InvalidInput(problems)
    print(f"{settings.data_dir}: valid; {settings.policy_dir}: {len(policies.rules)} rules, "
          f"{len(policies.exceptions)} exceptions, valid")
    return EXIT_OK


def _compliance(args: argparse.Namespace) -> Compliance:
    return Compliance.open(settings=_settings(args))


def _mark(decision: Decision) -> str:
    return "ALLOW" if decision.allowed else "DENY"


def print_decision(decision: Decision, c: Compliance | None = None) -> None:
    print(f"{_mark(decision)}  {decision.feature} -> {decision.category} -> {decision.route}  (as of {decision.as_of})")
    print(f"  rules:      {', '.join(decision.rules) or '(none: default deny)'}")
    for reason in plain_reasons(c.decider, decision) if c else decision.reasons:
        print(f"  why:        {printable(reason)}")
    if decision.waived_by:
        print(f"  waived by:  {', '.join(decision.waived_by)}")
    if decision.unknown_facts:
        print(f"  unknown:    {', '.join(decision.unknown_facts)}")
    if decision.evidence_note:
        print(f"  evidence:   {decision.evidence_note}")
    print(f"  policy:     {decision.policy_digest[:12]}")


def cmd_check(args: argparse.Namespace) -> int:
    c = _compliance(args)
    decision = c.decide(feature=args.feature, category=args.category, route=args.route, as_of=parse_day(args.as_of),
                        model=args.model)
    if args.json:
        print(json.dumps(decision_json(c.decider, decision), indent=2))
    else:
        print_decision(decision, c)
    return EXIT_OK if decision.allowed else EXIT_DENY


def cmd_routes(args: argparse.Namespace) -> int:
    from compliance.routechoice import choose_routes

    c = _compliance(args)
    on = parse_day(args.as_of)
    choice = choose_routes(c.decider, args.feature, args.category, on)
    options, prices, cheapest = choice.options, choice.prices, choice.cheapest
    if args.json:
        print(json.dumps({"feature": args.feature, "categories": args.category, "as_of": on.isoformat(),
                          "cheapest_allowed": cheapest, "routes": [{
                              "route": o.route, "allowed": o.allowed,
                              "model": prices[o.route].model if o.route in prices else None,
                              "monthly_cost": prices[o.route].monthly_cost if o.route in prices else None,
                              "verified": o.verified,
                              "evidence_note": o.evidence_note,
                              "decisions": [decision_json(c.decider, d) for d in o.decisions]} for o in options]},
                         indent=2))
        return EXIT_OK if any(o.allowed for o in options) else EXIT_DENY
    rows = []
    for option in options:
        deciding = [d for d in option.decisions if d.allowed == option.allowed]
        rules = list(dict.fromkeys(rule for d in deciding for rule in d.rules))
        reasons = [f"{d.category}: {plain_reason(c.decider, d)}" for d in option.decisions if not d.allowed]
        price = prices.get(option.route)
        mark = "ALLOW" + (" $" if option.route == cheapest else "") if option.allowed else "DENY"
        waived = waiver_notes(c, option.decisions)
        rows.append([mark, option.route, money(price.monthly_cost) if price else "-", ", ".join(rules) or "-",
                     waived or "-", " | ".join(reasons) if reasons else plain_reason(c.decider, option.decisions[0])])
        if option.allowed and (evidence := option.evidence_note):
            rows.append(["", "", "", "", "", evidence])
    allowed = sum(o.allowed for o in options)
    print(f"{args.feature} with {', '.join(args.category)} as of {on}: {allowed} of {len(options)} routes allowed"
          + (f"; cheapest allowed: {cheapest} ({money(prices[cheapest].monthly_cost)} per month)" if cheapest else ""))
    print(table(["", "route", "cost/month", "rules", "waived by", "why"], rows, max_width=90))
    unpriced = [o.route for o in options if o.allowed and o.route not in prices]
    if unpriced:
        print(f"not priced (allowed, but no price for this feature's model tier): {', '.join(unpriced)}")
    return EXIT_OK if allowed else EXIT_DENY


def waiver_notes(c: Compliance, decisions: Sequence[Decision]) -> str:
    """The exceptions that waived a rule for these decisions, each with its expiry."""
    expiry = {e.id: e.expires_on for e in c.policies.exceptions}
    ids = dict.fromkeys(w for d in decisions for w in d.waived_by)
    return ", ".join(f"{w} (until {expiry[w].isoformat()})" if w in expiry else w for w in ids)


def cmd_flows(args: argparse.Namespace) -> int:
    on = parse_day(args.as_of)
    c = _compliance(args)
    results = c.flows(feature=args.feature, as_of=on)
    violations = [r for r in results if not r.compliant]
    unverified = [r for r in results if r.compliant and not r.verified]
    if args.require_verified:
        violations += unverified
    scanned = scan_command.run_scan(args.scan, c.dataset, baseline=args.baseline) if args.scan else None
    failed = bool(violations) or bool(scanned and scanned.failed)
    if args.json:
        print(json.dumps({"as_of": on.isoformat(), "compliant": not failed, "flows": [
            {"feature": r.feature, "flow": r.index, "route": r.route, "model": r.model, "compliant": r.compliant,
             "retired": r.retired, "verified": r.verified, "evidence_note": r.evidence_note,
             "decisions": [decision_json(c.decider, d) for d in r.decisions]} for r in results],
            **({"scan": scanned.as_dict()} if scanned else {})}, indent=2))
        return EXIT_DENY if failed else EXIT_OK
    compliant = len(results) - len([r for r in results if not r.compliant])
    print(f"{compliant} of {len(results)} declared flows compliant as of {on}"
          + (f"; {len(unverified)} of them rest on facts that are not verified" if unverified else "")
          + ("" if not args.require_verified else " (--require-verified: those fail too)"))
    rows = []
    for r in results:
        status = "ok" if r.compliant else "VIOLATION"
        if r in unverified:
            status = "UNVERIFIED" if args.require_verified else "ok (unverified)"
        why = "; ".join([r.retired] if r.retired else []
                        + [f"{d.category}: {', '.join(d.rules) or 'default deny'} - {plain_reason(c.decider, d)}"
                           for d in r.violations])
        waived = waiver_notes(c, r.decisions)
        if r.compliant and waived:
            why = f"allowed under exception {waived}"
        if r in unverified:
            why = "; ".join(filter(None, [why, r.evidence_note]))
        categories = ", ".join(d.category for d in r.decisions)
        rows.append([status, r.feature, r.route, r.model or "-", categories, why or "-"])
    print(table(["status", "feature", "route", "model", "categories", "why"], rows, max_width=70))
    if scanned is not None:
        print(f"\ndeclared vs actual (scan {' '.join(args.scan)}):")
        print(scan_command.render(scanned, "table"))
    return EXIT_DENY if failed else EXIT_OK


def cmd_scan(args: argparse.Namespace) -> int:
    store = Store.open(_settings(args))
    report = scan_command.run_scan(args.paths or ["."], store.read(), baseline=args.baseline, cache=args.cache,
                                   no_cache=args.no_cache)
    scan_command.emit(scan_command.render(report, args.format), args.out)
    if args.record:
        from compliance.scan.record import record_scan

        run = record_scan(store, report, actor=_actor(args))
        print(f"recorded as scan {run} in the store (audited)", file=sys.stderr)
    return EXIT_DENY if report.failed else EXIT_OK


def cmd_matrix(args: argparse.Namespace) -> int:
    c = _compliance(args)
    on = parse_day(args.as_of)
    cells = len(c.dataset.features) * len(c.dataset.categories) * len(c.dataset.routes)
    progress(f"evaluating {cells:,} decisions as of {on}")
    result = Matrix(c.decider).evaluate(on)
    progress(f"writing {cells:,} rows")
    try:
        out = open(args.out, "w", encoding="utf-8", newline="") if args.out else sys.stdout  # noqa: SIM115
    except OSError as exc:
        raise ComplianceError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    try:
        if args.format == "json":
            json.dump({"as_of": on.isoformat(), "policy_digest": c.policies.digest, "cells": [
                {"feature": f, "category": k, "route": r, "decision": dec, "rule": rules.split(";")[0] or None,
                 "rules": rules.split(";") if rules else [], "waived_by": waived.split(";") if waived else []}
                for _, f, k, r, dec, rules, waived in result.full_rows()]}, out)
            out.write("\n")
        else:
            write_csv(result, out)
    except OSError as exc:  # a full disk, /dev/full
        raise ComplianceError(f"cannot write {args.out or 'standard output'}: {exc.strerror or exc}") from None
    finally:
        if args.out:
            try:
                out.close()
            except OSError as exc:
                raise ComplianceError(f"cannot write {args.out}: {exc.strerror or exc}") from None
    if args.out:
        print(f"wrote {int(result.allowed.size)} decisions ({int(result.allowed.sum())} allowed) to {args.out}")
    return EXIT_OK


def cmd_test(args: argparse.Namespace) -> int:
    settings = _settings(args)
    test_dir = Path(args.dir) if args.dir else settings.policy_dir / "tests"
    report = run_policy_tests(test_dir, settings.policy_dir, settings.data_dir)
    if report.problems:
        raise InvalidInput(report.problems)
    for result in report.failed:
        print(f"FAIL {result.file}:{result.line}: {result.name}: {result.message}")
    passed = len(report.results) - len(report.failed)
    print(f"{passed} passed, {len(report.failed)} failed")
    covered = len(report.rules) - len(report.uncovered)
    line = f"rule coverage: {covered}/{len(report.rules)} rules decided at least one case"
    print(line + (f"; undecided: {', '.join(report.uncovered)}" if report.uncovered else ""))
    return EXIT_OK if report.ok else EXIT_DENY


def _costs_tables(c: Compliance, on: date, args: argparse.Namespace) -> dict[str, Any]:
    """The tables the request prints: features, segments and projection, plus `--table` if another."""
    features = costs.feature_costs(c.dataset, on)
    segments = costs.segment_margins(c.dataset, on, features=features)
    if args.segment:
        if args.segment not in set(segments["segment"]):
            raise NotFound(f"unknown segment {args.segment!r}{closest(args.segment, segments['segment'])}")
        features = features[features["segment"] == args.segment]
        segments = segments[segments["segment"] == args.segment]
    scenarios = list(c.dataset.costs.projection.scenarios)
    if args.scenario and args.scenario not in scenarios:
        raise NotFound(f"unknown scenario {args.scenario!r}{closest(args.scenario, scenarios)}")
    projection = (costs.projection_frame(c.dataset, on, scenario=args.scenario, segment=args.segment)
                  if scenarios else None)
    tables: dict[str, Any] = {"features": features, "segments": segments, "projection": projection}
    extra = {"flows": lambda: costs.flows_frame(c.dataset, on),
             "compliance": lambda: costs.compliance_cost_frame(c.decider, on),
             "sensitivity": lambda: costs.sensitivity_frame(c.dataset, on)}
    if args.table in extra:
        tables[args.table] = extra[args.table]()
    return tables


def cmd_costs(args: argparse.Namespace) -> int:
    c = _compliance(args)
    on = parse_day(args.as_of)
    tables = _costs_tables(c, on, args)
    if args.format == "json":
        wanted = [args.table] if args.table else ["features", "segments", "projection"]
        print(json.dumps({"as_of": on.isoformat(), **{name: json.loads(tables[name].to_json(
            orient="records", date_format="iso")) for name in wanted if tables[name] is not None}}, indent=2))
        return EXIT_OK
    if args.format == "csv":
        frame = tables[args.table or "features"]
        if frame is not None:
            frame.to_csv(sys.stdout, index=False)
        return EXIT_OK
    if args.table:
        print(tables[args.table].to_string(index=False))
        return EXIT_OK
    print(f"LLM cost as of {on} (list prices: genai-prices {genai_prices_version()}, then price overrides)\n")
    rows = [[f.feature, f.segment or "-", money(f.cost_per_request, digits=4), money(f.cost_per_active_user_month),
             money(f.monthly_cost)] for f in tables["features"].itertuples()]
    print(table(["feature", "segment", "per request", "per active user/month", "per month"], rows))
    print()
    rows = [[s.segment, f"{s.users:,}", money(s.revenue), money(s.llm_cost), percent(s.llm_share_of_revenue),
             percent(s.gross_margin), money(s.break_even_revenue_per_user),
             "-" if s.usage_multiplier_at_target != s.usage_multiplier_at_target or s.usage_multiplier_at_target is None
             else f"{s.usage_multiplier_at_target:.1f}x"] for s in tables["segments"].itertuples()]
    print(table(["segment", "users", "revenue/month", "LLM cost/month", "LLM share of revenue", "gross margin",
                 "break-even revenue/user", f"usage at {percent(DEFAULT_TARGET_MARGIN)} margin"], rows))
    projection = tables["projection"]
    if projection is not None and len(projection):
        last = projection[projection["month"] == projection["month"].max()]
        print(f"\nIn {int(last['month'].max())} months, by price-decline scenario:")
        rows = [[p.segment, p.scenario, f"{p.users:,.0f}", money(p.llm_cost), percent(p.llm_share_of_revenue),
                 percent(p.gross_margin)] for p in last.itertuples()]
        print(table(["segment", "scenario", "users", "LLM cost/month", "LLM share of revenue", "gross margin"], rows))
    return EXIT_OK


def cmd_alerts(args: argparse.Namespace) -> int:
    on = parse_day(args.as_of)
    if not 0 <= args.within <= 36_500:
        raise ComplianceError("--within must be between 0 and 36,500 days")
    c = _compliance(args)
    alerts = every_alert(c.decider, on, args.within)
    if args.json:
        print(json.dumps({"as_of": on.isoformat(), "within_days": args.within,
                          "alerts": [a.as_dict() for a in alerts]}, indent=2))
        return EXIT_OK
    if not alerts:
        print(f"no alerts on {on} (looking {args.within} days ahead)")
        return EXIT_OK
    print(f"{len(alerts)} alerts on {on} (looking {args.within} days ahead)")
    rows = []
    for a in alerts:
        rows.append([a.severity.upper(), a.kind, a.subject, a.message])
        for flow in a.breaks:
            rows.append(["", "", "", f"  would break: {flow}"])
        for flow in a.carries:
            rows.append(["", "", "", f"  carries: {flow}"])
        for flow in a.allows:
            rows.append(["", "", "", f"  allowed from then: {flow}"])
    print(table(["severity", "kind", "subject", "what"], rows, max_width=110))
    return EXIT_OK


def cmd_audit(args: argparse.Namespace) -> int:
    store = Store.open(_settings(args), create=False)  # read-only: a mistyped path is an error, not a new store
    with store.snapshot() as session:
        if args.audit_command == "verify":
            point = read_checkpoint(Path(args.checkpoint)) if args.checkpoint else None
            report = verify_chain(session, key=audit_key(), checkpoint=point)
            print(report)
            return EXIT_OK if report.ok else EXIT_DENY
        if args.audit_command == "checkpoint":
            return write_checkpoint(take_checkpoint(chain_events(session), audit_key()), args.out)
        events = list_events(session)
    sys.stdout.write(export_text(events, args.format))
    return EXIT_OK


def write_checkpoint(point: Checkpoint, out: str | None) -> int:
    """Print the checkpoint, or write it to a file the operator keeps outside the database."""
    text = json.dumps(point.as_dict(), indent=2) + "\n"
    if not out:
        sys.stdout.write(text)
        return EXIT_OK
    try:
        with open(out, "w", encoding="utf-8") as handle:
            handle.write(text)
    except OSError as exc:
        raise ComplianceError(f"cannot write {out}: {exc.strerror or exc}") from None
    print(f"checkpoint written to {out}: {point.events} events, head #{point.head_id} {point.head_hash[:16]}…"
          + (" (signed with the audit key)" if point.mac else " (unkeyed)"))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m compliance", description="LLM compliance and DPA tracking.")
    parser.add_argument("--db", help="SQLAlchemy database URL (env COMPLIANCE_DATABASE_URL)")
    parser.add_argument("--data", help="data folder (env COMPLIANCE_DATA_DIR, default data/)")
    parser.add_argument("--policies", help="policy folder (env COMPLIANCE_POLICY_DIR, default policies/)")
    parser.add_argument("--actor", help="who is making changes (default: the OS user)")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def add(name: str, handler: Callable[[argparse.Namespace], int], help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text, description=help_text)
        sub.set_defaults(handler=handler)
        return sub

    add("init", cmd_init, "create or migrate the store; load the data folder if the store is empty")
    sub = add("load", cmd_load, "replace the store's contents with a folder's YAML, in one audited transaction")
    sub.add_argument("dir", nargs="?", help="data folder (default: the configured data folder)")
    sub.add_argument("--reason", help="why, recorded in the audit log")
    sub.add_argument("--dry-run", action="store_true", help="print what would be added, changed and deleted; "
                     "change nothing")
    sub.add_argument("--allow-empty", action="append", metavar="KIND", choices=list(EMPTY_KINDS),
                     help="a missing or empty file of this kind means the store should hold none (repeatable: "
                     f"{', '.join(EMPTY_KINDS)})")
    sub.add_argument("--yes", action="store_true", help="confirm a load that deletes more records than it keeps")
    sub = add("export", cmd_export, "write the store as YAML that load reads back unchanged")
    sub.add_argument("dir", help="folder to write")
    add("validate", cmd_validate, "validate data and policies; list every problem with file and line")
    sub = add("check", cmd_check, "one decision with its reasons (exit 0 allow, 1 deny)")
    sub.add_argument("--feature", required=True)
    sub.add_argument("--category", required=True)
    sub.add_argument("--route", required=True)
    sub.add_argument("--model", help="the model the request names (policy facts model.*)")
    sub.add_argument("--as-of", default="today", help="evaluation date (YYYY-MM-DD or today+Nd)")
    sub.add_argument("--json", action="store_true", help="print the decision record as JSON")
    sub = add("routes", cmd_routes, "every route for a feature and categories, allowed first")
    sub.add_argument("--feature", required=True)
    sub.add_argument("--category", required=True, action="append", help="repeat for several categories")
    sub.add_argument("--as-of", default="today")
    sub.add_argument("--json", action="store_true")
    sub = add("flows", cmd_flows, "evaluate the declared flows of features (a CI gate: exit 1 on any violation)")
    sub.add_argument("--feature")
    sub.add_argument("--require-verified", action="store_true",
                     help="also fail a compliant flow whose allow rests on a fact that is not verified")
    sub.add_argument("--as-of", default="today")
    sub.add_argument("--json", action="store_true")
    sub.add_argument("--scan", action="append", metavar="PATH",
                     help="also scan this code for LLM calls no flow declares (repeatable; see `scan`)")
    sub.add_argument("--baseline", help="with --scan: finding ids accepted (a `scan --format json` output)")
    sub = add("scan", cmd_scan, "find the LLM calls in code and hold them against the declared flows "
              "(exit 1 on any call not declared)")
    sub.add_argument("paths", nargs="*", metavar="PATH", help="files or folders (default: .)")
    sub.add_argument("--format", choices=["table", "json", "sarif"], default="table")
    sub.add_argument("--out", help="file to write (default: standard output)")
    sub.add_argument("--baseline", help="findings whose id is listed there are accepted (a --format json output)")
    sub.add_argument("--cache", help="cache folder (default .compliance-cache)")
    sub.add_argument("--no-cache", action="store_true", help="parse every file, read and write no cache")
    sub.add_argument("--record", action="store_true", help="record the findings in the store (audited)")
    sub = add("matrix", cmd_matrix, "every feature x category x route decision")
    sub.add_argument("--as-of", default="today")
    sub.add_argument("--format", choices=["csv", "json"], default="csv")
    sub.add_argument("--out", help="file to write (default: standard output)")
    sub = add("test", cmd_test, "run policy tests (default policies/tests)")
    sub.add_argument("dir", nargs="?")
    sub = add("audit", cmd_audit, "verify the audit log's hash chain, or export the log for auditors")
    audit = sub.add_subparsers(dest="audit_command", required=True, parser_class=_Parser)
    verify = audit.add_parser("verify", help="walk the chain (and check MACs with the audit key, and a checkpoint); "
                              "exit 1 and name the first bad event when broken")
    verify.add_argument("--checkpoint", help="a file written by `audit checkpoint`: its events must all still be there")
    point = audit.add_parser("checkpoint", help="record the log's head (event count, head hash) outside the database")
    point.add_argument("--out", help="file to write (default: standard output; keep it away from the database)")
    export = audit.add_parser("export", help="the whole log, oldest first (CSV or JSON) on standard output")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    sub = add("costs", cmd_costs, "LLM cost per feature and segment, margins and projection")
    sub.add_argument("--segment")
    sub.add_argument("--scenario", help="price-decline scenario for the projection (default: all)")
    sub.add_argument("--format", choices=["table", "csv", "json"], default="table")
    sub.add_argument("--table", choices=["features", "segments", "projection", "flows", "compliance", "sensitivity"],
                     help="one table only")
    sub.add_argument("--as-of", default="today")
    sub = add("alerts", cmd_alerts, "expiring and expired agreements and certifications, overdue reviews, stale routes")
    sub.add_argument("--within", type=int, default=60, help="days to look ahead (default 60)")
    sub.add_argument("--as-of", default="today", help="evaluation date (YYYY-MM-DD or today+Nd)")
    sub.add_argument("--json", action="store_true", help="machine-readable output")
    from compliance.models.commands import register as add_model_commands
    from compliance.service.commands import register as add_service_commands

    add_service_commands(add, _Parser)
    from compliance.records.commands import register as add_records_commands

    add_records_commands(add)
    from compliance.observe.command import register as add_observe_commands

    add_observe_commands(add, _Parser)
    add_model_commands(add, _Parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    stdout, stderr = sys.stdout, sys.stderr
    sys.stderr = SafeStream(stderr)  # messages quote names: never raw controls
    if stdout.isatty():
        sys.stdout = SafeStream(stdout)
    try:
        return _run(argv)
    finally:
        sys.stdout, sys.stderr = stdout, stderr


def _run(argv: Sequence[str] | None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except InvalidInput as exc:
        print(str(exc), file=sys.stderr)
        return EXIT_INVALID
    except ComplianceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except OSError as exc:  # the environment, not a bug: a full disk, a folder that is a file, no permission
        where = f" {exc.filename}" if exc.filename else ""
        print(f"error: cannot use{where}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_INVALID
    except Exception as exc:  # a bug, not bad input: say so briefly, keep the trace for debugging
        if os.environ.get("COMPLIANCE_DEBUG"):
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (set COMPLIANCE_DEBUG=1 for details)", file=sys.stderr)
        return 3
