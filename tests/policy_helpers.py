"""A small, hand-made store and policy builder for engine tests."""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from compliance.policy.decide import Decider
from compliance.policy.language import Vocabulary, build_policy_set
from compliance.policy.policyset import PolicySet
from compliance.store import documents as d
from compliance.yamlsource import parse_yaml

D = date(2026, 11, 30)


def small_store(**changes: Any) -> d.DataSet:
    """Two providers, three routes, a few categories and features; `changes` patch the raw data."""
    raw: dict[str, Any] = {
        "providers": [
            {"id": "cloud", "name": "Cloud Co", "transfer_mechanism": "scc",
             "dpa": {"status": "signed", "signed_on": date(2025, 1, 1), "expires_on": date(2027, 1, 1)},
             "baa": {"status": "signed"}, "certifications": [{"name": "soc2_type2"}]},
            {"id": "maker", "name": "Model Maker", "dpa": {"status": "in_review"}},
            {"id": "nodpa", "name": "No DPA Inc"},
        ],
        "routes": [
            {"id": "cloud-eu", "name": "Cloud EU", "model_provider": "maker", "processor": "cloud",
             "service": "Cloud AI", "residency": "eu", "zero_data_retention": True, "retention_days": 0,
             "trains_on_inputs": False, "status": "approved", "last_verified_on": date(2026, 11, 1)},
            {"id": "maker-api", "name": "Maker API", "model_provider": "maker", "processor": "maker",
             "service": "Maker API", "residency": "us", "zero_data_retention": False,
             "trains_on_inputs": False, "status": "approved", "last_verified_on": date(2026, 11, 1)},
            {"id": "nodpa-api", "name": "NoDPA API", "model_provider": "maker", "processor": "nodpa",
             "service": "X", "residency": "us", "zero_data_retention": False, "trains_on_inputs": False,
             "status": "approved"},
        ],
        "categories": [
            {"key": key, "name": key, "sensitivity": sensitivity}
            for key, sensitivity in [("user", "moderate"), ("user.contact", "moderate"),
                                     ("user.contact.email", "moderate"), ("user.financial", "high"),
                                     ("user.financial.credit_card", "high"), ("user.health", "special"),
                                     ("org", "low"), ("org.public", "low")]
        ],
        "features": [
            {"id": "b2b-feature", "name": "B2B", "segment": "b2b", "human_review": True, "tags": ["pilot"]},
            {"id": "consumer-feature", "name": "Consumer", "segment": "consumer", "human_review": False},
        ],
    }
    raw.update(changes)
    return d.DataSet.model_validate(raw)


def policy_set(text: str, dataset: d.DataSet, file: str = "test.yaml") -> PolicySet:
    """Parse and validate one policy file's text; fail the test on any problem."""
    found, problems = policy_problems(text, dataset, file)
    assert not problems, [str(p) for p in problems]
    assert found is not None
    return found


def policy_problems(text: str, dataset: d.DataSet, file: str = "test.yaml") -> tuple[PolicySet | None, list[Any]]:
    doc, problems = parse_yaml(text, file)
    if problems or doc is None:
        return None, problems
    return build_policy_set([doc], Vocabulary.of(dataset), digest="test")


def decider(rules: list[dict[str, Any]], dataset: d.DataSet | None = None,
            exceptions: list[dict[str, Any]] | None = None) -> Decider:
    dataset = dataset or small_store()
    text = yaml.safe_dump({"rules": rules, "exceptions": exceptions or []}, sort_keys=False)
    return Decider(dataset, policy_set(text, dataset))
