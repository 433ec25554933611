"""The dashboard's entry point: navigation only; pages live in compliance/ui/."""

import streamlit as st

st.set_page_config(page_title="LLM compliance", page_icon=":material/verified_user:", layout="wide")
st.navigation({
    "": [st.Page("compliance/ui/overview_page.py", title="Overview", icon=":material/dashboard:", default=True)],
    "Legal": [st.Page("compliance/ui/providers_page.py", title="Providers & DPAs", icon=":material/gavel:")],
    "Engineering": [
        st.Page("compliance/ui/routes_page.py", title="Routes", icon=":material/alt_route:"),
        st.Page("compliance/ui/checker_page.py", title="Route checker", icon=":material/fact_check:"),
        st.Page("compliance/ui/policies_page.py", title="Policies", icon=":material/rule:"),
    ],
    "Finance": [st.Page("compliance/ui/costs_page.py", title="Costs", icon=":material/payments:")],
    "Audit": [st.Page("compliance/ui/audit_page.py", title="Audit log", icon=":material/history_edu:")],
}).run()
