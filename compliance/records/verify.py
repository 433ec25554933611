"""Verify an evidence pack (records.md): every file matches the manifest, the audit log's hash chain
holds and ends at the store head the records name, and the policy digest recomputed from the policy
files equals the one the records were made with.

Standard library only, so an auditor can run the copy inside the pack without our product:

    python verify.py evidence.zip        (or: python -m compliance evidence --verify evidence.zip)
"""

from __future__ import annotations

import hashlib
import json
import sys
import zipfile
from datetime import UTC, datetime
from typing import Any

GENESIS = "0" * 64  # the prev_hash of the first audit event


def event_hash(event: dict[str, Any]) -> str:
    """The store's audit hash of one exported event (compliance.store.audit.event_hash)."""
    at = datetime.fromisoformat(event["at"])
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    body = {"prev_hash": event["prev_hash"], "at": at.astimezone(UTC).isoformat(timespec="microseconds"),
            "actor": event["actor"], "action": event["action"], "entity": event["entity"],
            "entity_id": event["entity_id"], "changes": event["changes"], "reason": event["reason"]}
    payload = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def policy_digest(files: dict[str, bytes]) -> str:
    """The policy set's digest: SHA-256 over each file's name, NUL, bytes, NUL, files by name."""
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name] + b"\0")
    return h.hexdigest()


def verify_pack(path: str) -> list[str]:
    """Every problem found; an empty list means the pack verifies."""
    problems: list[str] = []
    with zipfile.ZipFile(path) as pack:
        names = set(pack.namelist())
        if "manifest.json" not in names:
            return ["manifest.json is missing"]
        manifest = json.loads(pack.read("manifest.json"))
        for name, expected in manifest["files"].items():
            if name not in names:
                problems.append(f"{name}: listed in the manifest but missing")
            elif hashlib.sha256(pack.read(name)).hexdigest() != expected:
                problems.append(f"{name}: its SHA-256 does not match the manifest: the file was changed")
        for name in sorted(names - set(manifest["files"]) - {"manifest.json"}):
            problems.append(f"{name}: not listed in the manifest")
        stamp = manifest["stamp"]
        policies = {n.removeprefix("policies/"): pack.read(n) for n in names
                    if n.startswith("policies/") and n.count("/") == 1 and n.endswith((".yaml", ".yml"))}
        digest = policy_digest(policies)
        if digest != stamp["policy_digest"]:
            problems.append(f"policy digest recomputed from policies/ is {digest}, the records name "
                            f"{stamp['policy_digest']}")
        events = json.loads(pack.read("audit/audit-log.json"))["events"] if "audit/audit-log.json" in names else None
        if events is None:
            problems.append("audit/audit-log.json is missing")
        else:
            expected_prev = GENESIS
            for event in events:
                if event["prev_hash"] != expected_prev:
                    problems.append(f"audit event #{event['id']}: the event before it is missing or altered")
                    break
                if event_hash(event) != event["hash"]:
                    problems.append(f"audit event #{event['id']}: its content does not match its hash")
                    break
                expected_prev = event["hash"]
            head = events[-1]["hash"] if events else GENESIS
            if not problems and stamp["store_head"] and head != stamp["store_head"]:
                problems.append(f"the audit log ends at {head}, the records name store head {stamp['store_head']}")
    return problems


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python verify.py EVIDENCE.zip", file=sys.stderr)
        return 2
    problems = verify_pack(argv[0])
    for problem in problems:
        print(f"FAIL {problem}")
    print("evidence pack verified: files match the manifest, audit chain intact up to the store head, "
          "policy digest recomputed" if not problems else f"{len(problems)} problems: the pack does not verify")
    return 0 if not problems else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
