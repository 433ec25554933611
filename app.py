"""The dashboard's entry point: navigation only; pages live in compliance/ui/."""

import streamlit as st

st.set_page_config(page_title="LLM compliance", page_icon=":material/verified_user:", layout="wide")
st.navigation([
    st.Page("compliance/ui/overview_page.py", title="Overview", icon=":material/dashboard:", default=True),
]).run()
