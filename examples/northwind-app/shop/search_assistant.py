"""Shopping search assistant: rewrite the query from recent searches and purchases."""

from google import genai

client = genai.Client(vertexai=True, project="northwind-shop", location="europe-west4")


def rewrite(query: str, history: list[str]) -> str:
    response = client.models.generate_content(model="gemini-3.5-flash-lite",
                                              contents=f"History: {history}\nRewrite: {query}")
    return response.text or ""
