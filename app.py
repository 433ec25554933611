"""The dashboard's entry point: sign-in and navigation only; pages live in compliance/ui/."""

import streamlit as st

from compliance.ui.auth import signed_in_actor

st.set_page_config(page_title="LLM compliance", page_icon=":material/verified_user:", layout="wide")
st.session_state["actor"] = signed_in_actor()


def page(name: str, title: str, icon: str, **options: object) -> st.Page:
    return st.Page(f"compliance/ui/{name}_page.py", title=title, icon=f":material/{icon}:", **options)  # type: ignore[arg-type]


st.navigation({
    "": [page("overview", "Overview", "dashboard", default=True)],
    "Legal": [
        page("providers", "Providers & DPAs", "gavel", url_path="providers"),
        page("records", "Records", "inventory_2", url_path="records"),
    ],
    "Engineering": [
        page("routes", "Routes", "alt_route", url_path="routes"),
        page("checker", "Route checker", "fact_check", url_path="checker"),
        page("policies", "Policies", "rule", url_path="policies"),
        page("code", "Code", "code", url_path="code"),
        page("models", "Models", "model_training", url_path="models"),
    ],
    "Finance": [page("costs", "Costs", "payments", url_path="costs")],
    "Audit": [page("audit", "Audit log", "history_edu", url_path="audit")],
}).run()
