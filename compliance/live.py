"""Freshness: the newest valid state of a store and a policy folder, never older than a bound.

A guard must not answer from facts that changed under it. `LiveState` holds one `State` (the
store's contents, the compiled policies, and the audit head and policy digest they came from)
and replaces it whole when the audit head or the policy files change. The check is cheap (one
indexed query and a hash of the policy files) and runs at most every `max_staleness` seconds,
on the caller's thread when nothing else did it in time, so an answer never comes from a state
checked longer ago than the bound. A policy set that fails validation is not taken: the last
valid one keeps answering and `health()` says why.
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from compliance.config import FRESHNESS_DAYS
from compliance.policy.decide import Decider
from compliance.policy.language import Vocabulary, digest_of, policy_files, read_policy_dir
from compliance.policy.policyset import PolicySet
from compliance.problems import ComplianceError, InvalidInput
from compliance.store import Store
from compliance.store import documents as d
from compliance.store.audit import last_hash
from compliance.store.convert import read_dataset

DEFAULT_MAX_STALENESS = 5.0  # seconds (service.md: "default 5 s, configurable")


def max_staleness_setting(value: float | None = None) -> float:
    """The freshness bound: the argument, else COMPLIANCE_MAX_STALENESS, else 5 seconds."""
    if value is not None:
        return value
    raw = os.environ.get("COMPLIANCE_MAX_STALENESS")
    if not raw:
        return DEFAULT_MAX_STALENESS
    try:
        seconds = float(raw)
    except ValueError:
        raise ComplianceError(f"COMPLIANCE_MAX_STALENESS={raw!r} is not a number of seconds") from None
    if seconds < 0:
        raise ComplianceError(f"COMPLIANCE_MAX_STALENESS={raw!r} must be zero or more seconds")
    return seconds


@dataclass(frozen=True)
class State:
    """Everything one answer needs, from one moment: never mixed with another state."""

    dataset: d.DataSet
    policies: PolicySet
    decider: Decider
    store_head: str  # hash of the newest audit event ("" when not read from a store)
    loaded_at: datetime
    policy_bytes: dict[str, bytes] = field(default_factory=dict, repr=False)
    # answers computed from this state (the service keeps its JSON records here): they live and die
    # with the state, so a new state never sees an old state's answers
    memo: dict[Any, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    @property
    def policy_digest(self) -> str:
        return self.policies.digest

    @classmethod
    def of(cls, dataset: d.DataSet, policies: PolicySet, *, store_head: str = "", freshness_days: int = FRESHNESS_DAYS,
           policy_bytes: dict[str, bytes] | None = None) -> State:
        return cls(dataset, policies, Decider(dataset, policies, freshness_days=freshness_days), store_head,
                   datetime.now(UTC), policy_bytes or {})


@dataclass(frozen=True)
class Health:
    status: str  # ok | degraded
    policy_digest: str
    store_head: str
    loaded_at: datetime
    checked_at: datetime
    max_staleness: float
    problems: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        return {"status": self.status, "policy_digest": self.policy_digest, "store_head": self.store_head,
                "loaded_at": self.loaded_at.isoformat(), "checked_at": self.checked_at.isoformat(),
                "max_staleness_seconds": self.max_staleness, "problems": list(self.problems)}


def read_store(store: Store) -> tuple[d.DataSet, str]:
    """The store's contents and the audit head they belong to, from one snapshot (one read transaction)."""
    with store.snapshot() as session:
        head = last_hash(session)
        return read_dataset(session), head


def read_store_head(store: Store) -> str:
    with store.snapshot() as session:
        return last_hash(session)


def _read_bytes(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in policy_files(directory)} if directory.is_dir() else {}


def _digest_of_bytes(files: dict[str, bytes]) -> str:
    with tempfile.TemporaryDirectory(prefix="policies-") as tmp:
        paths = []
        for name, content in sorted(files.items()):
            path = Path(tmp) / name
            path.write_bytes(content)
            paths.append(path)
        return digest_of(paths)


def _compile_saved(files: dict[str, bytes], dataset: d.DataSet) -> PolicySet | None:
    """The last valid policy files (kept in memory) compiled against a newer store."""
    with tempfile.TemporaryDirectory(prefix="policies-") as tmp:
        for name, content in files.items():
            (Path(tmp) / name).write_bytes(content)
        policies, problems = read_policy_dir(Path(tmp), Vocabulary.of(dataset))
        return None if problems else policies


def load_state(store: Store, policy_dir: Path, freshness_days: int = FRESHNESS_DAYS) -> State:
    """A first state; raises InvalidInput when the policy files have problems."""
    dataset, head = read_store(store)
    files = _read_bytes(policy_dir)
    policies, problems = read_policy_dir(policy_dir, Vocabulary.of(dataset))
    if problems or policies is None:
        raise InvalidInput(problems)
    return State.of(dataset, policies, store_head=head, freshness_days=freshness_days, policy_bytes=files)


class LiveState:
    """One store and policy folder, re-read when they change; `current()` is never staler than the bound."""

    def __init__(self, state: State, *, store: Store, policy_dir: Path, max_staleness: float,
                 freshness_days: int = FRESHNESS_DAYS):
        self.store = store
        self.policy_dir = policy_dir
        self.max_staleness = max_staleness
        self.freshness_days = freshness_days
        self._state = state
        self._checked = time.monotonic()
        self._checked_at = datetime.now(UTC)
        self._seen = (state.store_head, state.policy_digest)  # what the last check found on disk
        self._problems: tuple[str, ...] = ()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def current(self) -> State:
        """The state to answer from, checked within the last `max_staleness` seconds."""
        if time.monotonic() - self._checked <= self.max_staleness:
            return self._state
        with self._lock:
            if time.monotonic() - self._checked > self.max_staleness:
                self._check()
            return self._state

    def check(self) -> State:
        """Look for a change now (the background thread and tests call this)."""
        with self._lock:
            self._check()
            return self._state

    def health(self) -> Health:
        state = self.current()
        return Health("degraded" if self._problems else "ok", state.policy_digest, state.store_head,
                      state.loaded_at, self._checked_at, self.max_staleness, self._problems)

    def start(self, interval: float | None = None) -> None:
        """Check in a daemon thread every `interval` seconds (default half the bound), so callers rarely wait."""
        if self._thread is not None:
            return
        every = interval if interval is not None else max(self.max_staleness / 2, 0.05)

        def run() -> None:
            while not self._stop.wait(every):
                try:
                    self.check()
                except Exception:  # a failed check is retried at the next tick
                    continue

        self._thread = threading.Thread(target=run, name="compliance-freshness", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    # --- the check ---------------------------------------------------------------------------
    def _check(self) -> None:
        started, started_at = time.monotonic(), datetime.now(UTC)
        try:
            head = read_store_head(self.store)
            digest = digest_of(policy_files(self.policy_dir)) if self.policy_dir.is_dir() else ""
            for _ in range(3):  # a policy file rewritten while it was read is read again
                if (head, digest) == self._seen or self._reload():
                    break
        except ComplianceError as exc:
            # the store cannot be read: keep answering from the last state, say why, retry next time
            self._problems = (f"store: {exc}",)
            return
        except OSError as exc:
            self._problems = (f"policy folder {self.policy_dir}: {exc}",)
            return
        self._checked, self._checked_at = started, started_at

    def _reload(self) -> bool:
        """Take the new state, or keep the old one and record why; False when the files moved under us."""
        state = self._state
        dataset, head = read_store(self.store)
        files = _read_bytes(self.policy_dir)
        digest = _digest_of_bytes(files)
        policies, problems = read_policy_dir(self.policy_dir, Vocabulary.of(dataset))
        if policies is not None and not problems and policies.digest == digest:
            self._state = State.of(dataset, policies, store_head=head, freshness_days=self.freshness_days,
                                   policy_bytes=files)
            self._seen, self._problems = (head, digest), ()
            return True
        if policies is not None and not problems:
            return False  # the files changed while they were read
        messages = [f"policy set {digest[:12]} refused ({len(problems)} problem(s)); still answering from "
                    f"{state.policy_digest[:12]}"] + [str(p) for p in problems]
        if head != state.store_head:
            kept = _compile_saved(state.policy_bytes, dataset)
            if kept is None:
                messages.append(f"store change {head[:12]} not taken: the last valid policy set does not fit it")
                self._seen, self._problems = (head, digest), tuple(messages)
                return True
            self._state = State.of(dataset, kept, store_head=head, freshness_days=self.freshness_days,
                                   policy_bytes=state.policy_bytes)
        self._seen, self._problems = (head, digest), tuple(messages)
        return True
