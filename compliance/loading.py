"""Checks a data folder must pass before `load` may replace the store with it.

`load` validates exactly as `validate` does (the data and the policy set against that data), and
a missing or empty file is a problem unless the user said that kind should be empty: a load
replaces the store, so an absent file would otherwise delete every record of its kind.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.policy.policyset import PolicySet
from compliance.problems import InvalidInput, Problem, display_path
from compliance.store import documents as d
from compliance.store.sync import LoadReport
from compliance.store.validate import FILES, declared_ids, read_data_dir
from compliance.yamlsource import YamlDocument

# --allow-empty KIND: the kind of record each data file holds
EMPTY_KINDS: dict[str, str] = {"providers": "providers.yaml", "routes": "routes.yaml",
                               "categories": "categories.yaml", "features": "features.yaml", "costs": "costs.yaml"}


@dataclass
class FolderCheck:
    dataset: d.DataSet | None
    policies: PolicySet | None
    problems: list[Problem]


def validate_folder(data_dir: Path, policy_dir: Path) -> FolderCheck:
    """What `validate` checks: the data folder, and the policies against the ids the data declares."""
    dataset, problems, docs = read_data_dir(data_dir)
    ids = declared_ids(docs)  # policies are checked against the ids the data declares, valid or not
    policies, policy_problems = read_policy_dir(policy_dir, Vocabulary(
        features=ids["features"], routes=ids["routes"], categories=ids["categories"], providers=ids["providers"]))
    return FolderCheck(dataset, policies, problems + policy_problems)


def _is_empty(kind: str, doc: YamlDocument) -> bool:
    data = doc.data
    if not data:
        return True
    if not isinstance(data, dict):
        return False  # a malformed file is reported by validation
    sections = FILES[EMPTY_KINDS[kind]]
    return not any(data.get(section) for section in sections)


def empty_kind_problems(data_dir: Path, allow_empty: Collection[str] = ()) -> list[Problem]:
    """A problem for each data file that is missing or holds no records, unless its kind is allowed empty."""
    problems: list[Problem] = []
    for kind in sorted(set(allow_empty) - set(EMPTY_KINDS)):
        problems.append(Problem("--allow-empty", None, kind, f"unknown kind; use one of {', '.join(EMPTY_KINDS)}"))
    if not data_dir.is_dir():
        return problems
    _, _, docs = read_data_dir(data_dir)
    for kind, file in EMPTY_KINDS.items():
        if kind in allow_empty:
            continue
        shown = display_path(data_dir / file)
        hint = (f"a load would delete every {kind.rstrip('s') if kind != 'categories' else 'category'} record "
                f"in the store; add the file's records, or pass --allow-empty {kind} if the store should hold none")
        if not (data_dir / file).exists():
            problems.append(Problem(shown, None, "", f"file is missing: {hint}"))
        elif file in docs and _is_empty(kind, docs[file]):
            problems.append(Problem(shown, 1, ", ".join(FILES[file]), f"file has no records: {hint}"))
    return problems


@dataclass
class LoadCheck:
    dataset: d.DataSet
    warnings: list[str]


NOTICE_FACTS = ("processor.notice_elapsed", "processor.announced_on")


def check_load_folder(data_dir: Path, policy_dir: Path, allow_empty: Collection[str] = ()) -> LoadCheck:
    """The data set a load may write, or InvalidInput with every problem (nothing is written); with
    what the load allows but the user should hear. Today that is a policy set
    that gates customer data on a subprocessor notice while the folder has no subprocessors.yaml, so
    no processor counts as announced and every flow such a rule covers is denied (fail-closed)."""
    check = validate_folder(data_dir, policy_dir)
    problems = check.problems + empty_kind_problems(data_dir, allow_empty)
    if problems or check.dataset is None or check.policies is None:
        raise InvalidInput(problems)
    warnings = []
    if check.dataset.notice is None:
        gating = [r.id for r in check.policies.rules
                  if r.when and any(leaf.fact in NOTICE_FACTS for leaf in r.when.leaves())]
        if gating:
            warnings.append(
                f"{display_path(data_dir / 'subprocessors.yaml')} is missing, so no processor counts as announced: "
                f"rule {', '.join(gating)} denies every flow it covers until the file lists the processors "
                "(see data/subprocessors.yaml in the example)")
    return LoadCheck(check.dataset, warnings)


def record_count(dataset: d.DataSet) -> int:
    return (len(dataset.providers) + len(dataset.routes) + len(dataset.categories) + len(dataset.features)
            + len(dataset.costs.segments) + len(dataset.costs.price_overrides) + (dataset.notice is not None)
            + len(dataset.evals))


def change_lines(report: LoadReport) -> list[str]:
    """Added, changed and deleted counts per kind, for a dry run."""
    kinds = list(dict.fromkeys([*report.created, *report.updated, *report.deleted]))
    if not kinds:
        return ["no changes"]
    return [f"  {kind}: {report.created.get(kind, 0)} added, {report.updated.get(kind, 0)} changed, "
            f"{report.deleted.get(kind, 0)} deleted" for kind in kinds]
