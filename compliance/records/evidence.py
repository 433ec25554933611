"""One archive for an auditor (records.md, `evidence OUT.zip`): the records, the policies and their
tests, exceptions, alerts, the decision matrix and the audit log, each file mapped in `index.md` to
the controls it evidences, with a manifest of SHA-256 sums and a stand-alone `verify.py`."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from compliance.alerts import every_alert
from compliance.policy.decide import Decider
from compliance.policy.matrix import Matrix, csv_text
from compliance.policy.testing import run_policy_tests
from compliance.records import verify
from compliance.records.formats import RecordTable, to_csv, to_json, to_xlsx
from compliance.records.processing import RECORD_COLUMNS, REGISTER_COLUMNS, ai_register, processing_records
from compliance.records.stamp import Stamp
from compliance.records.subprocessors import markdown, notice_diff, subprocessor_list
from compliance.store import Store

ALERT_DAYS = 60  # the alerts in the pack look this far ahead (the `alerts` command's default)

SUBPROCESSOR_COLUMNS = ["processor", "name", "legal_entity", "hq_country", "transfer_mechanism", "purposes",
                        "features", "services", "locations", "routes", "announced_on", "notice_ends_on", "status"]

# file -> (what it is, the controls it evidences)
CONTROLS: dict[str, tuple[str, str]] = {
    "register.json": ("AI system register (also .csv)",
                      "EU AI Act Art. 26/49; ISO/IEC 42001 A.10; NIST AI RMF GOVERN 1.6"),
    "records-of-processing.json": ("GDPR Art. 30 records of processing (also .csv)", "GDPR Art. 30; GDPR Art. 28"),
    "records.xlsx": ("register, records and subprocessors, one sheet each",
                     "GDPR Art. 30; NIST AI RMF GOVERN 1.6"),
    "subprocessors.md": ("our public subprocessor list with the diff against announcements",
                         "GDPR Art. 28(2); SOC 2 CC9.2 vendor management; "
                         "ISO/IEC 42001 A.10 third-party relationships"),
    "subprocessors.json": ("the same list, machine-readable, with the notice diff",
                           "GDPR Art. 28(2); SOC 2 CC9.2; ISO/IEC 42001 A.10"),
    "policies/": ("every policy file as applied", "SOC 2 CC9.2; GDPR Art. 28; ISO/IEC 42001 A.10"),
    "policies/digests.json": ("SHA-256 of each policy file and the policy set digest", "SOC 2 CC9.2 (change evidence)"),
    "policy-tests.json": ("policy test results with rule coverage", "SOC 2 CC9.2; ISO/IEC 42001 A.10"),
    "exceptions.json": ("active and expired exceptions with approvers", "SOC 2 CC9.2; GDPR Art. 28"),
    "alerts.json": ("expiring agreements, stale facts, subprocessor notice periods", "SOC 2 CC9.2; GDPR Art. 28"),
    "decision-matrix.csv": ("every feature x category x route decision on the day",
                            "GDPR Art. 28 and 30; ISO/IEC 42001 A.10"),
    "audit/audit-log.json": ("the store's audit log, oldest first, with hashes (also .csv)",
                             "SOC 2 CC9.2; ISO/IEC 42001 A.10; GDPR Art. 30 (accountability)"),
    "audit/chain-check.txt": ("the audit chain check as run by the product", "SOC 2 CC9.2"),
    "verify.py": ("stand-alone verify step (standard library only)", "all of the above: integrity of this pack"),
}

README = """# Evidence pack

Made by `python -m compliance evidence` on {made} for the state named in `manifest.json`:
as of {as_of}, policy digest `{digest}`, store audit head `{head}`.

## Verify it

    python verify.py THIS.zip

(or `python -m compliance evidence --verify THIS.zip`). It checks that every file matches the SHA-256
in `manifest.json`, recomputes the audit log's hash chain from `audit/audit-log.json` and checks that
it ends at the store head the records name, and recomputes the policy digest from `policies/*.yaml`.
Exit 0 and "evidence pack verified" when all hold; otherwise each problem is printed.

See `index.md` for what each file evidences.
"""


def _index(stamp: Stamp) -> str:
    lines = ["# Index: files and the controls they evidence", "",
             f"As of {stamp.as_of}; policy digest `{stamp.policy_digest}`; store head `{stamp.store_head or '-'}`.",
             "", "| file | what it is | controls |", "|---|---|---|"]
    lines += [f"| `{name}` | {what} | {controls} |" for name, (what, controls) in CONTROLS.items()]
    return "\n".join(lines) + "\n"


def record_tables(decider: Decider, on: date) -> dict[str, RecordTable]:
    """The three record types, ready for any format."""
    return {
        "register": RecordTable("register", REGISTER_COLUMNS, ai_register(decider, on)),
        "records_of_processing": RecordTable("records_of_processing", RECORD_COLUMNS,
                                             processing_records(decider, on)),
        "subprocessors": RecordTable("subprocessors", SUBPROCESSOR_COLUMNS,
                                     [s.as_dict(on) for s in subprocessor_list(decider.dataset)]),
    }


def _policy_tests(decider: Decider, policy_dir: Path, data_dir: Path) -> dict[str, Any]:
    report = run_policy_tests(policy_dir / "tests", policy_dir, data_dir, dataset=decider.dataset)
    return {"passed": len(report.results) - len(report.failed), "failed": len(report.failed),
            "problems": [str(p) for p in report.problems],
            "coverage": {"rules": report.rules, "uncovered": report.uncovered, "decided": report.decided},
            "cases": [{"file": r.file, "line": r.line, "name": r.name, "passed": r.passed, "message": r.message,
                       "decision": r.decision.as_dict() if r.decision else None} for r in report.results]}


def _exceptions(decider: Decider, on: date) -> list[dict[str, Any]]:
    return [{"id": e.id, "waives": e.waives, "feature": e.feature, "categories": list(e.categories),
             "routes": sorted(e.routes), "approved_by": e.approved_by, "ticket": e.ticket,
             "granted_on": e.granted_on.isoformat() if e.granted_on else None, "expires_on": e.expires_on.isoformat(),
             "status": "active" if e.active_on(on) else ("expired" if e.expires_on < on else "not yet active"),
             "justification": e.justification, "file": e.file, "line": e.line} for e in decider.policies.exceptions]


def build_pack(*, decider: Decider, stamp: Stamp, policy_bytes: dict[str, bytes], policy_dir: Path, data_dir: Path,
               alerts: list[dict[str, Any]], audit_json: str, audit_csv: str, chain_check: str, made: str) -> bytes:
    """The zip's bytes. Every input is already read from one state, so the pack names one moment.

    `policy_bytes` are the policy files the decisions were compiled from (file name -> bytes); the
    policy tests run from `policy_dir` against the store's data."""
    on = stamp.as_of
    tables = record_tables(decider, on)
    files: dict[str, bytes] = {}

    def put(name: str, body: str | bytes) -> None:
        files[name] = body.encode("utf-8") if isinstance(body, str) else body

    put("register.json", to_json([tables["register"]], stamp))
    put("register.csv", to_csv(tables["register"], stamp))
    put("records-of-processing.json", to_json([tables["records_of_processing"]], stamp))
    put("records-of-processing.csv", to_csv(tables["records_of_processing"], stamp))
    put("records.xlsx", to_xlsx(list(tables.values()), stamp))
    put("subprocessors.md", markdown(decider.dataset, on, stamp.as_dict(), diff=True))
    put("subprocessors.json", json.dumps({**stamp.as_dict(), "subprocessors": tables["subprocessors"].rows,
                                          "diff": notice_diff(decider.dataset, on).as_dict()}, indent=2) + "\n")
    digests = {}
    for name, body in sorted(policy_bytes.items()):  # the bytes the decisions were compiled from
        put(f"policies/{name}", body)
        digests[name] = hashlib.sha256(body).hexdigest()
    put("policies/digests.json", json.dumps({"files": digests, "policy_digest": stamp.policy_digest}, indent=2) + "\n")
    put("policy-tests.json", json.dumps(_policy_tests(decider, policy_dir, data_dir), indent=2, default=str) + "\n")
    put("exceptions.json", json.dumps({**stamp.as_dict(), "exceptions": _exceptions(decider, on)}, indent=2) + "\n")
    put("alerts.json", json.dumps({**stamp.as_dict(), "alerts": alerts}, indent=2) + "\n")
    put("decision-matrix.csv", csv_text(Matrix(decider).evaluate(on)))
    put("audit/audit-log.json", audit_json)
    put("audit/audit-log.csv", audit_csv)
    put("audit/chain-check.txt", chain_check + "\n")
    put("verify.py", Path(verify.__file__).read_bytes())
    put("index.md", _index(stamp))
    put("README.md", README.format(made=made, as_of=on, digest=stamp.policy_digest, head=stamp.store_head or "-"))
    manifest = {"stamp": stamp.as_dict(), "files": {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as pack:
        for name, body in files.items():
            pack.writestr(name, body)
        pack.writestr("manifest.json", json.dumps(manifest, indent=2) + "\n")
    return out.getvalue()


def pack_from_store(*, store: Store, decider: Decider, policy_bytes: dict[str, bytes], policy_dir: Path,
                    data_dir: Path, on: date) -> bytes:
    """The pack for the store's current audit log and the given compiled state (CLI and dashboard)."""
    from compliance.store.audit import export_text, last_hash, list_events, verify_chain
    from compliance.store.audit_key import audit_key

    with store.snapshot() as session:
        events = list_events(session)
        chain = str(verify_chain(session, key=audit_key()))
        head = last_hash(session) if events else ""
    found = every_alert(decider, on, ALERT_DAYS)
    return build_pack(decider=decider, stamp=Stamp(on, decider.policies.digest, head), policy_bytes=policy_bytes,
                      policy_dir=policy_dir, data_dir=data_dir, alerts=[a.as_dict() for a in found],
                      audit_json=export_text(events, "json"), audit_csv=export_text(events, "csv"),
                      chain_check=chain, made=datetime.now(UTC).isoformat(timespec="seconds"))
