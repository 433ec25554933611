"""Request and answer shapes of the decision service, with the examples shown in its OpenAPI document."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH = 10_000

Id = Field(min_length=1, max_length=200)


class DecideRequest(BaseModel):
    """May `feature` send `category` through `route` (on `as_of`, default today)?"""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu"},
        {"feature": "clinic-notes-summary", "category": "user.health_and_medical", "route": "claude-direct",
         "as_of": "2026-10-01"}]})

    feature: str = Id
    category: str = Id
    route: str = Id
    as_of: date | None = None


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"requests": [
        {"feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu"},
        {"feature": "support-reply-draft", "category": "user.contact.email", "route": "llama-api"}]}]})

    requests: list[DecideRequest] = Field(max_length=MAX_BATCH)


class FlowRequest(BaseModel):
    """Is this flow (one route carrying several categories) compliant?"""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"feature": "support-reply-draft", "route": "claude-bedrock-eu",
         "categories": ["user.contact.email", "user.content.private"]}]})

    feature: str = Id
    route: str = Id
    categories: list[str] = Field(min_length=1, max_length=1_000)
    as_of: date | None = None


class DecisionOut(BaseModel):
    """The decision record of policy.md, plus the store state it came from."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "feature": "support-reply-draft", "category": "user.contact.email", "route": "claude-bedrock-eu",
        "as_of": "2026-12-01", "decision": "allow", "rules": ["dpa-with-processor"],
        "reasons": ["AWS processes this route under a DPA valid until 2027-06-30"], "waived_by": [],
        "unknown_facts": [], "failed_conditions": [], "policy_digest": "3f1c...", "store_head": "9a2b..."}]})

    feature: str
    category: str
    route: str
    as_of: date
    decision: str = Field(description="allow or deny")
    rules: list[str]
    reasons: list[str]
    waived_by: list[str]
    unknown_facts: list[str]
    failed_conditions: list[dict[str, Any]]
    policy_digest: str
    evidence: list[dict[str, Any]] = Field(
        default_factory=list, description="the facts the decision rests on: {fact, subject, value, status, url, as_of}")
    store_head: str


class BatchOut(BaseModel):
    decisions: list[DecisionOut]
    policy_digest: str
    store_head: str


class FlowOut(BaseModel):
    feature: str
    route: str
    as_of: date
    compliant: bool
    decisions: list[DecisionOut]
    policy_digest: str
    store_head: str


class RouteOut(BaseModel):
    route: str
    allowed: bool
    cheapest: bool = Field(description="the cheapest allowed route")
    model: str | None
    monthly_cost: float | None
    decisions: list[DecisionOut]


class RoutesOut(BaseModel):
    feature: str
    categories: list[str]
    as_of: date
    cheapest_allowed: str | None
    routes: list[RouteOut]
    policy_digest: str
    store_head: str


class HealthOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "status": "degraded", "policy_digest": "3f1c...", "store_head": "9a2b...",
        "loaded_at": "2026-12-01T21:00:00+00:00", "checked_at": "2026-12-01T21:00:04+00:00",
        "max_staleness_seconds": 5.0,
        "problems": ["policy set 77ab... refused (1 problem(s)); still answering from 3f1c...",
                     "policies/40-allow.yaml:12: when.0: unknown fact 'route.colour'"]}]})

    status: str = Field(description="ok, or degraded when a change was refused (see problems)")
    policy_digest: str
    store_head: str
    loaded_at: str
    checked_at: str
    max_staleness_seconds: float
    problems: list[str]


class ErrorOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "error": "not_found", "message": "unknown route 'claude-bedrock-ue' (closest: claude-bedrock-eu)",
        "field": "route", "closest": ["claude-bedrock-eu"]}]})

    error: str
    message: str
    field: str | None = None
    closest: list[str] = []
    problems: list[dict[str, str]] = []
