"""CLI commands for models: `advise` and `evals import|list` (cli.py wires them)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from compliance.dates import parse_day
from compliance.problems import ComplianceError
from compliance.textout import money, table

if TYPE_CHECKING:
    from compliance.api import Compliance
    from compliance.models.advisor import Advice

Add = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]
EXIT_OK, EXIT_UNMAPPED = 0, 1


def _compliance(args: argparse.Namespace) -> Compliance:
    from compliance.api import Compliance
    from compliance.config import load_settings

    return Compliance.open(settings=load_settings(database_url=args.db, data_dir=args.data, policy_dir=args.policies))


def _score(value: float | None) -> str:
    return "no eval" if value is None else f"{value:.2f}"


def _latency(ms: float | None, verified: bool) -> str:
    if ms is None:
        return "-"
    return f"{ms / 1000:.1f} s" + ("" if verified else " (unverified)")


def _indemnity(value: bool | None) -> str:
    return "unknown" if value is None else ("yes" if value else "no")


def render_advice(advice: Advice) -> str:
    """The advisor's answer for one feature as text: recommendation, saving, every option, why not."""
    lines = [f"{advice.feature} (as of {advice.as_of}): categories {', '.join(advice.categories) or '-'}"]
    if advice.problem and not advice.options:
        return "\n".join([*lines, advice.problem])
    needs = []
    if advice.quality:
        needs.append(f"{advice.quality.metric} >= {advice.quality.min:.2f}")
    if advice.latency:
        needs.append(f"p50 latency <= {advice.latency.p50_ms / 1000:.1f} s")
    lines.append(f"needs: {', '.join(needs) or 'none stated (cheapest allowed wins)'}")
    rec = advice.recommendation
    lines.append(f"today's flows: {money(advice.current_monthly)}/month")
    if rec is None:
        lines.append(f"recommendation: none - {advice.problem or 'no allowed option meets the needs'}")
    else:
        saving = advice.saving_monthly
        verb = "saves" if saving is None or saving >= 0 else "costs"
        lines.append(f"recommendation: {rec.model} on {rec.route} at {money(rec.monthly_cost)}/month; "
                     f"switching {verb} {money(abs(saving) if saving is not None else None)}/month")
    if advice.note:
        lines.append(f"note: {advice.note}")
    rows = []
    for o in advice.options:
        mark = "*" if o is rec else ""
        status = "allowed" if o.allowed else "denied: " + ", ".join(o.denied_by)
        if o.retired_on:
            status += f"; retired {o.retired_on}"
        rows.append([mark + ("now " if o.current else ""), o.route, o.model, money(o.monthly_cost), _score(o.score),
                     _latency(o.latency_ms, o.latency_verified), _indemnity(o.indemnified),
                     "yes" if o.meets_quality and o.meets_latency else "no", status])
    lines.append(table(["", "route", "model", "per month", "eval", "latency", "IP indemnity", "good enough",
                        "policy"], rows, max_width=60))
    if advice.why_not:
        lines.append("cheaper or equal options not chosen:")
        lines += [f"  {model} on {route}: {why}" for (route, model), why in advice.why_not.items()]
    return "\n".join(lines)


def cmd_advise(args: argparse.Namespace) -> int:
    from compliance.models.advisor import advise, advise_portfolio

    on = parse_day(args.as_of)
    c = _compliance(args)
    if args.feature:
        advice = advise(c.decider, args.feature, on)
        print(json.dumps(advice.as_dict(), indent=2) if args.format == "json" else render_advice(advice))
        return EXIT_OK
    portfolio = advise_portfolio(c.decider, on)
    if args.format == "json":
        print(json.dumps({"as_of": on.isoformat(), "saving_monthly": portfolio.saving_monthly,
                          "features": [a.as_dict() for a in portfolio.advice]}, indent=2))
        return EXIT_OK
    rows = []
    for a in portfolio.advice:
        rec = a.recommendation
        rows.append([a.feature, money(a.current_monthly), f"{rec.model} on {rec.route}" if rec else "-",
                     money(rec.monthly_cost if rec else None), money(a.saving_monthly),
                     a.problem or ("" if rec else "no allowed option meets the needs") or (
                         "no quality need stated" if a.note else "")])
    print(table(["feature", "today", "recommendation", "then", "saving", "note"], rows, max_width=60))
    print(f"switching every feature to its recommendation saves {money(portfolio.saving_monthly)}/month "
          f"while every flow stays compliant (as of {on})")
    return EXIT_OK


def _mapping(pairs: list[str] | None) -> dict[str, tuple[str, str]]:
    found = {}
    for pair in pairs or []:
        tool_id, sep, target = pair.partition("=")
        route, slash, model = target.partition("/")
        if not sep or not slash or not tool_id or not route or not model:
            raise ComplianceError(f"--map {pair!r}: write TOOL_ID=ROUTE/MODEL, "
                                  "e.g. openai:chat:prod=openai-direct/gpt-5")
        found[tool_id] = (route, model)
    return found


def cmd_evals(args: argparse.Namespace) -> int:
    from compliance.access import cli_actor
    from compliance.config import load_settings
    from compliance.models.evals import merged, read_file
    from compliance.problems import NotFound, closest
    from compliance.store import Store, default_actor

    settings = load_settings(database_url=args.db, data_dir=args.data, policy_dir=args.policies)
    store = Store.open(settings)
    dataset = store.read()
    if args.evals_command == "list":
        rows = [[e.feature, e.model, e.route or "-", e.metric, f"{e.score:.3f}", e.samples, e.run_on, e.source]
                for e in dataset.evals if args.feature in (None, e.feature)]
        headers = ["feature", "model", "route", "metric", "score", "samples", "run on", "source"]
        print(table(headers, rows, max_width=50))
        return EXIT_OK
    features = {f.id for f in dataset.features}
    if args.feature is not None and args.feature not in features:
        raise NotFound(f"unknown feature {args.feature!r}{closest(args.feature, features)}")
    if args.route is not None and args.route not in {r.id for r in dataset.routes}:
        raise NotFound(f"unknown route {args.route!r}{closest(args.route, [r.id for r in dataset.routes])}")
    mapping = _mapping(args.map)
    new, unknown = [], []
    for name in args.files:
        found = read_file(Path(name), feature=args.feature, dataset=dataset, route=args.route, mapping=mapping)
        new += found.results
        unknown += [f"{name}: {raw}" for raw in found.unknown]
    for e in new:
        print(f"{'would import' if args.dry_run else 'import'} {e.model} on {e.route or '(any route)'}: "
              f"{e.metric} {e.score:.3f} over {e.samples} samples, run on {e.run_on}")
    if unknown:
        print("not imported, ids that match no model on a route of their service (map them with --map "
              "ID=ROUTE/MODEL):")
        print("\n".join(f"  {u}" for u in unknown))
    if new and not args.dry_run:
        report = store.load_dataset(merged(dataset, new), actor=cli_actor(args.actor, default_actor()),
                                    reason=f"evals import {' '.join(args.files)}")
        print(f"stored: {report.summary()}")
    return EXIT_UNMAPPED if unknown else EXIT_OK


def register(add: Add, parser_class: type[argparse.ArgumentParser]) -> None:
    sub = add("advise", cmd_advise, "the cheapest allowed model that meets a feature's eval and latency needs")
    sub.add_argument("--feature", help="one feature (default: the whole portfolio)")
    sub.add_argument("--as-of", default="today", help="evaluation date (YYYY-MM-DD or today+Nd)")
    sub.add_argument("--format", choices=["table", "json"], default="table")
    sub = add("evals", cmd_evals, "eval results: import promptfoo result files and Inspect AI JSON logs, or list them")
    evals = sub.add_subparsers(dest="evals_command", required=True, parser_class=parser_class)
    imp = evals.add_parser("import", help="read promptfoo `-o results.json` files and Inspect AI `--log-format json` "
                           "logs into the store (audited); exit 1 if some model ids match nothing")
    imp.add_argument("files", nargs="+")
    imp.add_argument("--feature", help="the feature whose eval set was run (default: the feature each file names "
                     "exactly, in its metadata's `feature`, its Inspect task or its promptfoo description)")
    imp.add_argument("--route", help="the route the run went through (default: found from the model id)")
    imp.add_argument("--map", action="append", metavar="ID=ROUTE/MODEL", help="name the store's model for a tool's id")
    imp.add_argument("--dry-run", action="store_true", help="show what would be imported; change nothing")
    lst = evals.add_parser("list", help="the eval results in the store")
    lst.add_argument("--feature")
