"""Marketing copy drafts. DRIFT: the headline helper calls the Claude API, a route this feature never declared."""

import boto3
from anthropic import Anthropic

runtime = boto3.client("bedrock-runtime", region_name="us-east-1")


def landing_page(product_notes: str) -> str:
    response = runtime.converse(modelId="meta.llama3-3-70b-instruct-v1:0",
                                messages=[{"role": "user", "content": [{"text": product_notes}]}])
    return response["output"]["message"]["content"][0]["text"]


def headlines(product_notes: str) -> str:
    message = Anthropic().messages.create(model="claude-sonnet-4-5", max_tokens=200,
                                          messages=[{"role": "user", "content": product_notes}])
    return message.content[0].text
