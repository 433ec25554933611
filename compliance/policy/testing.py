"""Policy tests (policies/tests/*.yaml): expected decisions, checked with the one decision function."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from compliance.dates import EVALUATION_RANGE, in_evaluation_range
from compliance.policy.decide import Decider, Decision
from compliance.policy.language import Vocabulary, read_policy_dir
from compliance.problems import Problem, display_path
from compliance.store import documents as d
from compliance.store.validate import read_data_dir
from compliance.yamlsource import read_yaml

FILE_KEYS = {"data", "description", "cases"}
CASE_KEYS = {"name", "feature", "category", "route", "model", "as_of", "expect", "rules", "waived_by", "unknown_facts",
             "note"}


@dataclass
class CaseResult:
    file: str
    line: int | None
    name: str
    passed: bool
    decision: Decision | None
    message: str = ""


@dataclass
class TestReport:
    results: list[CaseResult] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    decided: dict[str, int] = field(default_factory=dict)  # rule id -> cases it decided
    rules: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[CaseResult]:
        return [r for r in self.results if not r.passed]

    @property
    def uncovered(self) -> list[str]:
        return [r for r in self.rules if not self.decided.get(r)]

    @property
    def ok(self) -> bool:
        return not self.problems and not self.failed and bool(self.results)


def _deciders(data_dir: Path, policy_dir: Path, cache: dict[Path, Decider | list[Problem]]) -> Decider | list[Problem]:
    key = data_dir.resolve()
    if key not in cache:
        dataset, problems, _ = read_data_dir(data_dir)
        if problems or dataset is None:
            cache[key] = problems
        else:
            policies, policy_problems = read_policy_dir(policy_dir, Vocabulary.of(dataset))
            cache[key] = policy_problems if policies is None else Decider(dataset, policies)
    return cache[key]


def run_policy_tests(test_dir: Path, policy_dir: Path, default_data: Path, *,
                     dataset: d.DataSet | None = None) -> TestReport:
    """Run every case; the data is a scratch copy loaded from each file's `data:` folder."""
    report = TestReport()
    cache: dict[Path, Decider | list[Problem]] = {}
    if dataset is not None:
        policies, problems = read_policy_dir(policy_dir, Vocabulary.of(dataset))
        cache[default_data.resolve()] = problems if policies is None else Decider(dataset, policies)
    files = sorted(test_dir.glob("*.y*ml")) if test_dir.is_dir() else []
    if not files:
        report.problems.append(Problem(display_path(test_dir), None, "", "no policy test files found"))
        return report
    for path in files:
        doc, found = read_yaml(path, display_path(path))
        report.problems += found
        if doc is None:
            continue
        data = doc.data if isinstance(doc.data, dict) else {}
        if not isinstance(doc.data, dict):
            report.problems.append(Problem(doc.file, 1, "", "a test file is a mapping with data and cases"))
            continue
        for key in data:
            if key not in FILE_KEYS:
                report.problems.append(Problem(doc.file, doc.line_of((key,)), str(key), "unknown key"))
        data_dir = (path.parent / data["data"]).resolve() if isinstance(data.get("data"), str) else default_data
        decider = _deciders(data_dir, policy_dir, cache)
        if isinstance(decider, list):
            report.problems += decider
            continue
        if not report.rules:
            report.rules = [c.rule.id for c in decider.rules]
        cases = data.get("cases")
        if not isinstance(cases, list):
            report.problems.append(Problem(doc.file, doc.line_of(("cases",)), "cases", "must be a list of cases"))
            continue
        for i, case in enumerate(cases):
            result = _run_case(doc.file, doc.line_of(("cases", i)), i, case, decider, report)
            if result is not None:
                report.results.append(result)
    return report


def _run_case(file: str, line: int | None, index: int, case: Any, decider: Decider,
              report: TestReport) -> CaseResult | None:
    if not isinstance(case, dict):
        report.problems.append(Problem(file, line, f"cases[{index}]", "a case is a mapping"))
        return None
    name = str(case.get("name") or f"case {index + 1}")
    unknown = [k for k in case if k not in CASE_KEYS]
    missing = [k for k in ("feature", "category", "route", "expect") if k not in case]
    if unknown or missing or case.get("expect") not in ("allow", "deny"):
        what = "; ".join([*(f"unknown key {k!r}" for k in unknown), *(f"missing {k!r}" for k in missing)]
                         ) or "expect must be allow or deny"
        report.problems.append(Problem(file, line, name, what))
        return None
    as_of = case.get("as_of", date.today())
    if not isinstance(as_of, date) or isinstance(as_of, datetime) or not in_evaluation_range(as_of):
        first, last = EVALUATION_RANGE
        report.problems.append(Problem(file, line, name, f"as_of must be a date (YYYY-MM-DD, without a time) "
                                                         f"from {first} to {last}"))
        return None
    try:
        model = str(case["model"]) if case.get("model") is not None else None
        decision = decider.decide(str(case["feature"]), str(case["category"]), str(case["route"]), as_of, model)
    except Exception as exc:  # an unknown id in a case is a problem in the test file
        report.problems.append(Problem(file, line, name, str(exc)))
        return None
    for rule in decision.rules:
        report.decided[rule] = report.decided.get(rule, 0) + 1
    failures = []
    if decision.decision != case["expect"]:
        failures.append(f"expected {case['expect']}, got {decision.decision}")
    for key in ("rules", "waived_by", "unknown_facts"):
        if key in case and list(getattr(decision, key)) != list(case[key] or []):
            failures.append(f"expected {key} {list(case[key] or [])}, got {list(getattr(decision, key))}")
    if failures:
        detail = "; ".join(failures) + f" (rules {list(decision.rules)}; reasons: {' | '.join(decision.reasons)})"
        return CaseResult(file, line, name, False, decision, detail)
    return CaseResult(file, line, name, True, decision)
