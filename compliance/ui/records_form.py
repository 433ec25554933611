"""Legal's edits on the Records page: a feature's records facts (purposes, data subjects, legal basis,
customer data, AI Act block) and the announcements on our subprocessor list; both audited and refused
when someone else changed the record since it was read."""

from __future__ import annotations

from datetime import date
from typing import Any

import streamlit as st

from compliance.records.subprocessors import is_ourselves
from compliance.store import documents as d
from compliance.store import taxonomy
from compliance.store.edits import notice_record, record_announcement, record_doc, update_feature_legal_facts
from compliance.store.enums import AiRisk, AiRole, Art50Duty, LegalBasis
from compliance.store.limits import NAME_LEN, TEXT_LEN
from compliance.ui import edit_form, state

NOT_SET = "(not recorded)"
CUSTOMER_DATA = {"by segment (b2b: yes)": None, "yes": True, "no": False}


def legal_facts_form(features: list[d.Feature]) -> None:
    if not features:
        return
    fid = st.selectbox("Feature", [f.id for f in features], key="records-feature",
                       format_func=lambda i: next(f.name for f in features if f.id == i) + f" ({i})")
    name = f"records-feature-{fid}"

    def load() -> tuple[Any, int]:
        with state.store().session() as session:
            doc, version = record_doc(session, "feature", fid)
            return doc, version

    form = edit_form.open_form(name, load, next(f.name for f in features if f.id == fid))
    doc: d.Feature = form.doc
    k = form.key
    ai = doc.ai_act
    with edit_form.area(form), st.form(k("form")):
        c1, c2 = st.columns(2)
        purposes = c1.multiselect("Purposes (Fides data_use)", list(taxonomy.purposes()), default=doc.purposes,
                                  key=k("purposes"))
        subjects = c2.multiselect("Data subjects (Fides data_subject)", list(taxonomy.data_subjects()),
                                  default=doc.data_subjects, key=k("subjects"))
        bases = [NOT_SET, *LegalBasis.values()]
        basis = c1.selectbox("Legal basis (GDPR Art. 6(1))", bases, key=k("basis"),
                             index=bases.index(doc.legal_basis.value) if doc.legal_basis else 0)
        labels = list(CUSTOMER_DATA)
        customer = c2.selectbox("Our customers' data (B2B DPA)", labels, key=k("customer"),
                                index=list(CUSTOMER_DATA.values()).index(doc.customer_data))
        risks = [NOT_SET, *AiRisk.values()]
        risk = c1.selectbox("AI Act risk class", risks, key=k("risk"), index=risks.index(ai.risk.value) if ai else 0)
        role = c2.selectbox("AI Act role", AiRole.values(), key=k("role"),
                            index=AiRole.values().index(ai.role.value) if ai else 1)
        annex = c1.text_input("Annex III point", value=(ai.annex_iii or "") if ai else "", key=k("annex"),
                              max_chars=NAME_LEN)
        duties = c2.multiselect("Art. 50 duties", Art50Duty.values(), key=k("art50"),
                                default=[x.value for x in ai.art50] if ai else [])
        disclosure = st.text_input("How the Art. 50 duties are met (disclosure)",
                                   value=(ai.disclosure or "") if ai else "", key=k("disclosure"), max_chars=TEXT_LEN)
        reason = edit_form.reason_input(k("reason"))
        submitted = st.form_submit_button("Save legal facts", type="primary", key="records-save")
    edit_form.show(form.outcome)
    if not submitted:
        return
    block = None if risk == NOT_SET else {"role": role, "risk": risk, "annex_iii": annex.strip() or None,
                                          "art50": duties, "disclosure": disclosure.strip() or None,
                                          "notes": ai.notes if ai else None}
    changes = {"purposes": purposes, "data_subjects": subjects, "legal_basis": None if basis == NOT_SET else basis,
               "customer_data": CUSTOMER_DATA[customer], "ai_act": block}
    edit_form.save(form, lambda session, why: update_feature_legal_facts(
        session, feature_id=fid, expected_version=form.base.version, changes=changes, actor=state.current_actor(),
        reason=why), reason=reason, label=f"feature {fid}", saved=f"Saved {doc.name}", changes=changes)


def announcement_form(dataset: d.DataSet, in_use: list[str], wanted: str | None) -> None:
    """Record that we announced a processor to our customers (records.md): its notice period starts that day.
    `in_use`: processors receiving customer data, offered first; `wanted`: the one to preselect."""
    announced = {a.processor for a in dataset.notice.announcements} if dataset.notice else set()
    providers = {p.id: p for p in dataset.providers if not is_ourselves(p) and p.id not in announced}
    choices = [*[i for i in in_use if i in providers], *[i for i in providers if i not in in_use]]
    if not choices:
        st.caption("Every provider is announced already.")
        return

    def load() -> tuple[Any, int]:
        with state.store().session() as session:
            return notice_record(session)

    form = edit_form.open_form("records-notice", load, "The subprocessor notice")
    notice: d.Notice = form.doc
    k = form.key
    with edit_form.area(form), st.form(k("form")):
        c1, c2 = st.columns(2)
        processor = c1.selectbox("Processor", choices, index=choices.index(wanted) if wanted in choices else 0,
                                 key=k("processor"), format_func=lambda i: f"{providers[i].name} ({i})"
                                 + (" - receives customer data" if i in in_use else ""))
        day = edit_form.date_input("Announced on", date.today(), k("day"), where=c2)
        url = st.text_input("Where it was announced (URL, optional)", key=k("url"), max_chars=TEXT_LEN)
        st.caption(f"Our notice period is {notice.notice_days} days: the processor may receive our customers' data "
                   "once it has passed (the policy's `processor.notice_elapsed`).")
        reason = edit_form.reason_input(k("reason"))
        submitted = st.form_submit_button("Record the announcement", type="primary", key="records-announce")
    edit_form.show(form.outcome)
    if not submitted:
        return
    problems = [] if day else ["announced on: pick the day the announcement was made"]
    entry = {"processor": processor, "announced_on": day, "url": url.strip() or None}
    edit_form.save(form, lambda session, why: record_announcement(
        session, processor=processor, announced_on=day or date.today(), url=url, expected_version=form.base.version,
        actor=state.current_actor(), reason=why), reason=reason, label="subprocessor notice",
        saved=f"Recorded the announcement of {providers[processor].name}", problems=problems,
        changes={"announcements": [*notice.model_dump()["announcements"], entry]})
