"""The example data set is rich enough to show the product, and honest about its sources."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from compliance import sourcing
from compliance.alerts import store_alerts
from compliance.store.derived import agreement_active
from compliance.store.enums import SourceStatus
from compliance.store.validate import FILES, read_data_dir
from tests.conftest import EXAMPLE_DATA

TODAY = date(2026, 11, 30)


def example():  # type: ignore[no-untyped-def]
    dataset, problems, _ = read_data_dir(EXAMPLE_DATA)
    assert problems == [] and dataset is not None
    return dataset


def test_every_file_is_labelled_as_example_data_to_verify() -> None:
    for name in FILES:
        head = (EXAMPLE_DATA / name).read_text().splitlines()[0]
        assert head.startswith("# EXAMPLE DATA TO VERIFY - NOT LEGAL ADVICE"), name


def test_providers_cover_the_main_vendors_and_ourselves() -> None:
    ids = {p.id for p in example().providers}
    assert {"openai", "anthropic", "google", "microsoft", "aws", "mistral", "cohere", "meta", "northwind"} <= ids


def test_routes_cover_direct_cloud_and_self_hosted_paths() -> None:
    routes = example().routes
    assert len(routes) >= 15
    services = {r.service for r in routes}
    assert {"AWS Bedrock", "Azure OpenAI", "Google Vertex AI", "self-hosted vLLM", "Anthropic API"} <= services
    # the tricky one: billed through a cloud marketplace, yet the model maker processes the prompts
    tricky = [r for r in routes if r.service == "Claude Platform on AWS"]
    assert tricky and tricky[0].processor == tricky[0].model_provider == "anthropic"
    assert any(r.processor != r.model_provider for r in routes)


def test_every_provider_and_route_fact_keeps_a_source() -> None:
    data = example()
    for record in [*data.providers, *data.routes]:
        assert record.sources, record.id
        assert all(s.status.value in {"verified", "secondary", "unverified"} for s in record.sources)
    assert any(s.status.value == "unverified" for r in data.routes for s in r.sources)


def test_categories_mirror_fides_and_add_org_keys() -> None:
    categories = example().categories
    assert len(categories) >= 40
    keys = {c.key for c in categories}
    assert {"user.contact.email", "user.financial", "user.health_and_medical", "user.biometric"} <= keys
    assert any(k.startswith("org.") for k in keys)
    assert all(c.source == "fideslang-2.0" for c in categories if c.key.startswith("user"))
    assert "fideslang" in (EXAMPLE_DATA / "categories.yaml").read_text().split("categories:")[0]


def test_features_span_segments_with_flows_and_usage() -> None:
    features = example().features
    assert len(features) >= 8
    assert {f.segment.value for f in features} == {"b2b", "consumer", "internal"}
    assert all(f.flows and f.usage for f in features)
    ids = {f.id for f in features}
    assert {"mortgage-doc-extraction", "support-reply-draft", "dating-profile-match", "clinic-notes-summary",
            "code-assistant"} <= ids
    mortgage = next(f for f in features if f.id == "mortgage-doc-extraction")
    assert mortgage.human_review


def test_agreements_show_a_plausible_mix_on_the_reference_date() -> None:
    data = example()
    statuses = {p.id: p.dpa.status.value for p in data.providers if p.dpa}
    assert sum(agreement_active(p.dpa, TODAY) is True for p in data.providers) >= 3
    assert "in_review" in statuses.values()
    alerts = store_alerts(data, TODAY, within=60)
    assert any(a.kind == "dpa" and a.severity == "expiring" for a in alerts)
    assert any(a.kind == "dpa" and a.severity == "expired" for a in alerts)
    assert any(a.kind == "route" and a.severity == "stale" for a in alerts)


def test_example_data_folder_has_no_stray_files() -> None:
    yaml_files = {p.name for p in Path(EXAMPLE_DATA).glob("*.yaml")}
    assert yaml_files == set(FILES)


# --- the example data meets its own sourcing standard (issue 11.2) -------------------------------


def test_every_public_fact_has_one_dated_source_with_a_status() -> None:
    """Every public fact in data/ is sourced and dated, so the standard cannot rot.

    Public facts (compliance/sourcing.py): per provider `hq_country`, `transfer_mechanism`, `dpa`,
    `baa` (when present) and `certifications.<name>`; per route `processor`, `region`, `residency`,
    `retention_days`, `zero_data_retention`, `trains_on_inputs`, `models` and `regional_premium`
    (when set). Each needs exactly one source naming it, with an as_of date and a status; verified
    and secondary need a url, verified a url on the vendor's own site; an unverified source without
    a url says in its note what was looked for. Northwind's own records (note "company record ...")
    are always unverified.
    """
    data = example()
    assert sourcing.problems(data) == []
    counts = sourcing.counts(data)
    assert counts["unsourced"] == 0 and counts["public facts"] >= 150
    assert counts["verified"] > counts["secondary"] > 0 and counts["unverified"] > 0


def test_every_source_in_the_files_states_its_status() -> None:
    """The model's default status must never decide: each source in the YAML says it."""
    for name in ("providers.yaml", "routes.yaml"):
        records = yaml.safe_load((EXAMPLE_DATA / name).read_text())[name.split(".")[0]]
        for record in records:
            for source in record["sources"]:
                assert source.get("status") in {"verified", "secondary", "unverified"}, (record["id"], source)


def test_the_standard_catches_an_unsourced_fact_and_an_overclaimed_source() -> None:
    data = example()
    aws = next(p for p in data.providers if p.id == "aws")
    aws.sources = [s for s in aws.sources if s.field != "baa"]
    aws.sources[0] = aws.sources[0].model_copy(update={"as_of": None})
    route = next(r for r in data.routes if r.id == "claude-vertex-eu")
    route.sources = [s.model_copy(update={"status": SourceStatus.verified}) if s.field == "regional_premium" else s
                     for s in route.sources]
    own = next(r for r in data.routes if r.id == "vllm-onprem")
    own.sources[0] = own.sources[0].model_copy(update={"status": SourceStatus.verified})
    found = sourcing.problems(data)
    assert "provider aws: public fact baa has no source" in found
    assert "provider aws source hq_country: no as_of date" in found
    assert any(p.startswith("route claude-vertex-eu source regional_premium: verified, but github.com") for p in found)
    assert "route vllm-onprem source processor: a company record is never verified" in found


def test_cohere_iso_certificates_are_secondary_and_its_soc2_verified() -> None:
    cohere = next(p for p in example().providers if p.id == "cohere")
    status = {s.field: s.status.value for s in cohere.sources}
    assert status["certifications.iso27001"] == status["certifications.iso42001"] == "secondary"
    assert status["certifications.soc2_type2"] == "verified"


def test_the_anthropic_dpa_and_its_routes_tell_one_story() -> None:
    data = example()
    anthropic = next(p for p in data.providers if p.id == "anthropic")
    assert anthropic.dpa is not None and anthropic.dpa.status.value == "expired"
    assert str(anthropic.dpa.expires_on) == "2026-10-31"
    assert {r.status.value for r in data.routes if r.processor == "anthropic"} == {"under_review"}


def test_us_only_claude_platform_route_lists_only_models_that_support_it() -> None:
    route = next(r for r in example().routes if r.id == "claude-platform-aws")
    assert route.residency.value == "us" and route.regional_premium == 0.1
    assert route.models and all(m.endswith(("-4-6", "-4-7", "-4-8")) for m in route.models)


def test_docs_state_the_counts_the_data_gives() -> None:
    text = (EXAMPLE_DATA.parent / "docs" / "example-data.md").read_text()
    table = text.split("<!-- counts:start -->\n", 1)[1].split("<!-- counts:end -->", 1)[0]
    assert table == sourcing.markdown(example()), "run: python -m compliance.sourcing > table, paste into the docs"
