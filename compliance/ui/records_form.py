"""Legal's edit of a feature's records facts (purposes, data subjects, legal basis, customer data,
AI Act block), audited and refused when someone else changed the feature since it was read."""

from __future__ import annotations

from typing import Any

import streamlit as st

from compliance.store import documents as d
from compliance.store import taxonomy
from compliance.store.edits import record_doc, update_feature_legal_facts
from compliance.store.enums import AiRisk, AiRole, Art50Duty, LegalBasis
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
        annex = c1.text_input("Annex III point", value=(ai.annex_iii or "") if ai else "", key=k("annex"))
        duties = c2.multiselect("Art. 50 duties", Art50Duty.values(), key=k("art50"),
                                default=[x.value for x in ai.art50] if ai else [])
        disclosure = st.text_input("How the Art. 50 duties are met (disclosure)",
                                   value=(ai.disclosure or "") if ai else "", key=k("disclosure"))
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
