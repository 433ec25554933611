"""The dashboard's shared, cached access to the store and the compiled policy set.

Read-only results are cached per "store marker" (the newest audit event id, which changes on
every write by anyone) and per policy-file fingerprint, so a write or an edited policy file is
seen on the next rerun, and nothing is recomputed otherwise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from compliance import costs
from compliance.access import LOCAL_ADMIN, Actor
from compliance.alerts import Alert, every_alert, provider_alerts, store_alerts, with_breaks
from compliance.api import Compliance
from compliance.observe.report import ObserveReport, observed_report
from compliance.policy.decide import Decider
from compliance.policy.flows import FlowResult, evaluate_flows
from compliance.policy.language import Vocabulary, policy_files, read_policy_dir
from compliance.policy.matrix import Matrix, MatrixResult
from compliance.policy.policyset import PolicySet
from compliance.problems import ComplianceError, InvalidInput, Problem, closest
from compliance.store import Store
from compliance.store import documents as d
from compliance.store.audit import latest_event_id
from compliance.ui.views import md_text

ALLOW_COLOUR, DENY_COLOUR, NEUTRAL_COLOUR = "#0072B2", "#D55E00", "#999999"  # Okabe-Ito: colour-blind safe


@dataclass
class Snapshot:
    """The store's contents and the policies at one moment, with what was wrong with them."""

    dataset: d.DataSet
    policies: PolicySet | None
    problems: list[Problem] = field(default_factory=list)
    compliance: Compliance | None = None


@st.cache_resource(show_spinner=False)
def store() -> Store:
    """One store per server process (created, migrated and seeded on first use)."""
    return Store.open()


def policy_fingerprint(directory: Path) -> tuple[tuple[str, int, int], ...]:
    if not directory.is_dir():
        return ()
    marks = []
    for p in policy_files(directory):
        try:
            found = p.stat()
            marks.append((p.name, found.st_mtime_ns, found.st_size))
        except OSError:  # a broken or looping link: the reader reports it
            marks.append((p.name, -1, -1))
    return tuple(marks)


@st.cache_resource(show_spinner=False, max_entries=4)
def _snapshot(marker: int, fingerprint: tuple[tuple[str, int, int], ...]) -> Snapshot:
    current = store()
    dataset = current.read()
    policies, problems = read_policy_dir(current.settings.policy_dir, Vocabulary.of(dataset))
    compliance = Compliance(dataset, policies, store=current, settings=current.settings) if policies else None
    return Snapshot(dataset, policies, problems, compliance)


def snapshot() -> Snapshot:
    return _snapshot(*marker())


def snapshot_at(key: tuple[int, tuple[tuple[str, int, int], ...]]) -> Snapshot:
    """The snapshot of one store state (a page that caches its own answers by `key` reads this one)."""
    return _snapshot(*key)


@st.cache_resource(show_spinner=False, max_entries=8)
def _matrix(marker: int, fingerprint: tuple[tuple[str, int, int], ...], on: date) -> MatrixResult | None:
    snap = _snapshot(marker, fingerprint)
    return Matrix(snap.compliance.decider).evaluate(on) if snap.compliance else None


def matrix(on: date) -> MatrixResult | None:
    return _matrix(*marker(), on)


def matrix_at(key: tuple[int, tuple[tuple[str, int, int], ...]], on: date) -> MatrixResult | None:
    """The whole matrix of one store state (e.g. the one a page was drawn from, for a download)."""
    return _matrix(*key, on)


def _part(decider: Decider, *, feature: str | None = None, route: str | None = None) -> Decider:
    """The same policies over the store with only one feature (or one route): each cell of a matrix is
    decided from its own feature, category and route, so the part's cells are the whole matrix's."""
    dataset = decider.dataset
    if feature is not None:
        dataset = dataset.model_copy(update={"features": [decider.features[feature]]})
    if route is not None:
        dataset = dataset.model_copy(update={"routes": [decider.routes[route]]})
    return Decider(dataset, decider.policies, freshness_days=decider.freshness_days)


@st.cache_resource(show_spinner=False, max_entries=16)
def _matrix_part(marker: int, fingerprint: tuple[tuple[str, int, int], ...], on: date, feature: str | None,
                 route: str | None) -> MatrixResult | None:
    snap = _snapshot(marker, fingerprint)
    if snap.compliance is None:
        return None
    return Matrix(_part(snap.compliance.decider, feature=feature, route=route)).evaluate(on)


def feature_matrix(on: date, feature: str) -> MatrixResult | None:
    """One feature's routes x categories, without deciding the whole matrix."""
    return _matrix_part(*marker(), on, feature, None)


def route_matrix(on: date, route: str) -> MatrixResult | None:
    """One route's features x categories, without deciding the whole matrix."""
    return _matrix_part(*marker(), on, None, route)


def marker() -> tuple[int, tuple[tuple[str, int, int], ...]]:
    """What the cached results depend on: the newest audit event and the policy files."""
    current = store()
    with current.snapshot() as session:
        return latest_event_id(session), policy_fingerprint(current.settings.policy_dir)


@st.cache_data(show_spinner=False, max_entries=32)
def cost_table(key: tuple[int, tuple[tuple[str, int, int], ...]], on: date, name: str) -> pd.DataFrame | None:
    """One cost table (features, segments, projection, sensitivity, compliance), once per store state and date."""
    snap = _snapshot(*key)
    data = snap.dataset
    if name == "features":
        return costs.feature_costs(data, on, strict=False)
    if name == "segments":
        return costs.segment_margins(data, on, strict=False, features=cost_table(key, on, "features"))
    if name == "projection":
        return costs.projection_frame(data, on) if data.costs.projection.scenarios else None
    if name == "sensitivity":
        return costs.sensitivity_frame(data, on)
    if name == "compliance" and snap.compliance is not None:
        return costs.compliance_cost_frame(snap.compliance.decider, on, _matrix(*key, on))
    return None


@st.cache_data(show_spinner=False, max_entries=8)
def observed(key: tuple[int, tuple[tuple[str, int, int], ...]], on: date) -> ObserveReport | None:
    """Imported telemetry held against flows, policy and cost model (observe report); None without policies."""
    snap = _snapshot(*key)
    if snap.compliance is None:
        return None
    return observed_report(store(), snap.dataset, snap.compliance.decider, as_of=on)


def undeclared_use(report: ObserveReport | None, feature: str | None = None) -> None:
    """Undeclared (feature, route) pairs seen in production, denied ones as errors, with where to look."""
    pairs = [p for p in (report.undeclared if report else []) if feature in (None, p.feature)]
    for pair in pairs:
        text = (f"**{pair.feature}** used **{pair.route}** without a declared flow: {pair.requests:,} requests, "
                f"{pair.first_seen} to {pair.last_seen}")
        if pair.decision == "deny":
            st.error(f"{text}; the policy denies it ({', '.join(pair.rules) or 'default deny'}).")
        else:
            st.warning(f"{text}; the policy would allow it ({', '.join(pair.rules) or '-'}): declare the flow.")
    if pairs:
        st.caption("From imported telemetry (`python -m compliance observe report` for the full report).")


LOOKAHEAD_DAYS = 3650  # "what breaks if it lapses" looks this far ahead


@st.cache_resource(show_spinner=False, max_entries=8)
def _flows(marker: int, fingerprint: tuple[tuple[str, int, int], ...], on: date) -> list[FlowResult]:
    snap = _snapshot(marker, fingerprint)
    return evaluate_flows(snap.compliance.decider, on) if snap.compliance is not None else []


def flows(key: tuple[int, tuple[tuple[str, int, int], ...]], on: date) -> list[FlowResult]:
    """Every declared flow decided on `on` (empty while the policy files have problems), once per store state."""
    return _flows(*key, on)


@st.cache_data(show_spinner=False, max_entries=16)
def alerts(key: tuple[int, tuple[tuple[str, int, int], ...]], on: date, within: int) -> list[Alert]:
    """The CLI's `alerts` within `within` days, each with the flows it breaks; while the policy files have
    problems, only the store's own alerts."""
    snap = _snapshot(*key)
    if snap.compliance is None:
        return store_alerts(snap.dataset, on, within, store().settings.freshness_days)
    return every_alert(snap.compliance.decider, on, within, flows(key, on))


@st.cache_data(show_spinner=False, max_entries=64)
def provider_lapses(key: tuple[int, tuple[tuple[str, int, int], ...]], on: date, provider_id: str) -> list[Alert]:
    """Each dated DPA, BAA and certification of a provider, with the declared flows its end would break."""
    snap = _snapshot(*key)
    provider = next(p for p in snap.dataset.providers if p.id == provider_id)
    found = [a for a in provider_alerts(provider, on, LOOKAHEAD_DAYS) if a.kind in ("dpa", "baa", "certification")]
    return with_breaks(found, snap.compliance.decider) if snap.compliance is not None else found


def current_actor() -> Actor:
    """Who is making changes: the signed-in user with their mapped role, or the local administrator."""
    actor = st.session_state.get("actor")
    return actor if isinstance(actor, Actor) else LOCAL_ADMIN


def saved(message: str) -> None:
    """After a write: remember a confirmation for the next run and rerun. Cached results are keyed by
    the newest audit event, so the rerun reads the new state without clearing any cache."""
    st.session_state["flash"] = message
    st.rerun()


def show_saved() -> None:
    """The confirmation as a toast, where the user is looking whatever the scroll position."""
    if message := st.session_state.pop("flash", None):
        st.toast(message, icon=":material/check_circle:")


def show_not_saved(exc: ComplianceError) -> None:
    """Why a save did not happen; nothing was written."""
    if isinstance(exc, InvalidInput):
        st.error("Not saved:\n" + "\n".join(f"- `{p}`" for p in exc.problems))
    else:
        st.error(f"Not saved: {exc}")


@contextmanager
def problems_shown() -> Iterator[None]:
    """Turn errors a user can cause into a message on the page, never a traceback."""
    try:
        yield
    except InvalidInput as exc:
        st.error("\n".join([f"**{len(exc.problems)} problem(s)**"] + [f"- `{p}`" for p in exc.problems]))
        st.stop()
    except ComplianceError as exc:
        st.error(str(exc))
        st.stop()


def require_policies(snap: Snapshot) -> Compliance:
    """The compiled policies, or a clear message when the policy files have problems."""
    if snap.compliance is None:
        st.error("The policy files have problems, so no decision can be made until they are fixed:")
        st.code("\n".join(str(p) for p in snap.problems) or "no policy files", language=None)
        st.page_link("compliance/ui/policies_page.py", label="See the policies page", icon=":material/rule:")
        st.stop()
    return snap.compliance


def linked(param: str, known: list[str], kind: str) -> str | None:
    """The record a link names (`?param=id`) when the store holds it; a warning, not a silent first record,
    when it does not (a link from a bookmark or a colleague may name a record renamed or removed since)."""
    wanted = st.query_params.get(param)
    if wanted is None or wanted in known:
        return wanted
    st.warning(f"No {kind} {md_text(wanted)} in the store{closest(wanted, known)}; showing the first one instead.")
    return None
