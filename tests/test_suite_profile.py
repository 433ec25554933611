"""The suite gives the same answer twice: the default hypothesis profile is deterministic."""

from __future__ import annotations

import pytest
from hypothesis import settings

from tests.conftest import FUZZ_FACTOR, PROFILE, examples


@pytest.mark.skipif(PROFILE != "ci", reason="only the default profile must be deterministic")
def test_the_default_profile_is_derandomized_without_an_example_database() -> None:
    assert settings.default.derandomize is True
    assert settings.default.database is None
    assert settings.default.deadline is None
    assert examples(60) == 60


def test_the_fuzz_profile_explores_more_and_keeps_its_examples() -> None:
    fuzz = settings.get_profile("fuzz")
    assert fuzz.derandomize is False
    assert fuzz.database is not None
    assert fuzz.max_examples >= 10 * settings.get_profile("ci").max_examples
    assert FUZZ_FACTOR >= 10
