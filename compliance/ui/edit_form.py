"""Edit forms that never silently overwrite a colleague's change: the one mechanism of every edit page.

A form is drawn from the version of the record the user saw (its "base"), a save names that
version, and a refused save redraws the form from what is stored now. Widget keys carry the base
version, so a new base gives fresh widgets (the browser keeps the values of widgets whose key is
unchanged, whatever the server puts in session state) and an emptied reason field after a save.

A page opens a form (`open_form`: base, stored version, last outcome, a reload offer when someone
saved since), draws its widgets inside `area(form)` with keys from `form.key`, and hands the
submitted changes to `save`, which checks the reason, writes, and on success or conflict redraws
the form from the store with the outcome shown beside the button (`show`) and as a toast.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pandas as pd
import streamlit as st
from pydantic import ValidationError
from sqlmodel import Session
from streamlit.delta_generator import DeltaGenerator

from compliance.problems import ComplianceError, Conflict, InvalidInput, Problem
from compliance.store.audit import field_changes
from compliance.store.limits import REASON_LEN
from compliance.ui import state
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


def optional_number(label: str, value: float | None, widget_key: str, where: Any = st, **options: Any) -> float | None:
    """A number field that may be emptied ("not set"). The browser lets a number input be cleared only when it was
    created without a value, so the stored value goes in through the widget's state on the form's first draw."""
    if widget_key not in st.session_state:
        st.session_state[widget_key] = value
    chosen = where.number_input(label, value=None, key=widget_key, **options)
    return None if chosen is None else float(chosen)


def done_by_today(day: date | None, what: str, today: date) -> list[str]:
    """The day something was done (verified, reviewed) cannot be ahead: a future one silences its staleness
    alert until then. Edits only; a load keeps what data.md allows."""
    if day is not None and day > today:
        return [f"{what} {day} is after today ({today}); enter the day it was actually done"]
    return []


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


@dataclass(frozen=True)
class Form:
    """One edit form on a page: what it was drawn from, what the store holds now, the last save's messages."""

    name: str
    base: Base
    stored: int
    outcome: Outcome

    @property
    def doc(self) -> Any:
        return self.base.doc

    def key(self, widget: str) -> str:
        return key(self.name, self.base, widget)


def open_form(name: str, load: Callable[[], tuple[Any, int]], label: str) -> Form:
    """The form's base and the stored version; when someone saved since the base, say so and offer a reload."""
    with state.problems_shown():
        current = base(name, load)
        _, stored = load()
    form = Form(name, current, stored, pop_outcome(name))
    if stored != current.version:
        st.warning(f"{label} was changed since you opened this form (you see version {current.version}, the "
                   f"store holds version {stored}). A save will be refused; reload to edit the latest version.")
        if st.button("Reload the latest version", key=form.key("reload")):
            rebase(name)
            st.rerun()
    return form


def area(form: Form) -> DeltaGenerator:
    """Where the form's widgets go, so that after a save the old form never shows beside the new one.

    After a save or a reload the widgets have new keys, and Streamlit's browser side keeps a widget whose
    key changed on screen beside its successor until the run ends. So the form has two places, both
    reserved (empty) before it is drawn, and a new base draws it in the other place: the old form's
    place is emptied (its widgets go at once) before any widget of the new form arrives. Other runs
    draw it in the same place, where Streamlit updates it in place.
    """
    drawn, side_key = f"edit-drawn-{form.name}", f"edit-side-{form.name}"
    side = int(st.session_state.get(side_key, 0))
    if st.session_state.get(drawn) not in (None, form.base.version):
        side = 1 - side
    st.session_state[drawn], st.session_state[side_key] = form.base.version, side
    places = (st.empty(), st.empty())
    return places[side].container()


def save(form: Form, write: Callable[[Session, str], int], *, reason: str, label: str, saved: str,
         problems: Sequence[str] = (), changes: Mapping[str, Any] | None = None,
         slots: Mapping[str, Any] | None = None, warnings: Sequence[str] = ()) -> None:
    """One save attempt: refuse (nothing written) with every problem and the reason's, beside the button;
    or `write(session, reason)` on top of the version the user saw. After a save, or a save refused
    because someone saved first, the form is redrawn from the store (`finish`), so the reason field is
    empty and a stale form is never saved again; a refused save lists what the edit was (`changes`).
    `slots`: placeholders beside fields (by top-level field name) for the store's problems about them."""
    text = reason.strip()
    lines = [*problems, *problem_lines(reason_problems(text, label))]
    if lines:
        st.error("Not saved:\n" + "\n".join(f"- {line}" for line in lines))
        return
    try:
        with state.store().session() as session:
            version = write(session, text)
    except Conflict as exc:
        edit = tried(form.doc, dict(changes)) if changes is not None else []
        finish(form.name, Outcome(errors=[
            f"Not saved: {str(exc).rstrip('.')}. The form now shows the stored values (version {form.stored}); "
            "apply your edit again on top of them." + ("\n\nYour edit was:\n" + "\n".join(f"- `{t}`" for t in edit)
                                        if edit else "")]))
    except InvalidInput as exc:
        by_field, rest = split_problems(exc, slots or {})
        for name, found in by_field.items():
            (slots or {})[name].error("\n".join(f"- {line}" for line in found))
        if rest or not by_field:
            st.error("Not saved:\n" + "\n".join(f"- {line}" for line in rest or problem_lines(exc.problems)))
        else:
            st.error("Not saved: see the messages beside the fields above.")
    except ComplianceError as exc:
        st.error(f"Not saved: {exc}")
    else:
        done = (f"{saved} (version {version})." if version != form.base.version
                else "Nothing changed, so nothing was saved.")
        finish(form.name, Outcome(done=done, warnings=list(warnings)))
