"""Decision records as JSON bytes, memoised per state.

A decision is a pure function of the state (the store's contents and the compiled policies, named
by `store_head` and `policy_digest`) and the request (feature, category, route, as_of). So each
`State` carries its own memo (`State.memo`): a new state starts with an empty one, and an answer
computed from one state can never be served for another, because the memo is reached through the
state the request is answered from. The memo is bounded (cleared when full).
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import orjson

from compliance.live import State
from compliance.problems import closest, closest_ids

MEMO_LIMIT = 50_000  # records per state (~1.2 KB each with evidence: about 60 MB at most per worker)

# (the record as JSON bytes, the decision, its rules): plain tuples of str and bytes, which the
# garbage collector stops tracking, so a full memo does not lengthen collections
Answer = tuple[bytes, str, tuple[str, ...]]
Key = tuple[str, str, str, date]


class ApiError(Exception):
    def __init__(self, status: int, error: str, message: str, *, field: str | None = None,
                 closest: list[str] | None = None, headers: dict[str, str] | None = None):
        super().__init__(message)
        self.status, self.error, self.message = status, error, message
        self.field, self.closest, self.headers = field, closest or [], headers


def dumps(body: Any) -> bytes:
    """JSON bytes (UTF-8, compact); the standard encoder for anything orjson does not take."""
    try:
        return orjson.dumps(body, option=orjson.OPT_NON_STR_KEYS)
    except TypeError:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()


def known(state: State, feature: str, category: str, route: str | None, *, prefix: str = "",
          category_field: str | None = None) -> None:
    """404 naming the first unknown id, its field (e.g. `requests[3].route`, `categories[2]`) and the closest ids."""
    for kind, value, ids in state.decider.unknown_ids(feature, category, route)[:1]:
        field = category_field if kind == "category" and category_field else f"{prefix}{kind}"
        raise ApiError(404, "not_found", f"unknown {kind} {value!r}{closest(value, ids)}",
                       field=field, closest=closest_ids(value, ids))


def compute(state: State, key: Key, prefix: str = "", category_field: str | None = None) -> Answer:
    """Decide `key` on `state` (404 for an unknown id) and keep the answer in the state's memo."""
    feature, category, route, on = key
    known(state, feature, category, route, prefix=prefix, category_field=category_field)
    decision = state.decider.decide(feature, category, route, on)
    record = decision.as_dict()
    record["store_head"] = state.store_head
    found: Answer = (dumps(record), decision.decision, tuple(decision.rules))
    memo = state.memo
    if len(memo) >= MEMO_LIMIT:
        memo.clear()
    memo[key] = found
    return found


def answer(state: State, feature: str, category: str, route: str, on: date, prefix: str = "",
           category_field: str | None = None) -> Answer:
    key = (feature, category, route, on)
    found: Answer | None = state.memo.get(key)
    return found if found is not None else compute(state, key, prefix, category_field)


def batch(state: State, requests: list[tuple[str, str, str, date]]) -> list[Answer]:
    """The answers to `requests` in order, all from `state` (404 names `requests[i].field`)."""
    get = state.memo.get
    out: list[Answer] = []
    append = out.append
    for i, key in enumerate(requests):
        found = get(key)
        append(found if found is not None else compute(state, key, f"requests[{i}]."))
    return out


def batch_body(state: State, answered: list[Answer]) -> bytes:
    """`{"decisions": [...], "policy_digest": ..., "store_head": ...}` with one copy of the records."""
    parts = [b'{"decisions":[']
    extend = parts.extend
    for found in answered:
        extend((found[0], b","))
    if answered:
        parts.pop()
    parts.append(b"],")
    parts.append(dumps({"policy_digest": state.policy_digest, "store_head": state.store_head})[1:])
    return b"".join(parts)
