"""`observe import` and `observe report` (observe.md) on spans made by the real SDKs and instrumentations.

The fixtures in tests/fixtures/observe/ come from examples/telemetry/generate.py (fixture_plan and
spend_fixture name each record); these tests read them on SQLite and, when enabled, PostgreSQL.
"""

from __future__ import annotations

import csv
import gzip
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from compliance.access import Actor, PermissionDenied, Role
from compliance.api import Compliance
from compliance.cli import main
from compliance.config import PROJECT_ROOT
from compliance.costs.prices import price_for
from compliance.costs.tables import feature_costs
from compliance.observe.importing import import_files
from compliance.observe.records import Call, Malformed, Skipped, read_litellm, read_otlp
from compliance.observe.report import build_report, monthly_sums, read_usage
from compliance.observe.resolve import Placer
from compliance.problems import InvalidInput
from compliance.routing import served_model
from compliance.store import Store
from compliance.store import documents as d
from compliance.store.audit import list_events
from compliance.store.tables import ObservedUsageRow
from compliance.store.validate import read_data_dir
from tests.conftest import open_store
from tests.scan_helpers import example_dataset

FIXTURES = PROJECT_ROOT / "tests" / "fixtures" / "observe"
SPANS, SPEND = FIXTURES / "spans.otlp.jsonl", FIXTURES / "spendlogs.csv"
ADMIN = Actor("observer@northwind.example", Role.admin)


def calls(path: Path = SPANS) -> list[Call]:
    items = read_otlp(path) if path.name.endswith(".jsonl") else read_litellm(path)
    return [item for item in items if isinstance(item, Call)]


def usage(store: Store) -> list[tuple[Any, ...]]:
    with store.snapshot() as session:
        return sorted((r.day, r.feature or "", r.route or "", r.model, r.source, r.seen, r.requests, r.input_tokens,
                       r.output_tokens, r.cached_input_tokens, r.reported_cost)
                      for r in session.exec(select(ObservedUsageRow)))


def pairs_of(store: Store) -> dict[tuple[str | None, str | None], int]:
    out: dict[tuple[str | None, str | None], int] = {}
    with store.snapshot() as session:
        for row in session.exec(select(ObservedUsageRow)):
            out[(row.feature, row.route)] = out.get((row.feature, row.route), 0) + row.requests
    return out


def report(store: Store, **window: date) -> Any:
    c = Compliance(store.read(), Compliance.open(settings=store.settings, refresh=False).policies)
    with store.snapshot() as session:
        rows = read_usage(session, window.get("since"), window.get("until"), c.dataset)
    return build_report(rows, c.dataset, c.decider, as_of=date(2026, 12, 1), **window)


def _reports_daily_and_monthly(store: Store, **window: date) -> tuple[Any, Any, int, int]:
    c = Compliance(store.read(), Compliance.open(settings=store.settings, refresh=False).policies)
    with store.snapshot() as session:
        daily = read_usage(session, window.get("since"), window.get("until"))
        monthly = read_usage(session, window.get("since"), window.get("until"), c.dataset)
    build = [build_report(rows, c.dataset, c.decider, as_of=date(2026, 12, 1), **window) for rows in (daily, monthly)]
    return build[0], build[1], len(daily), len(monthly)


def _same_report(a: Any, b: Any) -> None:
    left, right = a.as_dict(), b.as_dict()
    for one, two in zip(left.pop("costs"), right.pop("costs"), strict=True):
        assert one.keys() == two.keys()
        for key, value in one.items():
            assert two[key] == (pytest.approx(value) if isinstance(value, float) else value), key
    assert left == right


def test_the_report_summed_per_month_in_the_database_equals_the_report_over_daily_rows(store: Store) -> None:
    import_files(store, [SPANS, SPEND], actor=ADMIN)
    daily, monthly, n_daily, n_monthly = _reports_daily_and_monthly(store)
    assert n_monthly < n_daily  # the sums were made in the database
    _same_report(daily, monthly)
    window = _reports_daily_and_monthly(store, since=date(2026, 11, 10), until=date(2026, 11, 20))
    _same_report(window[0], window[1])


def test_a_report_makes_no_reference_cycles(store: Store) -> None:
    """read_usage and build_report pause the cyclic collector (compliance/collector.py): only safe if what
    they build is freed by reference counts alone."""
    import gc

    import_files(store, [SPANS, SPEND], actor=ADMIN)
    c = Compliance(store.read(), Compliance.open(settings=store.settings, refresh=False).policies)

    def both() -> Any:
        with store.snapshot() as session:
            rows = read_usage(session, None, None, c.dataset)
        return build_report(rows, c.dataset, c.decider, as_of=date(2026, 12, 1))

    both()  # first use fills the price tables and the database driver's statement caches
    gc.collect()
    for _ in range(2):
        assert both().pairs
    assert gc.collect() == 0


def test_a_month_in_which_a_price_changes_is_read_per_day(store: Store) -> None:
    # genai-prices: OpenAI's o3 went from $10 to $2 per million input tokens on 2025-06-10
    days = [date(2025, 6, 1), date(2025, 6, 9), date(2025, 6, 10), date(2025, 6, 30),
            date(2025, 7, 1), date(2025, 7, 2)]
    with store.session() as session:
        for day in days:
            session.add(ObservedUsageRow(day=day, feature="code-assistant", route="openai-direct", model="o3",
                                         source="otlp", requests=10, input_tokens=1_000_000, output_tokens=0))
        session.commit()
    daily, monthly, n_daily, n_monthly = _reports_daily_and_monthly(store)
    assert (n_daily, n_monthly) == (6, 5)  # June's four days stay apart; July's two are one sum
    _same_report(daily, monthly)
    june, july = monthly.costs
    assert june.observed_cost == pytest.approx(10.0 * 2 + 2.0 * 2)
    assert july.observed_cost == pytest.approx(2.0 * 2)


def cli(store: Store, *args: str) -> int:
    url = store.engine.url.render_as_string(hide_password=False)
    return main(["--db", url, "--data", str(store.settings.data_dir), *args])


# --- reading -----------------------------------------------------------------------------------------


def test_both_provider_attributes_are_read() -> None:
    by_scope = {c.scope.split(".")[-1]: c.provider for c in calls()}
    assert by_scope["handler"] == "openai"  # openai-v2 writes gen_ai.provider.name
    assert by_scope["bedrock-runtime"] == "aws.bedrock"  # botocore still writes gen_ai.system


def test_spans_that_are_not_llm_calls_are_ignored() -> None:
    items = list(read_otlp(SPANS))
    skipped = [i for i in items if isinstance(i, Skipped)]
    assert skipped and all(i.line > 0 for i in skipped)
    assert not any(c.model is None for c in calls())  # only GenAI spans became calls


def test_a_cut_off_line_is_malformed_and_named_by_file_and_line() -> None:
    bad = [i for i in read_otlp(SPANS) if isinstance(i, Malformed)]
    last = len(SPANS.read_text().splitlines())
    assert [(b.file, b.line) for b in bad] == [(str(SPANS), last)]
    assert "not an OTLP JSON export request" in bad[0].why


def test_cached_input_reported_beside_input_tokens_is_added_once() -> None:
    bedrock = next(c for c in calls() if c.feature == "mortgage-doc-extraction")
    assert (bedrock.input_tokens, bedrock.cached_input_tokens, bedrock.cached_beside) == (2500, 500, True)


def test_response_model_wins_and_bedrock_falls_back_to_the_request_model() -> None:
    openai = next(c for c in calls() if c.feature == "dating-profile-match")
    assert openai.model == "gpt-5.6-luna-2026-07-09"
    bedrock = next(c for c in calls() if c.feature == "mortgage-doc-extraction")
    assert bedrock.response_model is None and bedrock.model == "eu.anthropic.claude-sonnet-4-5-20250929-v1:0"


def test_litellm_rows_carry_feature_cost_and_status() -> None:
    rows = calls(SPEND)
    assert {c.feature for c in rows} == {"meeting-notes-summary", "marketing-copy"}
    assert sorted(c.status for c in rows).count("failed") == 1
    assert sorted(c.status for c in rows).count("cache_hit") == 1
    assert rows[0].reported_cost == pytest.approx((12_000 * 1.5 + 900 * 7.5) / 1e6)  # Mistral Medium 3.5 list price
    bad = [i for i in read_litellm(SPEND) if isinstance(i, Malformed)]
    assert len(bad) == 1 and bad[0].line == 5 and "malformed" in bad[0].why


def test_a_dated_snapshot_matches_the_route_model() -> None:
    assert served_model("gpt-5-mini-2025-08-07", ["gpt-5", "gpt-5-mini"]) == "gpt-5-mini"
    assert served_model("claude-sonnet-4-5-20250929", ["claude-sonnet-4-5"]) == "claude-sonnet-4-5"
    assert served_model("claude-sonnet-4-5@20250929", ["claude-sonnet-4-5"]) == "claude-sonnet-4-5"
    assert served_model("gpt-5-mini-turbo", ["gpt-5-mini"]) is None


# --- resolution ---------------------------------------------------------------------------------------

EXPECTED = {  # feature attribute (or service) -> (feature, route) as resolved
    "dating-profile-match": ("dating-profile-match", "openai-direct"),  # OpenAI, dated snapshot
    "mortgage-doc-extraction": ("mortgage-doc-extraction", "claude-bedrock-eu"),  # Bedrock eu. profile
    "product-search-assistant": ("product-search-assistant", "gemini-vertex-eu"),  # Vertex host region
    "marketing-copy": ("marketing-copy", "mistral-direct"),  # Mistral host, OpenAI SDK
    "clinic-notes-summary": ("clinic-notes-summary", "openai-direct"),
    "fraud-triage-worker": ("fraud-review-triage", "azure-openai-eu"),  # Azure resource via scan: hosts; services:
    "kyc-gpu-worker": ("kyc-id-check", "vllm-onprem"),  # self-hosted host via scan: hosts; resource app.feature
    "nightly-batch": (None, "openai-direct"),  # no feature anywhere: unattributed
}


@pytest.mark.parametrize("who", sorted(EXPECTED))
def test_each_host_resolves_to_its_route(who: str) -> None:
    placer = Placer(example_dataset())
    call = next(c for c in calls() if who in (c.feature, c.service_name))
    placed = placer.place(call)
    assert (placed.feature, placed.route) == EXPECTED[who]


def test_a_global_profile_called_through_a_regional_host_reaches_the_global_route() -> None:
    placer = Placer(example_dataset())
    routes = {placer.place(c).route for c in calls() if c.feature == "code-assistant" and "sdk" not in c.scope}
    assert routes == {"claude-bedrock-global", "openai-direct"}


def test_an_unknown_host_is_unresolved_with_the_values_seen() -> None:
    placer = Placer(example_dataset())
    ollama = next(c for c in calls() if c.host == "ollama.dev.northwind.internal")
    placed = placer.place(ollama)
    assert placed.route is None and placed.feature == "support-reply-draft"
    assert "host=ollama.dev.northwind.internal" in placed.seen and "model=qwen3:8b" in placed.seen


# --- import ------------------------------------------------------------------------------------------


def test_import_counts_every_kind_of_record(store: Store) -> None:
    result = import_files(store, [SPANS, SPEND], actor=ADMIN)
    counts = result.as_dict()["counts"]
    assert counts == {"records": counts["records"], "genai": 21, "attributed": 15, "resolved": 15,
                      "unattributed": 1, "unresolved": 1, "malformed": 2, "duplicates": 2, "merged": 1,
                      "ignored": 13, "failed": 1, "cache_hits": 1}
    assert counts["records"] == 21 + 13 + 2
    assert [m.split(":")[1] for m in result.malformed] == [str(len(SPANS.read_text().splitlines())), "5"]


def test_reimport_changes_nothing(store: Store) -> None:
    import_files(store, [SPANS, SPEND], actor=ADMIN)
    before = usage(store)
    with store.snapshot() as session:
        events = len(list_events(session))
    again = import_files(store, [SPANS, SPEND], actor=ADMIN)
    assert again.import_id is None and again.counts["duplicates"] == again.counts["genai"] == 21
    assert usage(store) == before
    with store.snapshot() as session:
        assert len(list_events(session)) == events


def test_a_span_exported_twice_counts_once(store: Store) -> None:
    import_files(store, [SPANS], actor=ADMIN)
    assert pairs_of(store)[("fraud-review-triage", "azure-openai-eu")] == 1


def test_two_spans_of_one_call_count_once(store: Store) -> None:
    result = import_files(store, [SPANS], actor=ADMIN)
    assert result.counts["merged"] == 1
    assert pairs_of(store)[("code-assistant", "openai-direct")] == 1


def test_failed_and_cache_hit_rows_are_not_counted_as_usage(store: Store) -> None:
    import_files(store, [SPEND], actor=ADMIN)
    assert pairs_of(store)[("meeting-notes-summary", "mistral-direct")] == 2


def test_the_import_is_audited(store: Store) -> None:
    result = import_files(store, [SPANS], actor=ADMIN, reason="nightly telemetry")
    with store.snapshot() as session:
        event = list_events(session, entity="observation")[-1]
    assert event.entity_id == str(result.import_id) and event.reason == "nightly telemetry"
    assert event.changes["counts"]["new"]["genai"] == result.counts["genai"]


def test_a_viewer_may_not_import(store: Store) -> None:
    with pytest.raises(PermissionDenied):
        import_files(store, [SPANS], actor=Actor("someone", Role.viewer))


def test_gzip_is_read_like_plain_text(store: Store, tmp_path: Path) -> None:
    packed = tmp_path / "spans.jsonl.gz"
    packed.write_bytes(gzip.compress(SPANS.read_bytes()))
    result = import_files(store, [packed], actor=ADMIN)
    assert result.counts["genai"] == len(calls())


def test_a_file_in_neither_format_stores_nothing(store: Store, tmp_path: Path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("this is not telemetry\n")
    with pytest.raises(InvalidInput, match=r"notes\.txt:1"):
        import_files(store, [SPANS, notes], actor=ADMIN)
    assert usage(store) == []


def test_the_wrong_format_asked_for_is_exit_2(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(store, "observe", "import", "--format", "litellm-csv", str(SPANS)) == 2
    assert "SpendLogs CSV" in capsys.readouterr().err
    assert usage(store) == []


def test_the_feature_attribute_can_be_renamed(store: Store, tmp_path: Path) -> None:
    renamed = tmp_path / "spans.jsonl"
    renamed.write_text(SPANS.read_text().replace('"app.feature"', '"northwind.feature"'))
    import_files(store, [renamed], actor=ADMIN, feature_attribute="northwind.feature")
    assert ("dating-profile-match", "openai-direct") in pairs_of(store)


# --- report ------------------------------------------------------------------------------------------


def test_undeclared_and_denied_comes_first_with_its_rules(store: Store) -> None:
    import_files(store, [SPANS, SPEND], actor=ADMIN)
    found = report(store)
    undeclared = [(p.feature, p.route, p.decision) for p in found.undeclared]
    assert undeclared[:2] == [("clinic-notes-summary", "openai-direct", "deny"),
                              ("support-reply-draft", "azure-openai-global", "deny")]
    assert undeclared[2:] == [("marketing-copy", "mistral-direct", "allow")]
    clinic = found.undeclared[0]
    assert "health-needs-baa" in clinic.rules and clinic.last_seen == date(2026, 11, 20)
    assert found.failed


def test_declared_flows_never_seen_are_listed(store: Store) -> None:
    import_files(store, [SPANS, SPEND], actor=ADMIN)
    never = report(store).never_seen
    assert ("support-reply-draft", "claude-direct") in never
    assert ("dating-profile-match", "openai-direct") not in never


def test_the_window_limits_what_is_seen(store: Store) -> None:
    import_files(store, [SPANS], actor=ADMIN)
    found = report(store, since=date(2026, 11, 21))
    assert [(p.feature, p.route) for p in found.pairs] == [("code-assistant", "openai-direct")]
    assert not found.failed


def test_variance_is_observed_against_modelled_cost(store: Store) -> None:
    """By hand: meeting notes at the modelled volume, tokens 10% above, priced like the cost model."""
    dataset = store.read()
    route = next(r for r in dataset.routes if r.id == "mistral-direct")
    price = price_for(route, "mistral-medium-3.5", date(2026, 11, 1), dataset.costs.price_overrides)
    requests = 21_600  # 400 users x 0.9 active x 60 requests a month
    row = ObservedUsageRow(day=date(2026, 11, 1), feature="meeting-notes-summary", route="mistral-direct",
                           model="mistral-medium-3.5", source="litellm", requests=requests,
                           input_tokens=requests * 13_200, output_tokens=requests * 990)
    c = Compliance(dataset, Compliance.open(settings=store.settings, refresh=False).policies)
    found = build_report([row], dataset, c.decider, as_of=date(2026, 12, 1))
    cost = found.costs[0]
    observed = requests * (13_200 * price.input + 990 * price.output) / 1e6
    modelled = requests * (12_000 * price.input + 900 * price.output) / 1e6
    assert cost.observed_cost == pytest.approx(observed)
    assert cost.modelled_cost == pytest.approx(modelled)
    assert cost.modelled_requests == requests
    assert cost.variance_pct == 10.0
    frame = feature_costs(dataset, date(2026, 11, 1))
    assert float(frame.loc[frame.feature == "meeting-notes-summary", "monthly_cost"].iloc[0]) == pytest.approx(modelled)


def test_the_modelled_cost_of_each_month_is_the_cost_model_on_its_first_day(store: Store) -> None:
    """The report runs the cost model once per distinct set of flow prices; a price that changes between
    months still gives each month the cost model's own answer on its first day."""
    dataset = store.read()
    dataset.costs.price_overrides.append(d.PriceOverride(id="mistral-half", price_provider="mistral",
                                                         model="mistral-medium-3.5", discount=0.5,
                                                         valid_from=date(2026, 3, 1), note="test"))
    months = [date(2026, 2, 1), date(2026, 3, 1), date(2026, 4, 1)]  # March and April share their prices
    rows = [ObservedUsageRow(day=day, feature="meeting-notes-summary", route="mistral-direct",
                             model="mistral-medium-3.5", source="litellm", requests=100, input_tokens=1000,
                             output_tokens=100) for day in months]
    c = Compliance(dataset, Compliance.open(settings=store.settings, refresh=False).policies)
    found = {cost.month: cost for cost in build_report(rows, dataset, c.decider, as_of=date(2026, 12, 1)).costs}
    for day in months:
        frame = feature_costs(dataset, day, strict=False).set_index("feature")
        assert found[day.strftime("%Y-%m")].modelled_cost == frame.loc["meeting-notes-summary", "monthly_cost"]
    assert found["2026-03"].modelled_cost == pytest.approx(found["2026-02"].modelled_cost / 2)  # type: ignore[operator]


def test_the_monthly_sums_are_read_from_their_index_without_a_sort(store: Store) -> None:
    with store.snapshot() as session:
        connection = session.connection()
        if connection.dialect.name != "sqlite":  # PostgreSQL may group by hash instead; the index is there to use
            names = connection.execute(sa.text("SELECT indexname FROM pg_indexes WHERE tablename = 'observed_usage'"))
            assert "ix_observed_usage_month" in set(names.scalars())
            return
        query = monthly_sums(date(2026, 1, 1), None).compile(connection, compile_kwargs={"literal_binds": True})
        plan = " ".join(str(row[-1]) for row in connection.execute(sa.text(f"EXPLAIN QUERY PLAN {query}")))
    assert "COVERING INDEX ix_observed_usage_month" in plan and "TEMP B-TREE" not in plan, plan


def test_report_json_has_the_contract_keys_and_exits_1(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(store, "observe", "import", str(SPANS), str(SPEND)) == 0
    capsys.readouterr()
    assert cli(store, "observe", "report", "--format", "json") == 1
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"as_of", "since", "until", "pairs", "never_seen", "costs", "counts"}
    assert set(out["pairs"][0]) >= {"feature", "route", "declared", "requests", "input_tokens", "output_tokens",
                                    "cached_input_tokens", "first_seen", "last_seen", "decision", "rules"}
    assert set(out["costs"][0]) >= {"feature", "month", "requests", "observed_cost", "reported_cost",
                                    "modelled_cost", "variance_pct"}
    assert set(out["counts"]) >= {"records", "genai", "attributed", "resolved", "unattributed", "unresolved",
                                  "malformed", "duplicates", "merged", "ignored"}
    declared = next(p for p in out["pairs"] if p["declared"])
    assert declared["decision"] is None and declared["rules"] is None


def test_a_window_that_ends_before_it_starts_is_exit_2(store: Store, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(store, "observe", "report", "--since", "2026-12-01", "--until", "2026-11-01") == 2
    assert "--since 2026-12-01 is after --until 2026-11-01" in capsys.readouterr().err
    assert cli(store, "observe", "report", "--since", "2026-11-01", "--until", "2026-11-01") == 0  # one day: fine


def test_report_exits_0_when_everything_seen_is_declared(store: Store, tmp_path: Path) -> None:
    only = tmp_path / "spend.csv"
    lines = SPEND.read_text().splitlines()
    only.write_text("\n".join([lines[0], lines[1], lines[2]]) + "\n")  # two meeting-notes rows
    assert cli(store, "observe", "import", str(only)) == 0
    assert cli(store, "observe", "report") == 0


def test_the_example_telemetry_tells_the_whole_story(store: Store, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    examples = PROJECT_ROOT / "examples" / "telemetry"
    files = [str(shutil.copy(p, tmp_path)) for p in sorted(examples.glob("*.gz"))]
    assert cli(store, "observe", "import", *files) == 0
    assert cli(store, "observe", "import", *files) == 0
    assert "nothing new to store" in capsys.readouterr().out
    assert cli(store, "observe", "report") == 1
    text = capsys.readouterr().out
    assert text.index("UNDECLARED DENY   clinic-notes-summary") < text.index("UNDECLARED allow  marketing-copy")
    assert "health-needs-baa" in text and "claude-vertex-eu" in text and "meeting-notes-summary" in text
    assert cli(store, "observe", "report", "--format", "json") == 1
    pairs = json.loads(capsys.readouterr().out)["pairs"]
    opened = Compliance.open(database_url=store.engine.url.render_as_string(hide_password=False),
                             data_dir=store.settings.data_dir, refresh=False)
    order = {c.rule.id: c.index for c in opened.decider.rules}
    opened.close()
    ruled = [p["rules"] for p in pairs if p["decision"] and len(p["rules"]) > 1]
    assert ruled and all(rules == sorted(rules, key=order.__getitem__) for rules in ruled)  # policy-set order


def test_a_gzip_stream_cut_short_keeps_what_was_read(store: Store, tmp_path: Path) -> None:
    packed = gzip.compress(SPANS.read_bytes())
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(packed[: len(packed) * 2 // 3])
    result = import_files(store, [cut], actor=ADMIN)
    assert any("cannot be read further" in m for m in result.malformed)
    assert 0 < result.counts["genai"] < len(calls())


def test_litellm_metadata_feature_and_an_unknown_feature_id(tmp_path: Path) -> None:
    with SPEND.open(newline="") as handle:
        reader = csv.DictReader(handle)
        row = next(r for r in reader if "bedrock" in r["api_base"])
        columns = list(reader.fieldnames or [])
    row["metadata"] = json.dumps({"feature": "no-such-feature"})
    path = tmp_path / "spend.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, columns)
        writer.writeheader()
        writer.writerow(row)
    call = calls(path)[0]
    assert call.feature == "no-such-feature"
    placed = Placer(example_dataset()).place(call)
    assert placed.feature is None and "feature=no-such-feature" in placed.seen
    assert placed.route == "llama-bedrock-us"


def test_a_bedrock_profile_prefix_decides_the_region_over_the_host() -> None:
    call = next(c for c in calls() if c.feature == "mortgage-doc-extraction")
    moved = Call(**{**call.__dict__, "host": "bedrock-runtime.us-east-1.amazonaws.com", "region": "us-east-1"})
    assert Placer(example_dataset()).place(moved).route == "claude-bedrock-eu"


def test_two_features_may_not_claim_one_service(data_dir: Path) -> None:
    features = data_dir / "features.yaml"
    features.write_text(features.read_text().replace(
        "    code: [examples/northwind-app/kyc/**]\n",
        "    code: [examples/northwind-app/kyc/**]\n    services: [Fraud-Triage-Worker]\n"))
    _, problems, _ = read_data_dir(data_dir)
    assert any("services" in p.field and "kyc-id-check" in p.message for p in problems), problems


def dashboard_after_import(app_env: Path, data_dir: Path, page: str) -> AppTest:
    store = open_store(f"sqlite:///{app_env}", data_dir)
    import_files(store, [SPANS, SPEND], actor=ADMIN)
    store.dispose()
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(f"compliance/ui/{page}.py").run()
    return at


def test_the_overview_names_undeclared_use_denied_as_errors(app_env: Path, data_dir: Path) -> None:
    at = dashboard_after_import(app_env, data_dir, "overview_page")
    assert not at.exception, [e.value for e in at.exception]
    assert any("Undeclared use in production (3)" in h.value for h in at.subheader)
    assert any("clinic-notes-summary" in e.value and "health-needs-baa" in e.value for e in at.error)
    assert any("marketing-copy" in w.value and "would allow" in w.value for w in at.warning)


def test_the_costs_page_shows_actual_vs_modelled(app_env: Path, data_dir: Path) -> None:
    at = dashboard_after_import(app_env, data_dir, "costs_page")
    assert not at.exception, [e.value for e in at.exception]
    assert any(h.value == "Actual vs modelled (observed telemetry)" for h in at.subheader)
    shown = next(df.value for df in at.dataframe if "variance_pct" in getattr(df.value, "columns", []))
    assert "meeting-notes-summary" in set(shown["feature"])


def test_a_model_name_longer_than_the_store_allows_is_cut(store: Store, tmp_path: Path) -> None:
    long = tmp_path / "spans.jsonl"
    long.write_text(SPANS.read_text().replace("gpt-5.6-terra", "x" * 5000))  # request and response model
    result = import_files(store, [long], actor=ADMIN)
    assert result.counts["unresolved"] >= 1
    assert all(len(row[3]) <= 200 and len(row[5]) <= 2000 for row in usage(store))


def test_a_csv_with_a_byte_order_mark_is_still_spend_logs(store: Store, tmp_path: Path) -> None:
    marked = tmp_path / "spend.csv"
    marked.write_bytes(b"\xef\xbb\xbf" + SPEND.read_bytes())
    assert import_files(store, [marked], actor=ADMIN).counts["genai"] == len(calls(SPEND))


def test_finance_replaces_modelled_usage_with_the_observed_average_audited(store: Store) -> None:
    from compliance.observe.adopt import adopt_observed_usage, observed_usage
    from compliance.store.edits import record_versions

    import_files(store, [SPEND], actor=ADMIN)
    dataset = store.read()
    finance = Actor("cfo@northwind.example", Role.finance)
    with store.session() as session:
        found = observed_usage(session, dataset, "meeting-notes-summary", "2026-11")
        assert found is not None and (found.requests, found.input_tokens, found.output_tokens) == (2, 11_000, 850)
        version = record_versions(session, "feature")["meeting-notes-summary"]
        adopt_observed_usage(session, dataset=dataset, feature_id="meeting-notes-summary", month="2026-11",
                             expected_version=version, actor=finance, reason="November actuals")
    usage = next(f for f in store.read().features if f.id == "meeting-notes-summary").usage
    assert usage is not None and (usage.input_tokens, usage.output_tokens, usage.requests_per_user_month) == (
        11_000, 850, 60)
    with store.snapshot() as session:
        events = list_events(session, entity="feature", entity_id="meeting-notes-summary")
    event = next(e for e in events if e.actor == "cfo@northwind.example")
    assert event.reason == "November actuals" and set(event.changes) == {"usage"}


def test_a_viewer_may_not_adopt_observed_usage(store: Store) -> None:
    from compliance.observe.adopt import adopt_observed_usage

    import_files(store, [SPEND], actor=ADMIN)
    with store.session() as session, pytest.raises(PermissionDenied):
        adopt_observed_usage(session, dataset=store.read(), feature_id="meeting-notes-summary", month="2026-11",
                             expected_version=1, actor=Actor("v", Role.viewer), reason="x")


def test_the_costs_page_adopts_observed_usage_in_one_audited_action(app_env: Path, data_dir: Path) -> None:
    at = dashboard_after_import(app_env, data_dir, "costs_page")
    at.selectbox(key="adopt-choice").set_value("meeting-notes-summary 2026-11")
    at.text_input(key="adopt-reason-0").set_value("November actuals from the gateway")
    at.button(key="adopt-save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = open_store(f"sqlite:///{app_env}", data_dir)
    usage = next(f for f in store.read().features if f.id == "meeting-notes-summary").usage
    store.dispose()
    assert usage is not None and (usage.input_tokens, usage.output_tokens) == (11_000, 850)


def test_resolve_places_stored_unattributed_rows_after_the_mapping_is_fixed(store: Store) -> None:
    from compliance.observe.importing import resolve_stored
    from compliance.store.edits import record_versions, update_record

    import_files(store, [SPANS], actor=ADMIN)
    assert pairs_of(store)[(None, "openai-direct")] == 1  # the nightly batch: no feature anywhere
    assert resolve_stored(store, actor=ADMIN).moved == 0  # nothing to place yet: nothing stored, no event
    with store.snapshot() as session:
        events = len(list_events(session))
    with store.session() as session:
        version = record_versions(session, "feature")["meeting-notes-summary"]
        update_record(session, entity="feature", key="meeting-notes-summary", expected_version=version,
                      changes={"services": ["nightly-batch"]}, actor=ADMIN, reason="the batch is ours")
    before = sum(pairs_of(store).values())
    moved = resolve_stored(store, actor=ADMIN, reason="mapping fixed")
    assert moved.moved == 1 and moved.records == 1
    assert moved.placed == {"meeting-notes-summary -> openai-direct": 1}
    pairs = pairs_of(store)
    assert (None, "openai-direct") not in pairs and pairs[("meeting-notes-summary", "openai-direct")] >= 1
    assert sum(pairs.values()) == before  # moved, not copied
    with store.snapshot() as session:
        event = next(e for e in list_events(session, entity="observation") if e.entity_id == "resolve")
        assert event.reason == "mapping fixed" and event.action == "update"
        assert len(list_events(session)) == events + 2  # the feature edit and the resolve
    assert resolve_stored(store, actor=ADMIN).moved == 0  # again: nothing changes
    import_files(store, [SPANS], actor=ADMIN)  # a re-import still counts nothing twice
    assert sum(pairs_of(store).values()) == before


def test_a_large_file_read_by_workers_counts_as_one_stream(store: Store, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import compliance.observe.importing as importing

    big = tmp_path / "spans.jsonl"
    lines = SPANS.read_text().splitlines()
    big.write_text("\n".join(lines * 3) + "\n")  # every span three times: the copies are duplicates
    alone = import_files(open_store(f"sqlite:///{tmp_path}/alone.db", store.settings.data_dir), [big], actor=ADMIN,
                         workers=1)
    monkeypatch.setattr(importing, "CHUNK", 3_000)  # many chunks: the pool reads them, merges cross their edges
    split = import_files(store, [big], actor=ADMIN, workers=2)
    assert alone.workers == 0 and split.workers == 2
    assert split.as_dict()["counts"] == alone.as_dict()["counts"]
    assert split.counts["duplicates"] == 2 * split.counts["genai"] // 3 + 1  # the fixture exports one span twice
    assert split.malformed == alone.malformed and len(split.malformed) == 3  # the cut-off line, once per copy
