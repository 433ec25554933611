"""The dashboard through Streamlit's AppTest, always from the entry point (app.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlmodel import select
from streamlit.testing.v1 import AppTest

from compliance.access import LOCAL_ADMIN, Actor, Role
from compliance.config import PROJECT_ROOT
from compliance.store import Store
from compliance.store.edits import provider_doc, set_agreement_expiry
from compliance.store.tables import AuditEventRow
from tests.conftest import open_store

PAGES = ["overview_page", "providers_page", "routes_page", "checker_page", "policies_page", "costs_page",
         "audit_page", "models_page"]


def app() -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    at.run()
    return at


def open_page(name: str) -> AppTest:
    at = app()
    at.switch_page(f"compliance/ui/{name}.py").run()
    return at


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_the_example_data(app_env: Path, page: str) -> None:
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]
    assert not at.error, [e.value for e in at.error]
    assert at.title


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders_on_an_empty_store(app_env: Path, page: str, monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    monkeypatch.setenv("COMPLIANCE_DATA_DIR", str(tmp_path / "no-data-here"))
    at = open_page(page)
    assert not at.exception, [e.value for e in at.exception]


@pytest.mark.parametrize("page", ["overview_page", "checker_page", "policies_page"])
def test_a_broken_policy_file_is_a_message_not_a_traceback(app_env: Path, page: str, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    policies = tmp_path / "policies"
    policies.mkdir()
    (policies / "bad.yaml").write_text("rules:\n  - id: r\n    effect: maybe\n    reason: x\n")
    monkeypatch.setenv("COMPLIANCE_POLICY_DIR", str(policies))
    at = open_page(page)
    assert not at.exception
    assert any("problem" in e.value for e in at.error)


def test_an_unreachable_database_is_a_message(app_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMPLIANCE_DATABASE_URL", "postgresql+psycopg://nobody@127.0.0.1:1/none")
    at = app()
    assert not at.exception
    assert any("cannot open the store" in e.value for e in at.error)


def test_route_checker_shows_a_known_deny_with_its_rule(app_env: Path) -> None:
    at = open_page("checker_page")
    at.selectbox(key="checker-feature").set_value("dating-profile-match").run()
    at.multiselect(key="checker-categories-dating-profile-match").set_value(
        ["user.demographic.sexual_orientation"]).run()
    table = at.dataframe[0].value  # the route table comes first on the page
    row = table[table["route"] == "openai-direct"].iloc[0]
    assert row["decision"] == "DENY" and "consumer-no-special-categories" in row["rules"]
    assert (table["decision"] == "ALLOW").sum() == 0


def test_route_checker_marks_the_cheapest_allowed_route(app_env: Path) -> None:
    at = open_page("checker_page")
    at.selectbox(key="checker-feature").set_value("support-reply-draft").run()
    table = at.dataframe[0].value  # the route table comes first on the page
    assert table["cheapest allowed"].sum() == 1
    assert table[table["cheapest allowed"]].iloc[0]["decision"] == "ALLOW"


def test_provider_edit_changes_the_store_and_writes_an_audit_event(app_env: Path) -> None:
    at = open_page("providers_page")
    at.selectbox(key="provider-select").set_value("google").run()
    at.date_input(key="provider-google-v1-dpa-expires").set_value(date(2027, 9, 30))
    at.text_input(key="provider-google-v1-reason").set_value("renewal signed")
    at.button(key="provider-save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = open_store(f"sqlite:///{app_env}", PROJECT_ROOT / "data")
    google = next(p for p in store.read().providers if p.id == "google")
    assert google.dpa is not None and google.dpa.expires_on == date(2027, 9, 30)
    with store.session() as session:
        last = session.exec(select(AuditEventRow).order_by(AuditEventRow.id.desc())).first()  # type: ignore[union-attr]
    assert last is not None and (last.entity, last.entity_id, last.actor) == ("provider", "google", "local-admin")
    assert last.changes["dpa"]["new"]["expires_on"] == "2027-09-30"
    assert last.reason == "renewal signed"


def test_a_stale_provider_edit_is_refused_with_a_message(app_env: Path) -> None:
    at = open_page("providers_page")
    at.selectbox(key="provider-select").set_value("google").run()
    store: Store = open_store(f"sqlite:///{app_env}", PROJECT_ROOT / "data")
    with store.session() as session:  # someone else saves first
        _, version = provider_doc(session, "google")
        set_agreement_expiry(session, provider_id="google", kind="dpa", expires_on=date(2027, 3, 31),
                             expected_version=version, actor=Actor("someone-else", Role.legal))
    at.date_input(key="provider-google-v1-dpa-expires").set_value(date(2027, 9, 30))
    at.text_input(key="provider-google-v1-reason").set_value("renewal")
    at.button(key="provider-save").click().run()
    refusal = next(e.value for e in at.error if "changed by someone else" in e.value)
    assert "apply your edit again. The form now shows the stored values" in refusal  # two sentences, not one
    google = next(p for p in store.read().providers if p.id == "google")
    assert google.dpa is not None and google.dpa.expires_on == date(2027, 3, 31)  # nothing was overwritten


def test_a_status_shown_in_words_is_not_called_different_from_its_stored_value(app_env: Path) -> None:
    at = open_page("providers_page")
    at.selectbox(key="provider-select").set_value("mistral").run()
    line = next(m.value for m in at.markdown if m.value.startswith("**DPA:**"))
    assert line.startswith("**DPA:** in review") and "stored as" not in line


def test_cost_inputs_edit_is_saved_and_audited(app_env: Path) -> None:
    at = open_page("costs_page")
    at.session_state["segment-editor"] = {"edited_rows": {1: {"users": 3_000_000}}, "added_rows": [],
                                          "deleted_rows": []}
    at.text_input(key="costs-reason-0").set_value("new user forecast")
    at.button(key="costs-save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    store = open_store(f"sqlite:///{app_env}", PROJECT_ROOT / "data")
    consumer = next(s for s in store.read().costs.segments if s.id == "consumer")
    assert consumer.users == 3_000_000


AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x" * 32, "client_id": "id",
        "client_secret": "secret", "server_metadata_url": "https://idp.example/.well-known/openid-configuration"}


@pytest.fixture
def roles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "roles.yaml"
    path.write_text("default: viewer\nusers:\n  dpo@northwind.example: legal\n  cfo@northwind.example: finance\n")
    monkeypatch.setenv("COMPLIANCE_ROLES_FILE", str(path))
    return path


def signed_in(email: str | None, page: str = "providers_page") -> AppTest:
    at = AppTest.from_file(str(PROJECT_ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    if email:
        at.user.update({"is_logged_in": True, "email": email})
    at.run()
    if email:
        at.switch_page(f"compliance/ui/{page}.py").run()
    return at


def test_local_mode_is_bannered(app_env: Path) -> None:
    at = app()
    assert any("Local mode" in i.value for i in at.info)


def test_with_sign_in_configured_nobody_gets_in_unsigned(app_env: Path, roles: Path) -> None:
    at = signed_in(None)
    assert at.button(key="sign-in") is not None
    assert not [t for t in at.title if t.value == "LLM compliance overview"]


def test_a_mapped_legal_user_can_edit_providers(app_env: Path, roles: Path) -> None:
    at = signed_in("dpo@northwind.example")
    assert not at.exception
    assert any("dpo@northwind.example" in c.value and "legal" in c.value for c in at.sidebar.caption)
    assert at.button(key="provider-save") is not None


def test_an_unknown_user_is_a_viewer_without_edit_forms(app_env: Path, roles: Path) -> None:
    at = signed_in("stranger@elsewhere.example")
    assert not at.exception
    assert any("(viewer)" in c.value for c in at.caption)
    with pytest.raises(KeyError):
        at.button(key="provider-save")
    costs = signed_in("stranger@elsewhere.example", "costs_page")
    with pytest.raises(KeyError):
        costs.button(key="costs-save")


def test_models_page_shows_the_recommendation_and_the_chart(app_env: Path) -> None:
    at = open_page("models_page")
    at.selectbox(key="models-feature").select("code-assistant").run()
    at.date_input(key="models-date").set_value(date(2026, 12, 2)).run()
    assert not at.exception, [e.value for e in at.exception]
    assert "gpt-5.6-terra" in at.success[0].value and "saves" in at.success[0].value
    assert at.get("plotly_chart")


def test_route_checker_answers_from_the_store_after_an_edit(app_env: Path) -> None:
    """The route table is kept per store state: an edit by someone else is answered on the next rerun."""
    from compliance.store.edits import record_versions, update_record

    at = open_page("checker_page")
    at.selectbox(key="checker-feature").set_value("support-reply-draft").run()
    before = at.dataframe[0].value
    cheapest = before[before["cheapest allowed"]].iloc[0]
    store = open_store(f"sqlite:///{app_env}", PROJECT_ROOT / "data")
    usage = next(f for f in store.read().features if f.id == "support-reply-draft").usage
    assert usage is not None
    with store.session() as session:
        version = record_versions(session, "feature")["support-reply-draft"]
        update_record(session, entity="feature", key="support-reply-draft", expected_version=version,
                      changes={"usage": {**usage.model_dump(), "requests_per_user_month":
                                         usage.requests_per_user_month * 10}},
                      actor=LOCAL_ADMIN, reason="ten times the traffic")
    store.dispose()
    at.run()
    after = at.dataframe[0].value
    row = after[after["route"] == cheapest["route"]].iloc[0]
    assert not at.exception and row["cost per month"] != cheapest["cost per month"]


@pytest.mark.parametrize(("subject", "feature", "says"), [
    ("openai-direct/gpt-4.1", "code-assistant", "declared flows of code-assistant use it"),
    ("openai-direct-eu/gpt-5", None, "no declared flow uses it"),
])
def test_fix_in_models_opens_a_feature_on_the_alerts_model(app_env: Path, subject: str, feature: str | None,
                                                           says: str) -> None:
    """The overview's model alerts link to the Models page with `?id=route/model` (the alert's subject)."""
    at = app()
    at.switch_page("compliance/ui/models_page.py")
    at.query_params["id"] = subject
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    route, model = subject.split("/")
    assert any(f"Model **{model}** on **{route}**: {says}" in i.value for i in at.info)
    chosen = at.selectbox(key="models-feature").value
    assert chosen == (feature or at.selectbox(key="models-feature").options[0])


def test_a_document_link_that_is_no_web_address_is_shown_as_typed_not_as_a_link(app_env: Path) -> None:
    from compliance.access import Actor, Role
    from compliance.config import PROJECT_ROOT
    from compliance.store.edits import provider_doc, update_provider
    from compliance.ui.views import md_link
    from tests.conftest import open_store

    assert md_link("v3", "https://aws.amazon.com/service-terms/") == "[v3](https://aws.amazon.com/service-terms/)"
    assert md_link("x", "javascript:alert(1)") == r"x (javascript\:alert\(1\): not a web address)"
    at = app()  # creates the store
    store = open_store(f"sqlite:///{app_env}", PROJECT_ROOT / "data")
    with store.session() as session:
        doc, version = provider_doc(session, "google")
        assert doc.dpa is not None
        dpa = {**doc.dpa.model_dump(), "version": "**NaN**", "document": "'; DROP TABLE provider;--"}
        update_provider(session, provider_id="google", expected_version=version, changes={"dpa": dpa},
                        actor=Actor("legal", Role.legal), reason="hostile document link")
    store.dispose()
    at.switch_page("compliance/ui/providers_page.py")
    at.query_params["id"] = "google"
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = next(m.value for m in at.markdown if m.value.startswith("DPA document:"))
    assert shown == r"DPA document: \*\*NaN\*\* ('; DROP TABLE provider;\-\-: not a web address)"


@pytest.mark.parametrize(("page", "param", "value", "says"), [
    ("providers_page", "id", "googel", "No provider googel in the store (closest: google)"),
    ("routes_page", "id", "nope", "No route nope in the store"),
    ("checker_page", "feature", "support-reply", r"No feature support\-reply in the store (closest: support-reply"),
])
def test_a_link_to_a_record_the_store_lacks_says_so(app_env: Path, page: str, param: str, value: str,
                                                    says: str) -> None:
    at = app()
    at.switch_page(f"compliance/ui/{page}.py")
    at.query_params[param] = value
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert any(w.value.startswith(says) and w.value.endswith("showing the first one instead.") for w in at.warning), \
        [w.value for w in at.warning]


def test_the_audit_check_is_shown_a_paragraph_per_finding(app_env: Path) -> None:
    at = open_page("audit_page")
    check = at.success[0].value
    assert check.startswith("audit log intact: ") and "hash chain verified\n\nunkeyed: no audit key" in check
    assert "unnoticed\n\nno checkpoint compared" in check
