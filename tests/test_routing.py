"""The resolver shared by the scanner and telemetry: facts about a call -> route(s), with reasons."""

from __future__ import annotations

from compliance.routing import CallFacts, Known, resolve
from compliance.store import documents as d
from tests.scan_helpers import example_dataset


def routes() -> list[d.Route]:
    return example_dataset().routes


def test_all_facts_known_resolve_to_one_route() -> None:
    found = resolve(CallFacts(processor=Known("aws"), service=Known("AWS Bedrock"), region=Known("eu-central-1"),
                              model=Known("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")), routes())
    assert found.route == "claude-bedrock-eu"
    assert found.candidates == ()
    assert any("one route fits" in r for r in found.reasons)


def test_unknown_region_gives_candidates() -> None:
    found = resolve(CallFacts(processor=Known("microsoft"), service=Known("Azure OpenAI"), model=Known("o3")),
                    routes())
    assert found.route is None
    assert found.candidates == ("azure-openai-eu", "azure-openai-global")
    assert "region" in found.reasons[-1]


def test_a_global_profile_reaches_the_global_route_whatever_the_calling_region() -> None:
    found = resolve(CallFacts(processor=Known("aws"), service=Known("AWS Bedrock"), region=Known("eu-central-1"),
                              model=Known("global.anthropic.claude-sonnet-4-5-20250929-v1:0")), routes())
    assert found.route == "claude-bedrock-global"


def test_no_route_fits_says_why() -> None:
    found = resolve(CallFacts(processor=Known("aws"), service=Known("AWS Bedrock"), region=Known("us-west-2"),
                              model=Known("eu.anthropic.claude-sonnet-4-5-20250929-v1:0")), routes())
    assert found.route is None and found.candidates == ()
    assert "no route fits" in found.reasons[-1]


def test_env_value_is_supplied_by_a_route_hint() -> None:
    data = routes()
    hinted = [r.model_copy(update={"scan": d.ScanHints(env={"AWS_REGION": "eu-central-1"})})
              if r.id == "claude-bedrock-eu" else r for r in data]
    facts = CallFacts(processor=Known("aws"), service=Known("AWS Bedrock"), region=Known(env="AWS_REGION"),
                      model=Known("eu.anthropic.claude-haiku-4-5-20251001-v1:0"))
    assert resolve(facts, data).route == "claude-bedrock-eu"  # the only route with that model anyway
    found = resolve(facts, hinted)
    assert found.route == "claude-bedrock-eu"
    assert found.hinted == {"region": "eu-central-1"}


def test_host_hint_picks_the_azure_deployment() -> None:
    hinted = [r.model_copy(update={"scan": d.ScanHints(hosts=["nw-sweden.openai.azure.com"])})
              if r.id == "azure-openai-eu" else r for r in routes()]
    found = resolve(CallFacts(processor=Known("microsoft"), service=Known("Azure OpenAI"),
                              host=Known("nw-sweden.openai.azure.com"), model=Known("o4-mini")), hinted)
    assert found.route == "azure-openai-eu"
    assert found.hinted == {"region": "swedencentral"}


def test_unknown_host_reaches_only_a_route_that_names_it() -> None:
    hinted = [r.model_copy(update={"scan": d.ScanHints(hosts=["gpu-box:9000"])})
              if r.id == "vllm-onprem" else r for r in routes()]
    facts = CallFacts(host=Known("gpu-box:9000"), model=Known("llama-3.3-70b-instruct"))
    assert resolve(facts, routes()).route is None
    assert resolve(facts, hinted).route == "vllm-onprem"


def test_telemetry_style_plain_values_work() -> None:
    found = resolve(CallFacts(processor=Known("openai"), service=Known("openai api"), model=Known("GPT-5.6-SOL")),
                    routes())
    assert found.candidates == ("openai-direct", "openai-direct-eu")
