"""Meeting notes summary for internal transcripts."""

import os

from mistralai import Mistral

MODEL = "mistral-medium-3.5"


def summarise(transcript: str) -> str:
    with Mistral(api_key=os.environ["MISTRAL_API_KEY"]) as mistral:
        result = mistral.chat.complete(model=MODEL, messages=[{"role": "user", "content": transcript}])
    return result.choices[0].message.content
