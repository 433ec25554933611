"""The Python API: the guard a product calls right before it sends data to an LLM.

    from compliance import Compliance
    c = Compliance.open()
    c.require(feature="support-reply-draft", category="user.contact.email", route="claude-bedrock-eu")
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from compliance.config import Settings, load_settings
from compliance.policy.decide import Decider, Decision
from compliance.policy.flows import FlowResult, RouteOption, evaluate_flows, route_options
from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.policy.model import PolicySet
from compliance.problems import ComplianceError, InvalidInput
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
    """The store's contents and the compiled policy set, ready to answer questions."""

    def __init__(self, dataset: d.DataSet, policies: PolicySet, *, store: Store | None = None,
                 settings: Settings | None = None):
        self.dataset = dataset
        self.policies = policies
        self.store = store
        self.settings = settings
        self.decider = Decider(dataset, policies)

    @classmethod
    def open(cls, *, database_url: str | None = None, data_dir: str | Path | None = None,
             policy_dir: str | Path | None = None, settings: Settings | None = None) -> Compliance:
        """Open with the same configuration rules as the CLI (flags, then environment, then defaults)."""
        settings = settings or load_settings(database_url=database_url, data_dir=data_dir, policy_dir=policy_dir)
        store = Store.open(settings)
        dataset = store.read()
        return cls(dataset, load_policies(settings.policy_dir, dataset), store=store, settings=settings)

    def decide(self, *, feature: str, category: str, route: str, as_of: date | None = None) -> Decision:
        return self.decider.decide(feature, category, route, as_of or date.today())

    def require(self, *, feature: str, category: str, route: str, as_of: date | None = None) -> Decision:
        """Return the allow decision, or raise Denied with the decision record."""
        decision = self.decide(feature=feature, category=category, route=route, as_of=as_of)
        if not decision.allowed:
            raise Denied(decision)
        return decision

    def flows(self, *, feature: str | None = None, as_of: date | None = None) -> list[FlowResult]:
        return evaluate_flows(self.decider, as_of or date.today(), feature)

    def routes(self, *, feature: str, categories: list[str], as_of: date | None = None) -> list[RouteOption]:
        return route_options(self.decider, feature, categories, as_of or date.today())
