"""The dashboard's figures draw every segment, scenario and kind of date they are given."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from compliance.ui import charts


@pytest.mark.parametrize("segments", [1, 2, 14, 40])
def test_the_projection_has_a_panel_per_segment_and_a_line_per_scenario(segments: int) -> None:
    frame = pd.DataFrame([{"segment": f"s{s}", "scenario": scenario, "date": date(2027, month, 1),
                           "llm_cost": 100.0 * month} for s in range(segments) for scenario in ("base", "fast")
                          for month in range(1, 4)])
    fig = charts.projection_lines(frame, "llm_cost", "LLM cost per month")
    assert len(fig.data) == 2 * segments
    assert [t.name for t in fig.data if t.showlegend] == ["base", "fast"]
    assert [a.text for a in fig.layout.annotations] == [f"s{s}" for s in range(segments)]


def test_the_expiry_timeline_has_a_trace_per_kind() -> None:
    events = pd.DataFrame([{"provider": p, "kind": k, "date": date(2027, 1, 15), "what": f"{k} of {p}"}
                           for p in ("A", "B") for k in ("DPA", "review")])
    fig = charts.expiry_timeline(events, date(2026, 12, 1))
    assert [t.name for t in fig.data] == ["DPA", "review"]
    assert [list(t.y) for t in fig.data] == [["A", "B"], ["A", "B"]]
