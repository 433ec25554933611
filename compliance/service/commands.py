"""CLI commands of the service: `serve`, `service-token`, and `decisions query|export` (cli.py wires them)."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable

from compliance.config import Settings, load_settings
from compliance.dates import parse_day

DEFAULT_PORT = 8700
Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(database_url=args.db, data_dir=args.data, policy_dir=args.policies)


def cmd_serve(args: argparse.Namespace) -> int:
    from compliance.live import max_staleness_setting
    from compliance.service.run import ServiceConfig, serve
    from compliance.service.tokens import tokens_file

    config = ServiceConfig(_settings(args), max_staleness_setting(args.max_staleness), tokens_file(args.tokens),
                           args.decision_log)
    serve(config, host=args.host, port=args.port, workers=args.workers)
    return 0


def cmd_service_token(args: argparse.Namespace) -> int:
    from compliance.service.tokens import ServiceRole, add_client, tokens_file

    path = tokens_file(args.tokens)
    token = add_client(path, args.name, ServiceRole(args.role))
    print(f"client {args.name!r} ({args.role}) added to {path} (only its SHA-256 is stored).", file=sys.stderr)
    print("Its token, shown once:", file=sys.stderr)
    print(token)
    return 0


def cmd_decisions(args: argparse.Namespace) -> int:
    from compliance.service.decisionlog import as_record, query
    from compliance.store import Store

    store = Store.open(_settings(args))
    filters = {} if args.decisions_command == "export" else {
        "feature": args.feature, "category": args.category, "route": args.route, "decision": args.decision,
        "residency": args.residency, "outside": args.outside, "caller": args.caller,
        "since": parse_day(args.since) if args.since else None, "until": parse_day(args.until) if args.until else None,
        "limit": args.limit}
    with store.session() as session:
        records = [as_record(row) for row in query(session, **filters)]
    if args.format == "json":
        print(json.dumps({"decisions": records}, indent=2, ensure_ascii=False))
    else:
        fields = ["id", "at", "caller", "feature", "category", "route", "residency", "as_of", "decision", "rules",
                  "policy_digest", "store_head"]
        writer = csv.DictWriter(sys.stdout, fieldnames=fields)
        writer.writeheader()
        writer.writerows({**r, "rules": " ".join(r["rules"])} for r in records)
    if args.decisions_command == "query":
        print(f"{len(records)} logged decision(s) match", file=sys.stderr)
    return 0


def register(add: Add, parser_class: type[argparse.ArgumentParser]) -> None:
    sub = add("serve", cmd_serve, "the decision service over HTTP (see shared/spec/service.md)")
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument("--port", type=int, default=DEFAULT_PORT)
    sub.add_argument("--workers", type=int, default=1, help="uvicorn worker processes (default 1)")
    sub.add_argument("--max-staleness", type=float, help="seconds a store or policy change may go unnoticed "
                     "(env COMPLIANCE_MAX_STALENESS, default 5)")
    sub.add_argument("--tokens", help="client tokens file (env COMPLIANCE_SERVICE_TOKENS, default service-tokens.yaml)")
    sub.add_argument("--decision-log", action="store_true", help="append every decision to the store's decision log")
    sub = add("service-token", cmd_service_token, "create a client token for the service; prints it once")
    sub.add_argument("name", help="the client's name (recorded as the caller in the decision log)")
    sub.add_argument("--role", choices=["service", "viewer"], default="service")
    sub.add_argument("--tokens", help="tokens file (env COMPLIANCE_SERVICE_TOKENS, default service-tokens.yaml)")
    sub = add("decisions", cmd_decisions, "query or export the service's decision log")
    commands = sub.add_subparsers(dest="decisions_command", required=True, parser_class=parser_class)
    q = commands.add_parser("query", help="logged decisions matching every filter given, oldest first")
    for name in ("feature", "category", "route", "residency", "caller"):
        q.add_argument(f"--{name}")
    q.add_argument("--decision", choices=["allow", "deny"])
    q.add_argument("--outside", metavar="RESIDENCY", help="routes whose residency was not this (e.g. eu)")
    q.add_argument("--since", help="first day (YYYY-MM-DD, UTC), inclusive")
    q.add_argument("--until", help="last day (YYYY-MM-DD, UTC), inclusive")
    q.add_argument("--limit", type=int)
    q.add_argument("--format", choices=["csv", "json"], default="csv")
    export = commands.add_parser("export", help="the whole log, oldest first (CSV or JSON) on standard output")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
