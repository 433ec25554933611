"""Identity document check on our own GPUs (vLLM speaks the OpenAI API)."""

from openai import OpenAI

client = OpenAI(base_url="http://vllm.fra-dc1.northwind.internal:8000/v1", api_key="unused")


def compare(passport_text: str, selfie_caption: str) -> str:
    answer = client.chat.completions.create(
        model="llama-3.3-70b-instruct",
        messages=[{"role": "user", "content": f"{passport_text}\n---\n{selfie_caption}"}],
    )
    return answer.choices[0].message.content or ""
