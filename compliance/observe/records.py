"""Reading LLM call records from telemetry files, one at a time (bounded memory whatever the file size).

Two formats (observe.md): the OpenTelemetry Collector's file exporter output (OTLP JSON, one
`ExportTraceServiceRequest` per line) and LiteLLM's SpendLogs exported as CSV. Either may be gzipped.
A reader yields `Call`s (GenAI spans or spend rows), `Skipped` for spans that are not LLM calls, and
`Malformed` for records it cannot read; a file that is not the format at all is `NotThisFormat`.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any

FORMATS = ("otlp-json", "litellm-csv")
LITELLM_COLUMNS = frozenset({"request_id", "startTime", "model"})
GENAI_MARKERS = ("gen_ai.operation.name", "gen_ai.provider.name", "gen_ai.system")
CACHED_ATTRIBUTES = ("gen_ai.usage.cache_read.input_tokens", "gen_ai.usage.cache_read_input_tokens",
                     "gen_ai.usage.cached_input_tokens")
# Instrumentation scopes that report cached input tokens beside `input_tokens` rather than inside it
# (the GenAI conventions count them inside). Matched as prefixes of the scope name.
# Bedrock's Converse usage counts cache reads apart from inputTokens, and the botocore instrumentation
# passes both on as they are.
CACHED_BESIDE_SCOPES = ("opentelemetry.instrumentation.anthropic", "opentelemetry.instrumentation.botocore")


class NotThisFormat(Exception):
    """The file is not the format asked for (or, with auto, neither format): nothing may be stored."""


@dataclass(frozen=True)
class Call:
    """One LLM call as a record describes it; ids are what make a re-import count nothing twice."""

    key: str  # "otlp:TRACE:SPAN" or "litellm:REQUEST"
    source: str  # otlp | litellm
    file: str
    line: int
    day: date
    provider: str | None
    host: str | None
    region: str | None
    request_model: str | None
    response_model: str | None
    input_tokens: int  # cached input included
    output_tokens: int
    cached_input_tokens: int
    feature: str | None  # the feature attribute, tag or metadata value
    service_name: str | None
    reported_cost: float | None = None
    scope: str = ""
    cached_beside: bool = False  # the record counted cached input beside input_tokens (then added here)
    trace_id: str = ""
    span_id: str = ""
    parent_id: str = ""
    status: str = "ok"  # ok | failed | cache_hit (LiteLLM)

    @property
    def model(self) -> str | None:
        return self.response_model or self.request_model


@dataclass(frozen=True)
class Skipped:
    """A span that is not an LLM call (no GenAI attributes)."""

    file: str
    line: int


@dataclass(frozen=True)
class Malformed:
    file: str
    line: int
    why: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.why}"


Item = Call | Skipped | Malformed


def open_text(path: Path) -> IO[str]:
    """The file as text, gunzipped when it starts with the gzip magic bytes."""
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", errors="replace", newline="")
    return path.open("r", encoding="utf-8-sig", errors="replace", newline="")  # a spreadsheet's BOM is no header


def _first_line(path: Path) -> str:
    try:
        with open_text(path) as handle:
            for line in handle:
                if line.strip():
                    return line.strip()
    except (OSError, EOFError) as exc:  # a truncated or corrupt gzip stream
        raise NotThisFormat(f"{path}: cannot be read ({exc})") from exc
    return ""


def sniff(path: Path, wanted: str = "auto") -> str:
    """The file's format, from its first non-empty line; NotThisFormat when it is not `wanted` (or neither)."""
    first = _first_line(path)
    is_otlp = False
    if first.startswith("{"):
        try:
            is_otlp = isinstance(parsed := json.loads(first), dict) and "resourceSpans" in parsed
        except ValueError:
            is_otlp = False
    is_csv = False
    if not is_otlp and first:
        header = next(csv.reader([first]), [])
        is_csv = {h.strip() for h in header} >= LITELLM_COLUMNS
    found = "otlp-json" if is_otlp else "litellm-csv" if is_csv else None
    if found is None or (wanted != "auto" and found != wanted):
        expected = {"auto": "OTLP JSON (one ExportTraceServiceRequest with resourceSpans per line) or a LiteLLM "
                            "SpendLogs CSV (with request_id, startTime and model columns)",
                    "otlp-json": "OTLP JSON (one ExportTraceServiceRequest with resourceSpans per line)",
                    "litellm-csv": "a LiteLLM SpendLogs CSV (with request_id, startTime and model columns)"}[wanted]
        raise NotThisFormat(f"{path}:1: not {expected}" + (" (the file is empty)" if not first else ""))
    return found


def read(path: Path, fmt: str, *, feature_attribute: str = "app.feature") -> Iterator[Item]:
    """The file's records; a file that stops being readable (a cut gzip stream) ends with one Malformed."""
    items = read_otlp(path, feature_attribute=feature_attribute) if fmt == "otlp-json" else read_litellm(path)
    last = 0
    try:
        for item in items:
            last = item.line
            yield item
    except (OSError, EOFError, UnicodeError) as exc:
        yield Malformed(str(path), last + 1, f"the file cannot be read further ({exc}); the rest is not read")


# --- OTLP JSON -------------------------------------------------------------------------------------


def _value(raw: Any) -> Any:
    """An OTLP AnyValue ({"stringValue": ...}, {"intValue": "12"}, ...) as a Python value."""
    if not isinstance(raw, dict):
        return None
    for key in ("stringValue", "boolValue", "doubleValue"):
        if key in raw:
            return raw[key]
    if "intValue" in raw:
        return int(raw["intValue"])
    if "arrayValue" in raw:
        return [_value(v) for v in (raw["arrayValue"] or {}).get("values", [])]
    return None


def attributes(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, list):
        raise ValueError("attributes is not a list")
    return {item["key"]: _value(item.get("value")) for item in raw if isinstance(item, dict) and "key" in item}


def _count(attrs: dict[str, Any], name: str) -> int:
    value = attrs.get(name)
    if value is None:
        return 0
    number = int(value)
    if number < 0:
        raise ValueError(f"{name} is negative")
    return number


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def read_otlp(path: Path, *, feature_attribute: str = "app.feature") -> Iterator[Item]:
    name = str(path)
    with open_text(path) as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                request = json.loads(line.strip())
                resource_spans = request["resourceSpans"]
                if not isinstance(resource_spans, list):
                    raise ValueError("resourceSpans is not a list")
            except (ValueError, KeyError, TypeError) as exc:
                yield Malformed(name, number, f"not an OTLP JSON export request ({_why(exc)})")
                continue
            for resource_span in resource_spans:
                try:
                    resource = attributes((resource_span.get("resource") or {}).get("attributes", []))
                    scopes = resource_span.get("scopeSpans") or []
                except (AttributeError, ValueError, KeyError, TypeError) as exc:
                    yield Malformed(name, number, f"a resource is malformed ({_why(exc)})")
                    continue
                for scope_span in scopes:
                    scope = str(((scope_span or {}).get("scope") or {}).get("name") or "")
                    for span in (scope_span or {}).get("spans") or []:
                        yield _span(span, resource, scope, name, number, feature_attribute)


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    return str(exc).split("\n")[0][:200]


def _span(span: Any, resource: dict[str, Any], scope: str, file: str, line: int, feature_attribute: str) -> Item:
    try:
        attrs = attributes(span.get("attributes", []))
        if not any(marker in attrs for marker in GENAI_MARKERS):
            return Skipped(file, line)
        trace_id, span_id = str(span["traceId"]), str(span["spanId"])
        if not trace_id or not span_id:
            raise ValueError("the span has no traceId or spanId")
        started = datetime.fromtimestamp(int(span["startTimeUnixNano"]) / 1e9, tz=UTC)
        input_tokens = _count(attrs, "gen_ai.usage.input_tokens")
        cached = next((_count(attrs, a) for a in CACHED_ATTRIBUTES if a in attrs), 0)
        beside = scope.startswith(CACHED_BESIDE_SCOPES) or cached > input_tokens
        return Call(
            key=f"otlp:{trace_id}:{span_id}", source="otlp", file=file, line=line, day=started.date(),
            provider=_text(attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system")),
            host=_text(attrs.get("server.address")),
            region=_text(attrs.get("cloud.region") or resource.get("cloud.region")),
            request_model=_text(attrs.get("gen_ai.request.model")),
            response_model=_text(attrs.get("gen_ai.response.model")),
            input_tokens=input_tokens + cached if beside else input_tokens,
            output_tokens=_count(attrs, "gen_ai.usage.output_tokens"), cached_input_tokens=cached,
            feature=_text(attrs.get(feature_attribute) or resource.get(feature_attribute)),
            service_name=_text(resource.get("service.name")),
            reported_cost=_cost(attrs.get("gen_ai.usage.cost")),
            scope=scope, cached_beside=beside and cached > 0, trace_id=trace_id, span_id=span_id,
            parent_id=str(span.get("parentSpanId") or ""),
        )
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        return Malformed(file, line, f"a GenAI span is malformed ({_why(exc)})")


def _cost(value: Any) -> float | None:
    if value in (None, ""):
        return None
    cost = float(value)
    if cost < 0 or cost != cost:
        raise ValueError("the reported cost is negative or not a number")
    return cost


# --- LiteLLM SpendLogs CSV -------------------------------------------------------------------------


def _json_field(text: str | None) -> Any:
    if not text or not text.strip():
        return None
    return json.loads(text)


def _day(text: str) -> date:
    cleaned = text.strip().replace("Z", "+00:00")
    moment = datetime.fromisoformat(cleaned)
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.date()


def _litellm_feature(tags: Any, metadata: Any) -> str | None:
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, str) and tag.startswith("feature:") and tag[len("feature:"):]:
            return tag[len("feature:"):]
    if isinstance(metadata, dict):
        caller = metadata.get("spend_logs_metadata")
        if isinstance(caller, dict) and caller.get("feature"):
            return str(caller["feature"])
        if metadata.get("feature"):
            return str(metadata["feature"])
    return None


def _litellm_status(row: dict[str, str], metadata: Any) -> str:
    status = (row.get("status") or (metadata.get("status") if isinstance(metadata, dict) else "") or "").lower()
    if status in ("failure", "failed", "error"):
        return "failed"
    if str(row.get("cache_hit") or "").strip().lower() in ("true", "1"):
        return "cache_hit"
    return "ok"


@lru_cache(maxsize=4096)
def _host(api_base: str | None) -> str | None:
    if not api_base or not api_base.strip():
        return None
    from compliance.scan.extract import host_of

    return host_of(api_base)[0] or None


def read_litellm(path: Path) -> Iterator[Item]:
    name = str(path)
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        line = 1
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                line = reader.line_num
                yield Malformed(name, line, f"not readable as CSV ({exc})")
                continue
            start, line = line + 1, reader.line_num
            try:
                if None in row:
                    raise ValueError("more cells than columns")
                request_id = (row.get("request_id") or "").strip()
                if not request_id:
                    raise ValueError("no request_id")
                metadata = _json_field(row.get("metadata"))
                tags = _json_field(row.get("request_tags"))
                model = (row.get("model") or "").strip() or None
                provider = (row.get("custom_llm_provider") or "").strip() or None
                if model and provider and model.startswith(provider + "/"):
                    model = model[len(provider) + 1:]
                usage = {k: int(float(row.get(k) or 0)) for k in ("prompt_tokens", "completion_tokens")}
                if min(usage.values()) < 0:
                    raise ValueError("a token count is negative")
                yield Call(
                    key=f"litellm:{request_id}", source="litellm", file=name, line=start, day=_day(row["startTime"]),
                    provider=provider, host=_host(row.get("api_base")), region=None, request_model=model,
                    response_model=None, input_tokens=usage["prompt_tokens"],
                    output_tokens=usage["completion_tokens"], cached_input_tokens=0,
                    feature=_litellm_feature(tags, metadata), service_name=None,
                    reported_cost=_cost(row.get("spend")), scope="litellm", status=_litellm_status(row, metadata))
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                yield Malformed(name, start, f"a SpendLogs row is malformed ({_why(exc)})")
