"""The example data set is rich enough to show the product, and honest about its sources."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from compliance.alerts import store_alerts
from compliance.store.derived import agreement_active
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
