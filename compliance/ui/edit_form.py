"""Edit forms that never silently overwrite a colleague's change.

A form is drawn from the version of the record the user saw (its "base"), a save names that
version, and a refused save redraws the form from what is stored now. Widget keys carry the base
version, so a new base gives fresh widgets (the browser keeps the values of widgets whose key is
unchanged, whatever the server puts in session state) and an emptied reason field after a save.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError

from compliance.problems import InvalidInput, Problem
from compliance.store.audit import field_changes
from compliance.store.limits import REASON_LEN
from compliance.ui.views import change_lines

# Streamlit's date input refuses (silently, in a form) typed dates outside value +/- 10 years.
MIN_DATE, MAX_DATE = date(1900, 1, 1), date(2199, 12, 31)
REASON_LABEL = "Reason for the change (required; recorded in the audit log)"


@dataclass(frozen=True)
class Base:
    """The record as the user saw it when the form was drawn, and its version."""

    doc: Any
    version: int


@dataclass
class Outcome:
    """Messages from the last save, shown beside the fields and the button after the rerun."""

    done: str | None = None
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def base(name: str, load: Callable[[], tuple[Any, int]]) -> Base:
    """The base the user is editing; read from the store the first time."""
    found = st.session_state.get(f"edit-base-{name}")
    if not isinstance(found, Base):
        doc, version = load()
        found = Base(doc, version)
        st.session_state[f"edit-base-{name}"] = found
    return found


def rebase(name: str) -> None:
    """Forget the base: the next run draws the form from the stored record."""
    st.session_state.pop(f"edit-base-{name}", None)


def key(name: str, current: Base, widget: str) -> str:
    return f"{name}-v{current.version}-{widget}"


def finish(name: str, outcome: Outcome) -> None:
    """End a save attempt: keep its messages for the next run, redraw from the stored record, rerun."""
    st.session_state[f"edit-outcome-{name}"] = outcome
    rebase(name)
    st.rerun()


def pop_outcome(name: str) -> Outcome:
    found = st.session_state.pop(f"edit-outcome-{name}", None)
    return found if isinstance(found, Outcome) else Outcome()


def show(outcome: Outcome) -> None:
    """Beside the Save button, and as a toast where the user is looking."""
    for error in outcome.errors:
        st.error(error)
    for warning in outcome.warnings:
        st.warning(warning)
        st.toast(warning, icon=":material/warning:")
    if outcome.done:
        st.success(outcome.done)
        st.toast(outcome.done, icon=":material/check_circle:")


def date_input(label: str, value: date | None, widget_key: str, where: Any = st) -> date | None:
    """A date field that accepts any typed date a record can hold (YYYY-MM-DD), or none."""
    chosen = where.date_input(label, value=value, min_value=MIN_DATE, max_value=MAX_DATE, key=widget_key,
                              format="YYYY-MM-DD")
    return chosen if isinstance(chosen, date) else None


def reason_input(widget_key: str) -> str:
    return st.text_input(REASON_LABEL, key=widget_key, max_chars=REASON_LEN,
                         placeholder="e.g. renewed DPA v3 received from vendor, ticket LEGAL-123")


def reason_problems(reason: str, label: str) -> list[Problem]:
    """A change needs a reason (the audit log is for people who were not there), within the log's limit."""
    text = reason.strip()
    if not text:
        return [Problem(label, None, "reason", "say why you are making this change (required)")]
    if len(text) > REASON_LEN:
        return [Problem(label, None, "reason", f"at most {REASON_LEN:,} characters (got {len(text):,})")]
    return []


def problem_lines(problems: Iterable[Problem]) -> list[str]:
    return [f"{p.field or 'record'}: {p.message}" for p in problems]


def split_problems(exc: InvalidInput, fields: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """Problems by the form field they are about (`dpa`, `sources`, ...), and the rest."""
    by_field: dict[str, list[str]] = {}
    rest = []
    names = tuple(fields)
    for p in exc.problems:
        head = p.field.split(".")[0] if p.field else ""
        if head in names:
            by_field.setdefault(head, []).append(f"{p.field}: {p.message}")
        else:
            rest.append(f"{p.field or 'record'}: {p.message}")
    return by_field, rest


def tried(doc: Any, changes: dict[str, Any]) -> list[str]:
    """What a refused edit would have changed (field: old -> new), so the user can apply it again."""
    try:
        after = type(doc).model_validate({**doc.model_dump(), **changes})
    except ValidationError:
        return []
    return change_lines(field_changes(doc.model_dump(mode="json"), after.model_dump(mode="json")))


def _cell(value: Any) -> Any:
    if value is None or (not isinstance(value, (list, dict)) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, str):
        return value.strip() or None
    return value


def editor_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A data editor's rows as plain values: empty cells are None, dates are dates, blank rows dropped."""
    rows = [{k: _cell(v) for k, v in row.items()} for row in frame.to_dict("records")]
    return [r for r in rows if any(v is not None for v in r.values())]
