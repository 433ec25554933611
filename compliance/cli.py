"""`python -m compliance COMMAND`: thin commands over the library (see shared/spec/cli.md)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from compliance.alerts import store_alerts
from compliance.config import Settings, load_settings
from compliance.dates import parse_day
from compliance.problems import ComplianceError, InvalidInput
from compliance.store import Store, default_actor
from compliance.store.validate import read_data_dir
from compliance.textout import table

EXIT_OK, EXIT_DENY, EXIT_INVALID = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INVALID)


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(database_url=args.db, data_dir=args.data, policy_dir=args.policies)


def _actor(args: argparse.Namespace) -> str:
    return args.actor or default_actor()


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
    _, problems, _ = read_data_dir(directory)  # validate before touching the store
    if problems:
        raise InvalidInput(problems)
    store = Store.open(settings, seed=False)
    report = store.load(directory, actor=_actor(args), reason=args.reason)
    print(f"loaded {directory}: {report.summary()}")
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    store = Store.open(_settings(args))
    written = store.export(Path(args.dir))
    print(f"wrote {', '.join(str(p) for p in written)}")
    return EXIT_OK


def cmd_validate(args: argparse.Namespace) -> int:
    settings = _settings(args)
    _, problems, _ = read_data_dir(settings.data_dir)
    if problems:
        raise InvalidInput(problems)
    print(f"{settings.data_dir}: valid")
    return EXIT_OK


def cmd_alerts(args: argparse.Namespace) -> int:
    on = parse_day(args.as_of)
    if args.within < 0:
        raise ComplianceError("--within must be zero or more days")
    alerts = store_alerts(Store.open(_settings(args)).read(), on, args.within)
    if args.json:
        print(json.dumps({"as_of": on.isoformat(), "within_days": args.within,
                          "alerts": [a.as_dict() for a in alerts]}, indent=2))
        return EXIT_OK
    if not alerts:
        print(f"no alerts on {on} (looking {args.within} days ahead)")
        return EXIT_OK
    print(f"{len(alerts)} alerts on {on} (looking {args.within} days ahead)")
    print(table(["severity", "kind", "subject", "what"],
                [[a.severity.upper(), a.kind, a.subject, a.message] for a in alerts], max_width=100))
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
    sub = add("export", cmd_export, "write the store as YAML that load reads back unchanged")
    sub.add_argument("dir", help="folder to write")
    add("validate", cmd_validate, "validate the data folder; list every problem with file and line")
    sub = add("alerts", cmd_alerts, "expiring and expired agreements and certifications, overdue reviews, stale routes")
    sub.add_argument("--within", type=int, default=60, help="days to look ahead (default 60)")
    sub.add_argument("--as-of", default="today", help="evaluation date (YYYY-MM-DD or today+Nd)")
    sub.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
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
    except Exception as exc:  # a bug, not bad input: say so briefly, keep the trace for debugging
        if os.environ.get("COMPLIANCE_DEBUG"):
            traceback.print_exc()
        print(f"internal error: {type(exc).__name__}: {exc} (set COMPLIANCE_DEBUG=1 for details)", file=sys.stderr)
        return 3
