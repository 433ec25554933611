"""The decision log: every answer appended (opt-in), append-only, queryable and exportable from the CLI."""

from __future__ import annotations

import json
import time
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from compliance.cli import main
from compliance.service.decisionlog import query
from compliance.store import Store
from tests.service_helpers import copy_policies, running_service

HEALTH = "user.health_and_medical"


def wait_for(store: Store, count: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with store.session() as session:
            if len(query(session)) >= count:
                return
        time.sleep(0.05)
    raise AssertionError(f"the decision log did not reach {count} entries")


def test_decisions_are_logged_with_state_and_caller(store: Store, tmp_path: Path) -> None:
    with running_service(store, copy_policies(tmp_path), decision_log=True) as service:
        _, one = service.post("/v1/decide", {"feature": "clinic-notes-summary", "category": HEALTH,
                                             "route": "claude-bedrock-eu", "as_of": "2026-10-01"})
        service.post("/v1/decide/batch", {"requests": [
            {"feature": "clinic-notes-summary", "category": HEALTH, "route": r, "as_of": "2026-10-01"}
            for r in ("claude-direct", "vllm-onprem", "llama-bedrock-us")]})
        wait_for(store, 4)
    with store.session() as session:
        rows = query(session)
    assert [r.route for r in rows] == ["claude-bedrock-eu", "claude-direct", "vllm-onprem", "llama-bedrock-us"]
    first = rows[0]
    assert (first.decision, first.rules, first.caller) == (one["decision"], one["rules"], "local")
    assert (first.policy_digest, first.store_head, first.as_of) == (one["policy_digest"], one["store_head"],
                                                                    date(2026, 10, 1))
    assert first.residency == "eu"


def test_the_log_is_off_unless_asked_for(store: Store, tmp_path: Path) -> None:
    with running_service(store, copy_policies(tmp_path)) as service:
        service.post("/v1/decide", {"feature": "support-reply-draft", "category": "user.contact.email",
                                    "route": "claude-bedrock-eu"})
    time.sleep(0.2)
    with store.session() as session:
        assert query(session) == []


def test_the_log_is_append_only(store: Store, tmp_path: Path) -> None:
    with running_service(store, copy_policies(tmp_path), decision_log=True) as service:
        service.post("/v1/decide", {"feature": "support-reply-draft", "category": "user.contact.email",
                                    "route": "claude-bedrock-eu"})
        wait_for(store, 1)
    for statement in ("UPDATE decision_log SET decision = 'allow'", "DELETE FROM decision_log"):
        with pytest.raises(sa.exc.DatabaseError, match="append-only"), store.engine.begin() as connection:
            connection.execute(sa.text(statement))


def test_cli_query_health_allowed_outside_the_eu_between_two_dates(store: Store, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    with running_service(store, copy_policies(tmp_path), decision_log=True) as service:
        requests = [{"feature": f, "category": c, "route": r, "as_of": "2026-10-01"}
                    for f in ("clinic-notes-summary", "wellness-coach") for c in (HEALTH, "user.contact.email")
                    for r in ("claude-bedrock-eu", "vllm-onprem", "claude-direct", "llama-bedrock-us", "gemini-api")]
        _, batch = service.post("/v1/decide/batch", {"requests": requests})
        wait_for(store, len(requests))
    today = datetime.now(UTC).date().isoformat()
    args = ["--db", store.settings.database_url, "decisions", "query", "--category", HEALTH, "--decision", "allow",
            "--outside", "eu", "--since", today, "--until", today, "--format", "json"]
    assert main(args) == 0
    found = json.loads(capsys.readouterr().out)["decisions"]
    residency = {r.id: r.residency.value for r in store.read().routes}
    wanted = [(d["feature"], d["route"]) for d in batch["decisions"]
              if d["category"] == HEALTH and d["decision"] == "allow" and residency[d["route"]] != "eu"]
    assert wanted and [(d["feature"], d["route"]) for d in found] == wanted
    assert main([*args, "--until", "2020-01-01"]) == 0
    assert "0 logged decision(s) match" in capsys.readouterr().err


def test_cli_export_writes_every_entry_as_csv(store: Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with running_service(store, copy_policies(tmp_path), decision_log=True) as service:
        service.post("/v1/decide", {"feature": "support-reply-draft", "category": "user.contact.email",
                                    "route": "claude-bedrock-eu"})
        wait_for(store, 1)
    assert main(["--db", store.settings.database_url, "decisions", "export"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].startswith("id,at,caller,feature,category,route,residency,as_of,decision,rules")
    assert len(lines) == 2 and "support-reply-draft" in lines[1]
