"""`subprocessors`, `records`, `register` and `evidence`: thin commands over compliance.records."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from pathlib import Path

from compliance.api import Compliance
from compliance.config import load_settings
from compliance.dates import parse_day
from compliance.problems import ComplianceError
from compliance.records.evidence import record_tables
from compliance.records.formats import to_csv, to_json, to_xlsx
from compliance.records.stamp import Stamp
from compliance.records.subprocessors import TRANSFER_WORDS, markdown, notice_diff, subprocessor_list
from compliance.textout import table

Adder = Callable[[str, Callable[[argparse.Namespace], int], str], argparse.ArgumentParser]


def _open(args: argparse.Namespace) -> tuple[Compliance, Stamp]:
    settings = load_settings(database_url=args.db, data_dir=args.data, policy_dir=args.policies)
    c = Compliance.open(settings=settings, refresh=False)
    state = c.state()
    return c, Stamp(parse_day(args.as_of), state.policies.digest, state.store_head)


def _emit(body: str | bytes, out: str | None) -> None:
    if out:
        try:
            Path(out).write_bytes(body.encode("utf-8") if isinstance(body, str) else body)
        except OSError as exc:
            raise ComplianceError(f"cannot write {out}: {exc.strerror or exc}") from None
        print(f"wrote {out}", file=sys.stderr)
    elif isinstance(body, bytes):
        if sys.stdout.isatty():
            raise ComplianceError("XLSX is binary: give --out FILE (or redirect standard output)")
        sys.stdout.buffer.write(body)
    else:
        sys.stdout.write(body)


def cmd_subprocessors(args: argparse.Namespace) -> int:
    c, stamp = _open(args)
    dataset, on = c.dataset, stamp.as_of
    if args.format == "md":
        _emit(markdown(dataset, on, stamp.as_dict(), diff=args.diff), args.out)
        return 0
    listed = [s.as_dict(on) for s in subprocessor_list(dataset)]
    diff = notice_diff(dataset, on)
    if args.format == "json":
        body = {**stamp.as_dict(), "subprocessors": listed, **({"diff": diff.as_dict()} if args.diff else {})}
        _emit(json.dumps(body, indent=2) + "\n", args.out)
        return 0
    if args.format == "csv":
        tables = record_tables(c.decider, on)
        _emit(to_csv(tables["subprocessors"], stamp), args.out)
        return 0
    rows = [[s["name"], ", ".join(s["locations"]), TRANSFER_WORDS.get(s["transfer_mechanism"] or "", "-"),
             ", ".join(s["features"]), s["status"]] for s in listed]
    text = (f"{len(listed)} subprocessors receive customer data as of {on} "
            f"(policy {stamp.policy_digest[:12]}, store head {stamp.store_head[:12] or '-'})\n"
            + table(["subprocessor", "where", "transfer", "features", "status"], rows, max_width=70) + "\n")
    if args.diff:
        names = {p.id: p.name for p in dataset.providers}
        for label, ids in (("in use, never announced", diff.not_announced),
                           ("announced, no longer used", diff.no_longer_used),
                           ("announced, notice still running", diff.in_notice)):
            text += f"{label}: {', '.join(names.get(i, i) for i in ids) or '-'}\n"
    _emit(text, args.out)
    return 0


def _records(args: argparse.Namespace, name: str) -> int:
    c, stamp = _open(args)
    record = record_tables(c.decider, stamp.as_of)[name]
    if args.format == "json":
        _emit(to_json([record], stamp), args.out)
    elif args.format == "xlsx":
        _emit(to_xlsx([record], stamp), args.out)
    else:
        _emit(to_csv(record, stamp), args.out)
    return 0


def cmd_records(args: argparse.Namespace) -> int:
    return _records(args, "records_of_processing")


def cmd_register(args: argparse.Namespace) -> int:
    return _records(args, "register")


def cmd_evidence(args: argparse.Namespace) -> int:
    from compliance.records.verify import verify_pack

    if args.verify:
        problems = verify_pack(args.out)
        for problem in problems:
            print(f"FAIL {problem}")
        print("evidence pack verified: files match the manifest, audit chain intact up to the store head, "
              "policy digest recomputed" if not problems else f"{len(problems)} problems: the pack does not verify")
        return 0 if not problems else 1
    pack = evidence_pack(args)
    _emit(pack, args.out)
    return 0


def evidence_pack(args: argparse.Namespace) -> bytes:
    from compliance.records.evidence import pack_from_store

    c, stamp = _open(args)
    state = c.state()
    assert c.store is not None and c.settings is not None
    return pack_from_store(store=c.store, decider=state.decider, policy_bytes=state.policy_bytes,
                           policy_dir=c.settings.policy_dir, data_dir=c.settings.data_dir, on=stamp.as_of)


def register(add: Adder) -> None:
    sub = add("subprocessors", cmd_subprocessors, "our subprocessor list: processors receiving customer data, "
              "with purposes, location, transfer mechanism and announcement")
    sub.add_argument("--format", choices=["table", "csv", "json", "md"], default="table")
    sub.add_argument("--diff", action="store_true", help="also the diff against the announcements made")
    _common(sub)
    for name, handler, text in (("records", cmd_records, "GDPR Art. 30 records of processing, one row per "
                                 "feature and purpose"),
                                ("register", cmd_register, "the AI system register (EU AI Act, ISO/IEC 42001, "
                                 "NIST AI RMF GOVERN 1.6), one row per feature")):
        sub = add(name, handler, text)
        sub.add_argument("--format", choices=["csv", "xlsx", "json"], default="csv")
        _common(sub)
    sub = add("evidence", cmd_evidence, "one zip for an auditor: records, policies and tests, exceptions, alerts, "
              "decision matrix, audit log, index.md and a verify step")
    sub.add_argument("out", metavar="OUT.zip", help="the archive to write (with --verify: to check)")
    sub.add_argument("--verify", action="store_true", help="verify an existing pack instead (exit 1 if it fails)")
    sub.add_argument("--as-of", default="today", help="evaluation date (YYYY-MM-DD or today+Nd)")


def _common(sub: argparse.ArgumentParser) -> None:
    sub.add_argument("--as-of", default="today", help="evaluation date (YYYY-MM-DD or today+Nd)")
    sub.add_argument("--out", help="file to write (default: standard output)")


