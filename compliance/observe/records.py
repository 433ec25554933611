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
from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import IO, Any, NamedTuple

import msgspec

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
    merged: bool = False  # the second span of a call already seen

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


def read_records(path: Path, fmt: str, *, feature_attribute: str = "app.feature") -> Iterator[RecordItem]:
    """The file's records; a file that stops being readable (a cut gzip stream) ends with one Malformed."""
    items = (read_otlp_records(path, feature_attribute=feature_attribute) if fmt == "otlp-json"
             else read_litellm_records(path))
    last = 0
    try:
        for item in items:
            last = item.line
            yield item
    except (OSError, EOFError, UnicodeError) as exc:
        yield Malformed(str(path), last + 1, f"the file cannot be read further ({exc}); the rest is not read")


def read(path: Path, fmt: str, *, feature_attribute: str = "app.feature") -> Iterator[Item]:
    """As `read_records`, with each record as a `Call`."""
    name = str(path)
    for item in read_records(path, fmt, feature_attribute=feature_attribute):
        yield call_of(item, name) if isinstance(item, Record) else item


# --- OTLP JSON -------------------------------------------------------------------------------------
#
# Two decoders, one meaning. The fast one decodes each export request straight into the few fields we
# read (msgspec, typed: whatever else a span carries is skipped without being built); any line it cannot
# take as typed (a value of an unexpected type, a null where a list belongs, not JSON at all) is read
# again by the plain one (json.loads, checked by hand), which names what is wrong. Both hand each span's
# raw attributes to the same `_record`, so a line means the same whichever decoder read it.

DAY_NS = 86_400 * 10**9
EPOCH = date(1970, 1, 1).toordinal()
LAST_NS = (date(9999, 12, 31).toordinal() - EPOCH + 1) * DAY_NS
MERGE_WINDOW = 1 << 20  # a call's second span is looked for in lines starting at most this many bytes before


class _Value(msgspec.Struct, rename="camel"):
    string_value: str | msgspec.UnsetType = msgspec.UNSET
    bool_value: bool | msgspec.UnsetType = msgspec.UNSET
    double_value: int | float | msgspec.UnsetType = msgspec.UNSET
    int_value: int | str | msgspec.UnsetType = msgspec.UNSET
    array_value: Any = msgspec.UNSET


class _Attr(msgspec.Struct):
    key: str
    value: _Value | None = None


class _Resource(msgspec.Struct):
    attributes: list[_Attr] = []


class _Scope(msgspec.Struct):
    name: Any = None


class _Span(msgspec.Struct, rename="camel"):
    trace_id: str | msgspec.UnsetType = msgspec.UNSET
    span_id: str | msgspec.UnsetType = msgspec.UNSET
    parent_span_id: str | None = None
    start_time_unix_nano: str | int | msgspec.UnsetType = msgspec.UNSET
    attributes: list[_Attr] = []


class _ScopeSpans(msgspec.Struct):
    scope: _Scope | None = None
    spans: list[_Span] | None = None


class _ResourceSpans(msgspec.Struct, rename="camel"):
    resource: _Resource | None = None
    scope_spans: list[_ScopeSpans] | None = None


class _Request(msgspec.Struct, rename="camel"):
    resource_spans: list[_ResourceSpans]


_DECODER = msgspec.json.Decoder(_Request)


class Facts(NamedTuple):
    """What places a call (feature, route, model): calls alike in all of these are placed once."""

    source: str
    provider: str | None
    host: str | None
    region: str | None
    request_model: str | None
    response_model: str | None
    feature: str | None
    service_name: str | None
    scope: str
    cached_beside: bool
    status: str


class Record(NamedTuple):
    """One call as the importer needs it: its id, its facts and its numbers."""

    key: str
    facts: Facts
    day: date
    input_tokens: int  # cached input included
    output_tokens: int
    cached_input_tokens: int
    reported_cost: float | None
    line: int
    trace_id: str = ""
    span_id: str = ""
    parent_id: str = ""
    merged: bool = False  # the second span of a call already seen (SDK tracing + an instrumentation)


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


def _typed_value(value: _Value | None) -> Any:
    """As `_value`, for a value the fast decoder read (each field UNSET unless the JSON had it)."""
    if value is None:
        return None
    for found in (value.string_value, value.bool_value, value.double_value):
        if found is not msgspec.UNSET:
            return found
    if value.int_value is not msgspec.UNSET:
        return int(value.int_value)
    if value.array_value is not msgspec.UNSET:
        return _value({"arrayValue": value.array_value})
    return None


def _typed_attributes(attrs: list[_Attr]) -> dict[str, Any]:
    unset = msgspec.UNSET
    return {a.key: (v.string_value if (v := a.value) is not None and v.string_value is not unset
                    else _typed_value(v)) for a in attrs}


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


def day_of(ns: int) -> date:
    if not 0 <= ns < LAST_NS:
        raise ValueError("startTimeUnixNano is out of range")
    return date.fromordinal(EPOCH + ns // DAY_NS)


@dataclass(frozen=True)
class _Resourced:
    """What a span takes from its resource: read once per resource, not once per span."""

    attrs: dict[str, Any]
    region: Any
    service_name: str | None

    @classmethod
    def of(cls, attrs: dict[str, Any]) -> _Resourced:
        return cls(attrs, attrs.get("cloud.region"), _text(attrs.get("service.name")))


def _record(attrs: dict[str, Any], resource: _Resourced, scope: str, trace_id: str, span_id: str, parent_id: str,
            start: Any, line: int, feature_attribute: str) -> Record:
    """A GenAI span's record, from its attributes (the caller has checked it is a GenAI span)."""
    if not trace_id or not span_id:
        raise ValueError("the span has no traceId or spanId")
    get = attrs.get
    input_tokens = _count(attrs, "gen_ai.usage.input_tokens")
    cached = next((_count(attrs, a) for a in CACHED_ATTRIBUTES if a in attrs), 0)
    beside = scope.startswith(CACHED_BESIDE_SCOPES) or cached > input_tokens
    facts = Facts(
        "otlp", _text(get("gen_ai.provider.name") or get("gen_ai.system")), _text(get("server.address")),
        _text(get("cloud.region") or resource.region), _text(get("gen_ai.request.model")),
        _text(get("gen_ai.response.model")), _text(get(feature_attribute) or resource.attrs.get(feature_attribute)),
        resource.service_name, scope, beside and cached > 0, "ok")
    return Record(f"otlp:{trace_id}:{span_id}", facts, day_of(int(start)),
                  input_tokens + cached if beside else input_tokens, _count(attrs, "gen_ai.usage.output_tokens"),
                  cached, _cost(get("gen_ai.usage.cost")), line, trace_id, span_id, parent_id)


class Merger:
    """Spots the second GenAI span of one call: parent and child in one trace with the same model and tokens,
    in lines starting at most MERGE_WINDOW bytes apart (so the answer is the same however a file is split)."""

    def __init__(self) -> None:
        self.traces: dict[str, list[tuple[str, str, tuple[Any, ...], int]]] = {}
        self.order: deque[tuple[int, str]] = deque()

    def forget_before(self, position: int) -> None:
        order, traces = self.order, self.traces
        while order and order[0][0] < position:
            _, trace = order.popleft()
            kept = [entry for entry in traces.get(trace, ()) if entry[3] >= position]
            if kept:
                traces[trace] = kept
            else:
                traces.pop(trace, None)

    def is_second(self, record: Record, position: int) -> bool:
        facts = record.facts
        signature = (facts.response_model or facts.request_model, record.input_tokens, record.output_tokens)
        spans = self.traces.get(record.trace_id)
        if spans is None:
            spans = self.traces[record.trace_id] = []
        else:
            for span_id, parent_id, other, _ in spans:
                if other == signature and (record.parent_id == span_id or parent_id == record.span_id):
                    return True
        spans.append((record.span_id, record.parent_id, signature, position))
        self.order.append((position, record.trace_id))
        return False


OtlpItem = Record | Skipped | Malformed
RecordItem = OtlpItem


def otlp_lines(lines: Iterable[tuple[int, int, bytes]], name: str, *, feature_attribute: str = "app.feature",
               emit_from: int = 0) -> Iterator[OtlpItem]:
    """Records of (line number, byte position, line) triples; lines before position `emit_from` only teach
    the merger (a chunk's lead-in), nothing of them is yielded."""
    merger = Merger()
    for number, position, line in lines:
        merger.forget_before(position - MERGE_WINDOW)
        if not line.strip():
            continue
        try:
            items = _fast_line(line, name, number, feature_attribute)
        except msgspec.DecodeError:
            items = _plain_line(line, name, number, feature_attribute)
        lead_in = position < emit_from
        for item in items:
            if isinstance(item, Record) and merger.is_second(item, position):
                item = item._replace(merged=True)
            if not lead_in:
                yield item


def _fast_line(line: bytes, name: str, number: int, feature_attribute: str) -> list[OtlpItem]:
    request = _DECODER.decode(line)
    out: list[OtlpItem] = []
    skipped = Skipped(name, number)
    for resource_span in request.resource_spans:
        try:
            resource = _Resourced.of(_typed_attributes(resource_span.resource.attributes)
                                     if resource_span.resource is not None else {})
        except (ValueError, TypeError, AttributeError) as exc:
            out.append(Malformed(name, number, f"a resource is malformed ({_why(exc)})"))
            continue
        for scope_span in resource_span.scope_spans or ():
            scope = str((scope_span.scope.name if scope_span.scope is not None else None) or "")
            for span in scope_span.spans or ():
                try:
                    attrs = _typed_attributes(span.attributes)
                    if not ("gen_ai.operation.name" in attrs or "gen_ai.provider.name" in attrs
                            or "gen_ai.system" in attrs):
                        out.append(skipped)
                        continue
                    if span.trace_id is msgspec.UNSET:
                        raise KeyError("traceId")
                    if span.span_id is msgspec.UNSET:
                        raise KeyError("spanId")
                    if span.start_time_unix_nano is msgspec.UNSET:
                        raise KeyError("startTimeUnixNano")
                    out.append(_record(attrs, resource, scope, span.trace_id, span.span_id,
                                       span.parent_span_id or "", span.start_time_unix_nano, number,
                                       feature_attribute))
                except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
                    out.append(Malformed(name, number, f"a GenAI span is malformed ({_why(exc)})"))
    return out


def _plain_line(line: bytes, name: str, number: int, feature_attribute: str) -> list[OtlpItem]:
    text = line.decode("utf-8", "replace").strip()
    if number == 1:
        text = text.removeprefix("\ufeff")
    try:
        request = json.loads(text)
        resource_spans = request["resourceSpans"]
        if not isinstance(resource_spans, list):
            raise ValueError("resourceSpans is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        return [Malformed(name, number, f"not an OTLP JSON export request ({_why(exc)})")]
    out: list[OtlpItem] = []
    for resource_span in resource_spans:
        try:
            resource = _Resourced.of(attributes((resource_span.get("resource") or {}).get("attributes", [])))
            scopes = resource_span.get("scopeSpans") or []
        except (AttributeError, ValueError, KeyError, TypeError) as exc:
            out.append(Malformed(name, number, f"a resource is malformed ({_why(exc)})"))
            continue
        for scope_span in scopes:
            scope = str(((scope_span or {}).get("scope") or {}).get("name") or "")
            for span in (scope_span or {}).get("spans") or []:
                out.append(_plain_span(span, resource, scope, name, number, feature_attribute))
    return out


def _plain_span(span: Any, resource: _Resourced, scope: str, name: str, line: int,
                feature_attribute: str) -> OtlpItem:
    try:
        attrs = attributes(span.get("attributes", []))
        if not any(marker in attrs for marker in GENAI_MARKERS):
            return Skipped(name, line)
        return _record(attrs, resource, scope, str(span["traceId"]), str(span["spanId"]),
                       str(span.get("parentSpanId") or ""), span["startTimeUnixNano"], line, feature_attribute)
    except (ValueError, KeyError, TypeError, AttributeError, OverflowError) as exc:
        return Malformed(name, line, f"a GenAI span is malformed ({_why(exc)})")


def numbered(handle: IO[bytes], start: int = 0, first_line: int = 1,
             end: int | None = None) -> Iterator[tuple[int, int, bytes]]:
    """(line number, byte position, line) for each line of a binary file, from `start` to `end`."""
    position = start
    for number, line in enumerate(handle, start=first_line):
        if end is not None and position >= end:
            return
        yield number, position, line
        position += len(line)


def open_binary(path: Path) -> IO[bytes]:
    with path.open("rb") as probe:
        magic = probe.read(2)
    if magic == b"\x1f\x8b":
        return gzip.open(path, "rb")  # type: ignore[return-value]  # a GzipFile reads bytes like any IO[bytes]
    return path.open("rb")


def read_otlp_records(path: Path, *, feature_attribute: str = "app.feature") -> Iterator[OtlpItem]:
    with open_binary(path) as handle:
        yield from otlp_lines(numbered(handle), str(path), feature_attribute=feature_attribute)


def call_of(record: Record, file: str) -> Call:
    f = record.facts
    return Call(key=record.key, source=f.source, file=file, line=record.line, day=record.day, provider=f.provider,
                host=f.host, region=f.region, request_model=f.request_model, response_model=f.response_model,
                input_tokens=record.input_tokens, output_tokens=record.output_tokens,
                cached_input_tokens=record.cached_input_tokens, feature=f.feature, service_name=f.service_name,
                reported_cost=record.reported_cost, scope=f.scope, cached_beside=f.cached_beside,
                trace_id=record.trace_id, span_id=record.span_id, parent_id=record.parent_id, status=f.status,
                merged=record.merged)


def read_otlp(path: Path, *, feature_attribute: str = "app.feature") -> Iterator[Item]:
    """The file's calls, spans that are not calls, and malformed records, one at a time."""
    for item in read_otlp_records(path, feature_attribute=feature_attribute):
        yield call_of(item, str(path)) if isinstance(item, Record) else item


def _why(exc: Exception) -> str:
    if isinstance(exc, KeyError):
        return f"no {exc.args[0]!r}"
    return str(exc).split("\n")[0][:200]


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
    for item in read_litellm_records(path):
        yield call_of(item, name) if isinstance(item, Record) else item


def read_litellm_records(path: Path) -> Iterator[RecordItem]:
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
                facts = Facts("litellm", provider, _host(row.get("api_base")), None, model, None,
                              _litellm_feature(tags, metadata), None, "litellm", False, _litellm_status(row, metadata))
                yield Record(f"litellm:{request_id}", facts, _day(row["startTime"]), usage["prompt_tokens"],
                             usage["completion_tokens"], 0, _cost(row.get("spend")), start)
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                yield Malformed(name, start, f"a SpendLogs row is malformed ({_why(exc)})")
