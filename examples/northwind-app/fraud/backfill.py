"""Nightly backfill of triage rationales. DRIFT: the endpoint (and so the region) comes from the environment."""

import os

from openai import AzureOpenAI

client = AzureOpenAI(azure_endpoint=os.environ["AZURE_OPENAI_ENDPOINT"], api_version="2025-04-01-preview")


def backfill(batch: list[str]) -> list[str]:
    out = []
    for text in batch:
        result = client.chat.completions.create(model="o4-mini", messages=[{"role": "user", "content": text}])
        out.append(result.choices[0].message.content or "")
    return out
