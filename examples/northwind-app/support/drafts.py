"""Support reply drafts: most go through Claude on Bedrock in the EU, long threads through the Claude API."""

from anthropic import Anthropic, AnthropicBedrock

from compliance import Compliance

guard = Compliance.open()


class Drafter:
    def __init__(self, region: str = "eu-central-1") -> None:
        self.bedrock = AnthropicBedrock(aws_region=region)
        self.direct = Anthropic()

    def draft(self, thread: str) -> str:
        guard.require(feature="support-reply-draft", category="user.contact.email", route="claude-bedrock-eu")
        reply = self.bedrock.messages.create(
            model="eu.anthropic.claude-haiku-4-5-20251001-v1:0", max_tokens=600,
            messages=[{"role": "user", "content": thread}])
        return reply.content[0].text

    def draft_long(self, thread: str) -> str:  # compliance: feature=support-reply-draft
        reply = self.direct.messages.create(model="claude-sonnet-4-5", max_tokens=900,
                                            messages=[{"role": "user", "content": thread}])
        return reply.content[0].text
