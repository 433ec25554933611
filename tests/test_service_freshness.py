"""Freshness: a store edit or a policy edit is seen within the bound; a broken policy set is refused
while answers continue from the last valid one; the in-process guard does the same."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from compliance.access import SYSTEM
from compliance.api import Compliance, Denied
from compliance.store import Store
from compliance.store.edits import record_versions, update_record
from tests.helpers import replace_in
from tests.service_helpers import copy_policies, running_service, settings_for

EMAIL = {"feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu"}
BOUND = 0.5  # seconds


def block_route(store: Store, route: str) -> None:
    with store.session() as session:
        version = record_versions(session, "route")[route]
        update_record(session, entity="route", key=route, expected_version=version, changes={"status": "blocked"},
                      actor=SYSTEM, reason="test: legal blocks the route")


def first_change(ask, before: str, key: str, limit: float) -> tuple[float, dict]:  # type: ignore[no-untyped-def, type-arg]
    """Ask until the answer's `key` differs from `before`; return (seconds waited, answer)."""
    start = time.monotonic()
    while True:
        answer = ask()
        if answer[key] != before or time.monotonic() - start > limit:
            return time.monotonic() - start, answer
        time.sleep(0.02)


def test_service_sees_a_store_edit_within_the_bound(store: Store, tmp_path: Path) -> None:
    with running_service(store, copy_policies(tmp_path), max_staleness=BOUND) as service:
        _, before = service.post("/v1/decide", EMAIL)
        assert before["decision"] == "allow"
        block_route(store, EMAIL["route"])
        edited = time.monotonic()
        _, after = first_change(lambda: service.post("/v1/decide", EMAIL)[1], before["store_head"],
                                     "store_head", limit=BOUND * 10)
        assert after["decision"] == "deny" and "route-must-be-approved" in after["rules"]
        assert after["store_head"] != before["store_head"]
        assert time.monotonic() - edited < BOUND + 2.0  # the bound plus the reload itself, on a busy machine
        # after the bound, never again the old state
        for _ in range(20):
            assert service.post("/v1/decide", EMAIL)[1]["store_head"] == after["store_head"]


def test_request_after_the_bound_never_gets_the_old_state_even_without_the_thread(store: Store,
                                                                                  tmp_path: Path) -> None:
    with running_service(store, copy_policies(tmp_path), max_staleness=BOUND, background=False) as service:
        _, before = service.post("/v1/decide", EMAIL)
        block_route(store, EMAIL["route"])
        time.sleep(BOUND + 0.05)
        _, after = service.post("/v1/decide", EMAIL)
        assert after["decision"] == "deny" and after["store_head"] != before["store_head"]


def test_service_takes_a_valid_policy_edit(store: Store, tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    with running_service(store, policies, max_staleness=BOUND) as service:
        _, before = service.post("/v1/decide", EMAIL)
        (policies / "50-block-bedrock-eu.yaml").write_text(
            "policy: test\nrules:\n  - id: no-bedrock-eu\n    effect: deny\n    match: {routes: [claude-bedrock-eu]}\n"
            "    reason: blocked by the test\n", encoding="utf-8")
        _, after = first_change(lambda: service.post("/v1/decide", EMAIL)[1], before["policy_digest"],
                                "policy_digest", limit=BOUND * 10)
        assert after["decision"] == "deny" and after["rules"] == ["no-bedrock-eu"]
        assert service.get("/v1/health")[1]["policy_digest"] == after["policy_digest"]


def test_broken_policy_file_is_refused_and_answers_continue(store: Store, tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    with running_service(store, policies, max_staleness=BOUND) as service:
        _, before = service.post("/v1/decide", EMAIL)
        replace_in(policies / "40-allow.yaml", "effect: allow", "effect: maybe")
        _, health = first_change(lambda: service.get("/v1/health")[1], "ok", "status", limit=BOUND * 10)
        assert health["status"] == "degraded"
        assert health["policy_digest"] == before["policy_digest"]
        assert any("refused" in p for p in health["problems"])
        assert any("40-allow.yaml:" in p and "effect" in p for p in health["problems"])
        status, answer = service.post("/v1/decide", EMAIL)
        assert status == 200 and answer == before
        # a store change still gets through, decided by the last valid policy set
        block_route(store, EMAIL["route"])
        _, after = first_change(lambda: service.post("/v1/decide", EMAIL)[1], before["store_head"], "store_head",
                                limit=BOUND * 10)
        assert after["decision"] == "deny" and after["policy_digest"] == before["policy_digest"]
        # fixed: taken, healthy again
        replace_in(policies / "40-allow.yaml", "effect: maybe", "effect: allow")
        _, health = first_change(lambda: service.get("/v1/health")[1], "degraded", "status", limit=BOUND * 10)
        assert health["status"] == "ok" and health["problems"] == []


def test_in_process_guard_sees_a_blocked_route_within_the_bound(store: Store, tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    guard = Compliance.open(settings=settings_for(store, policies), max_staleness=BOUND)
    guard.require(**EMAIL)  # type: ignore[arg-type]
    block_route(store, EMAIL["route"])
    time.sleep(BOUND + 0.05)
    with pytest.raises(Denied):
        guard.require(**EMAIL)  # type: ignore[arg-type]
    assert guard.state().store_head != ""
    guard.close()


def test_in_process_guard_keeps_the_last_valid_policies(store: Store, tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    guard = Compliance.open(settings=settings_for(store, policies), max_staleness=BOUND)
    digest = guard.policies.digest
    replace_in(policies / "40-allow.yaml", "effect: allow", "effect: maybe")
    time.sleep(BOUND + 0.05)
    assert guard.decide(**EMAIL).allowed  # type: ignore[arg-type]
    assert guard.policies.digest == digest
    assert guard.live is not None and guard.live.health().status == "degraded"
    guard.close()


def test_a_fixed_snapshot_does_not_refresh(store: Store, tmp_path: Path) -> None:
    guard = Compliance.open(settings=settings_for(store, copy_policies(tmp_path)), refresh=False)
    block_route(store, EMAIL["route"])
    assert guard.decide(**EMAIL).allowed  # type: ignore[arg-type]
    guard.close()
