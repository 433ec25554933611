"""The first prompt experiment, kept for reference. DRIFT: it no longer parses (Python 2 print)."""

from openai import OpenAI

print "migrating..."
client = OpenAI()
