"""Clinical notes summary, signed by the clinician. Vertex AI in Belgium is the second route."""

from anthropic import AnthropicBedrock, AnthropicVertex

bedrock = AnthropicBedrock(aws_region="eu-central-1")
vertex = AnthropicVertex(region="europe-west1", project_id="northwind-clinic")


def summarise(notes: str, use_vertex: bool = False) -> str:
    if use_vertex:
        message = vertex.messages.create(model="claude-sonnet-4-5", max_tokens=800,
                                         messages=[{"role": "user", "content": notes}])
    else:
        message = bedrock.messages.create(model="eu.anthropic.claude-sonnet-4-5-20250929-v1:0", max_tokens=800,
                                          messages=[{"role": "user", "content": notes}])
    return message.content[0].text
