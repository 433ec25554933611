"""Deployment settings shared by the Northwind modules (read once, at import)."""

import os

EU_REGION = "eu-central-1"
CLAUDE_SONNET_EU = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"
CLAUDE_HAIKU_EU = "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
FRAUD_ENDPOINT = "https://northwind-fraud-se.openai.azure.com"
LOG_LEVEL = os.getenv("LOG_LEVEL", "info")
