"""Wellness coach chat: gpt-oss on Bedrock in Frankfurt."""

import boto3

session = boto3.Session(region_name="eu-central-1")
runtime = session.client("bedrock-runtime")


def answer(question: str) -> str:
    response = runtime.converse(modelId="openai.gpt-oss-120b-1:0",
                                messages=[{"role": "user", "content": [{"text": question}]}])
    return response["output"]["message"]["content"][0]["text"]
