"""Which store route(s) a call reaches, from what is known about it (processor, service, host, region, model).

One resolver for every source of evidence: the code scanner (`compliance.scan`) and, later, telemetry
records (issue 13) both describe a call as a `CallFacts` and get back a `Resolution` with the route,
or the candidate routes when several fit, and plain reasons. It knows nothing about Python syntax.

A fact is `Known(value)`, or comes from an environment variable (`Known(env="AWS_REGION")`, possibly
with the default the code gives), or is unknown (`None`). An unknown fact fits every route; an env
fact without a value fits a route whose `scan: env` hint names that variable with a matching value,
and otherwise every route (the reasons say so).
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

# Bedrock cross-Region inference profiles: the model id's prefix names the geography served.
CROSS_REGION_PREFIXES = {"global.": "global", "eu.": "eu", "us.": "us", "apac.": "apac", "jp.": "jp",
                         "au.": "au", "us-gov.": "us", "ca.": "ca"}
FIELDS = ("processor", "service", "region", "model")
# A provider's dated snapshot of a model id: `gpt-5-mini-2025-08-07`, `claude-sonnet-4-5-20250929`,
# Vertex's `claude-sonnet-4-5@20250929`.
SNAPSHOT = re.compile(r"(?:-\d{4}-\d{2}-\d{2}|-\d{8}|@\d{8}|@\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Known:
    """A fact about a call. `value` None with `env` set: read from that variable at run time."""

    value: str | None = None
    env: str | None = None
    options: tuple[str, ...] = ()  # when not one value: the values it may take (e.g. by environment)


@dataclass(frozen=True)
class CallFacts:
    """What is known about where one call goes. Telemetry fills these from a record, the scanner from code."""

    processor: Known | None = None
    service: Known | None = None
    region: Known | None = None
    model: Known | None = None
    host: Known | None = None


class RouteLike(Protocol):
    """The parts of a store route (`compliance.store.documents.Route`) the resolver reads."""

    @property
    def id(self) -> str: ...
    @property
    def processor(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def region(self) -> str | None: ...
    @property
    def model_ids(self) -> list[str]: ...
    @property
    def scan(self) -> object: ...


@dataclass(frozen=True)
class Hints:
    """A route's optional `scan:` hints: hosts that reach it, and environment values of its deployment."""

    hosts: tuple[str, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, route: RouteLike) -> Hints:
        raw = getattr(route, "scan", None)
        if raw is None:
            return cls()
        hosts = getattr(raw, "hosts", None) if not isinstance(raw, dict) else raw.get("hosts")
        env = getattr(raw, "env", None) if not isinstance(raw, dict) else raw.get("env")
        return cls(tuple(hosts or ()), dict(env or {}))


@dataclass(frozen=True)
class Resolution:
    """The route a call reaches (or the candidates), the facts as matched, and why."""

    route: str | None
    candidates: tuple[str, ...]
    reasons: tuple[str, ...]
    hinted: Mapping[str, str] = field(default_factory=dict)  # field -> value only a route's hint supplied


def norm(text: str | None) -> str:
    return (text or "").strip().lower()


def host_matches(host: str, patterns: Sequence[str]) -> bool:
    """`host` (maybe with a port) against glob patterns like `*.openai.azure.com` or `localhost:8000`."""
    host = norm(host)
    bare = host.split(":", 1)[0]
    return any(fnmatch.fnmatchcase(host, norm(p)) or fnmatch.fnmatchcase(bare, norm(p)) for p in patterns)


def served_model(model: str, models: Sequence[str]) -> str | None:
    """The id in `models` that `model` is, or is a dated snapshot of (`gpt-5-mini-2025-08-07` -> `gpt-5-mini`)."""
    wanted = norm(model)
    listed = {norm(m): m for m in models}
    if wanted in listed:
        return listed[wanted]
    base = SNAPSHOT.sub("", wanted)
    return listed.get(base) if base != wanted else None


def model_geography(model: str | None) -> str | None:
    """`eu.anthropic.claude...` -> `eu`; None for a model id without a cross-Region prefix."""
    lowered = norm(model)
    for prefix, geography in CROSS_REGION_PREFIXES.items():
        if lowered.startswith(prefix):
            return geography
    return None


def _describe(name: str, fact: Known | None) -> str:
    if fact is None:
        return f"{name} unknown"
    if fact.value is not None and fact.env:
        return f"{name} {fact.value!r} (default of ${fact.env})"
    if fact.value is not None:
        return f"{name} {fact.value!r}"
    if fact.options:
        return f"{name} one of {', '.join(fact.options)}" + (f" (by ${fact.env})" if fact.env else "")
    if fact.env:
        return f"{name} from ${fact.env}"
    return f"{name} unknown"


def _value_for(name: str, fact: Known | None, hints: Hints) -> tuple[str | None, tuple[str, ...], bool]:
    """The value to match a route with: (value, options, supplied by the route's hint)."""
    if fact is None:
        return None, (), False
    if fact.value is not None:
        return fact.value, (), False
    if fact.env and fact.env in hints.env:
        return hints.env[fact.env], (), True
    return None, fact.options, False


def _region_fits(route: RouteLike, region: str | None, model: str | None) -> bool:
    geography = model_geography(model)
    if geography == "global":  # a global profile is served globally whatever the calling Region
        return norm(route.region) == "global"
    if region is None:
        return True
    return norm(route.region) == norm(region)


def _misfit(route: RouteLike, facts: CallFacts, hints: Hints) -> tuple[str | None, dict[str, str]]:
    """Why `route` does not fit (None when it does), and the values only its hints supplied."""
    hinted: dict[str, str] = {}
    host_hit = bool(facts.host and hints.hosts)
    if facts.host is not None:
        host, _, from_hint = _value_for("host", facts.host, hints)
        if host is not None and hints.hosts:
            if not host_matches(host, hints.hosts):
                return f"host {host!r} is not one of its hosts ({', '.join(hints.hosts)})", hinted
            host_hit = True
            if from_hint:
                hinted["host"] = host
    values: dict[str, str | None] = {}
    for name in FIELDS:
        fact = getattr(facts, name)
        value, options, from_hint = _value_for(name, fact, hints)
        if from_hint and value is not None:
            hinted[name] = value
        values[name] = value
        actual = {"processor": route.processor, "service": route.service, "region": route.region}.get(name)
        if name == "model":
            if value is not None and route.model_ids and served_model(value, route.model_ids) is None:
                return f"model {value!r} is not served on it", hinted
            if value is None and options and route.model_ids and not {norm(o) for o in options} & {
                    norm(m) for m in route.model_ids}:
                return f"none of the models {', '.join(options)} is served on it", hinted
            continue
        if name == "region":
            continue  # after the model is known (cross-Region profiles)
        if value is not None and norm(value) != norm(actual):
            return f"its {name} is {actual!r}, not {value!r}", hinted
        if value is None and options and norm(actual) not in {norm(o) for o in options}:
            return f"its {name} {actual!r} is not one of {', '.join(options)}", hinted
    region = values["region"]
    region_fact = facts.region
    if not _region_fits(route, region, values["model"]):
        geography = model_geography(values["model"])
        if geography == "global":
            return f"model {values['model']!r} is a global profile and its region is {route.region!r}", hinted
        return f"its region is {route.region!r}, not {region!r}", hinted
    if region is None and route.region and (host_hit or (region_fact is not None and region_fact.env
                                                          and region_fact.env in hints.env)):
        hinted["region"] = route.region
    geography = model_geography(values["model"])
    if geography and geography != "global" and region and not norm(region).startswith(geography):
        return f"model {values['model']!r} is a {geography} profile, but the region is {region!r}", hinted
    return None, hinted


def resolve(facts: CallFacts, routes: Sequence[RouteLike], *, describe: bool = True) -> Resolution:
    """The route(s) that fit every known fact about a call, with reasons in plain sentences.

    `describe=False` leaves out the opening sentence restating the facts (when the caller explains them).
    """
    known = "; ".join(_describe(name, getattr(facts, name)) for name in ("processor", "service", "host", "region",
                                                                         "model") if getattr(facts, name))
    reasons: list[str] = []
    if describe:
        reasons.append(f"known about the call: {known}" if known else "nothing is known about where the call goes")
    if facts.processor is None and facts.service is None and facts.host is None:
        return Resolution(None, (), (*reasons, "neither processor, service nor host is known, so no route is "
                                     "matched"))
    fits: list[str] = []
    hinted_by: dict[str, dict[str, str]] = {}
    near: list[str] = []
    host_only = facts.processor is None and facts.service is None
    for route in routes:
        hints = Hints.of(route)
        if host_only and not hints.hosts:
            continue  # an unknown host only reaches a route through its hints
        why, hinted = _misfit(route, facts, hints)
        if why is None:
            fits.append(route.id)
            hinted_by[route.id] = hinted
        elif _same_service(route, facts):
            near.append(f"{route.id}: {why}")
    by_host = [r.id for r in routes if r.id in fits and facts.host is not None and Hints.of(r).hosts
               and (value := _value_for("host", facts.host, Hints.of(r))[0]) is not None
               and host_matches(value, Hints.of(r).hosts)]
    if by_host and len(by_host) < len(fits):
        reasons.append(f"the host is named by the scan hints of {', '.join(by_host)}")
        fits = by_host
    if len(fits) == 1:
        hinted = hinted_by[fits[0]]
        if hinted:
            reasons.append("the route's scan hints supply " + ", ".join(f"{k} {v!r}" for k, v in hinted.items()))
        reasons.append(f"one route fits: {fits[0]}")
        return Resolution(fits[0], (), tuple(reasons), hinted)
    if fits:
        unknown = [name for name in ("region", "model") if _open(getattr(facts, name))]
        reasons.append(f"{len(fits)} routes fit ({', '.join(fits)})"
                       + (f" because the {' and the '.join(unknown)} {'is' if len(unknown) == 1 else 'are'} "
                          "not known" if unknown else ""))
        return Resolution(None, tuple(fits), tuple(reasons))
    if near:
        reasons.append("no route fits: " + "; ".join(near[:4]) + ("; ..." if len(near) > 4 else ""))
    else:
        reasons.append("no route in the store has this processor and service")
    return Resolution(None, (), tuple(reasons))


def _open(fact: Known | None) -> bool:
    return fact is None or fact.value is None


def _same_service(route: RouteLike, facts: CallFacts) -> bool:
    for name in ("processor", "service"):
        fact = getattr(facts, name)
        if fact is not None and fact.value is not None and norm(fact.value) != norm(getattr(route, name)):
            return False
    return True


def with_value(fact: Known | None, value: str) -> Known:
    """The fact with a value filled in (e.g. from a hint), keeping where it came from."""
    return replace(fact or Known(), value=value)
