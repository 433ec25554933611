"""Make the example telemetry (and the test fixtures) with the real OpenTelemetry SDK and GenAI instrumentations.

    .venv/bin/python examples/telemetry/generate.py            # examples/telemetry/ and tests/fixtures/observe/

Every LLM call is a real SDK call (openai incl. Azure, boto3 bedrock-runtime) instrumented by the
official `opentelemetry-instrumentation-openai-v2` and `-botocore` packages, sent to a local stub
server through an HTTP proxy setting, so the spans carry the real hosts (`api.openai.com`,
`bedrock-runtime.eu-central-1.amazonaws.com`, ...) and nothing leaves the machine. The spans are
then written as the OpenTelemetry Collector's file exporter writes them (OTLP JSON, one export
request per line). The LiteLLM SpendLogs export is a CSV with the proxy's columns. Test-only
dependencies: see requirements-dev.txt. Output is deterministic for ids and values (seeded).
"""

from __future__ import annotations

import contextlib
import contextvars
import csv
import gzip
import http.server
import io
import json
import os
import random
import re
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import httpx
import openai
from botocore.config import Config
from opentelemetry import trace
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.instrumentation.openai_v2 import OpenAIInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.id_generator import IdGenerator

ROOT = Path(__file__).resolve().parents[2]
HERE = ROOT / "examples" / "telemetry"
FIXTURES = ROOT / "tests" / "fixtures" / "observe"
os.environ.update(AWS_ACCESS_KEY_ID="example", AWS_SECRET_ACCESS_KEY="example", AWS_EC2_METADATA_DISABLED="true")

# What the stub answers as the response model (providers answer with dated snapshots).
SNAPSHOTS = {"gpt-5.6-luna": "gpt-5.6-luna-2026-07-09", "gpt-5.6-sol": "gpt-5.6-sol-2026-07-09",
             "gpt-5.6-terra": "gpt-5.6-terra-2026-07-09",
             "fraud-o4mini": "o4-mini-2025-04-16", "o4-mini": "o4-mini-2025-04-16"}
USAGE = re.compile(r"usage in=(\d+) out=(\d+) cached=(\d+)")


class Stub(http.server.BaseHTTPRequestHandler):
    """Answers OpenAI chat completions and Bedrock Converse with the usage the prompt asks for."""

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("content-length") or 0)).decode("utf-8")
        found = USAGE.search(body.replace("\\", ""))
        prompt, completion, cached = (int(x) for x in found.groups()) if found else (10, 5, 0)
        if "/converse" in self.path:
            reply: dict[str, Any] = {
                "output": {"message": {"role": "assistant", "content": [{"text": "ok"}]}}, "stopReason": "end_turn",
                "usage": {"inputTokens": prompt, "outputTokens": completion, "totalTokens": prompt + completion
                          + cached, **({"cacheReadInputTokens": cached} if cached else {})},
                "metrics": {"latencyMs": 40}}
        else:
            model = json.loads(body).get("model", "")
            reply = {"id": "chatcmpl-example", "object": "chat.completion", "created": 1_764_547_200,
                     "model": SNAPSHOTS.get(model, model),
                     "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"},
                                  "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                               "total_tokens": prompt + completion,
                               "prompt_tokens_details": {"cached_tokens": cached}}}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


class SeededIds(IdGenerator):
    def __init__(self, rng: random.Random):
        self.rng = rng

    def generate_span_id(self) -> int:
        return self.rng.getrandbits(64) or 1

    def generate_trace_id(self) -> int:
        return self.rng.getrandbits(128) or 1


FEATURE: contextvars.ContextVar[str | None] = contextvars.ContextVar("feature", default=None)


class FeatureOnSpans(SpanProcessor):
    """What teams do with baggage: copy the request's feature onto every span it starts."""

    def on_start(self, span: Any, parent_context: Any = None) -> None:
        if (feature := FEATURE.get()) is not None:
            span.set_attribute("app.feature", feature)


@dataclass(frozen=True)
class Service:
    name: str
    resource: dict[str, str]
    feature_on_spans: bool = True


class Services(trace.TracerProvider):
    """One tracer provider per service (each its own resource), behind the one provider instrumentors get."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.providers: dict[str, tuple[TracerProvider, InMemorySpanExporter]] = {}
        self.current = ""

    def use(self, service: Service) -> None:
        if service.name not in self.providers:
            provider = TracerProvider(resource=Resource.create({"service.name": service.name, **service.resource}),
                                      id_generator=SeededIds(self.rng))
            if service.feature_on_spans:
                provider.add_span_processor(FeatureOnSpans())
            exporter = InMemorySpanExporter()
            provider.add_span_processor(SimpleSpanProcessor(exporter))
            self.providers[service.name] = (provider, exporter)
        self.current = service.name

    def get_tracer(self, name: str, *args: Any, **kwargs: Any) -> trace.Tracer:
        return _Tracer(self, name, args, kwargs)


class _Tracer(trace.Tracer):
    def __init__(self, services: Services, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]):
        self.services, self.name, self.args, self.kwargs = services, name, args, kwargs

    def _real(self) -> trace.Tracer:
        return self.services.providers[self.services.current][0].get_tracer(self.name, *self.args, **self.kwargs)

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._real().start_span(*args, **kwargs)

    @contextlib.contextmanager  # type: ignore[override]
    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Iterator[trace.Span]:
        with self._real().start_as_current_span(*args, **kwargs) as span:
            yield span


@dataclass(frozen=True)
class Planned:
    """One LLM call to make: who makes it, through which client and host, with what usage, when."""

    service: Service
    feature: str | None
    client: str  # openai | azure | bedrock
    host: str  # base URL for openai/azure (http://...), region for bedrock
    model: str
    usage: tuple[int, int, int]  # input, output, cached
    at: datetime
    sdk_span: bool = False  # also a GenAI span from an SDK's own tracing, parent of the instrumentation's


class Caller:
    def __init__(self, services: Services, proxy: str):
        self.services = services
        self.proxy = proxy
        self.offsets: dict[int, int] = {}  # trace id -> nanoseconds to shift its spans to the planned time
        self.http = httpx.Client(proxy=proxy)
        self.clients: dict[tuple[str, str], Any] = {}

    def client(self, kind: str, host: str) -> Any:
        key = (kind, host)
        if key not in self.clients:
            if kind == "openai":
                self.clients[key] = openai.OpenAI(api_key="example", base_url=host, http_client=self.http,
                                                  max_retries=0)
            elif kind == "azure":
                self.clients[key] = openai.AzureOpenAI(api_key="example", azure_endpoint=host,
                                                       api_version="2024-10-21", http_client=self.http,
                                                       max_retries=0)
            else:
                self.clients[key] = boto3.client(
                    "bedrock-runtime", region_name=host, endpoint_url=f"http://bedrock-runtime.{host}.amazonaws.com",
                    config=Config(proxies={"http": self.proxy}, retries={"max_attempts": 1}))
        return self.clients[key]

    def call(self, plan: Planned) -> None:
        self.services.use(plan.service)
        tracer = self.services.get_tracer("northwind.web")
        token = FEATURE.set(plan.feature if plan.service.feature_on_spans else None)
        try:
            with tracer.start_as_current_span("POST /api/llm-task", kind=trace.SpanKind.SERVER,
                                              attributes={"http.request.method": "POST", "url.path": "/api/llm-task"}
                                              ) as root:
                context = root.get_span_context()
                self.offsets[context.trace_id] = int(plan.at.timestamp() * 1e9) - time.time_ns()
                if plan.sdk_span:
                    with self.services.get_tracer("northwind.agents-sdk").start_as_current_span(
                            f"chat {plan.model}", kind=trace.SpanKind.CLIENT) as outer:
                        response = self._send(plan)
                        outer.set_attributes({"gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai",
                                              "gen_ai.request.model": plan.model,
                                              "gen_ai.response.model": response.model,
                                              "gen_ai.usage.input_tokens": response.usage.prompt_tokens,
                                              "gen_ai.usage.output_tokens": response.usage.completion_tokens})
                else:
                    self._send(plan)
        finally:
            FEATURE.reset(token)

    def _send(self, plan: Planned) -> Any:
        prompt = "usage in={} out={} cached={}".format(*plan.usage)
        if plan.client == "bedrock":
            return self.client("bedrock", plan.host).converse(
                modelId=plan.model, messages=[{"role": "user", "content": [{"text": prompt}]}])
        return self.client(plan.client, plan.host).chat.completions.create(
            model=plan.model, messages=[{"role": "user", "content": prompt}])


# --- OTLP JSON, as the Collector's file exporter writes it -----------------------------------------


def _any(value: Any) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, (list, tuple)):
        return {"arrayValue": {"values": [_any(v) for v in value]}}
    return {"stringValue": str(value)}


def _attributes(values: Any) -> list[dict[str, Any]]:
    return [{"key": k, "value": _any(v)} for k, v in dict(values or {}).items()]


def _span(span: ReadableSpan, offset: int) -> dict[str, Any]:
    context = span.get_span_context()
    assert context is not None and span.start_time is not None and span.end_time is not None
    return {"traceId": f"{context.trace_id:032x}", "spanId": f"{context.span_id:016x}",
            "parentSpanId": f"{span.parent.span_id:016x}" if span.parent else "", "flags": 1, "name": span.name,
            "kind": span.kind.value + 1, "startTimeUnixNano": str(span.start_time + offset),
            "endTimeUnixNano": str(span.end_time + offset), "attributes": _attributes(span.attributes),
            "status": {"code": span.status.status_code.value} if span.status.status_code.value else {}}


def export_lines(services: Services, offsets: dict[int, int]) -> list[str]:
    """One ExportTraceServiceRequest per service and day (a Collector batch), oldest first."""
    lines = []
    for name, (provider, exporter) in services.providers.items():
        batches: dict[date, dict[tuple[str, str], list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
        for span in exporter.get_finished_spans():
            context = span.get_span_context()
            assert context is not None and span.start_time is not None
            offset = offsets.get(context.trace_id, 0)
            day = datetime.fromtimestamp((span.start_time + offset) / 1e9, tz=UTC).date()
            scope = span.instrumentation_scope
            batches[day][(scope.name if scope else "", (scope.version or "") if scope else "")].append(
                _span(span, offset))
        resource = {"attributes": _attributes(provider.resource.attributes)}
        for day in sorted(batches):
            scopes = [{"scope": {"name": s, **({"version": v} if v else {})}, "spans": spans}
                      for (s, v), spans in batches[day].items()]
            lines.append((day, name, json.dumps({"resourceSpans": [{"resource": resource, "scopeSpans": scopes}]},
                                                separators=(",", ":"))))
    return [line for _, _, line in sorted(lines)]


# --- The example company's month --------------------------------------------------------------------

API = Service("northwind-api", {"deployment.environment.name": "production"})
FRAUD = Service("fraud-triage-worker", {"deployment.environment.name": "production", "cloud.region": "swedencentral"},
                feature_on_spans=False)  # attributed through the feature's `services:` list
KYC = Service("kyc-gpu-worker", {"app.feature": "kyc-id-check"}, feature_on_spans=False)  # a resource attribute
BATCH = Service("nightly-batch", {}, feature_on_spans=False)  # nobody says which feature: unattributed
OPENAI = "http://api.openai.com/v1"
MISTRAL = "http://api.mistral.ai/v1"  # Mistral's chat completions take the OpenAI SDK
VERTEX = "http://europe-west4-aiplatform.googleapis.com/v1/projects/northwind/locations/europe-west4/endpoints/openapi"
VLLM = "http://vllm.fra-dc1.northwind.internal:8000/v1"
AZURE_SE = "http://northwind-fraud-se.openai.azure.com"
AZURE_TEST = "http://northwind-sandbox.openai.azure.com"  # not the EU resource of the hint: the global route
OLLAMA = "http://ollama.dev.northwind.internal:11434/v1"  # a developer's server no route names: unresolved
SONNET_EU, HAIKU_EU = "eu.anthropic.claude-sonnet-4-5-20250929-v1:0", "eu.anthropic.claude-haiku-4-5-20251001-v1:0"
SONNET_GLOBAL = "global.anthropic.claude-sonnet-4-5-20250929-v1:0"
GPT_OSS = "openai.gpt-oss-120b-1:0"
BATCH_MODEL = "gpt-5.6-terra"


def month_plan(rng: random.Random) -> list[Planned]:
    """November 2026: a few calls a day per feature (a sample: modelled volumes are far larger)."""
    plan = []

    def jitter(n: int) -> int:
        return max(1, int(n * rng.uniform(0.7, 1.3)))

    for offset in range(30):
        day = date(2026, 11, 1) + timedelta(days=offset)
        weekday = day.weekday() < 5

        def add(service: Service, feature: str | None, client: str, host: str, model: str, count: int,
                usage: tuple[int, int, float], sdk_every: int = 0, day: date = day) -> None:
            for i in range(count):
                at = datetime(day.year, day.month, day.day, 8, tzinfo=UTC) + timedelta(seconds=rng.randrange(36_000))
                tokens = jitter(usage[0])
                plan.append(Planned(service, feature, client, host, model,
                                    (tokens, jitter(usage[1]), int(tokens * usage[2])), at,
                                    sdk_span=bool(sdk_every) and i % sdk_every == 0))

        busy = 1 if weekday else 0
        add(API, "mortgage-doc-extraction", "bedrock", "eu-central-1", SONNET_EU, 3 + busy, (14000, 1200, 0.3))
        add(API, "support-reply-draft", "bedrock", "eu-central-1", HAIKU_EU, 4 + 2 * busy, (3500, 350, 0.6))
        add(API, "clinic-notes-summary", "bedrock", "eu-central-1", SONNET_EU, 2 + busy, (6000, 800, 0.1))
        if day >= date(2026, 11, 18):  # a new code path sends visit notes straight to OpenAI: undeclared, denied
            add(API, "clinic-notes-summary", "openai", OPENAI, "gpt-5.6-luna", 2, (6000, 800, 0.0))
        add(KYC, None, "openai", VLLM, "llama-3.3-70b-instruct", 2, (2500, 300, 0.0))
        add(FRAUD, None, "azure", AZURE_SE, "fraud-o4mini", 3 + busy, (1800, 250, 0.2))
        add(API, "dating-profile-match", "openai", OPENAI, "gpt-5.6-luna", 8, (7000, 450, 0.5), sdk_every=4)
        add(API, "product-search-assistant", "openai", VERTEX, "google/gemini-3.5-flash-lite", 6, (1500, 200, 0.4))
        add(API, "wellness-coach", "bedrock", "eu-central-1", GPT_OSS, 4, (2500, 500, 0.0))
        add(API, "code-assistant", "bedrock", "eu-central-1", SONNET_GLOBAL, 4 + 2 * busy, (9000, 600, 0.7))
        add(API, "code-assistant", "openai", OPENAI, "gpt-5.6-sol", 2 + busy, (9000, 600, 0.7))
        if day >= date(2026, 11, 10):  # marketing tries Mistral Large directly: undeclared, but the policy allows it
            add(API, "marketing-copy", "openai", MISTRAL, "mistral-large-2512", 1 + busy, (3000, 1200, 0.0))
        if offset < 7:
            add(API, "support-reply-draft", "azure", AZURE_TEST, "o4-mini", 1, (3500, 350, 0.0))
            add(API, "support-reply-draft", "openai", OLLAMA, "qwen3:8b", 1, (3500, 350, 0.0))
        add(BATCH, None, "openai", OPENAI, BATCH_MODEL, 1, (5000, 400, 0.0))
    return plan


def fixture_plan() -> list[Planned]:
    """One call of each shape the tests check (tests/test_observe.py names what each is for)."""
    at = datetime(2026, 11, 20, 10, tzinfo=UTC)
    return [
        Planned(API, "dating-profile-match", "openai", OPENAI, "gpt-5.6-luna", (1000, 100, 400), at),
        Planned(API, "mortgage-doc-extraction", "bedrock", "eu-central-1", SONNET_EU, (2000, 200, 500), at),
        Planned(API, "code-assistant", "bedrock", "eu-central-1", SONNET_GLOBAL, (3000, 300, 0), at),
        Planned(FRAUD, None, "azure", AZURE_SE, "fraud-o4mini", (1800, 250, 0), at),
        Planned(API, "support-reply-draft", "azure", AZURE_TEST, "o4-mini", (100, 10, 0), at),
        Planned(API, "support-reply-draft", "openai", OLLAMA, "qwen3:8b", (100, 10, 0), at),
        Planned(API, "product-search-assistant", "openai", VERTEX, "google/gemini-3.5-flash-lite", (1500, 200, 0), at),
        Planned(API, "marketing-copy", "openai", MISTRAL, "mistral-large-2512", (3000, 1200, 0), at),
        Planned(API, "clinic-notes-summary", "openai", OPENAI, "gpt-5.6-luna", (6000, 800, 0), at),
        Planned(KYC, None, "openai", VLLM, "llama-3.3-70b-instruct", (2500, 300, 0), at),
        Planned(BATCH, None, "openai", OPENAI, BATCH_MODEL, (5000, 400, 0), at),
        Planned(API, "code-assistant", "openai", OPENAI, "gpt-5.6-sol", (9000, 600, 0), at + timedelta(days=1),
                sdk_span=True),
    ]


def spans(plan: list[Planned], seed: int) -> list[str]:
    services = Services(random.Random(seed))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Stub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    OpenAIInstrumentor().instrument(tracer_provider=services)
    BotocoreInstrumentor().instrument(tracer_provider=services)
    try:
        caller = Caller(services, f"http://127.0.0.1:{server.server_address[1]}")
        for planned in sorted(plan, key=lambda p: p.at):
            caller.call(planned)
        return export_lines(services, caller.offsets)
    finally:
        OpenAIInstrumentor().uninstrument()
        BotocoreInstrumentor().uninstrument()
        server.shutdown()


# --- LiteLLM SpendLogs ------------------------------------------------------------------------------

SPEND_COLUMNS = ["request_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens",
                 "startTime", "endTime", "model", "model_id", "model_group", "custom_llm_provider", "api_base",
                 "user", "metadata", "cache_hit", "cache_key", "request_tags", "team_id", "end_user",
                 "requester_ip_address", "status"]
LIST_PRICES = {"mistral-medium-3.5": (1.5, 7.5), "meta.llama3-3-70b-instruct-v1:0": (0.72, 0.72),
               "mistral-large-2512": (0.5, 1.5)}


def spend_row(rng: random.Random, at: datetime, model: str, provider: str, api_base: str, tokens: tuple[int, int],
              *, tag: str | None = None, caller_feature: str | None = None, status: str = "success",
              cache_hit: bool = False) -> dict[str, Any]:
    price = LIST_PRICES[model]
    spend = 0.0 if status != "success" or cache_hit else (tokens[0] * price[0] + tokens[1] * price[1]) / 1e6
    metadata: dict[str, Any] = {"user_api_key_alias": "internal-tools", "status": status}
    if caller_feature:
        metadata["spend_logs_metadata"] = {"feature": caller_feature, "team": "marketing"}
    return {"request_id": f"chatcmpl-{rng.getrandbits(96):024x}", "call_type": "acompletion",
            "api_key": "88dc28d0f030c55ed4ab77ed8faf098196cb1c05df778539800c9f1243fe6b4b",
            "spend": f"{spend:.8f}", "total_tokens": sum(tokens), "prompt_tokens": tokens[0],
            "completion_tokens": tokens[1], "startTime": at.strftime("%Y-%m-%d %H:%M:%S.%f"),
            "endTime": (at + timedelta(seconds=3)).strftime("%Y-%m-%d %H:%M:%S.%f"), "model": model,
            "model_id": f"{provider}-{model}",
            "model_group": model.split(".")[0] if provider == "bedrock" else model, "custom_llm_provider": provider,
            "api_base": api_base, "user": "", "metadata": json.dumps(metadata), "cache_hit": str(cache_hit),
            "cache_key": "", "request_tags": json.dumps([f"feature:{tag}"] if tag else []), "team_id": "",
            "end_user": "", "requester_ip_address": "", "status": status}


MISTRAL_BASE = "https://api.mistral.ai/v1"
BEDROCK_US = "https://bedrock-runtime.us-east-1.amazonaws.com"


def spend_month(rng: random.Random) -> list[dict[str, Any]]:
    """The gateway's month: meeting notes in full (about modelled volume), marketing copy through it too."""
    rows = []
    for offset in range(30):
        day = datetime(2026, 11, 1, 7, tzinfo=UTC) + timedelta(days=offset)
        weekday = day.weekday() < 5
        for _ in range(rng.randint(1000, 1150) if weekday else rng.randint(180, 260)):
            at = day + timedelta(seconds=rng.randrange(43_200))
            rows.append(spend_row(rng, at, "mistral-medium-3.5", "mistral", MISTRAL_BASE,
                                  (int(rng.gauss(12_600, 2_000)), int(rng.gauss(950, 150))),
                                  tag="meeting-notes-summary", cache_hit=rng.random() < 0.02,
                                  status="failure" if rng.random() < 0.005 else "success"))
        for _ in range(rng.randint(30, 45) if weekday else 0):
            at = day + timedelta(seconds=rng.randrange(43_200))
            rows.append(spend_row(rng, at, "meta.llama3-3-70b-instruct-v1:0", "bedrock", BEDROCK_US,
                                  (int(rng.gauss(3000, 400)), int(rng.gauss(1200, 200))),
                                  caller_feature="marketing-copy"))
    rows.sort(key=lambda r: r["startTime"])
    return rows


def spend_fixture(rng: random.Random) -> list[dict[str, Any]]:
    at = datetime(2026, 11, 20, 9, tzinfo=UTC)
    notes = "meeting-notes-summary"
    rows = [spend_row(rng, at, "mistral-medium-3.5", "mistral", MISTRAL_BASE, (12_000, 900), tag=notes),
            spend_row(rng, at, "mistral-medium-3.5", "mistral", MISTRAL_BASE, (10_000, 800), tag=notes),
            spend_row(rng, at, "meta.llama3-3-70b-instruct-v1:0", "bedrock", BEDROCK_US, (3000, 1000),
                      caller_feature="marketing-copy"),
            spend_row(rng, at, "mistral-large-2512", "mistral", MISTRAL_BASE, (2000, 500),
                      caller_feature="marketing-copy"),
            spend_row(rng, at, "mistral-medium-3.5", "mistral", MISTRAL_BASE, (500, 0), tag="meeting-notes-summary",
                      status="failure"),
            spend_row(rng, at, "mistral-medium-3.5", "mistral", MISTRAL_BASE, (12_000, 900),
                      tag="meeting-notes-summary", cache_hit=True)]
    rows.append(dict(rows[0]))  # the same request exported twice
    bad = dict(rows[1], request_id="chatcmpl-bad", prompt_tokens="many")
    rows.insert(3, bad)
    return rows


def write_csv(path: Path, rows: list[dict[str, Any]], *, gz: bool = False) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, SPEND_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    write(path, buffer.getvalue(), gz=gz)


def write(path: Path, text: str, *, gz: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if gz:
        with gzip.GzipFile(path, "wb", mtime=0) as handle:
            handle.write(text.encode("utf-8"))
    else:
        path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(ROOT)}")


def main() -> None:
    month = spans(month_plan(random.Random(11)), seed=2026)
    write(HERE / "northwind-2026-11.otlp.jsonl.gz", "\n".join(month) + "\n", gz=True)
    write_csv(HERE / "northwind-litellm-2026-11.csv.gz", spend_month(random.Random(12)), gz=True)
    lines = spans(fixture_plan(), seed=7)
    lines.insert(1, lines[0])  # the Collector retried a batch: the same spans twice
    lines.append('{"resourceSpans":[{"resource":{"attributes":[{"key":"service.name","value":{"stri')  # cut off
    write(FIXTURES / "spans.otlp.jsonl", "\n".join(lines) + "\n")
    write_csv(FIXTURES / "spendlogs.csv", spend_fixture(random.Random(13)))


if __name__ == "__main__":
    main()
