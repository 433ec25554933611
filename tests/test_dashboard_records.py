"""The Records page (legal) through AppTest from the entry point: the subprocessor list and its diff,
the records of processing, the AI register with its flags, and every download."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.test_dashboard import open_page


def no_traceback(at: AppTest) -> None:
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]


def records_page() -> AppTest:
    at = open_page("records_page")
    at.date_input(key="records-as-of").set_value("2026-12-02").run()
    no_traceback(at)
    return at


def test_records_page_shows_the_list_diff_records_and_register(app_env: Path) -> None:
    at = records_page()
    subprocessors = at.dataframe[0].value
    assert list(subprocessors["name"]) == ["Amazon Web Services", "Microsoft (Azure)", "Google Cloud", "Anthropic"]
    assert any("notice period still running: Microsoft (Azure)" in w.value for w in at.warning)
    assert any("no longer receiving customer data: Cohere" in i.value for i in at.info)
    records = at.dataframe[1].value
    assert len(records) == 11 and records["feature"].iloc[0] == "mortgage-doc-extraction"
    register = at.dataframe[2].value
    assert len(register) == 12
    assert any("Candidate screening chat" in w.value and "high-risk without human review" in w.value
               for w in at.warning)
    high = next(m for m in at.metric if m.label == "high")
    assert high.value == "3"  # mortgage extraction, KYC check, candidate screening


def test_records_page_offers_every_format_and_the_evidence_pack(app_env: Path) -> None:
    at = records_page()
    ids = " ".join(b.proto.id for b in at.get("download_button"))
    for key in ("subprocessors-md", "subprocessors-csv", "subprocessors-xlsx", "subprocessors-json",
                "records-of-processing-csv", "records-of-processing-xlsx", "records-of-processing-json",
                "ai-register-csv", "ai-register-xlsx", "ai-register-json", "evidence-zip"):
        assert key in ids, key


def test_legal_facts_save_from_the_page_is_audited(app_env: Path) -> None:
    from sqlmodel import select

    from compliance.config import PROJECT_ROOT
    from compliance.store.tables import AuditEventRow
    from tests.conftest import open_store

    at = records_page()
    at.selectbox(key="records-feature").set_value("dating-profile-match").run()
    prefix = "records-feature-dating-profile-match-v1"
    at.selectbox(key=f"{prefix}-basis").set_value("consent")
    at.text_input(key=f"{prefix}-reason").set_value("explicit consent added to onboarding")
    at.button(key="records-save").click().run()
    no_traceback(at)
    assert any("Saved Dating profile matching (version 2)" in s.value for s in at.success)
    store = open_store(f"sqlite:///{app_env}", PROJECT_ROOT / "data")
    with store.session() as session:
        last = session.exec(select(AuditEventRow).order_by(AuditEventRow.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None and last.entity_id == "dating-profile-match"
    assert last.changes == {"legal_basis": {"old": "legitimate_interests", "new": "consent"}}
    assert last.reason == "explicit consent added to onboarding"
