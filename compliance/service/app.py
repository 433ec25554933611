"""The decision service (service.md): the guard over HTTP, for services in any language.

Every answer goes through `Decider.decide` (and `choose_routes` for route choice) on one
`State` of the store and policies, and carries that state's `policy_digest` and `store_head`.
Unknown ids are 404 with the closest known ids, malformed bodies 422 naming the field, and
nothing is a 500 with a stack trace.
"""

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, date, datetime
from typing import Annotated, Any

import orjson
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.exceptions import HTTPException as StarletteHTTPException

from compliance.live import LiveState, State
from compliance.problems import ComplianceError, NotFound
from compliance.routechoice import choose_routes
from compliance.service import answers
from compliance.service.answers import ApiError, Key, dumps, known
from compliance.service.decisionlog import DecisionLog, LogEntry
from compliance.service.hot import DecisionService, HotPaths
from compliance.service.models import (
    BatchOut,
    BatchRequest,
    DecideRequest,
    DecisionOut,
    ErrorOut,
    FlowOut,
    FlowRequest,
    HealthOut,
    RoutesOut,
)
from compliance.service.tokens import LOCAL, Client, ServiceRole, Tokens

log = logging.getLogger("compliance.service")


def _json(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status, media_type="application/json")


def create_app(live: LiveState, *, tokens: Tokens | None = None, decision_log: DecisionLog | None = None,
               background: bool = True) -> FastAPI:
    """The app over one live state; with `background`, a thread checks for changes ahead of requests."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        if background:
            live.start()
        try:
            yield
        finally:
            live.stop()
            if decision_log is not None:
                decision_log.close()

    bearer = HTTPBearer(auto_error=False, description="a client token from the tokens file (service or viewer)")

    def caller(needed: ServiceRole) -> Callable[..., Client]:
        def check(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Client:
            if tokens is None:
                return LOCAL
            client = tokens.client_for(f"Bearer {credentials.credentials}" if credentials else None)
            if client is None:
                raise ApiError(401, "unauthorized", "a valid bearer token is required (Authorization: Bearer TOKEN)",
                               headers={"WWW-Authenticate": "Bearer"})
            if not client.role.may(needed):
                raise ApiError(403, "forbidden", f"client {client.name!r} has the role {client.role.value}; "
                               f"this needs the role {needed.value}")
            return client
        return check

    deciding = Annotated[Client, Depends(caller(ServiceRole.service))]
    viewing = Annotated[Client, Depends(caller(ServiceRole.viewer))]
    errors: dict[int | str, dict[str, Any]] = {
        404: {"model": ErrorOut, "description": "an unknown id, with the closest known ids"},
        422: {"model": ErrorOut, "description": "a malformed body or query, naming the field"},
        401: {"model": ErrorOut, "description": "no valid bearer token (when tokens are configured)"},
        403: {"model": ErrorOut, "description": "the client's role does not allow this"},
    }

    app = DecisionService(lifespan=lifespan, title="LLM compliance decision service", version="1",
                  description="May feature F send data of category C through route R? The same answers as "
                              "`python -m compliance check`, with the policy and store state they came from.")

    def logged(state: State, client: Client, answered: list[tuple[Key, answers.Answer]]) -> None:
        if decision_log is None:
            return
        at = datetime.now(UTC)
        routes = state.decider.routes
        decision_log.append([LogEntry(
            at=at, caller=client.name, feature=feature, category=category, route=route,
            residency=routes[route].residency.value, as_of=on, decision=decision, rules=list(rules),
            policy_digest=state.policy_digest, store_head=state.store_head)
            for (feature, category, route, on), (_, decision, rules) in answered])

    app.hot = HotPaths(live, tokens, logged)

    @app.post("/v1/decide", response_model=DecisionOut, responses=errors, summary="One decision")
    async def decide(request: DecideRequest, client: deciding) -> Response:
        """The decision record of policy.md; HTTP 200 for allow and deny alike."""
        state = live.current()
        key = (request.feature, request.category, request.route, request.as_of or date.today())
        answer = answers.answer(state, *key)
        logged(state, client, [(key, answer)])
        return Response(answer[0], media_type="application/json")

    @app.post("/v1/decide/batch", response_model=BatchOut, responses=errors, summary="Up to 10,000 decisions")
    async def decide_batch(request: BatchRequest, client: deciding) -> Response:
        """The decisions in request order, all from one state."""
        state = live.current()
        today = date.today()
        keys = [(r.feature, r.category, r.route, r.as_of or today) for r in request.requests]
        answered = answers.batch(state, keys)
        logged(state, client, list(zip(keys, answered, strict=True)))
        return Response(answers.batch_body(state, answered), media_type="application/json")

    @app.post("/v1/flows/check", response_model=FlowOut, responses=errors, summary="Is one flow compliant?")
    async def flows_check(request: FlowRequest, client: viewing) -> Response:
        """Compliant when every category is allowed on the route; each category's decision is given."""
        state = live.current()
        on = request.as_of or date.today()
        keys = [(request.feature, category, request.route, on) for category in request.categories]
        answered = [answers.answer(state, *key, category_field=f"categories[{i}]") for i, key in enumerate(keys)]
        logged(state, client, list(zip(keys, answered, strict=True)))
        return _json({"feature": request.feature, "route": request.route, "as_of": on.isoformat(),
                      "compliant": all(a[1] == "allow" for a in answered),
                      "decisions": [orjson.Fragment(a[0]) for a in answered],
                      "policy_digest": state.policy_digest, "store_head": state.store_head})

    @app.get("/v1/routes", response_model=RoutesOut, responses=errors, summary="Routes for a feature and categories")
    async def routes(client: viewing, feature: Annotated[str, Query(min_length=1, examples=["support-reply-draft"])],
                     category: Annotated[list[str], Query(min_length=1, examples=[["user.contact.email"]])],
                     as_of: Annotated[date | None, Query()] = None) -> Response:
        """Every route, the allowed ones first; the cheapest allowed route is marked."""
        state = live.current()
        on = as_of or date.today()
        for i, key in enumerate(category):
            known(state, feature, key, None, category_field=f"category[{i}]")
        choice = choose_routes(state.decider, feature, category, on)
        rows = []
        for option in choice.options:
            price = choice.prices.get(option.route)
            decisions = [{**d.as_dict(), "store_head": state.store_head} for d in option.decisions]
            rows.append({"route": option.route, "allowed": option.allowed, "cheapest": option.route == choice.cheapest,
                         "model": price.model if price else None, "monthly_cost": price.monthly_cost if price else None,
                         "decisions": decisions})
        return _json({"feature": feature, "categories": category, "as_of": on.isoformat(),
                      "cheapest_allowed": choice.cheapest, "routes": rows,
                      "policy_digest": state.policy_digest, "store_head": state.store_head})

    @app.get("/v1/health", response_model=HealthOut, responses={401: errors[401]},
             summary="The state answers come from")
    async def health(client: deciding) -> Response:
        """`degraded` when a store or policy change was refused (the problems say why); answers continue."""
        return _json(live.health().as_dict())

    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> Response:
        body = {"error": exc.error, "message": exc.message, "field": exc.field, "closest": exc.closest, "problems": []}
        response = _json(body, exc.status)
        response.headers.update(exc.headers or {})
        return response

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> Response:
        problems = [{"field": ".".join(str(part) for part in e["loc"] if part != "body") or "body",
                     "message": str(e["msg"])} for e in exc.errors()]
        first = problems[0] if problems else {"field": "body", "message": "invalid request"}
        return _json({"error": "invalid_request", "message": f"{first['field']}: {first['message']}",
                      "field": first["field"], "closest": [], "problems": problems}, 422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        return _json({"error": "http_error", "message": str(exc.detail), "field": None, "closest": [],
                      "problems": []}, exc.status_code)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> Response:
        return _json({"error": "not_found", "message": str(exc), "field": None, "closest": [], "problems": []}, 404)

    @app.exception_handler(ComplianceError)
    async def compliance_error(_: Request, exc: ComplianceError) -> Response:
        return _json({"error": "unavailable", "message": str(exc), "field": None, "closest": [], "problems": []}, 503)

    @app.exception_handler(Exception)
    async def internal(_: Request, exc: Exception) -> Response:
        log.exception("internal error")  # the trace goes to the server's log, never to the caller
        return JSONResponse({"error": "internal", "message": f"internal error ({type(exc).__name__})"}, 500)

    return app
