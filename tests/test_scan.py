"""The scanner: values followed, features attributed, statuses decided, decoys ignored, ids stable."""

from __future__ import annotations

import json
from pathlib import Path

from compliance.scan.findings import finding_id
from compliance.store import documents as d
from tests.scan_helpers import example_dataset, only, scan_code

BEDROCK = """
    import os
    from anthropic import AnthropicBedrock
    {setup}
    def draft(text{params}):{marker}
        client = AnthropicBedrock({args})
        return client.messages.create(model={model}, messages=[])
    """
HAIKU_EU = '"eu.anthropic.claude-haiku-4-5-20251001-v1:0"'


def bedrock(tmp_path: Path, *, setup: str = "", params: str = "", args: str = 'aws_region="eu-central-1"',
            model: str = HAIKU_EU, marker: str = "  # compliance: feature=support-reply-draft",
            dataset: d.DataSet | None = None):  # type: ignore[no-untyped-def]
    code = BEDROCK.format(setup=setup, params=params, args=args, model=model, marker=marker)
    return only(scan_code(tmp_path, code, dataset))


def with_feature(**changes: object) -> d.DataSet:
    dataset = example_dataset()
    feature = next(f for f in dataset.features if f.id == "support-reply-draft")
    dataset.features[dataset.features.index(feature)] = feature.model_copy(update=changes)
    return dataset


# --- resolution paths


def test_region_literal(tmp_path: Path) -> None:
    f = bedrock(tmp_path)
    assert f.region == {"value": "eu-central-1", "how": "literal"}
    assert f.route == "claude-bedrock-eu" and f.status == "declared"


def test_region_module_constant(tmp_path: Path) -> None:
    f = bedrock(tmp_path, setup='REGION = "eu-central-1"', args="aws_region=REGION")
    assert f.region == {"value": "eu-central-1", "how": "constant"}
    assert f.route == "claude-bedrock-eu"


def test_region_followed_through_local_assignments(tmp_path: Path) -> None:
    f = only(scan_code(tmp_path, """
        from anthropic import AnthropicBedrock
        def draft():  # compliance: feature=support-reply-draft
            where = "eu-central-1"
            region = where
            return AnthropicBedrock(aws_region=region).messages.create(
                model="eu.anthropic.claude-haiku-4-5-20251001-v1:0", messages=[])
        """))
    assert f.region == {"value": "eu-central-1", "how": "literal"}


def test_region_from_environment_records_the_variable_and_default(tmp_path: Path) -> None:
    f = bedrock(tmp_path, args='aws_region=os.getenv("BEDROCK_REGION", "eu-central-1")')
    assert f.region == {"value": None, "how": "env", "env": "BEDROCK_REGION", "default": "eu-central-1"}
    assert f.route == "claude-bedrock-eu"
    assert any("BEDROCK_REGION" in r and "default" in r for r in f.reasons)


def test_region_from_os_environ_subscript(tmp_path: Path) -> None:
    f = bedrock(tmp_path, args='aws_region=os.environ["BEDROCK_REGION"]')
    assert f.region == {"value": None, "how": "env", "env": "BEDROCK_REGION"}


def test_sdk_read_environment_is_env_with_the_sdks_variable(tmp_path: Path) -> None:
    f = bedrock(tmp_path, args="")
    assert f.region == {"value": None, "how": "env", "env": "AWS_REGION"}
    assert any("AnthropicBedrock from the environment variable AWS_REGION" in r for r in f.reasons)


def test_region_from_a_function_parameter(tmp_path: Path) -> None:
    f = bedrock(tmp_path, params=", region", args="aws_region=region")
    assert f.region == {"value": None, "how": "argument", "argument": "region"}
    assert any("parameter region of draft" in r for r in f.reasons)


def test_unknown_region_and_model_give_candidates(tmp_path: Path) -> None:
    f = bedrock(tmp_path, args="aws_region=settings.region", model="settings.model",
                setup="settings = object()")
    assert f.region["how"] == "unknown" and f.model["how"] == "unknown"
    assert f.route is None
    assert "claude-bedrock-eu" in f.candidates and "llama-bedrock-us" in f.candidates
    assert f.status == "unresolved"


def test_client_made_in_one_function_used_in_another(tmp_path: Path) -> None:
    f = only(scan_code(tmp_path, """
        import boto3
        def make_runtime():
            return boto3.client("bedrock-runtime", region_name="eu-central-1")
        class Extractor:
            def __init__(self):
                self.runtime = make_runtime()
            def run(self, doc):  # compliance: feature=mortgage-doc-extraction
                return self.runtime.converse(modelId="eu.anthropic.claude-sonnet-4-5-20250929-v1:0", messages=[])
        """))
    assert f.function == "Extractor.run"
    assert f.route == "claude-bedrock-eu" and f.status == "declared"


def test_keyword_argument_host_maps_openai_client_to_bedrock(tmp_path: Path) -> None:
    f = only(scan_code(tmp_path, """
        from openai import OpenAI
        client = OpenAI(base_url="https://bedrock-runtime.eu-central-1.amazonaws.com/openai/v1")
        def ask():  # compliance: feature=wellness-coach
            return client.chat.completions.create(model="openai.gpt-oss-120b-1:0", messages=[])
        """))
    assert (f.processor["value"], f.region["value"], f.route) == ("aws", "eu-central-1", "gpt-oss-bedrock-eu")
    assert f.status == "declared"


def test_bare_genai_client_is_vertex_or_gemini_by_environment(tmp_path: Path) -> None:
    f = only(scan_code(tmp_path, """
        from google import genai
        def ask():  # compliance: feature=product-search-assistant
            return genai.Client().models.generate_content(model="gemini-3.5-flash-lite", contents="x")
        """))
    assert f.service["how"] == "env" and f.service["env"] == "GOOGLE_GENAI_USE_VERTEXAI"
    assert set(f.candidates) == {"gemini-vertex-eu", "gemini-api"}
    assert f.status == "unresolved"  # the feature declares only the Vertex route


def test_scan_hint_on_a_route_supplies_the_value(tmp_path: Path) -> None:
    dataset = example_dataset()
    route = next(r for r in dataset.routes if r.id == "vllm-onprem")
    dataset.routes[dataset.routes.index(route)] = route.model_copy(
        update={"scan": d.ScanHints(hosts=["vllm.fra-dc1.internal"])})
    f = only(scan_code(tmp_path, """
        from openai import OpenAI
        client = OpenAI(base_url="http://vllm.fra-dc1.internal:8000/v1", api_key="none")
        def check():  # compliance: feature=kyc-id-check
            return client.chat.completions.create(model="llama-3.3-70b-instruct", messages=[])
        """, dataset))
    assert f.route == "vllm-onprem" and f.status == "declared"
    assert f.region == {"value": "fra-dc1", "how": "hint"}


# --- attribution paths


def test_marker_on_the_call_line(tmp_path: Path) -> None:
    f = only(scan_code(tmp_path, """
        from anthropic import Anthropic
        def draft():
            client = Anthropic()
            return client.messages.create(model="claude-sonnet-4-5")  # compliance: feature=support-reply-draft
        """))
    assert f.feature == "support-reply-draft"
    assert "comment on the call" in f.reasons[-2]


def test_marker_on_the_def_line(tmp_path: Path) -> None:
    assert bedrock(tmp_path).feature == "support-reply-draft"


def test_require_guard_names_the_feature_and_marks_guarded(tmp_path: Path) -> None:
    f = only(scan_code(tmp_path, """
        from anthropic import AnthropicBedrock
        from compliance import Compliance
        guard = Compliance.open()
        def draft(text):
            guard.require(feature="support-reply-draft", category="user.name", route="claude-bedrock-eu")
            return AnthropicBedrock(aws_region="eu-central-1").messages.create(
                model="eu.anthropic.claude-haiku-4-5-20251001-v1:0", messages=[])
        """))
    assert f.feature == "support-reply-draft" and f.guarded is True


def test_code_pattern_attributes_by_file_most_literal_pattern_wins(tmp_path: Path) -> None:
    dataset = with_feature(code=["support/**"])
    other = next(f for f in dataset.features if f.id == "clinic-notes-summary")
    dataset.features[dataset.features.index(other)] = other.model_copy(update={"code": ["support/clinic/*.py"]})
    report = scan_code(tmp_path, {
        "support/replies.py": BEDROCK.format(setup="", params="", args='aws_region="eu-central-1"', model=HAIKU_EU,
                                             marker=""),
        "support/clinic/notes.py": BEDROCK.format(setup="", params="", args='aws_region="eu-central-1"',
                                                  model='"eu.anthropic.claude-sonnet-4-5-20250929-v1:0"', marker=""),
    }, dataset)
    owners = {f.file: f.feature for f in report.findings}
    assert owners == {"support/replies.py": "support-reply-draft", "support/clinic/notes.py": "clinic-notes-summary"}
    assert all(not f.guarded for f in report.findings)


# --- statuses


def test_status_undeclared(tmp_path: Path) -> None:
    f = bedrock(tmp_path, args='aws_region="us-east-1"', model='"meta.llama3-3-70b-instruct-v1:0"')
    assert (f.route, f.status) == ("llama-bedrock-us", "undeclared")
    assert "declares no flow through llama-bedrock-us" in f.reasons[-1]


def test_status_unattributed(tmp_path: Path) -> None:
    f = bedrock(tmp_path, marker="")
    assert f.status == "unattributed" and f.feature is None


def test_status_unresolved_when_no_route_fits(tmp_path: Path) -> None:
    f = bedrock(tmp_path, args='aws_region="ap-south-1"')
    assert f.status == "unresolved" and f.candidates == []


def test_status_declared_when_every_candidate_is_declared(tmp_path: Path) -> None:
    f = only(scan_code(tmp_path, """
        from openai import AzureOpenAI
        def triage():  # compliance: feature=fraud-review-triage
            return AzureOpenAI().chat.completions.create(model="o4-mini", messages=[])
        """, with_feature()))
    assert f.candidates == ["azure-openai-eu", "azure-openai-global"]
    assert f.status == "unresolved"  # the feature declares only the EU deployment
    dataset = example_dataset()
    fraud = next(x for x in dataset.features if x.id == "fraud-review-triage")
    flows = [*fraud.flows, fraud.flows[0].model_copy(update={"route": "azure-openai-global"})]
    dataset.features[dataset.features.index(fraud)] = fraud.model_copy(update={"flows": flows})
    assert only(scan_code(tmp_path, {}, dataset)).status == "declared"


def test_status_unparsed_and_the_rest_is_scanned(tmp_path: Path) -> None:
    report = scan_code(tmp_path, {"broken.py": "def oops(:\n    pass\n",
                                  "good.py": BEDROCK.format(setup="", params="", args='aws_region="eu-central-1"',
                                                            model=HAIKU_EU, marker="")})
    statuses = {f.file: (f.status, f.line) for f in report.findings}
    assert statuses["broken.py"] == ("unparsed", 1)
    assert statuses["good.py"][0] == "unattributed"
    assert report.failed


def test_status_accepted_from_the_baseline(tmp_path: Path) -> None:
    first = bedrock(tmp_path, marker="")
    again = only(scan_code(tmp_path, {}, baseline={first.id}))
    assert again.status == "accepted"


# --- decoys


def test_decoys_are_not_reported(tmp_path: Path) -> None:
    report = scan_code(tmp_path, """
        # we moved off bedrock last year; see the AnthropicBedrock notes
        import boto3
        from myapp.llm import OpenAI
        NOTE = "bedrock-runtime is not used here"
        s3 = boto3.client("s3")
        def save(records, db):
            db.create(records)
            s3.put_object(Bucket="bedrock", Key="x")
            OpenAI().chat.completions.create(model="gpt-5.6-sol")
            return records.create(model="gpt-5.6-sol")
        """)
    assert report.findings == []


def test_langchain_model_that_only_escapes_the_module_is_reported_at_construction(tmp_path: Path) -> None:
    f = only(scan_code(tmp_path, """
        from langchain_anthropic import ChatAnthropic
        def build():  # compliance: feature=support-reply-draft
            return ChatAnthropic(model="claude-sonnet-4-5")
        """))
    assert (f.callee, f.line, f.route, f.status) == ("ChatAnthropic", 4, "claude-direct", "declared")


# --- ids, notebooks


def test_id_is_stable_across_an_unrelated_edit_above_the_call(tmp_path: Path) -> None:
    before = bedrock(tmp_path)
    after = bedrock(tmp_path, setup="\n    ".join(["# a new comment", "TIMEOUT = 30", "", "", "def unrelated():",
                                                  "    return 1", ""]))
    assert after.line > before.line
    assert after.id == before.id
    assert before.id == finding_id("app.py", "draft", "client.messages.create", 0)


def test_ids_differ_for_two_calls_in_one_function(tmp_path: Path) -> None:
    report = scan_code(tmp_path, """
        from anthropic import Anthropic
        def both():
            c = Anthropic()
            c.messages.create(model="claude-sonnet-4-5", messages=[])
            c.messages.create(model="claude-haiku-4-5", messages=[])
        """)
    assert len({f.id for f in report.findings}) == 2


def test_notebook_code_cells_are_scanned_with_cell_and_line(tmp_path: Path) -> None:
    notebook = {"cells": [
        {"cell_type": "markdown", "source": ["# uses bedrock\n"]},
        {"cell_type": "code", "source": ["%pip install anthropic\n", "from anthropic import Anthropic\n",
                                         "client = Anthropic()\n"]},
        {"cell_type": "code", "source": ["client.messages.create(model='claude-sonnet-4-5', messages=[])\n"]},
    ], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    f = only(scan_code(tmp_path, {"explore.ipynb": json.dumps(notebook)}))
    assert (f.file, f.cell, f.line, f.route) == ("explore.ipynb", 2, 1, "claude-direct")


def test_rescan_uses_the_cache_and_sees_an_edit(tmp_path: Path) -> None:
    first = bedrock(tmp_path)
    assert first.status == "declared"
    report = scan_code(tmp_path, {}, cache=True)
    assert (tmp_path / ".compliance-cache").is_dir()
    assert only(report).id == first.id
    changed = scan_code(tmp_path, {"app.py": BEDROCK.format(setup="", params="", args='aws_region="us-east-1"',
                                                            model='"meta.llama3-3-70b-instruct-v1:0"',
                                                            marker="  # compliance: feature=support-reply-draft")},
                        cache=True)
    assert only(changed).status == "undeclared"
