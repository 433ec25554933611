"""Code review comments in the IDE plugin: Claude through LiteLLM (global profile), GPT-5 for long diffs."""

import litellm
from openai import OpenAI

openai_client = OpenAI()


def review(diff: str) -> str:
    response = litellm.completion(model="bedrock/global.anthropic.claude-sonnet-4-5-20250929-v1:0",
                                  aws_region_name="eu-central-1", messages=[{"role": "user", "content": diff}])
    return response.choices[0].message.content


def review_long(diff: str) -> str:
    response = openai_client.responses.create(model="gpt-5.6-sol", input=diff)
    return response.output_text
