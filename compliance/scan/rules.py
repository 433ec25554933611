"""The scanner's knowledge of LLM SDKs, read from the versioned data file `rules.yaml` beside this module."""

from __future__ import annotations

import fnmatch
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

RULES_FILE = Path(__file__).with_name("rules.yaml")
FACTS = ("processor", "service", "region", "model", "host")


@dataclass(frozen=True)
class FactSpec:
    """How one fact is decided: a fixed value, arguments, an environment variable, a default."""

    value: str | None = None
    args: tuple[str, ...] = ()
    pos: int | None = None
    env: str | None = None
    default: str | None = None
    options: tuple[str, ...] = ()
    init: str | None = None

    @classmethod
    def of(cls, raw: Any) -> FactSpec:
        if raw is None:
            return cls()
        if isinstance(raw, str):
            return cls(value=raw)
        return cls(args=tuple(raw.get("args", ())), pos=raw.get("pos"), env=raw.get("env"),
                   default=raw.get("default"), options=tuple(raw.get("options", ())), init=raw.get("init"))


def _facts(raw: dict[str, Any]) -> dict[str, FactSpec]:
    return {name: FactSpec.of(raw[name]) for name in FACTS if name in raw}


@dataclass(frozen=True)
class Variant:
    when: dict[str, Any]
    facts: dict[str, FactSpec]


@dataclass(frozen=True)
class ClientRule:
    """A constructor (or factory) that makes an object whose `calls` reach a model."""

    id: str
    match: tuple[str, ...]
    sdk: str
    kind: str = "client"  # client | model (LangChain) | session (boto3) | http | function
    label: str | None = None
    facts: dict[str, FactSpec] = field(default_factory=dict)
    calls: tuple[str, ...] = ()
    wrappers: tuple[str, ...] = ()
    produces: dict[str, str] = field(default_factory=dict)
    requires: dict[str, Any] | None = None
    variants: tuple[Variant, ...] = ()
    model_at: str = "call"  # where the model is named: at the call, or at construction
    model_prefixes: dict[str, dict[str, FactSpec]] = field(default_factory=dict)
    model_names: dict[str, dict[str, FactSpec]] = field(default_factory=dict)

    @classmethod
    def of(cls, raw: dict[str, Any], kind: str | None = None) -> ClientRule:
        return cls(
            id=raw["id"], match=tuple(raw["match"]), sdk=raw["sdk"], kind=kind or raw.get("kind", "client"),
            label=raw.get("label"), facts=_facts(raw), calls=tuple(raw.get("calls", ())),
            wrappers=tuple(raw.get("wrappers", ())), produces=dict(raw.get("produces", {})),
            requires=raw.get("requires"),
            variants=tuple(Variant(dict(v.get("when") or {}), _facts(v)) for v in raw.get("variants", ())),
            model_at=raw.get("model_at", "call"),
            model_prefixes={k: _facts(v) for k, v in (raw.get("model_prefixes") or {}).items()},
            model_names={k: _facts(v) for k, v in (raw.get("model_names") or {}).items()},
        )


@dataclass(frozen=True)
class Endpoint:
    """A known LLM host: what reaching it means."""

    host: str
    pattern: re.Pattern[str]
    processor: str | None = None
    service: str | None = None
    region: str | None = None
    self_hosted: bool = False

    def match(self, host: str) -> dict[str, str] | None:
        found = self.pattern.fullmatch(host.lower().split(":", 1)[0])
        if found is None:
            return None
        facts = {k: v for k, v in (("processor", self.processor), ("service", self.service),
                                   ("region", self.region)) if v}
        if "region" in found.groupdict():
            facts["region"] = found.group("region")
        return facts


def _host_pattern(host: str) -> re.Pattern[str]:
    parts = re.split(r"(\{region\}|\*)", host.lower())
    out = []
    for part in parts:
        if part == "{region}":
            out.append(r"(?P<region>[a-z0-9-]+)")
        elif part == "*":
            out.append(r"[a-z0-9.-]+")
        else:
            out.append(re.escape(part))
    return re.compile("".join(out))


@dataclass(frozen=True)
class Rules:
    version: str
    clients: tuple[ClientRule, ...]
    functions: tuple[ClientRule, ...]
    endpoints: tuple[Endpoint, ...]
    llm_paths: tuple[str, ...]

    @functools.cached_property
    def by_name(self) -> dict[str, ClientRule]:
        """Fully qualified constructor or function name -> rule."""
        return {name: rule for rule in (*self.clients, *self.functions) for name in rule.match}

    @functools.cached_property
    def by_id(self) -> dict[str, ClientRule]:
        return {rule.id: rule for rule in (*self.clients, *self.functions)}

    @functools.cached_property
    def callables(self) -> frozenset[str]:
        """Dotted names the rules call by name: constructors, functions and set-up calls (`vertexai.init`)."""
        names = set(self.by_name)
        for rule in (*self.clients, *self.functions):
            specs = [*rule.facts.values(), *(s for v in rule.variants for s in v.facts.values())]
            specs += [s for extra in (*rule.model_prefixes.values(), *rule.model_names.values())
                      for s in extra.values()]
            names |= {spec.init for spec in specs if spec.init}
        return frozenset(names)

    @functools.cached_property
    def modules(self) -> tuple[str, ...]:
        """Top-level packages of the callables: a file naming none of them has no call the rules describe.

        Names containing another one (`langchain_openai` contains `openai`) are left out: one `in` covers both.
        """
        names = sorted({name.split(".", 1)[0] for name in self.callables})
        return tuple(n for n in names if not any(other != n and other in n for other in names))

    @functools.cached_property
    def words(self) -> frozenset[str]:
        """Last names of every callable, call, wrapper and factory method: a call site spells one of them."""
        words = {name.rsplit(".", 1)[-1] for name in self.callables}
        for rule in (*self.clients, *self.functions):
            words |= {call.rsplit(".", 1)[-1] for call in (*rule.calls, *rule.wrappers)}
            words |= set(rule.produces)
        return frozenset(words)

    def endpoint(self, host: str) -> tuple[Endpoint, dict[str, str]] | None:
        for endpoint in self.endpoints:
            facts = endpoint.match(host)
            if facts is not None:
                return endpoint, facts
        return None

    def is_llm_path(self, path: str) -> bool:
        return any(fnmatch.fnmatchcase(path, pattern) for pattern in self.llm_paths)


@functools.cache
def load_rules(path: Path = RULES_FILE) -> Rules:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Rules(
        version=str(raw["version"]),
        clients=tuple(ClientRule.of(item) for item in raw["clients"]),
        functions=tuple(ClientRule.of(item, kind="function") for item in raw["functions"]),
        endpoints=tuple(Endpoint(host=e["host"], pattern=_host_pattern(e["host"]), processor=e.get("processor"),
                                 service=e.get("service"), region=e.get("region"),
                                 self_hosted=bool(e.get("self_hosted"))) for e in raw["endpoints"]),
        llm_paths=tuple(raw.get("llm_paths", ())),
    )
