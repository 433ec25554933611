"""Which feature and which route an observed call belongs to (observe.md, "Resolution").

The route comes from the shared resolver (`compliance.routing`), the one `scan` uses: a record
becomes a `CallFacts` (processor and service from the host, else from the provider name; the
region the host or `cloud.region` carries, unless a Bedrock inference profile decides it; the
model) and the routes' `scan:` hints place hosts that name a resource, not a region.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from compliance.observe.records import Call, Facts
from compliance.routing import CallFacts, Known, Resolution, model_geography, resolve, served_model
from compliance.scan.rules import load_rules
from compliance.store import documents as d
from compliance.store.limits import NAME_LEN, TEXT_LEN

# gen_ai.provider.name / gen_ai.system values (and LiteLLM's custom_llm_provider) -> (processor, service),
# used when the host does not say (no server.address, or a host the endpoint table does not know).
PROVIDERS: dict[str, tuple[str | None, str | None]] = {
    "openai": ("openai", "OpenAI API"),
    "azure.ai.openai": ("microsoft", "Azure OpenAI"),
    "azure": ("microsoft", "Azure OpenAI"),
    "azure.ai.inference": (None, "Microsoft Foundry"),
    "azure_ai": (None, "Microsoft Foundry"),
    "aws.bedrock": ("aws", "AWS Bedrock"),
    "bedrock": ("aws", "AWS Bedrock"),
    "anthropic": ("anthropic", "Anthropic API"),
    "gemini": ("google-gemini-api", "Gemini Developer API"),
    "gcp.gemini": ("google-gemini-api", "Gemini Developer API"),
    "gcp.gen_ai": (None, None),  # the google-genai SDK for either API: the host decides
    "vertex_ai": ("google", "Google Vertex AI"),
    "gcp.vertex_ai": ("google", "Google Vertex AI"),
    "mistral_ai": ("mistral", "Mistral La Plateforme"),
    "mistral": ("mistral", "Mistral La Plateforme"),
    "cohere": ("cohere", "Cohere API"),
    "meta_llama": ("meta", "Meta Llama API"),
}


@dataclass(frozen=True)
class Placed:
    """An observed call's feature and route (None when not found), with the values seen when not found."""

    feature: str | None
    route: str | None
    model: str
    seen: str
    why: str
    values: dict[str, str | None] | None = None  # the values behind `seen`, kept to place the row again


def facts_of(call: Call | Facts) -> CallFacts:
    """What the record says about where the call went, as the resolver's facts."""
    host = call.host.lower() if call.host else None
    processor = service = region = None
    hit = load_rules().endpoint(host) if host else None
    if hit is not None and not hit[0].self_hosted:
        processor, service, region = (hit[1].get(k) for k in ("processor", "service", "region"))
    elif host is None:
        processor, service = PROVIDERS.get((call.provider or "").lower(), (None, None))
    # else a self-hosted or unknown host: only a route's `scan: hosts` hint places it (as in scan)
    region = region or call.region
    raw = call.response_model or call.request_model
    model = raw.rsplit("/", 1)[-1] if raw else None  # `google/gemini-2.5-flash`, an ARN's profile
    if model_geography(model):
        region = None  # a Bedrock inference profile decides the region over the host's
    return CallFacts(processor=Known(processor) if processor else None, service=Known(service) if service else None,
                     region=Known(region) if region else None, model=Known(model) if model else None,
                     host=Known(host) if host else None)


def facts_of_call(call: Call) -> Facts:
    return Facts(call.source, call.provider, call.host, call.region, call.request_model, call.response_model,
                 call.feature, call.service_name, call.scope, call.cached_beside, call.status)


class Placer:
    """The store's features and routes, ready to place observed calls (each distinct set of facts resolved once)."""

    def __init__(self, dataset: d.DataSet):
        self.routes = {r.id: r for r in dataset.routes}
        self.features = {f.id for f in dataset.features}
        self.by_service = {s.lower(): f.id for f in dataset.features for s in f.services}
        self._dataset = dataset
        self._resolve = lru_cache(maxsize=65_536)(self._resolution)
        self._placed: dict[tuple[str | None, ...], Placed] = {}

    def _resolution(self, facts: CallFacts) -> Resolution:
        return resolve(facts, self._dataset.routes, describe=False)

    def feature(self, call: Call | Facts) -> str | None:
        if call.feature and call.feature in self.features:
            return call.feature
        if call.service_name:
            return self.by_service.get(call.service_name.lower())
        return None

    def place(self, call: Call | Facts) -> Placed:
        """Where the call belongs; calls alike in every fact that matters are placed once."""
        key = (call.feature, call.service_name, call.provider, call.host, call.region,
               call.response_model or call.request_model)
        found = self._placed.get(key)
        if found is None:
            if len(self._placed) > 100_000:
                self._placed.clear()
            found = self._placed[key] = self._place(call)
        return found

    def _place(self, call: Call | Facts, *, feature: str | None = None, known_feature: bool = False,
               route: tuple[str, str] | None = None) -> Placed:
        """Placed; `known_feature` / `route` (route, model) keep what a stored row already had."""
        if not known_feature:
            feature = self.feature(call)
        raw = call.response_model or call.request_model
        resolution = None
        if route is None:
            resolution = self._resolve(facts_of(call))
            model = raw.rsplit("/", 1)[-1] if raw else ""
            if resolution.route is not None:
                model = served_model(model, self.routes[resolution.route].model_ids) or model if model else ""
            found_route = resolution.route
        else:
            found_route, model = route
        seen: list[str] = []
        values: dict[str, str | None] = {}  # what placing it again needs, once the mapping is fixed
        if feature is None:
            seen.append(f"feature={call.feature}" if call.feature else "feature=(none)")
            if call.service_name:
                seen.append(f"service.name={call.service_name}")
            values.update(feature=call.feature, service_name=call.service_name)
        if found_route is None:
            seen += [f"provider={call.provider or '(none)'}", f"host={call.host or '(none)'}"]
            if call.region:
                seen.append(f"region={call.region}")
            seen.append(f"model={raw or '(none)'}")
            if resolution is not None and resolution.candidates:
                seen.append(f"candidates={'|'.join(resolution.candidates)}")
            values.update(provider=call.provider, host=call.host, region=call.region, model=raw)
        why = resolution.reasons[-1] if resolution is not None and resolution.reasons else ""
        # cut to the store's column limits: record values are not ours to trust
        return Placed(feature, found_route, model[:NAME_LEN], " ".join(seen)[:TEXT_LEN], why, values or None)

    def place_again(self, feature: str | None, route: str | None, model: str, values: dict[str, Any]) -> Placed:
        """A stored row that was unattributed or unresolved, placed with today's features and routes."""
        get = values.get
        facts = Facts("stored", get("provider"), get("host"), get("region"), get("model"), None, get("feature"),
                      get("service_name"), "", False, "ok")
        was_attributed = feature is not None
        return self._place(facts, feature=feature, known_feature=was_attributed,
                           route=(route, model) if route is not None else None)
