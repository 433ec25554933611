"""The decision service through a real uvicorn server on loopback: endpoints, errors, batch, property test."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compliance.api import Compliance, Denied
from compliance.config import PROJECT_ROOT, Settings
from compliance.problems import InvalidInput, NotFound
from compliance.routechoice import choose_routes
from compliance.store import Store
from tests.service_helpers import Running, copy_policies, running_service

EMAIL = {"feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu"}
HEALTH_DIRECT = {"feature": "clinic-notes-summary", "category": "user.health_and_medical", "route": "claude-direct",
                 "as_of": "2026-10-01"}


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    tmp = tmp_path_factory.mktemp("service")
    shutil.copytree(PROJECT_ROOT / "data", tmp / "data", ignore=shutil.ignore_patterns("*.db", "*.db-*"))
    policies = copy_policies(tmp)
    store = Store.open(Settings(database_url=f"sqlite:///{tmp / 'store.db'}", data_dir=tmp / "data",
                                policy_dir=policies))
    with running_service(store, policies) as running:
        yield running
    store.dispose()


@pytest.fixture(scope="module")
def local(service: Running) -> Compliance:
    return Compliance(service.store.read(), service.live.current().policies)


def expected(local: Compliance, service: Running, request: dict[str, str]) -> dict[str, object]:
    on = date.fromisoformat(request["as_of"]) if "as_of" in request else None
    record = local.decide(feature=request["feature"], category=request["category"], route=request["route"],
                          as_of=on).as_dict()
    return {**record, "store_head": service.live.current().store_head}


def test_decide_answers_what_decide_answers_for_allow(service: Running, local: Compliance) -> None:
    status, answer = service.post("/v1/decide", EMAIL)
    assert status == 200
    assert answer == expected(local, service, EMAIL)
    assert answer["decision"] == "allow"


def test_decide_is_http_200_for_a_deny_too(service: Running, local: Compliance) -> None:
    status, answer = service.post("/v1/decide", HEALTH_DIRECT)
    assert status == 200
    assert answer["decision"] == "deny" and answer["rules"]
    assert answer == expected(local, service, HEALTH_DIRECT)


def test_every_answer_carries_policy_digest_and_store_head(service: Running) -> None:
    state = service.live.current()
    _, one = service.post("/v1/decide", EMAIL)
    _, batch = service.post("/v1/decide/batch", {"requests": [EMAIL]})
    _, flow = service.post("/v1/flows/check", {"feature": EMAIL["feature"], "route": EMAIL["route"],
                                               "categories": [EMAIL["category"]]})
    _, routes = service.get(f"/v1/routes?feature={EMAIL['feature']}&category={EMAIL['category']}")
    _, health = service.get("/v1/health")
    for answer in (one, batch, flow, routes, health, batch["decisions"][0], flow["decisions"][0]):
        assert (answer["policy_digest"], answer["store_head"]) == (state.policy_digest, state.store_head)
    assert len(state.store_head) == 64 and len(state.policy_digest) == 64


def test_batch_of_10000_answers_in_order(service: Running, local: Compliance) -> None:
    dataset = local.dataset
    requests = [{"feature": dataset.features[i % len(dataset.features)].id,
                 "category": dataset.categories[i % len(dataset.categories)].key,
                 "route": dataset.routes[i % len(dataset.routes)].id,
                 "as_of": (date(2026, 10, 1) + timedelta(days=i % 90)).isoformat()} for i in range(10_000)]
    status, answer = service.post("/v1/decide/batch", {"requests": requests})
    assert status == 200
    assert len(answer["decisions"]) == 10_000
    for request, got in zip(requests[::97], answer["decisions"][::97], strict=True):
        assert got == expected(local, service, request)


def test_batch_over_10000_is_422(service: Running) -> None:
    status, answer = service.post("/v1/decide/batch", {"requests": [EMAIL] * 10_001})
    assert status == 422
    assert answer["field"] == "requests"


def test_batch_names_the_unknown_id_by_position(service: Running) -> None:
    status, answer = service.post("/v1/decide/batch", {"requests": [EMAIL, {**EMAIL, "route": "claude-bedrock-ue"}]})
    assert status == 404
    assert answer["field"] == "requests[1].route"
    assert "claude-bedrock-eu" in answer["closest"]


def test_flow_check_is_compliant_only_when_every_category_is_allowed(service: Running, local: Compliance) -> None:
    body = {"feature": "clinic-notes-summary", "route": "claude-direct", "as_of": "2026-10-01",
            "categories": ["user.contact.email", "user.health_and_medical"]}
    status, answer = service.post("/v1/flows/check", body)
    assert status == 200
    assert answer["compliant"] is False
    assert [d["category"] for d in answer["decisions"]] == body["categories"]
    assert answer["decisions"][1] == expected(local, service, {**HEALTH_DIRECT})
    ok = {"feature": EMAIL["feature"], "route": EMAIL["route"], "categories": [EMAIL["category"]]}
    assert service.post("/v1/flows/check", ok)[1]["compliant"] is True


def test_routes_lists_allowed_first_and_marks_the_cheapest(service: Running, local: Compliance) -> None:
    status, answer = service.get("/v1/routes?feature=support-reply-draft&category=user.contact.email"
                                 "&category=user.content.private")
    assert status == 200
    choice = choose_routes(local.decider, "support-reply-draft", ["user.contact.email", "user.content.private"],
                           date.today())
    assert [r["route"] for r in answer["routes"]] == [o.route for o in choice.options]
    allowed = [r["allowed"] for r in answer["routes"]]
    assert allowed == sorted(allowed, reverse=True) and any(allowed) and not all(allowed)
    assert answer["cheapest_allowed"] == choice.cheapest is not None
    assert [r["route"] for r in answer["routes"] if r["cheapest"]] == [choice.cheapest]


def test_health_says_ok_with_the_state(service: Running) -> None:
    status, answer = service.get("/v1/health")
    assert status == 200
    assert answer["status"] == "ok" and answer["problems"] == []
    assert answer["max_staleness_seconds"] == 5.0
    assert date.fromisoformat(answer["loaded_at"][:10])


@pytest.mark.parametrize(("field", "wrong", "right"), [
    ("feature", "support-reply-drat", "support-reply-draft"),
    ("category", "user.contact.emali", "user.contact.email"),
    ("route", "claude-bedrock-ue", "claude-bedrock-eu"),
])
def test_unknown_ids_are_404_with_the_closest_ids(service: Running, field: str, wrong: str, right: str) -> None:
    status, answer = service.post("/v1/decide", {**EMAIL, field: wrong})
    assert status == 404
    assert answer["error"] == "not_found" and answer["field"] == field
    assert answer["closest"][0] == right
    assert wrong in answer["message"] and right in answer["message"]


def test_unknown_category_in_routes_and_flows_names_its_position(service: Running) -> None:
    status, answer = service.get("/v1/routes?feature=support-reply-draft&category=user.contact.email&category=usr")
    assert (status, answer["field"]) == (404, "category[1]")
    status, answer = service.post("/v1/flows/check", {"feature": EMAIL["feature"], "route": EMAIL["route"],
                                                      "categories": ["user", "user.contact.emali"]})
    assert (status, answer["field"], answer["closest"][0]) == (404, "categories[1]", "user.contact.email")


@pytest.mark.parametrize(("body", "field"), [
    ({"feature": "support-reply-draft", "category": "user.contact.email"}, "route"),
    ({**EMAIL, "as_of": "2026-13-40"}, "as_of"),
    ({**EMAIL, "route": 7}, "route"),
    ({**EMAIL, "colour": "red"}, "colour"),
    ([1, 2], "body"),
])
def test_malformed_bodies_are_422_naming_the_field(service: Running, body: object, field: str) -> None:
    status, answer = service.post("/v1/decide", body)
    assert status == 422
    assert answer["error"] == "invalid_request" and answer["field"] == field


def test_routes_without_category_is_422(service: Running) -> None:
    status, answer = service.get("/v1/routes?feature=support-reply-draft")
    assert (status, answer["field"]) == (422, "query.category")


def test_not_json_is_422_not_500(service: Running) -> None:
    import urllib.request

    request = urllib.request.Request(service.url + "/v1/decide", data=b"{not json", method="POST",
                                     headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=10)
    assert caught.value.code == 422
    assert b"Traceback" not in caught.value.read()


def test_openapi_document_has_every_endpoint_with_examples(service: Running) -> None:
    status, doc = service.get("/openapi.json")
    assert status == 200
    assert {"/v1/decide", "/v1/decide/batch", "/v1/flows/check", "/v1/routes", "/v1/health"} <= set(doc["paths"])
    assert doc["components"]["schemas"]["DecideRequest"]["examples"][0] == EMAIL


def test_remote_compliance_answers_like_the_in_process_one(service: Running, local: Compliance) -> None:
    remote = Compliance.open(url=service.url)
    assert remote.decide(**EMAIL) == local.decide(**EMAIL)  # type: ignore[arg-type]
    on = date(2026, 10, 1)
    with pytest.raises(Denied) as denied:
        remote.require(feature="clinic-notes-summary", category="user.health_and_medical", route="claude-direct",
                       as_of=on)
    assert denied.value.decision == local.decide(feature="clinic-notes-summary", category="user.health_and_medical",
                                                 route="claude-direct", as_of=on)
    assert remote.decide_many([EMAIL]) == local.decide_many([EMAIL])
    assert remote.check_flow(feature=EMAIL["feature"], route=EMAIL["route"], categories=[EMAIL["category"]]) == \
        local.check_flow(feature=EMAIL["feature"], route=EMAIL["route"], categories=[EMAIL["category"]])
    assert [o.route for o in remote.routes(feature=EMAIL["feature"], categories=[EMAIL["category"]])] == \
        [o.route for o in local.routes(feature=EMAIL["feature"], categories=[EMAIL["category"]])]
    with pytest.raises(NotFound, match="closest: claude-bedrock-eu"):
        remote.decide(**{**EMAIL, "route": "claude-bedrock-ue"})  # type: ignore[arg-type]
    with pytest.raises(InvalidInput):
        remote.decide_many([EMAIL] * 10_001)
    remote.close()


@settings(max_examples=60, derandomize=True, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_property_service_answer_equals_decide(service: Running, local: Compliance, data: st.DataObject) -> None:
    dataset = local.dataset
    request = {"feature": data.draw(st.sampled_from([f.id for f in dataset.features])),
               "category": data.draw(st.sampled_from([c.key for c in dataset.categories])),
               "route": data.draw(st.sampled_from([r.id for r in dataset.routes])),
               "as_of": data.draw(st.dates(date(2025, 1, 1), date(2028, 12, 31))).isoformat()}
    status, answer = service.post("/v1/decide", request)
    assert status == 200
    assert answer == expected(local, service, request)

