"""The example data and baseline policies compiled once, for the records tests."""

from __future__ import annotations

from pathlib import Path

from compliance.config import PROJECT_ROOT
from compliance.policy.decide import Decider
from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.store import documents as d
from compliance.store.validate import read_data_dir


def decider_for(data_dir: Path, policy_dir: Path = PROJECT_ROOT / "policies") -> Decider:
    dataset, problems, _ = read_data_dir(data_dir)
    assert dataset is not None, [str(p) for p in problems]
    policies, problems = read_policy_dir(policy_dir, Vocabulary.of(dataset))
    assert policies is not None, [str(p) for p in problems]
    return Decider(dataset, policies)


def feature(dataset: d.DataSet, feature_id: str) -> d.Feature:
    return next(f for f in dataset.features if f.id == feature_id)
