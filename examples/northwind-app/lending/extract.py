"""Mortgage paperwork extraction: borrower, income and property values for the underwriter to confirm."""

import json

import boto3

EU_REGION = "eu-central-1"
MODEL = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"

runtime = boto3.client("bedrock-runtime", region_name=EU_REGION)


def extract_fields(document_text: str) -> dict:
    response = runtime.converse(
        modelId=MODEL,
        messages=[{"role": "user", "content": [{"text": f"Extract the borrower fields:\n{document_text}"}]}],
    )
    return json.loads(response["output"]["message"]["content"][0]["text"])
