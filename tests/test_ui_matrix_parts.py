"""The checker page decides only the slice of the matrix it shows (one feature, or one route): every
cell of a slice equals the same cell of the whole matrix, on dates with and without exceptions."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest

from compliance.config import PROJECT_ROOT
from compliance.policy.decide import Decider
from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.policy.matrix import Matrix
from compliance.ui.state import _part
from tests.scan_helpers import example_dataset


@pytest.mark.parametrize("on", [date(2026, 11, 30), date(2027, 6, 1), date(2030, 1, 1)])
def test_one_feature_or_one_route_of_the_matrix_equals_the_whole(on: date) -> None:
    dataset = example_dataset()
    policies, problems = read_policy_dir(PROJECT_ROOT / "policies", Vocabulary.of(dataset))
    assert policies is not None, problems
    decider = Decider(dataset, policies)
    whole = Matrix(decider).evaluate(on)
    assert whole.allowed.any() and not whole.allowed.all()
    for fi, feature in enumerate(whole.features):
        part = Matrix(_part(decider, feature=feature)).evaluate(on)
        assert part.features == [feature] and part.routes == whole.routes and part.categories == whole.categories
        assert np.array_equal(part.allowed[0], whole.allowed[fi]), feature
        assert np.array_equal(part.deciding[0], whole.deciding[fi]), feature
    for ri, route in enumerate(whole.routes):
        part = Matrix(_part(decider, route=route)).evaluate(on)
        assert part.routes == [route] and part.features == whole.features
        assert np.array_equal(part.allowed[:, :, 0], whole.allowed[:, :, ri]), route
        assert np.array_equal(part.deciding[:, :, 0], whole.deciding[:, :, ri]), route
