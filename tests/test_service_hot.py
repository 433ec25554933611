"""The hot paths (POST /v1/decide and /v1/decide/batch answered before FastAPI): same answers, same errors,
and the per-state memo never answers from an old state."""

from __future__ import annotations

import json
import time
from datetime import date
from pathlib import Path

from compliance.api import Compliance
from compliance.live import LiveState, load_state
from compliance.service import answers
from compliance.service.app import create_app
from compliance.service.hot import batch_keys, request_key
from compliance.store import Store
from tests.service_helpers import copy_policies, running_service, uvicorn_server
from tests.test_service_freshness import block_route

EMAIL = {"feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu"}
TODAY = date(2026, 12, 1)


def test_request_key_takes_only_what_the_model_takes() -> None:
    assert request_key(EMAIL, TODAY) == (*EMAIL.values(), TODAY)
    assert request_key({**EMAIL, "as_of": None}, TODAY) == (*EMAIL.values(), TODAY)
    assert request_key({**EMAIL, "as_of": "2026-10-01"}, TODAY) == (*EMAIL.values(), date(2026, 10, 1))
    for bad in ({**EMAIL, "as_of": "2026-13-40"}, {**EMAIL, "as_of": "20261001"}, {**EMAIL, "as_of": 7},
                {**EMAIL, "route": 7}, {**EMAIL, "route": ""}, {**EMAIL, "route": "x" * 201},
                {**EMAIL, "colour": "red"}, {"feature": "f", "category": "c"}, [1, 2], "text"):
        assert request_key(bad, TODAY) is None, bad
    assert batch_keys({"requests": [EMAIL] * 3}, TODAY) == [(*EMAIL.values(), TODAY)] * 3
    assert batch_keys({"requests": []}, TODAY) == []
    assert batch_keys({"requests": [EMAIL, {**EMAIL, "route": 7}]}, TODAY) is None
    assert batch_keys({"requests": [EMAIL], "extra": 1}, TODAY) is None
    assert batch_keys({"requests": [EMAIL] * 10_001}, TODAY) is None


def test_a_bad_batch_item_is_a_422_naming_its_index_and_field(store: Store, tmp_path: Path) -> None:
    with running_service(store, copy_policies(tmp_path)) as service:
        good = [EMAIL] * 5
        for item, field in (({**EMAIL, "route": 7}, "requests.3.route"),
                            ({**EMAIL, "as_of": "2026-02-30"}, "requests.3.as_of"),
                            ({"feature": EMAIL["feature"], "category": EMAIL["category"]}, "requests.3.route"),
                            ({**EMAIL, "colour": "red"}, "requests.3.colour")):
            status, answer = service.post("/v1/decide/batch", {"requests": [*good[:3], item, *good[3:]]})
            assert (status, answer["error"], answer["field"]) == (422, "invalid_request", field), item
        status, answer = service.post("/v1/decide/batch", {"requests": [*good, {**EMAIL, "route": "llama-apy"}]})
        assert (status, answer["field"]) == (404, "requests[5].route")


def test_hot_and_fastapi_paths_answer_the_same(store: Store, tmp_path: Path) -> None:
    """The same requests to the app with and without its hot paths get byte-equal answers and equal errors."""
    import urllib.error
    import urllib.request

    policies = copy_policies(tmp_path)
    live = LiveState(load_state(store, policies), store=store, policy_dir=policies, max_staleness=5.0)
    with_hot, without = create_app(live, background=False), create_app(live, background=False)
    assert with_hot.hot is not None
    without.hot = None
    bodies = [EMAIL, {**EMAIL, "as_of": "2026-10-01"}, {**EMAIL, "as_of": None}, {**EMAIL, "route": "llama-apy"},
              {**EMAIL, "route": 7}, {**EMAIL, "as_of": "1899-12-31"},
              {"requests": [EMAIL, {**EMAIL, "as_of": "2027-01-05"}]},
              {"requests": [EMAIL, {**EMAIL, "category": "user.contact.emali"}]}, {"requests": []}]
    with uvicorn_server(with_hot) as hot_url, uvicorn_server(without) as routed_url:
        def raw(url: str, body: object) -> tuple[int, bytes]:
            path = "/v1/decide/batch" if isinstance(body, dict) and "requests" in body else "/v1/decide"
            request = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                             headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, response.read()
            except urllib.error.HTTPError as exc:
                return exc.code, exc.read()

        for body in bodies:
            assert raw(hot_url, body) == raw(routed_url, body), body


def test_the_memo_belongs_to_its_state_and_an_edit_is_never_answered_from_it(store: Store, tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    live = LiveState(load_state(store, policies), store=store, policy_dir=policies, max_staleness=0.0)
    old = live.current()
    first = answers.answer(old, *EMAIL.values(), TODAY)
    assert old.memo[(*EMAIL.values(), TODAY)] is first and first[1] == "allow"
    block_route(store, EMAIL["route"])
    new = live.current()
    assert new is not old and new.memo == {}
    after = answers.answer(new, *EMAIL.values(), TODAY)
    assert after[1] == "deny" and new.store_head.encode() in after[0] and old.store_head.encode() not in after[0]
    assert old.memo[(*EMAIL.values(), TODAY)] is first  # the old state's memo is untouched, and unreachable now


def test_service_never_answers_an_edit_from_the_memo(store: Store, tmp_path: Path) -> None:
    """Fill the memo, edit the store, and check every answer after the bound comes from the new state."""
    bound = 0.3
    with running_service(store, copy_policies(tmp_path), max_staleness=bound) as service:
        dataset = Compliance(store.read(), service.live.current().policies).dataset
        batch = [{"feature": EMAIL["feature"], "category": EMAIL["category"], "route": r.id} for r in dataset.routes]
        for _ in range(3):  # warm: the second and third answers come from the memo
            status, before = service.post("/v1/decide/batch", {"requests": batch})
            assert status == 200
        one = service.post("/v1/decide", EMAIL)[1]
        assert one["decision"] == "allow"
        block_route(store, EMAIL["route"])
        edited = time.monotonic()
        time.sleep(bound + 0.05)
        while time.monotonic() - edited < bound + 1.0:
            _, after = service.post("/v1/decide", EMAIL)
            assert after["store_head"] != before["store_head"] and after["decision"] == "deny"
            _, whole = service.post("/v1/decide/batch", {"requests": batch})
            assert whole["store_head"] == after["store_head"]
            assert {d["store_head"] for d in whole["decisions"]} == {after["store_head"]}
            edited_route = next(d for d in whole["decisions"] if d["route"] == EMAIL["route"])
            assert edited_route["decision"] == "deny"


def test_the_hot_path_answers_well_formed_requests_and_leaves_the_rest(store: Store, tmp_path: Path) -> None:
    policies = copy_policies(tmp_path)
    live = LiveState(load_state(store, policies), store=store, policy_dir=policies, max_staleness=5.0)
    hot = create_app(live, background=False).hot
    assert hot is not None
    json_type = [(b"content-type", b"application/json")]
    one = hot.answer("/v1/decide", json_type, json.dumps(EMAIL).encode())
    assert one is not None and json.loads(one)["decision"] == "allow"
    batch = hot.answer("/v1/decide/batch", json_type, json.dumps({"requests": [EMAIL] * 3}).encode())
    assert batch is not None and len(json.loads(batch)["decisions"]) == 3
    for path, headers, body in (("/v1/decide", json_type, b"{not json"),
                                ("/v1/decide", [], json.dumps(EMAIL).encode()),
                                ("/v1/decide", [(b"content-type", b"text/plain")], json.dumps(EMAIL).encode()),
                                ("/v1/decide", json_type, json.dumps({**EMAIL, "route": "llama-apy"}).encode()),
                                ("/v1/decide", json_type, json.dumps({**EMAIL, "as_of": "1899-12-31"}).encode()),
                                ("/v1/decide/batch", json_type, json.dumps({"requests": [EMAIL, [1]]}).encode())):
        assert hot.answer(path, headers, body) is None, body


def test_the_hot_path_checks_tokens_like_the_route(store: Store, tmp_path: Path) -> None:
    from compliance.service.tokens import ServiceRole, add_client, load_tokens

    path = tmp_path / "tokens.yaml"
    service_token = add_client(path, "svc", ServiceRole.service)
    viewer_token = add_client(path, "view", ServiceRole.viewer)
    tokens = load_tokens(path)
    assert tokens is not None
    policies = copy_policies(tmp_path)
    live = LiveState(load_state(store, policies), store=store, policy_dir=policies, max_staleness=5.0)
    hot = create_app(live, tokens=tokens, background=False).hot
    assert hot is not None
    body = json.dumps(EMAIL).encode()

    def ask(authorization: bytes | None) -> bytes | None:
        headers = [(b"content-type", b"application/json")]
        return hot.answer("/v1/decide", headers + ([(b"authorization", authorization)] if authorization else []), body)

    assert ask(b"Bearer " + service_token.encode()) is not None
    assert ask(b"bearer " + service_token.encode()) is not None
    assert ask(None) is None
    assert ask(b"Bearer wrong") is None
    assert ask(b"Basic " + service_token.encode()) is None
    viewer = ask(b"Bearer " + viewer_token.encode())
    assert (viewer is not None) == ServiceRole.viewer.may(ServiceRole.service)
