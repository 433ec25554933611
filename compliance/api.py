"""The Python API: the guard a product calls right before it sends data to an LLM.

    from compliance import Compliance
    c = Compliance.open()
    c.require(feature="support-reply-draft", category="user.contact.email", route="claude-bedrock-eu")
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from compliance.config import FRESHNESS_DAYS, Settings, load_settings
from compliance.live import LiveState, State, load_state, max_staleness_setting
from compliance.policy.decide import Decider, Decision
from compliance.policy.flows import FlowResult, RouteOption, evaluate_flows
from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.policy.policyset import PolicySet
from compliance.problems import ComplianceError, InvalidInput
from compliance.routechoice import RouteChoice, choose_routes
from compliance.store import Store
from compliance.store import documents as d


class Denied(ComplianceError):
    """Raised by `require` on a deny; carries the full decision record."""

    exit_code = 1

    def __init__(self, decision: Decision):
        self.decision = decision
        rules = ", ".join(decision.rules) or "default deny"
        super().__init__(
            f"{decision.feature} may not send {decision.category} through {decision.route} "
            f"({rules}): {'; '.join(decision.reasons)}"
        )


def load_policies(directory: Path, dataset: d.DataSet) -> PolicySet:
    policies, problems = read_policy_dir(directory, Vocabulary.of(dataset))
    if problems or policies is None:
        raise InvalidInput(problems)
    return policies


class Compliance:
    """The store's contents and the compiled policy set, ready to answer questions.

    Opened with `open()`, it notices a store change (a new audit event) or a policy-file change
    within `max_staleness` seconds (default 5, env COMPLIANCE_MAX_STALENESS) and
    answers from the new state; `open(url=...)` asks a decision service instead, with the same
    methods. Built directly from a dataset and policies, it answers from those alone.
    """

    def __init__(self, dataset: d.DataSet, policies: PolicySet, *, store: Store | None = None,
                 settings: Settings | None = None, store_head: str = ""):
        self.store = store
        self.settings = settings
        self._static: State | None = State.of(dataset, policies, store_head=store_head,
                                              freshness_days=settings.freshness_days if settings else FRESHNESS_DAYS)
        self.live: LiveState | None = None

    @classmethod
    def open(cls, *, database_url: str | None = None, data_dir: str | Path | None = None,
             policy_dir: str | Path | None = None, settings: Settings | None = None,
             max_staleness: float | None = None, refresh: bool = True, url: str | None = None,
             token: str | None = None) -> Compliance:
        """Open with the same configuration rules as the CLI (flags, then environment, then defaults).

        `max_staleness`: seconds a change may go unnoticed (default env COMPLIANCE_MAX_STALENESS or 5);
        `refresh=False`: answer from the state read now, for ever (a fixed snapshot).
        `url`: ask the decision service at that address (`python -m compliance serve`) instead of
        reading the store; `token` (or env COMPLIANCE_SERVICE_TOKEN) is its bearer token.
        """
        if url is not None:
            from compliance.remote import RemoteCompliance

            return RemoteCompliance(url, token=token)
        settings = settings or load_settings(database_url=database_url, data_dir=data_dir, policy_dir=policy_dir)
        store = Store.open(settings)
        state = load_state(store, settings.policy_dir, settings.freshness_days)
        opened = cls.__new__(cls)
        opened.store, opened.settings, opened._static, opened.live = store, settings, None, None
        if refresh:
            opened.live = LiveState(state, store=store, policy_dir=settings.policy_dir,
                                    max_staleness=max_staleness_setting(max_staleness),
                                    freshness_days=settings.freshness_days)
        else:
            opened._static = state
        return opened

    def state(self) -> State:
        """The state answers come from now (re-read first when the bound has passed)."""
        if self.live is not None:
            return self.live.current()
        assert self._static is not None
        return self._static

    @property
    def dataset(self) -> d.DataSet:
        return self.state().dataset

    @property
    def policies(self) -> PolicySet:
        return self.state().policies

    @property
    def decider(self) -> Decider:
        return self.state().decider

    def decide(self, *, feature: str, category: str, route: str, as_of: date | None = None,
               model: str | None = None) -> Decision:
        return self.state().decider.decide(feature, category, route, as_of or date.today(), model)

    def decide_many(self, requests: list[dict[str, Any]]) -> list[Decision]:
        """Several decisions from one state, in order (each request: feature, category, route, as_of?)."""
        decider, today = self.state().decider, date.today()
        return [decider.decide(r["feature"], r["category"], r["route"], r.get("as_of") or today) for r in requests]

    def require(self, *, feature: str, category: str, route: str, as_of: date | None = None) -> Decision:
        """Return the allow decision, or raise Denied with the decision record."""
        decision = self.decide(feature=feature, category=category, route=route, as_of=as_of)
        if not decision.allowed:
            raise Denied(decision)
        return decision

    def check_flow(self, *, feature: str, route: str, categories: list[str], as_of: date | None = None) -> FlowCheck:
        """Whether one flow (a route carrying several categories) is compliant, with each category's decision."""
        decider, on = self.state().decider, as_of or date.today()
        return FlowCheck(feature, route, tuple(decider.decide(feature, key, route, on) for key in categories))

    def flows(self, *, feature: str | None = None, as_of: date | None = None) -> list[FlowResult]:
        return evaluate_flows(self.state().decider, as_of or date.today(), feature)

    def routes(self, *, feature: str, categories: list[str], as_of: date | None = None) -> list[RouteOption]:
        """Every route for the request, allowed first (the options of `choose_routes`)."""
        return list(self.route_choice(feature=feature, categories=categories, as_of=as_of).options)

    def route_choice(self, *, feature: str, categories: list[str], as_of: date | None = None) -> RouteChoice:
        """Every route with its decisions and price, and the cheapest allowed one."""
        return choose_routes(self.state().decider, feature, categories, as_of or date.today())

    def close(self) -> None:
        if self.live is not None:
            self.live.stop()
        if self.store is not None:
            self.store.dispose()


@dataclass(frozen=True)
class FlowCheck:
    """One flow asked about (not necessarily declared): compliant when every category is allowed."""

    feature: str
    route: str
    decisions: tuple[Decision, ...]

    @property
    def compliant(self) -> bool:
        return all(d.allowed for d in self.decisions)
