"""Fraud review triage: rank flagged card transactions and explain each rank for the analyst."""

from openai import AzureOpenAI


def make_client() -> AzureOpenAI:
    return AzureOpenAI(azure_endpoint="https://northwind-fraud-se.openai.azure.com", api_version="2025-04-01-preview")


def rank(transactions: list[str]) -> str:
    client = make_client()
    result = client.chat.completions.create(model="o4-mini", messages=[
        {"role": "user", "content": "\n".join(transactions)}])
    return result.choices[0].message.content or ""

