"""The two hot endpoints, `POST /v1/decide` and `POST /v1/decide/batch`, answered in front of FastAPI.

FastAPI's per-request machinery (dependency solving, a thread hop for the token check, a pydantic
model per request and per batch item) costs ten times what a decision from the memo does. So
`DecisionService` answers a well-formed, authorised request to these two paths itself: it reads
the body once, parses it with orjson, checks the shape in one pass (exactly the fields of
`DecideRequest`, strings of 1-200 characters, `as_of` absent, null or YYYY-MM-DD), and answers
from the state's memo. Everything else (a malformed body, a missing or wrong token, an unknown
id, any other content type) is handed to the FastAPI routes with the body as read, so errors are
exactly those of the declared models and handlers (422 naming the field, 401, 403, 404 with
the closest ids), and the OpenAPI document is the FastAPI one.
"""

from __future__ import annotations

import email.message
import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import date
from functools import lru_cache
from typing import Any

import orjson
from fastapi import FastAPI
from fastapi.security.utils import get_authorization_scheme_param

from compliance.live import LiveState, State
from compliance.service import answers
from compliance.service.models import MAX_BATCH
from compliance.service.tokens import LOCAL, Client, ServiceRole, Tokens

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Logger = Callable[[State, Client, list[tuple[answers.Key, answers.Answer]]], None]

DECIDE, BATCH = "/v1/decide", "/v1/decide/batch"
FIELDS = frozenset({"feature", "category", "route", "as_of"})
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_NOT_A_DAY = date.min  # marks an `as_of` the fast path leaves to pydantic


@lru_cache(maxsize=64)
def is_json(content_type: bytes) -> bool:
    """FastAPI's own test (routing.get_request_handler): application/json or application/*+json."""
    message = email.message.Message()
    message["content-type"] = content_type.decode("latin-1")
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


@lru_cache(maxsize=4096)
def day(text: str) -> date:
    """YYYY-MM-DD as a date, or `_NOT_A_DAY` for anything else (pydantic then says what is wrong)."""
    if len(text) != 10 or not _DAY.fullmatch(text):
        return _NOT_A_DAY
    try:
        return date.fromisoformat(text)
    except ValueError:
        return _NOT_A_DAY


def _id(value: object) -> bool:
    return type(value) is str and 0 < len(value) <= 200


def request_key(item: object, today: date) -> answers.Key | None:
    """The (feature, category, route, as_of) of a well-formed DecideRequest body, else None."""
    if type(item) is not dict:
        return None
    feature, category, route = item.get("feature"), item.get("category"), item.get("route")
    if not (_id(feature) and _id(category) and _id(route)):
        return None
    n = len(item)
    if n == 3:
        return feature, category, route, today  # type: ignore[return-value]
    if n != 4 or "as_of" not in item:
        return None
    as_of = item["as_of"]
    if as_of is None:
        return feature, category, route, today  # type: ignore[return-value]
    if type(as_of) is not str:
        return None
    on = day(as_of)
    return None if on is _NOT_A_DAY else (feature, category, route, on)  # type: ignore[return-value]


def batch_keys(body: object, today: date) -> list[answers.Key] | None:
    """Every request of a well-formed BatchRequest body in one pass, else None (one bad item is enough)."""
    if type(body) is not dict or len(body) != 1:
        return None
    requests = body.get("requests")
    if type(requests) is not list or len(requests) > MAX_BATCH:
        return None
    keys: list[answers.Key] = []
    append = keys.append
    for item in requests:
        key = request_key(item, today)
        if key is None:
            return None
        append(key)
    return keys


class HotPaths:
    """Answers a well-formed request to DECIDE or BATCH, or returns None to leave it to FastAPI."""

    def __init__(self, live: LiveState, tokens: Tokens | None, logged: Logger):
        self.live, self.tokens, self.logged = live, tokens, logged

    def client(self, authorization: bytes | None) -> Client | None:
        """The caller when it may decide, as the FastAPI dependency would find it; None otherwise."""
        if self.tokens is None:
            return LOCAL
        if not authorization:
            return None
        scheme, credentials = get_authorization_scheme_param(authorization.decode("latin-1"))
        if not (scheme and credentials) or scheme.lower() != "bearer":
            return None
        client = self.tokens.client_for(f"Bearer {credentials}")
        return client if client is not None and client.role.may(ServiceRole.service) else None

    def answer(self, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> bytes | None:
        content_type = authorization = None
        for name, value in headers:
            if name == b"content-type":
                content_type = value if content_type is None else content_type
            elif name == b"authorization":
                authorization = value if authorization is None else authorization
        if not body or content_type is None or not is_json(content_type):
            return None
        client = self.client(authorization)
        if client is None:
            return None
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return None
        today = date.today()
        state = self.live.current()
        try:
            if path == DECIDE:
                key = request_key(parsed, today)
                if key is None:
                    return None
                found = answers.answer(state, *key)
                self.logged(state, client, [(key, found)])
                return found[0]
            keys = batch_keys(parsed, today)
            if keys is None:
                return None
            answered = answers.batch(state, keys)
        except Exception:  # an unknown id, a day decide refuses...: the FastAPI routes say what
            return None
        self.logged(state, client, list(zip(keys, answered, strict=True)))
        return answers.batch_body(state, answered)


async def read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client went away."""
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that gives the body already read, then whatever the connection says next."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


class DecisionService(FastAPI):
    """The FastAPI app, with DECIDE and BATCH answered first by `hot` when the request is well formed."""

    hot: HotPaths | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (self.hot is not None and scope["type"] == "http" and scope["method"] == "POST"
                and scope["path"] in (DECIDE, BATCH)):
            body = await read_body(receive)
            if body is None:
                return
            answer = self.hot.answer(scope["path"], scope["headers"], body)
            if answer is not None:
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(b"content-length", str(len(answer)).encode()),
                                        (b"content-type", b"application/json")]})
                await send({"type": "http.response.body", "body": answer})
                return
            receive = replay(body, receive)
        await super().__call__(scope, receive, send)
