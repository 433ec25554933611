"""Eval results from the tools that produce them: promptfoo result files and Inspect AI JSON logs.

Both formats name models by provider-prefixed ids (`openai:chat:gpt-5-mini`, `openai/gpt-5-mini`);
an id maps to the store only when exactly that model is served on a route whose service matches
the prefix. An id that maps to nothing is listed as unknown, never guessed; an id served by
several routes of that service becomes a model-only result (no route) unless `--route` pins it.

Formats followed (credited):
- promptfoo `eval -o results.json`: the `OutputFile` type in promptfoo's src/types/index.ts
  (`results: EvaluateSummaryV3 {version: 3, timestamp, results: EvaluateResult[], prompts, stats}`;
  each result has `provider.id`, `success`, `score`, `namedScores`). promptfoo is MIT-licensed,
  https://github.com/promptfoo/promptfoo.
- Inspect AI `inspect eval --log-format json`: the `EvalLog` model of inspect_ai.log
  (`eval.model`, `eval.created`, `results.scores[].metrics`, `results.completed_samples`).
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from compliance.problems import ComplianceError
from compliance.store import documents as d

# Provider prefixes of both tools -> the route `service` they reach.
SERVICES: dict[str, tuple[str, ...]] = {
    "openai": ("OpenAI API",),
    "anthropic": ("Anthropic API",),
    "bedrock": ("AWS Bedrock",),
    "vertex": ("Google Vertex AI",),
    "google": ("Gemini Developer API",),
    "azure": ("Azure OpenAI",),
    "azureopenai": ("Azure OpenAI",),
    "mistral": ("Mistral La Plateforme",),
    "vllm": ("self-hosted vLLM",),
}
_PROMPTFOO_TYPES = {"chat", "completion", "messages", "responses", "embedding", "embeddings"}


@dataclass
class ImportResult:
    """What one file gave: results mapped to the store, and the ids that map to nothing."""

    file: str
    results: list[d.EvalResult] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelRef:
    provider: str
    model: str
    raw: str


def parse_promptfoo_id(raw: str) -> ModelRef | None:
    """`openai:chat:gpt-5-mini` / `anthropic:messages:claude-x` / `bedrock:eu.anthropic...:0` -> provider, model."""
    if ":" not in raw:
        return None
    provider, rest = raw.split(":", 1)
    head, _, tail = rest.partition(":")
    if head in _PROMPTFOO_TYPES and tail:
        rest = tail
    return ModelRef(provider, rest, raw)


def parse_inspect_id(raw: str) -> ModelRef | None:
    """`openai/gpt-5-mini`, `bedrock/eu.anthropic...` -> provider, model (Inspect's `provider/model`)."""
    if "/" not in raw:
        return None
    provider, model = raw.split("/", 1)
    return ModelRef(provider, model, raw)


Mapping = dict[str, tuple[str, str]]  # a tool's id -> (route, model), given by the user (`--map`)


def locate(ref: ModelRef | None, dataset: d.DataSet, route: str | None,
           mapping: Mapping | None = None) -> tuple[str, str | None] | None:
    """The store's (model, route) for a tool's id, or None when it is not a model on a matching route."""
    if ref is None:
        return None
    if mapping and ref.raw in mapping:
        mapped_route, mapped_model = mapping[ref.raw]
        served = any(r.id == mapped_route and mapped_model in r.model_ids for r in dataset.routes)
        return (mapped_model, mapped_route) if served else None
    services = SERVICES.get(ref.provider.lower())
    if services is None:
        return None
    serving = [r for r in dataset.routes if r.service in services and ref.model in r.model_ids]
    if route is not None:
        return (ref.model, route) if any(r.id == route for r in serving) else None
    if not serving:
        return None
    return ref.model, serving[0].id if len(serving) == 1 else None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.") or "x"


def result_id(feature: str, model: str, route: str | None, metric: str, run_on: date) -> str:
    return _slug(f"{feature}.{route or 'any'}.{model}.{metric}.{run_on.isoformat()}")[:100]


def _day(text: Any) -> date | None:
    if isinstance(text, str) and re.match(r"^\d{4}-\d{2}-\d{2}", text):
        return date.fromisoformat(text[:10])
    return None


def read_promptfoo(data: dict[str, Any], *, feature: str, dataset: d.DataSet, route: str | None,
                   source: str, mapping: Mapping | None = None) -> ImportResult:
    summary = data.get("results")
    if not isinstance(summary, dict) or not isinstance(summary.get("results"), list):
        raise ComplianceError(f"{source}: not a promptfoo result file (no results.results list)")
    run_on = _day(summary.get("timestamp")) or _day((data.get("metadata") or {}).get("exportedAt"))
    if run_on is None:
        raise ComplianceError(f"{source}: no results.timestamp to date the run")
    by_provider: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in summary["results"]:
        provider = row.get("provider") if isinstance(row, dict) else None
        raw = provider.get("id") if isinstance(provider, dict) else provider
        if isinstance(raw, str):
            by_provider[raw].append(row)
    found = ImportResult(source)
    for raw, rows in by_provider.items():
        where = locate(parse_promptfoo_id(raw) or ModelRef("", raw, raw), dataset, route, mapping)
        if where is None:
            found.unknown.append(raw)
            continue
        model, on_route = where
        metrics: dict[str, list[float]] = {"pass_rate": [1.0 if r.get("success") else 0.0 for r in rows]}
        for r in rows:
            for name, value in (r.get("namedScores") or {}).items():
                if isinstance(value, (int, float)):
                    metrics.setdefault(str(name), []).append(float(value))
        for metric, values in metrics.items():
            found.results.append(d.EvalResult(
                id=result_id(feature, model, on_route, metric, run_on), feature=feature, model=model, route=on_route,
                metric=metric, score=round(sum(values) / len(values), 6), samples=len(values), run_on=run_on,
                source=f"promptfoo {Path(source).name} eval {data.get('evalId') or ''}".strip()))
    return found


def read_inspect(data: dict[str, Any], *, feature: str, dataset: d.DataSet, route: str | None,
                 source: str, mapping: Mapping | None = None) -> ImportResult:
    spec = data.get("eval")
    if not isinstance(spec, dict) or not isinstance(spec.get("model"), str):
        raise ComplianceError(f"{source}: not an Inspect AI log (no eval.model)")
    found = ImportResult(source)
    if data.get("status") != "success":
        raise ComplianceError(f"{source}: the Inspect run's status is {data.get('status')!r}, not 'success'")
    run_on = _day(spec.get("created"))
    if run_on is None:
        raise ComplianceError(f"{source}: no eval.created to date the run")
    where = locate(parse_inspect_id(spec["model"]) or ModelRef("", spec["model"], spec["model"]), dataset, route,
                   mapping)
    if where is None:
        found.unknown.append(spec["model"])
        return found
    model, on_route = where
    results = data.get("results") or {}
    samples = int(results.get("completed_samples") or results.get("total_samples") or 0)
    scores = [s for s in results.get("scores") or [] if isinstance(s, dict)]
    for score in scores:
        for key, metric in (score.get("metrics") or {}).items():
            value = metric.get("value") if isinstance(metric, dict) else None
            if key == "stderr" or not isinstance(value, (int, float)):
                continue
            name = key if len(scores) == 1 else f"{score.get('name')}/{key}"
            found.results.append(d.EvalResult(
                id=result_id(feature, model, on_route, name, run_on), feature=feature, model=model, route=on_route,
                metric=name, score=float(value), samples=samples, run_on=run_on,
                source=f"Inspect AI {Path(source).name} task {spec.get('task', '')}".strip()))
    return found


def named_feature(data: dict[str, Any], features: set[str]) -> str | None:
    """The store's feature a result file names exactly, or None: its metadata's `feature`, else the Inspect task's
    or promptfoo description's name. Never a near match: an eval credited to the wrong feature misleads."""
    spec = data.get("eval") if isinstance(data.get("eval"), dict) else data.get("config")
    if not isinstance(spec, dict):
        return None
    metadata = spec.get("metadata")
    named = metadata.get("feature") if isinstance(metadata, dict) else None
    for value in (named, spec.get("task"), spec.get("description")):
        if isinstance(value, str) and value.strip() in features:
            return value.strip()
    return None


def read_file(path: Path, *, feature: str | None, dataset: d.DataSet, route: str | None = None,
              mapping: Mapping | None = None) -> ImportResult:
    """One promptfoo result file or Inspect AI JSON log, recognised by its shape; `feature`: the feature whose eval
    set was run, or None to take the one the file names (`named_feature`)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ComplianceError(f"{path}: cannot read it as JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise ComplianceError(f"{path}: expected a JSON object")
    if feature is None:
        feature = named_feature(data, {f.id for f in dataset.features})
        if feature is None:
            raise ComplianceError(f"{path}: the file names none of the store's features (in its metadata's "
                                  "`feature`, the Inspect task or the promptfoo description): name it with --feature")
    if isinstance(data.get("eval"), dict):
        return read_inspect(data, feature=feature, dataset=dataset, route=route, source=str(path), mapping=mapping)
    return read_promptfoo(data, feature=feature, dataset=dataset, route=route, source=str(path), mapping=mapping)


def merged(dataset: d.DataSet, new: list[d.EvalResult]) -> d.DataSet:
    """The data set with `new` added; a result with the same id (same run, model, metric) is replaced."""
    ids = {e.id for e in new}
    kept = [e for e in dataset.evals if e.id not in ids]
    return dataset.model_copy(update={"evals": kept + new})
