"""The Records page (legal) through AppTest from the entry point: the subprocessor list and its diff,
the records of processing, the AI register with its flags, and every download."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from streamlit.testing.v1 import AppTest

from tests.helpers import replace_in
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


UNANNOUNCED = ("    - processor: anthropic\n      announced_on: 2025-06-15\n"
               "      url: https://northwind.example/legal/subprocessors#2025-06-15\n")


def linked_records_page(processor: str) -> AppTest:
    """The Records page as the overview's "Fix in Records" opens it (`?id=` the alert's processor), on 2026-12-02."""
    from tests.test_dashboard import app

    at = app()
    at.switch_page("compliance/ui/records_page.py")
    at.query_params["id"] = processor
    at.run()
    at.date_input(key="records-as-of").set_value("2026-12-02").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def stored_notice(db: Path) -> tuple[Any, list[Any]]:
    from sqlmodel import select

    from compliance.config import PROJECT_ROOT
    from compliance.store.tables import AuditEventRow
    from tests.conftest import open_store

    store = open_store(f"sqlite:///{db}", PROJECT_ROOT / "data")
    with store.session() as session:
        events = list(session.exec(select(AuditEventRow).where(AuditEventRow.entity == "notice")))
    notice = store.read().notice
    store.dispose()
    return notice, events


def notice_alerts() -> set[tuple[str, str]]:
    """(severity, processor) of the store's subprocessor-notice alerts on 2026-12-02, as the overview lists them."""
    from compliance.alerts import every_alert
    from compliance.api import Compliance

    c = Compliance.open(refresh=False)
    found = {(a.severity, a.subject) for a in every_alert(c.decider, date(2026, 12, 2), 60)
             if a.kind == "subprocessor_notice"}
    c.close()
    return found


def announce(at: AppTest, day: str, reason: str) -> AppTest:
    prefix = next(s.key for s in at.selectbox if s.key and s.key.startswith("records-notice-v")).rsplit("-", 1)[0]
    at.date_input(key=f"{prefix}-day").set_value(day)
    at.text_input(key=f"{prefix}-url").set_value("https://northwind.example/legal/subprocessors#2026-12-01")
    at.text_input(key=f"{prefix}-reason").set_value(reason)
    return at.button(key="records-announce").click().run()


def test_fix_in_records_shows_the_unannounced_processor_and_records_its_announcement(
        app_env: Path, data_dir: Path) -> None:
    replace_in(data_dir / "subprocessors.yaml", UNANNOUNCED, "")
    at = linked_records_page("anthropic")
    assert any("**Anthropic** (`anthropic`): not announced" in i.value for i in at.info)
    assert any("never announced: Anthropic" in e.value for e in at.error)
    processor = next(s for s in at.selectbox if s.key and s.key.startswith("records-notice-v"))
    assert processor.value == "anthropic"  # preselected from the link
    notice_before, events_before = stored_notice(app_env)
    assert ("unannounced", "anthropic") in notice_alerts()

    announce(at, "2026-12-01", "   ")  # no reason: refused, nothing written
    assert any("Not saved" in e.value and "reason" in e.value for e in at.error)
    assert stored_notice(app_env) == (notice_before, events_before)

    announce(at, "2026-12-01", "posted on the public subprocessor page")
    assert not at.exception, [e.value for e in at.exception]
    assert any("Recorded the announcement of Anthropic" in s.value for s in at.success)
    notice, events = stored_notice(app_env)
    assert notice.announced_on("anthropic").isoformat() == "2026-12-01"
    assert len(events) == len(events_before) + 1 and events[-1].reason == "posted on the public subprocessor page"
    assert any("announced 2026-12-01; receives customer data from 2026-12-31" in i.value for i in at.info)
    assert not any("never announced" in e.value for e in at.error)
    after = notice_alerts()  # the alert the overview linked from is gone; the notice's end is due instead
    assert ("unannounced", "anthropic") not in after and ("due", "anthropic") in after


def test_two_tabs_announce_at_once_and_the_second_is_refused(app_env: Path, data_dir: Path) -> None:
    replace_in(data_dir / "subprocessors.yaml", UNANNOUNCED, "")
    first, second = linked_records_page("anthropic"), linked_records_page("anthropic")
    announce(first, "2026-12-01", "announced by the first tab")
    announce(second, "2026-11-28", "announced by the second tab")
    assert any("Not saved" in e.value and "changed by someone else" in e.value for e in second.error)
    notice, events = stored_notice(app_env)
    assert notice.announced_on("anthropic").isoformat() == "2026-12-01"  # the first save stands
    assert [e.reason for e in events][-1] == "announced by the first tab"
    assert [a.processor for a in notice.announcements].count("anthropic") == 1
