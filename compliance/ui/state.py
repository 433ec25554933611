"""The dashboard's shared, cached access to the store."""

from __future__ import annotations

import streamlit as st

from compliance.store import Store
from compliance.store import documents as d


@st.cache_resource
def store() -> Store:
    """One store per server process (migrated and seeded on first use)."""
    return Store.open()


@st.cache_data(ttl=30, max_entries=4)
def dataset() -> d.DataSet:
    return store().read()
