"""Audited edits from a form: a required, bounded reason; the version the user saw; reload on conflict.

A form generation counter keys the widgets: after a save or a refused save the next generation
shows the stored values, so the reason is never reused and a stale form is never saved again.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from compliance.problems import ComplianceError, Conflict
from compliance.store.limits import REASON_LEN
from compliance.ui import edit_form, state

REASON_MAX = REASON_LEN  # the audit log's limit: one rule for every edit form (edit_form.reason_problems)


def generation(name: str) -> int:
    return int(st.session_state.setdefault(f"{name}-generation", 0))


def next_generation(name: str) -> None:
    st.session_state[f"{name}-generation"] = generation(name) + 1


def seen_version(name: str, key: str, current: int) -> int:
    """The version the user's form is based on: fixed when the form generation first showed it."""
    return int(st.session_state.setdefault(f"{name}-version-{key}-{generation(name)}", current))


def reason_given(value: str | None) -> str | None:
    """The cleaned reason, or None after saying what is wrong with it."""
    text = (value or "").strip()
    problems = edit_form.reason_problems(text, "change")
    if problems:
        st.error(f"Not saved: the reason: {problems[0].message}.")
        return None
    return text


def save(name: str, write: Any, message: str) -> None:
    try:
        with state.store().session() as session:
            write(session)
    except ComplianceError as exc:
        state.show_not_saved(exc)
        if isinstance(exc, Conflict):
            next_generation(name)
            st.info("The form now shows the stored values; apply your change again if it still holds.")
            if st.button("Show the stored values", key=f"{name}-reload"):
                st.rerun()
    else:
        next_generation(name)
        state.saved(message)
