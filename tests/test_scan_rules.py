"""One test per rule in compliance/scan/rules.yaml: each SDK pattern is found and gives the facts it should."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.scan.rules import load_rules
from tests.scan_helpers import only, scan_code

# rule id -> (code, expected: processor, service, region value, model value, route)
CASES: dict[str, tuple[str, tuple[str | None, str | None, str | None, str | None, str | None]]] = {
    "openai": ("""
        from openai import OpenAI
        client = OpenAI()
        def ask():
            return client.chat.completions.create(model="gpt-5.6-luna", messages=[])
        """, ("openai", "OpenAI API", "global", "gpt-5.6-luna", "openai-direct")),
    "azure-openai": ("""
        import openai
        def ask():
            client = openai.AzureOpenAI(azure_endpoint="https://northwind-fraud-se.openai.azure.com")
            return client.responses.create(model="o4-mini", input="x")
        """, ("microsoft", "Azure OpenAI", "swedencentral", "o4-mini", "azure-openai-eu")),
    "anthropic": ("""
        import anthropic
        def ask():
            return anthropic.Anthropic().messages.create(model="claude-haiku-4-5", max_tokens=5, messages=[])
        """, ("anthropic", "Anthropic API", "global", "claude-haiku-4-5", "claude-direct")),
    "anthropic-bedrock": ("""
        from anthropic import AnthropicBedrock
        def ask():
            client = AnthropicBedrock(aws_region="eu-central-1")
            return client.messages.create(model="eu.anthropic.claude-haiku-4-5-20251001-v1:0", messages=[])
        """, ("aws", "AWS Bedrock", "eu-central-1", "eu.anthropic.claude-haiku-4-5-20251001-v1:0",
              "claude-bedrock-eu")),
    "anthropic-vertex": ("""
        from anthropic import AnthropicVertex
        client = AnthropicVertex(region="europe-west1", project_id="nw")
        def ask():
            return client.messages.create(model="claude-sonnet-4-5", messages=[])
        """, ("google", "Google Vertex AI", "europe-west1", "claude-sonnet-4-5", "claude-vertex-eu")),
    "anthropic-foundry": ("""
        from anthropic import AnthropicFoundry
        def ask():
            return AnthropicFoundry(api_key="k").messages.create(model="claude-sonnet-4-5", messages=[])
        """, ("anthropic", "Microsoft Foundry", None, "claude-sonnet-4-5", "claude-foundry")),
    "boto3-session": ("""
        import boto3
        session = boto3.Session(region_name="us-east-1")
        runtime = session.client("bedrock-runtime")
        def ask():
            return runtime.converse(modelId="meta.llama3-3-70b-instruct-v1:0", messages=[])
        """, ("aws", "AWS Bedrock", "us-east-1", "meta.llama3-3-70b-instruct-v1:0", "llama-bedrock-us")),
    "boto3-bedrock": ("""
        import boto3
        def ask(body):
            runtime = boto3.client("bedrock-runtime", region_name="eu-west-3")
            return runtime.invoke_model(modelId="mistral.mistral-large-3-675b-instruct", body=body)
        """, ("aws", "AWS Bedrock", "eu-west-3", "mistral.mistral-large-3-675b-instruct", "mistral-bedrock-eu")),
    "genai": ("""
        from google import genai
        def ask():
            client = genai.Client(vertexai=True, project="nw", location="europe-west4")
            return client.models.generate_content(model="gemini-3.8-flash", contents="x")
        """, ("google", "Google Vertex AI", "europe-west4", "gemini-3.8-flash", "gemini-vertex-eu")),
    "vertexai": ("""
        import vertexai
        from vertexai.generative_models import GenerativeModel
        vertexai.init(project="nw", location="europe-west4")
        def ask():
            return GenerativeModel("gemini-3.5-flash-lite").generate_content("x")
        """, ("google", "Google Vertex AI", "europe-west4", "gemini-3.5-flash-lite", "gemini-vertex-eu")),
    "mistral": ("""
        from mistralai import Mistral
        def ask():
            with Mistral(api_key="k") as client:
                return client.chat.complete(model="mistral-large-2512", messages=[])
        """, ("mistral", "Mistral La Plateforme", "eu", "mistral-large-2512", "mistral-direct")),
    "mistral-gcp": ("""
        from mistralai_gcp import MistralGoogleCloud
        def ask():
            client = MistralGoogleCloud(region="europe-west4", project_id="nw")
            return client.chat.complete(model="mistral-large-2512", messages=[])
        """, ("google", "Google Vertex AI", "europe-west4", "mistral-large-2512", None)),
    "mistral-azure": ("""
        from mistralai_azure import MistralAzure
        def ask():
            client = MistralAzure(azure_endpoint="https://nw.services.ai.azure.com", azure_api_key="k")
            return client.chat.complete(model="mistral-large-2512", messages=[])
        """, (None, "Microsoft Foundry", None, "mistral-large-2512", None)),
    "cohere": ("""
        import cohere
        co = cohere.ClientV2()
        def ask():
            return co.chat(model="command-a", messages=[])
        """, ("cohere", "Cohere API", "us", "command-a", "cohere-direct")),
    "cohere-bedrock": ("""
        import cohere
        def ask():
            return cohere.BedrockClientV2(aws_region="us-east-1").chat(model="cohere.command-r-v1:0", messages=[])
        """, ("aws", "AWS Bedrock", "us-east-1", "cohere.command-r-v1:0", None)),
    "foundry-inference": ("""
        from azure.ai.inference import ChatCompletionsClient
        def ask():
            client = ChatCompletionsClient(endpoint="https://nw.services.ai.azure.com/models", credential=None)
            return client.complete(model="claude-sonnet-4-5", messages=[])
        """, ("anthropic", "Microsoft Foundry", None, "claude-sonnet-4-5", "claude-foundry")),
    "langchain-openai": ("""
        from langchain_openai import ChatOpenAI
        llm = ChatOpenAI(model="gpt-5.6-sol")
        def ask():
            return llm.invoke("x")
        """, ("openai", "OpenAI API", "global", "gpt-5.6-sol", "openai-direct")),
    "langchain-azure-openai": ("""
        from langchain_openai import AzureChatOpenAI
        llm = AzureChatOpenAI(azure_deployment="o3")
        def ask():
            return llm.with_structured_output(dict).invoke("x")
        """, ("microsoft", "Azure OpenAI", None, "o3", None)),
    "langchain-anthropic": ("""
        from langchain_anthropic import ChatAnthropic
        from langchain_core.prompts import ChatPromptTemplate
        chain = ChatPromptTemplate.from_template("{q}") | ChatAnthropic(model="claude-opus-4-5")
        async def ask():
            return await chain.ainvoke({"q": "x"})
        """, ("anthropic", "Anthropic API", "global", "claude-opus-4-5", "claude-direct")),
    "langchain-bedrock": ("""
        from langchain_aws import ChatBedrockConverse
        llm = ChatBedrockConverse(model="openai.gpt-oss-120b-1:0", region_name="eu-central-1")
        def ask():
            for chunk in llm.stream("x"):
                yield chunk
        """, ("aws", "AWS Bedrock", "eu-central-1", "openai.gpt-oss-120b-1:0", "gpt-oss-bedrock-eu")),
    "langchain-vertex": ("""
        from langchain_google_vertexai import ChatVertexAI
        def ask():
            llm = ChatVertexAI(model_name="gemini-3.5-flash-lite", location="europe-west4")
            return llm.batch(["x"])
        """, ("google", "Google Vertex AI", "europe-west4", "gemini-3.5-flash-lite", "gemini-vertex-eu")),
    "langchain-gemini": ("""
        from langchain_google_genai import ChatGoogleGenerativeAI
        def ask():
            return ChatGoogleGenerativeAI(model="gemini-3.5-flash-lite").invoke("x")
        """, ("google-gemini-api", "Gemini Developer API", "global", "gemini-3.5-flash-lite", "gemini-api")),
    "langchain-mistral": ("""
        from langchain_mistralai import ChatMistralAI
        llm = ChatMistralAI(model="mistral-medium-3.5")
        def ask():
            return llm.invoke("x")
        """, ("mistral", "Mistral La Plateforme", "eu", "mistral-medium-3.5", "mistral-direct")),
    "http-client": ("""
        import httpx
        def ask():
            with httpx.Client(base_url="https://api.anthropic.com") as http:
                return http.post("/v1/messages", json={"model": "claude-sonnet-4-5"})
        """, ("anthropic", "Anthropic API", "global", "claude-sonnet-4-5", "claude-direct")),
    "litellm": ("""
        import litellm
        def ask():
            return litellm.completion(model="vertex_ai/gemini-3.5-flash-lite", vertex_location="europe-west4",
                                      messages=[])
        """, ("google", "Google Vertex AI", "europe-west4", "gemini-3.5-flash-lite", "gemini-vertex-eu")),
    "http": ("""
        import requests
        URL = "https://api.mistral.ai/v1/chat/completions"
        def ask():
            return requests.post(URL, json={"model": "mistral-medium-3.5", "messages": []})
        """, ("mistral", "Mistral La Plateforme", "eu", "mistral-medium-3.5", "mistral-direct")),
}


def test_every_rule_has_a_test() -> None:
    rules = load_rules()
    assert set(CASES) == set(rules.by_id)


@pytest.mark.parametrize("rule_id", sorted(CASES))
def test_rule_finds_the_call_and_its_facts(tmp_path: Path, rule_id: str) -> None:
    code, (processor, service, region, model, route) = CASES[rule_id]
    finding = only(scan_code(tmp_path, code))
    assert (finding.processor["value"], finding.service["value"], finding.region["value"],
            finding.model["value"]) == (processor, service, region, model)
    assert finding.route == route
    assert finding.reasons


def test_rules_file_names_a_version_and_unique_ids() -> None:
    rules = load_rules()
    assert rules.version
    ids = [rule.id for rule in (*rules.clients, *rules.functions)]
    assert len(ids) == len(set(ids))
    names = [name for rule in (*rules.clients, *rules.functions) for name in rule.match]
    assert len(names) == len(set(names))
