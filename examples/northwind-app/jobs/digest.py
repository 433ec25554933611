"""Weekly digest e-mail. DRIFT: nobody said which feature this belongs to."""

import requests

COHERE_URL = "https://api.cohere.com/v2/chat"


def weekly_digest(items: list[str], token: str) -> str:
    response = requests.post(COHERE_URL, headers={"Authorization": f"Bearer {token}"},
                             json={"model": "command-a", "messages": [{"role": "user", "content": "\n".join(items)}]})
    return response.json()["message"]["content"][0]["text"]
