"""The records legal publishes and hands to auditors, checked row by row against the example data
(records.md): the subprocessor list and its diff, notice alerts, the Art. 30 records, the AI
register, their CSV / XLSX / JSON forms, and the evidence pack with its verify step."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import date
from pathlib import Path

import pytest
from openpyxl import load_workbook

from compliance.cli import main
from compliance.records.formats import RecordTable, cell, to_csv, to_json, to_xlsx
from compliance.records.notice import notice_alerts
from compliance.records.processing import ai_register, processing_records
from compliance.records.stamp import Stamp
from compliance.records.subprocessors import markdown, notice_diff, subprocessor_list
from compliance.records.verify import verify_pack
from compliance.store.audit import spreadsheet_safe
from tests.helpers import replace_in
from tests.records_helpers import decider_for

DAY = date(2026, 12, 2)
STAMP = Stamp(DAY, "d" * 64, "h" * 64)


# --- subprocessor list ----------------------------------------------------------------------------
def test_the_list_is_exactly_the_processors_on_customer_data_flows(data_dir: Path) -> None:
    listed = subprocessor_list(decider_for(data_dir).dataset)
    # b2b flows: claude-bedrock-eu (aws), claude-direct (anthropic), claude-vertex-eu (google),
    # azure-openai-eu (microsoft); vllm-onprem is our own racks.
    assert [s.processor for s in listed] == ["aws", "microsoft", "google", "anthropic"]
    aws = listed[0]
    assert aws.features == ["mortgage-doc-extraction", "support-reply-draft", "clinic-notes-summary"]
    assert aws.purposes == ["essential.service", "essential.service.operations.support"]
    assert aws.locations == ["eu (eu-central-1)"] and aws.transfer_mechanism == "scc"  # no DPF confirmed
    assert aws.announced_on == date(2025, 3, 1)


def test_processors_used_only_by_internal_or_consumer_features_are_not_listed(data_dir: Path) -> None:
    listed = {s.processor for s in subprocessor_list(decider_for(data_dir).dataset)}
    assert "mistral" not in listed  # meeting-notes-summary only (internal)
    assert "openai" not in listed  # code-assistant (internal) and dating-profile-match (consumer)
    assert "northwind" not in listed


def test_a_b2b_feature_declaring_no_customer_data_takes_its_processor_off(data_dir: Path) -> None:
    replace_in(data_dir / "features.yaml", "    purposes: [essential.fraud_detection]\n",
               "    purposes: [essential.fraud_detection]\n    customer_data: false\n")
    assert "microsoft" not in {s.processor for s in subprocessor_list(decider_for(data_dir).dataset)}


def test_diff_names_unannounced_no_longer_used_and_in_notice(data_dir: Path) -> None:
    dataset = decider_for(data_dir).dataset
    diff = notice_diff(dataset, DAY)
    assert (diff.not_announced, diff.no_longer_used, diff.in_notice) == ([], ["cohere"], ["microsoft"])
    assert notice_diff(dataset, date(2026, 12, 20)).in_notice == []


def test_diff_names_a_processor_in_use_but_never_announced(data_dir: Path) -> None:
    replace_in(data_dir / "subprocessors.yaml", "    - processor: anthropic\n      announced_on: 2025-06-15\n"
               "      url: https://northwind.example/legal/subprocessors#2025-06-15\n", "")
    assert notice_diff(decider_for(data_dir).dataset, DAY).not_announced == ["anthropic"]


def test_markdown_is_a_public_page_with_one_row_per_subprocessor(data_dir: Path) -> None:
    text = markdown(decider_for(data_dir).dataset, DAY, STAMP.as_dict(), diff=True)
    lines = text.splitlines()
    assert lines[0] == "# Subprocessors" and "at least 30 days before" in text
    rows = [line for line in lines if line.startswith("| ") and not line.startswith("| Subprocessor")]
    assert [r.split(" | ")[0].removeprefix("| ") for r in rows] == [
        "Amazon Web Services", "Microsoft (Azure)", "Google Cloud", "Anthropic"]
    assert "announced 2026-11-20; receives customer data from 2026-12-20" in rows[1]
    assert "Standard Contractual Clauses" in rows[0] and "Essential for Service" in rows[0]
    assert "- Announced, no longer receiving customer data: Cohere" in lines
    assert f"<!-- as of 2026-12-02; policy digest {'d' * 64}; store head {'h' * 64} -->" in lines


def test_alert_names_the_notice_end_and_the_flows_allowed_that_day(data_dir: Path) -> None:
    alerts = notice_alerts(decider_for(data_dir), DAY, within=30)
    assert [(a.subject, a.due_on, a.days) for a in alerts] == [("microsoft", date(2026, 12, 20), 18)]
    assert alerts[0].allows == ("fraud-review-triage -> azure-openai-eu (user.financial.credit_card, "
                                "user.device.ip_address, user.location.imprecise)",)
    assert notice_alerts(decider_for(data_dir), DAY, within=17) == []


def test_an_unannounced_processor_alert_says_what_the_policy_does_with_its_flows(data_dir: Path,
                                                                                tmp_path: Path) -> None:
    import shutil

    from compliance.config import PROJECT_ROOT

    replace_in(data_dir / "subprocessors.yaml", "    - processor: microsoft\n      announced_on: 2026-11-20\n"
               "      url: https://northwind.example/legal/subprocessors#2026-11-20\n", "")
    alert = next(a for a in notice_alerts(decider_for(data_dir), DAY) if a.severity == "unannounced")
    assert alert.subject == "microsoft" and alert.message.endswith("the policy denies 1 of its declared flows")
    policies = tmp_path / "policies"  # the same policy set without the subprocessor-notice rule
    shutil.copytree(PROJECT_ROOT / "policies", policies, ignore=shutil.ignore_patterns("25-*", "tests"))
    alert = next(a for a in notice_alerts(decider_for(data_dir, policies), DAY) if a.severity == "unannounced")
    assert alert.message.endswith("the policy does not hold its flows back (no rule reads the notice)")


# --- records of processing and the AI register ----------------------------------------------------
def test_records_have_one_row_per_feature_and_purpose_with_personal_data(data_dir: Path) -> None:
    rows = processing_records(decider_for(data_dir), DAY)
    # code-assistant and marketing-copy send no personal data; kyc-id-check has two purposes
    assert [(r["feature"], r["purpose"]) for r in rows] == [
        ("mortgage-doc-extraction", "essential.service"),
        ("support-reply-draft", "essential.service.operations.support"),
        ("clinic-notes-summary", "essential.service"),
        ("kyc-id-check", "essential.legal_obligation"), ("kyc-id-check", "essential.fraud_detection"),
        ("fraud-review-triage", "essential.fraud_detection"),
        ("dating-profile-match", "personalize.profiling"),
        ("product-search-assistant", "personalize.content.profiled"),
        ("wellness-coach", "essential.service"),
        ("meeting-notes-summary", "essential.service.operations"),
        ("candidate-screening-chat", "employment.recruitment"),
    ]


def test_mortgage_record_row_by_hand(data_dir: Path) -> None:
    row = processing_records(decider_for(data_dir), DAY)[0]
    assert row == {
        "feature": "mortgage-doc-extraction", "feature_name": "Mortgage paperwork extraction",
        "purpose": "essential.service", "legal_basis": "contract", "data_subjects": ["customer"],
        "categories": ["user.name", "user.contact.address", "user.financial.bank_account",
                       "user.government_id.national_identification_number"],
        "recipients": ["Amazon Web Services (processor)", "Anthropic (model maker)"],
        "transfers": ["claude-bedrock-eu: processed in eu; Amazon Web Services in US; mechanism scc"],
        "retention": ["claude-bedrock-eu: 0 days (zero data retention)"],
        "human_review": True, "flow_status": ["claude-bedrock-eu: allowed"],
    }


def test_record_flow_status_names_the_deciding_rules(data_dir: Path) -> None:
    rows = {r["feature"]: r for r in processing_records(decider_for(data_dir), DAY)}
    assert rows["fraud-review-triage"]["flow_status"] == [
        "azure-openai-eu: denied (customer-data-needs-subprocessor-notice)"]
    assert rows["fraud-review-triage"]["legal_basis"] == "legitimate_interests"
    on_premises = rows["kyc-id-check"]
    assert on_premises["transfers"] == [] and on_premises["recipients"][0] == "Northwind Labs (self-hosted) (ourselves)"


def test_register_flags_high_risk_without_review_and_chatbots_without_disclosure(data_dir: Path) -> None:
    rows = {r["feature"]: r for r in ai_register(decider_for(data_dir), DAY)}
    assert len(rows) == 12
    assert rows["candidate-screening-chat"]["flags"] == ["high-risk without human review",
                                                         "Art. 50 duties without a declared disclosure"]
    mortgage = rows["mortgage-doc-extraction"]
    assert (mortgage["role"], mortgage["risk"], mortgage["annex_iii"], mortgage["flags"]) == (
        "deployer", "high", "5(b)", [])
    assert mortgage["models"] == ["eu.anthropic.claude-sonnet-4-5-20250929-v1:0"]
    assert rows["wellness-coach"]["art50"] == ["chatbot_disclosure"] and rows["wellness-coach"]["flags"] == []
    assert rows["meeting-notes-summary"]["flags"] == ["Art. 50 duties without a declared disclosure"]


def test_register_carries_the_stored_eval_evidence_per_feature(data_dir: Path) -> None:
    rows = {r["feature"]: r for r in ai_register(decider_for(data_dir), DAY)}
    support = rows["support-reply-draft"]["evals"]
    assert [e.split(":")[0] for e in support] == ["support-haiku-eu", "support-sonnet-eu", "support-sonnet-direct"]
    assert support[0] == ("support-haiku-eu: eu.anthropic.claude-haiku-4-5-20251001-v1:0 on claude-bedrock-eu, "
                          "rubric 0.87 (250 samples, run on 2026-11-10; Inspect AI log support-rubric (example))")
    assert rows["mortgage-doc-extraction"]["evals"] == []  # no eval recorded for it: nothing made up


def test_register_marks_an_unclassified_feature(data_dir: Path) -> None:
    text = (data_dir / "features.yaml").read_text()
    start = text.index("    ai_act:\n      role: deployer\n      risk: minimal\n      notes: Drafts only")
    end = text.index("\n  - id: clinic-notes-summary")
    (data_dir / "features.yaml").write_text(text[:start] + text[end:])
    rows = {r["feature"]: r for r in ai_register(decider_for(data_dir), DAY)}
    assert rows["support-reply-draft"]["flags"] == ["not classified"] and rows["support-reply-draft"]["risk"] == ""


# --- formats --------------------------------------------------------------------------------------
def test_csv_rows_carry_the_stamp_and_join_lists(data_dir: Path) -> None:
    rows = processing_records(decider_for(data_dir), DAY)
    table = RecordTable("records_of_processing", list(rows[0]), rows)
    parsed = list(csv.DictReader(io.StringIO(to_csv(table, STAMP))))
    assert len(parsed) == len(rows)
    assert parsed[0]["categories"] == ("user.name; user.contact.address; user.financial.bank_account; "
                                       "user.government_id.national_identification_number")
    assert parsed[0]["human_review"] == "yes"
    assert {(r["as_of"], r["policy_digest"], r["store_head"]) for r in parsed} == {("2026-12-02", "d" * 64, "h" * 64)}


def test_xlsx_read_back_equals_the_json(data_dir: Path) -> None:
    decider = decider_for(data_dir)
    tables = [RecordTable("register", list(ai_register(decider, DAY)[0]), ai_register(decider, DAY)),
              RecordTable("records_of_processing", list(processing_records(decider, DAY)[0]),
                          processing_records(decider, DAY))]
    book = load_workbook(io.BytesIO(to_xlsx(tables, STAMP)))
    body = json.loads(to_json(tables, STAMP))
    assert book.sheetnames == ["register", "records_of_processing", "about"]
    for table in tables:
        sheet = book[table.name]
        values = list(sheet.iter_rows(values_only=True))
        assert list(values[0]) == table.columns
        expected = [[spreadsheet_safe(cell(row[c])) for c in table.columns] for row in body[table.name]]
        assert [[v if v is not None else "" for v in row] for row in values[1:]] == expected
        assert sheet.freeze_panes == "B2"
        assert sheet["A1"].font.bold
        assert all(sheet.column_dimensions[letter].width >= 10 for letter in "ABC")
    about = {k: v for k, v in book["about"].iter_rows(min_row=2, values_only=True)}
    assert about == {"as_of": body["as_of"], "policy_digest": body["policy_digest"], "store_head": body["store_head"]}


# --- commands and the evidence pack ---------------------------------------------------------------
@pytest.fixture
def cli_env(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from compliance.config import PROJECT_ROOT

    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", f"sqlite:///{tmp_path / 'records.db'}")
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(PROJECT_ROOT / "policies"))
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_subprocessors_json_names_the_state_it_was_made_from(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "subprocessors", "--format", "json", "--diff", "--as-of", "2026-12-02")
    body = json.loads(out)
    assert code == 0 and [s["processor"] for s in body["subprocessors"]] == ["aws", "microsoft", "google", "anthropic"]
    assert body["diff"]["no_longer_used"] == ["cohere"]
    assert body["as_of"] == "2026-12-02" and len(body["policy_digest"]) == 64 and len(body["store_head"]) == 64


def test_register_xlsx_command_writes_a_workbook(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_file = cli_env / "register.xlsx"
    code, _, _ = run(capsys, "register", "--format", "xlsx", "--out", str(out_file), "--as-of", "2026-12-02")
    book = load_workbook(out_file)
    assert code == 0 and book.sheetnames == ["register", "about"] and book["register"].max_row == 13


@pytest.fixture
def pack(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    out = cli_env / "evidence.zip"
    code, _, _ = run(capsys, "evidence", str(out), "--as-of", "2026-12-02")
    assert code == 0
    return out


def test_evidence_pack_holds_every_file_and_verifies(pack: Path, capsys: pytest.CaptureFixture[str]) -> None:
    names = set(zipfile.ZipFile(pack).namelist())
    assert {"index.md", "README.md", "manifest.json", "verify.py", "register.json", "register.csv",
            "records-of-processing.json", "records-of-processing.csv", "records.xlsx", "subprocessors.md",
            "subprocessors.json", "policies/digests.json", "policy-tests.json", "exceptions.json", "alerts.json",
            "decision-matrix.csv", "audit/audit-log.json", "audit/audit-log.csv", "audit/chain-check.txt",
            "policies/25-subprocessor-notice.yaml", "policies/35-ai-act.yaml"} <= names
    index = zipfile.ZipFile(pack).read("index.md").decode()
    for control in ("SOC 2 CC9.2", "ISO/IEC 42001 A.10", "GDPR Art. 28", "GDPR Art. 30", "NIST AI RMF GOVERN 1.6"):
        assert control in index
    assert verify_pack(str(pack)) == []
    code, out, _ = run(capsys, "evidence", "--verify", str(pack))
    assert code == 0 and "evidence pack verified" in out


def test_evidence_pack_contents_agree_with_the_records(pack: Path) -> None:
    archive = zipfile.ZipFile(pack)
    manifest = json.loads(archive.read("manifest.json"))
    register = json.loads(archive.read("register.json"))
    assert register["store_head"] == manifest["stamp"]["store_head"]
    assert json.loads(archive.read("audit/audit-log.json"))["events"][-1]["hash"] == register["store_head"]
    tests = json.loads(archive.read("policy-tests.json"))
    assert tests["failed"] == 0 and tests["coverage"]["uncovered"] == []
    exceptions = {e["id"]: e["status"] for e in json.loads(archive.read("exceptions.json"))["exceptions"]}
    assert exceptions == {"exc-2026-031": "active", "exc-2026-007": "expired"}
    assert "audit log intact" in archive.read("audit/chain-check.txt").decode()


def _rewrite(pack: Path, target: Path, name: str, change: object, *, fix_manifest: bool) -> None:
    import hashlib

    source = zipfile.ZipFile(pack)
    files = {n: source.read(n) for n in source.namelist()}
    files[name] = change(files[name])  # type: ignore[operator]
    if fix_manifest:  # a careful forger also rewrites the manifest
        manifest = json.loads(files["manifest.json"])
        manifest["files"][name] = hashlib.sha256(files[name]).hexdigest()
        files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(target, "w") as out:
        for n, body in files.items():
            out.writestr(n, body)


def test_a_changed_file_fails_the_manifest_check(pack: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    _rewrite(pack, bad, "register.csv", lambda b: b.replace(b"high", b"minimal"), fix_manifest=False)
    problems = verify_pack(str(bad))
    assert problems == ["register.csv: its SHA-256 does not match the manifest: the file was changed"]


def test_a_changed_policy_fails_the_digest_recomputation(pack: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.zip"
    _rewrite(pack, bad, "policies/35-ai-act.yaml", lambda b: b.replace(b"risk: high", b"risk: limited"),
             fix_manifest=True)
    problems = verify_pack(str(bad))
    assert len(problems) == 1 and problems[0].startswith("policy digest recomputed from policies/")


def test_a_changed_audit_event_fails_the_chain_check(pack: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    def edit(body: bytes) -> bytes:
        log = json.loads(body)
        log["events"][3]["actor"] = "mallory"
        return json.dumps(log).encode()

    bad = tmp_path / "bad.zip"
    _rewrite(pack, bad, "audit/audit-log.json", edit, fix_manifest=True)
    problems = verify_pack(str(bad))
    assert len(problems) == 1 and "its content does not match its hash" in problems[0]
    code, out, _ = run(capsys, "evidence", "--verify", str(bad))
    assert code == 1 and "FAIL audit event" in out


def test_the_packs_own_verify_script_runs_without_the_product(pack: Path, tmp_path: Path) -> None:
    import subprocess
    import sys

    script = tmp_path / "verify.py"
    script.write_bytes(zipfile.ZipFile(pack).read("verify.py"))
    done = subprocess.run([sys.executable, "-I", str(script), str(pack)], capture_output=True, text=True,
                          cwd=tmp_path, timeout=60, check=False)
    assert done.returncode == 0 and "evidence pack verified" in done.stdout
