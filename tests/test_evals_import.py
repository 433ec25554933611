"""Eval imports from promptfoo result files and Inspect AI logs; evals.yaml validation and round trip."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from compliance.cli import main
from compliance.models.evals import parse_inspect_id, parse_promptfoo_id, read_file
from compliance.store.validate import read_data_dir
from tests.helpers import replace_in
from tests.test_example_data import example

FIXTURES = Path(__file__).parent / "fixtures" / "evals"
PROMPTFOO = FIXTURES / "promptfoo-results.json"
INSPECT = FIXTURES / "inspect-mockllm.json"


def test_promptfoo_ids_lose_their_provider_and_api_type() -> None:
    ref = parse_promptfoo_id("openai:chat:gpt-5-mini")
    assert ref is not None and (ref.provider, ref.model) == ("openai", "gpt-5-mini")
    bedrock = parse_promptfoo_id("bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0")
    assert bedrock is not None and bedrock.model == "global.anthropic.claude-haiku-4-5-20251001-v1:0"
    inspect = parse_inspect_id("openai/gpt-5-mini")
    assert inspect is not None and (inspect.provider, inspect.model) == ("openai", "gpt-5-mini")


def test_promptfoo_results_map_to_models_and_list_unknown_ids() -> None:
    found = read_file(PROMPTFOO, feature="code-assistant", dataset=example())
    assert found.unknown == ["anthropic:messages:claude-sonnet-9"]
    by_key = {(e.model, e.route, e.metric): e for e in found.results}
    # gpt-5.6-sol is served on two OpenAI API routes (global and EU): a model-only result, no guessed route
    sol = by_key[("gpt-5.6-sol", None, "pass_rate")]
    assert (sol.score, sol.samples, sol.run_on) == (0.5, 2, date(2026, 11, 18))
    assert by_key[("gpt-5.6-sol", None, "correctness")].score == 0.75
    haiku = by_key[("global.anthropic.claude-haiku-4-5-20251001-v1:0", "claude-bedrock-global", "pass_rate")]
    assert (haiku.score, haiku.samples) == (1.0, 1)


def test_route_pins_an_ambiguous_model() -> None:
    found = read_file(PROMPTFOO, feature="code-assistant", dataset=example(), route="openai-direct")
    assert {e.route for e in found.results} == {"openai-direct"}
    assert "bedrock:global.anthropic.claude-haiku-4-5-20251001-v1:0" in found.unknown  # not on that route


def test_inspect_log_written_by_the_tool_is_read() -> None:
    log = json.loads(INSPECT.read_text())
    assert log["eval"]["model"] == "mockllm/model" and log["status"] == "success"
    found = read_file(INSPECT, feature="support-reply-draft", dataset=example())
    assert found.results == [] and found.unknown == ["mockllm/model"]  # the mock model is no route's model
    mapped = read_file(INSPECT, feature="support-reply-draft", dataset=example(),
                       mapping={"mockllm/model": ("claude-bedrock-eu", "eu.anthropic.claude-haiku-4-5-20251001-v1:0")})
    result, = mapped.results
    assert (result.metric, result.score, result.samples) == ("accuracy", 0.5, 2)
    assert result.run_on == date.fromisoformat(log["eval"]["created"][:10])
    assert result.route == "claude-bedrock-eu" and "Inspect AI" in result.source


def test_a_map_to_a_model_the_route_does_not_serve_is_unknown() -> None:
    found = read_file(INSPECT, feature="support-reply-draft", dataset=example(),
                      mapping={"mockllm/model": ("claude-bedrock-eu", "gpt-5")})
    assert found.results == [] and found.unknown == ["mockllm/model"]


@pytest.fixture
def env(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'evals.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    return data_dir


def test_cli_import_stores_the_results_and_exits_1_for_unknown_ids(env: Path, tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["evals", "import", str(PROMPTFOO), "--feature", "code-assistant"])
    out = capsys.readouterr().out
    assert code == 1 and "anthropic:messages:claude-sonnet-9" in out and "stored: created 3 eval" in out
    assert main(["export", str(tmp_path / "out")]) == 0
    exported, problems, _ = read_data_dir(tmp_path / "out")
    assert problems == [] and exported is not None
    assert len(exported.evals) == len(example().evals) + 3
    code = main(["evals", "import", str(PROMPTFOO), "--feature", "code-assistant"])  # same run again
    assert code == 1 and "stored: created nothing; updated nothing" in capsys.readouterr().out


def test_cli_import_without_feature_takes_the_one_the_file_names_exactly(env: Path, tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    data = json.loads(PROMPTFOO.read_text())
    assert main(["evals", "import", str(PROMPTFOO)]) == 2  # its description names no feature: never guessed
    assert "name it with --feature" in capsys.readouterr().err
    for where in ({"description": "code-assistant"}, {"metadata": {"feature": "code-assistant"}}):
        named = tmp_path / "named.json"
        named.write_text(json.dumps({**data, "config": {**data.get("config", {}), **where}}))
        assert main(["evals", "import", str(named), "--dry-run"]) == 1  # an unknown id in it, as with --feature
        out = capsys.readouterr().out
        assert out.count("would import") == 3 and "stored" not in out
    near = tmp_path / "near.json"
    near.write_text(json.dumps({**data, "config": {**data.get("config", {}), "description": "code-assistent"}}))
    assert main(["evals", "import", str(near)]) == 2
    assert main(["export", str(tmp_path / "out")]) == 0  # nothing was stored by any of these
    exported, _, _ = read_data_dir(tmp_path / "out")
    assert exported is not None and len(exported.evals) == len(example().evals)


def test_cli_import_unknown_feature_is_exit_2(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evals", "import", str(PROMPTFOO), "--feature", "code-assistent"]) == 2
    assert "code-assistant" in capsys.readouterr().err


def test_cli_import_of_a_file_that_is_not_an_eval_is_exit_2(env: Path, tmp_path: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "x.json"
    bad.write_text('{"hello": 1}')
    assert main(["evals", "import", str(bad), "--feature", "code-assistant"]) == 2
    assert "not a promptfoo result file" in capsys.readouterr().err


def test_evals_yaml_rejects_an_unknown_feature_with_file_and_line(data_dir: Path) -> None:
    replace_in(data_dir / "evals.yaml", "feature: code-assistant, model: gpt-5.6-sol,",
               "feature: code-asistant, model: gpt-5.6-sol,")
    _, problems, _ = read_data_dir(data_dir)
    problem, = problems
    assert problem.file.endswith("evals.yaml") and problem.line == 6 and "code-assistant" in problem.message


def test_evals_yaml_rejects_a_model_the_route_does_not_serve(data_dir: Path) -> None:
    replace_in(data_dir / "evals.yaml", "model: gpt-5.6-terra, route: openai-direct",
               "model: gpt-5-nano, route: openai-direct")
    _, problems, _ = read_data_dir(data_dir)
    assert [p.field for p in problems] == ["evals[code-gpt-5-6-terra].model"]


def test_routes_yaml_rejects_latency_for_a_model_not_served(data_dir: Path) -> None:
    replace_in(data_dir / "routes.yaml", "{model: gpt-5.6-luna, ttft_p50_ms: 1200",
               "{model: gpt-5.7, ttft_p50_ms: 1200")
    _, problems, _ = read_data_dir(data_dir)
    problem, = problems
    assert "does not serve model 'gpt-5.7'" in problem.message and problem.line is not None


def test_routes_yaml_rejects_retirement_before_deprecation(data_dir: Path) -> None:
    replace_in(data_dir / "routes.yaml", "{id: gpt-5, released_on: 2025-08-07, retires_on: 2026-12-11}",
               "{id: gpt-5, deprecated_on: 2027-08-07, retires_on: 2026-12-11}")
    _, problems, _ = read_data_dir(data_dir)
    problem, = problems
    assert "before deprecated_on" in problem.message and problem.file.endswith("routes.yaml")
    assert problem.field == "routes[openai-direct-eu].models[2]"


def test_lifecycle_indemnity_latency_and_evals_survive_load_and_export(env: Path, tmp_path: Path) -> None:
    assert main(["init"]) == 0
    assert main(["export", str(tmp_path / "out")]) == 0
    exported, problems, _ = read_data_dir(tmp_path / "out")
    assert problems == [] and exported is not None
    original = example()
    assert exported.model_dump(mode="json") == original.model_dump(mode="json")
    eu = next(r for r in exported.routes if r.id == "openai-direct-eu")
    entry = eu.model_entry("gpt-5-mini")
    assert entry is not None and entry.retires_on == date(2026, 12, 11) and entry.successor == "gpt-5.6-terra"
    route = next(r for r in exported.routes if r.id == "openai-direct")
    assert route.ip_indemnity is not None and route.ip_indemnity.covered is True
    assert route.latency_of("gpt-5.6-terra") is not None
