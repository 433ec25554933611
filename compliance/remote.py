"""`Compliance.open(url=...)`: the same guard, answered by a decision service over HTTP.

Code written against `Compliance` (decide, require, decide_many, check_flow, routes) moves
between in-process and remote without change. One keep-alive connection per thread; the
standard library only, so a product needs nothing more to call the service.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import threading
from datetime import date
from typing import Any
from urllib.parse import urlencode, urlsplit

from compliance.api import Compliance, FlowCheck
from compliance.policy.decide import Decider, Decision
from compliance.policy.evidence import Evidence
from compliance.policy.flows import FlowResult, RouteOption
from compliance.policy.policyset import PolicySet
from compliance.problems import ComplianceError, InvalidInput, NotFound, Problem
from compliance.store import documents as d


class ServiceUnavailable(ComplianceError):
    """The decision service cannot be reached or answered with an error that is not the caller's."""


def decision_of(record: dict[str, Any]) -> Decision:
    return Decision(record["feature"], record["category"], record["route"], date.fromisoformat(record["as_of"]),
                    record["decision"], list(record["rules"]), list(record["reasons"]), list(record["waived_by"]),
                    list(record["unknown_facts"]), list(record["failed_conditions"]), record["policy_digest"],
                    [evidence_of(e) for e in record.get("evidence", [])])


def evidence_of(record: dict[str, Any]) -> Evidence:
    """One evidence entry of a decision record, with its dates read back as dates."""
    value = record["value"]
    if isinstance(value, str) and _ISO_DAY.fullmatch(value):
        value = date.fromisoformat(value)
    return Evidence(record["fact"], record["subject"], value, record["status"], record["url"],
                    date.fromisoformat(record["as_of"]) if record["as_of"] else None)


_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


class RemoteCompliance(Compliance):
    """A `Compliance` whose answers come from `python -m compliance serve` at `url`."""

    def __init__(self, url: str, *, token: str | None = None, timeout: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ComplianceError(f"service URL {url!r} must look like http://127.0.0.1:8700")
        self.url = url.rstrip("/")
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._base = parts.path.rstrip("/")
        self.token = token or os.environ.get("COMPLIANCE_SERVICE_TOKEN")
        self.timeout = timeout
        self._local = threading.local()
        self.store, self.settings, self._static, self.live = None, None, None, None
        self.last_store_head = ""  # the store state the latest answer came from

    # --- transport ---------------------------------------------------------------------------
    def _connection(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            conn = self._local.conn = kind(self._host, self._port, timeout=self.timeout)
        return conn

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        headers = {"Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body, default=str).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        for attempt in (1, 2):  # a kept-alive connection the server closed is reopened once
            conn = self._connection()
            try:
                conn.request(method, self._base + path, payload, headers)
                response = conn.getresponse()
                raw = response.read()
                break
            except (ConnectionError, http.client.HTTPException, OSError) as exc:
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise ServiceUnavailable(f"the decision service at {self.url} cannot be reached: {exc}") from exc
        try:
            answer = json.loads(raw) if raw else {}
        except ValueError:
            answer = {"message": raw[:200].decode(errors="replace")}
        if response.status == 200:
            return answer
        message = answer.get("message", f"HTTP {response.status}") if isinstance(answer, dict) else str(answer)
        if response.status == 404:
            raise NotFound(message)
        if response.status == 422:
            raise InvalidInput([Problem(self.url + path, None, p.get("field", ""), p.get("message", ""))
                                for p in answer.get("problems", [])] or [Problem(self.url + path, None, "", message)])
        raise ServiceUnavailable(f"the decision service at {self.url} answered HTTP {response.status}: {message}")

    # --- the guard ---------------------------------------------------------------------------
    @staticmethod
    def _request(feature: str, category: str, route: str, as_of: date | None) -> dict[str, Any]:
        body: dict[str, Any] = {"feature": feature, "category": category, "route": route}
        if as_of is not None:
            body["as_of"] = as_of.isoformat()
        return body

    def decide(self, *, feature: str, category: str, route: str, as_of: date | None = None,
               model: str | None = None) -> Decision:
        if model is not None:  # the service's /v1/decide has no model field yet (service.md)
            raise ComplianceError("the decision service does not take a model yet; decide in-process to name one")
        record = self._call("POST", "/v1/decide", self._request(feature, category, route, as_of))
        self.last_store_head = record.get("store_head", "")
        return decision_of(record)

    def decide_many(self, requests: list[dict[str, Any]]) -> list[Decision]:
        body = {"requests": [self._request(r["feature"], r["category"], r["route"], r.get("as_of")) for r in requests]}
        answer = self._call("POST", "/v1/decide/batch", body)
        self.last_store_head = answer.get("store_head", "")
        return [decision_of(record) for record in answer["decisions"]]

    def check_flow(self, *, feature: str, route: str, categories: list[str], as_of: date | None = None) -> FlowCheck:
        body: dict[str, Any] = {"feature": feature, "route": route, "categories": categories}
        if as_of is not None:
            body["as_of"] = as_of.isoformat()
        answer = self._call("POST", "/v1/flows/check", body)
        return FlowCheck(feature, route, tuple(decision_of(r) for r in answer["decisions"]))

    def routes(self, *, feature: str, categories: list[str], as_of: date | None = None) -> list[RouteOption]:
        query: list[tuple[str, str]] = [("feature", feature), *(("category", c) for c in categories)]
        if as_of is not None:
            query.append(("as_of", as_of.isoformat()))
        answer = self._call("GET", "/v1/routes?" + urlencode(query))
        return [RouteOption(r["route"], tuple(decision_of(x) for x in r["decisions"])) for r in answer["routes"]]

    def health(self) -> dict[str, Any]:
        return self._call("GET", "/v1/health")  # type: ignore[no-any-return]

    # --- what only an in-process guard has ---------------------------------------------------
    def _local_only(self, what: str) -> ComplianceError:
        return ComplianceError(f"{what} is not available from a remote decision service ({self.url}); "
                               "open Compliance without url= for it")

    def state(self) -> Any:
        raise self._local_only("the store state")

    @property
    def dataset(self) -> d.DataSet:
        raise self._local_only("the dataset")

    @property
    def decider(self) -> Decider:
        raise self._local_only("the decider")

    @property
    def policies(self) -> PolicySet:
        raise self._local_only("the policy set")

    def flows(self, *, feature: str | None = None, as_of: date | None = None) -> list[FlowResult]:
        raise self._local_only("evaluating every declared flow; use check_flow(...) for one flow")

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None


__all__ = ["RemoteCompliance", "ServiceUnavailable"]
