"""The costs page draws its cost of compliance (every flow decided and priced) when it is opened, and then
shows the same figures as the library."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from compliance import costs
from compliance.config import PROJECT_ROOT
from compliance.policy.decide import Decider
from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.textout import money
from tests.conftest import open_store
from tests.test_dashboard import open_page


def test_cost_of_compliance_is_drawn_when_opened_and_matches_the_library(app_env: Path) -> None:
    at = open_page("costs_page")
    assert not at.exception
    labels = [m.label for m in at.metric]
    assert "Spend now on declared routes" not in labels  # collapsed: nothing decided yet
    assert any("Open to decide every flow" in c.value for c in at.caption)
    at.session_state["compliance-open"] = True
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    data = open_store(f"sqlite:///{app_env}", PROJECT_ROOT / "data").read()
    policies, _ = read_policy_dir(PROJECT_ROOT / "policies", Vocabulary.of(data))
    assert policies is not None
    frame = costs.compliance_cost_frame(Decider(data, policies), date.today())
    expected = costs.compliance_cost_by_feature(data, frame)["current_monthly"].sum(min_count=1)
    spend = next(m for m in at.metric if m.label == "Spend now on declared routes")
    assert spend.value == money(expected)
    at.run()  # it stays open across reruns
    assert any(m.label == "Spend now on declared routes" for m in at.metric)
