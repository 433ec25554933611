"""Recorded scans: a scan's findings kept in the store (audited), so the dashboard shows them without rescanning."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import Session, col, select

from compliance.access import Actor, require
from compliance.scan.findings import STATUSES, Report
from compliance.store import Store
from compliance.store.audit import AuditTrail, lock_for_write
from compliance.store.tables import ScanFindingRow, ScanRunRow


@dataclass(frozen=True)
class RecordedScan:
    """The last recorded scan: when, by whom, its totals and its findings (as `--format json` writes them)."""

    id: int
    at: datetime
    actor: str
    paths: list[str]
    rules_version: str
    summary: dict[str, Any]
    findings: list[dict[str, Any]]


def record_scan(store: Store, report: Report, *, actor: Actor, reason: str | None = None) -> int:
    """Write a scan's findings in one transaction with one audit event; returns the run's id."""
    require(actor, {"scan"})
    with store.session() as session:
        lock_for_write(session)
        run = ScanRunRow(at=datetime.now(UTC), actor=actor.name, paths=report.paths,
                         rules_version=report.rules_version, files=report.files, lines=report.lines,
                         summary=report.summary())
        session.add(run)
        session.flush()
        assert run.id is not None
        session.add_all(
            ScanFindingRow(run_id=run.id, position=i, finding_id=f.id, status=f.status, file=f.file, line=f.line,
                           cell=f.cell, function=f.function, sdk=f.sdk, callee=f.callee, route=f.route,
                           feature=f.feature, detail=f.as_dict())
            for i, f in enumerate(report.findings))
        summary = report.summary()
        AuditTrail(session, actor=actor, reason=reason or f"scan {' '.join(report.paths)}").record(
            action="create", entity="scan", entity_id=str(run.id),
            changes={"findings": {"old": None, "new": len(report.findings)},
                     "by_status": {"old": None, "new": summary["by_status"]},
                     "paths": {"old": None, "new": report.paths}})
        return run.id


def last_scan(session: Session) -> RecordedScan | None:
    """The newest recorded scan, findings in status order (undeclared first), or None when none was recorded."""
    run = session.exec(select(ScanRunRow).order_by(col(ScanRunRow.id).desc()).limit(1)).first()
    if run is None or run.id is None:
        return None
    rows = session.exec(select(ScanFindingRow).where(ScanFindingRow.run_id == run.id)
                        .order_by(col(ScanFindingRow.position))).all()
    order = {s: i for i, s in enumerate(STATUSES)}
    findings = sorted((dict(r.detail) for r in rows), key=lambda f: (order.get(f.get("status", ""), 99),
                                                                       f.get("file", ""), f.get("line", 0)))
    return RecordedScan(run.id, run.at, run.actor, list(run.paths), run.rules_version, dict(run.summary), findings)


def last_recorded_scan(store: Store) -> RecordedScan | None:
    with store.session() as session:
        return last_scan(session)


def findings_by_feature(recorded: RecordedScan) -> list[tuple[str | None, list[dict[str, Any]]]]:
    """Findings grouped per feature (None: no feature), features with violations first, undeclared first within."""
    groups: dict[str | None, list[dict[str, Any]]] = {}
    for finding in recorded.findings:
        groups.setdefault(finding.get("feature"), []).append(finding)
    order = {s: i for i, s in enumerate(STATUSES)}

    def rank(item: tuple[str | None, list[dict[str, Any]]]) -> tuple[int, int, str]:
        worst = min(order.get(f.get("status", ""), 99) for f in item[1])
        return worst, 0 if item[0] else 1, item[0] or ""

    return sorted(groups.items(), key=rank)


def finding_rows(findings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One flat row per finding for a table: where, what, which route, and the deciding reason."""
    rows = []
    for f in findings:
        where = f"{f['file']}:{f['line']}" if f.get("cell") is None else f"{f['file']} [cell {f['cell']}]:{f['line']}"
        route = f.get("route") or (" or ".join(f.get("candidates") or []) or None)
        rows.append({"status": f.get("status"), "where": where, "function": f.get("function"),
                     "call": f.get("callee"), "route": route, "region": (f.get("region") or {}).get("value"),
                     "model": (f.get("model") or {}).get("value"), "guarded": bool(f.get("guarded")),
                     "why": (f.get("reasons") or [""])[-1]})
    return rows
