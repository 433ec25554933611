"""The matrix CSV carries the date, every deciding rule and the waivers, and agrees with `decide`."""

from __future__ import annotations

import csv
import io
from datetime import date

from compliance.policy.matrix import CSV_COLUMNS, Matrix, csv_text
from tests.policy_helpers import decider

D = date(2026, 11, 30)
RULES = [
    {"id": "no-us", "effect": "deny", "reason": "us", "when": [{"route.residency": "us"}]},
    {"id": "no-zdr-financial", "effect": "deny", "reason": "zdr", "match": {"categories": ["user.financial"]},
     "when": [{"route.zero_data_retention": {"ne": True}}]},
    {"id": "covered", "effect": "allow", "match": {"categories": ["user"]}, "reason": "ok",
     "when": [{"processor.dpa.active": True}]},
    {"id": "anything", "effect": "allow", "reason": "ok"},
]
EXCEPTIONS = [
    {"id": "exc-a", "waives": "no-us", "feature": "b2b-feature", "categories": ["user"], "routes": ["maker-api"],
     "approved_by": "dpo", "granted_on": date(2026, 1, 1), "expires_on": date(2026, 12, 31)},
    {"id": "exc-b", "waives": "no-us", "feature": "b2b-feature", "categories": ["user.contact"],
     "routes": ["maker-api"], "approved_by": "dpo", "granted_on": date(2026, 1, 1), "expires_on": date(2026, 12, 31)},
]


def rows() -> list[dict[str, str]]:
    dec = decider(RULES, exceptions=EXCEPTIONS)
    return list(csv.DictReader(io.StringIO(csv_text(Matrix(dec).evaluate(D)))))


def test_csv_columns_carry_the_date_rules_and_waivers() -> None:
    found = rows()
    assert list(found[0]) == CSV_COLUMNS
    assert {r["as_of"] for r in found} == {"2026-11-30"}


def test_every_deciding_rule_is_listed_not_only_the_first() -> None:
    cell = next(r for r in rows() if (r["feature"], r["category"], r["route"]) ==
                ("consumer-feature", "user.financial", "maker-api"))
    assert cell["decision"] == "deny" and cell["rules"] == "no-us;no-zdr-financial"
    allowed = next(r for r in rows() if (r["feature"], r["category"], r["route"]) ==
                   ("consumer-feature", "user.contact", "cloud-eu"))
    assert allowed["decision"] == "allow" and allowed["rules"] == "covered;anything"


def test_every_waiving_exception_is_listed() -> None:
    cell = next(r for r in rows() if (r["feature"], r["category"], r["route"]) ==
                ("b2b-feature", "user.contact.email", "maker-api"))
    assert cell["waived_by"] == "exc-a;exc-b"
    only_a = next(r for r in rows() if (r["feature"], r["category"], r["route"]) ==
                  ("b2b-feature", "user.financial", "maker-api"))
    assert only_a["waived_by"] == "exc-a" and only_a["rules"] == "no-zdr-financial"


def test_every_cell_agrees_with_decide_on_rules_and_waivers() -> None:
    dec = decider(RULES, exceptions=EXCEPTIONS)
    for row in rows():
        decision = dec.decide(row["feature"], row["category"], row["route"], D)
        assert row["decision"] == decision.decision
        assert row["rules"] == ";".join(decision.rules), row
        assert row["waived_by"] == ";".join(decision.waived_by), row


def test_updating_a_route_redoes_its_rules_and_waivers() -> None:
    dec = decider(RULES, exceptions=EXCEPTIONS)
    matrix = Matrix(dec)
    matrix.evaluate(D)
    moved = dec.routes["maker-api"].model_validate({**dec.routes["maker-api"].model_dump(), "residency": "eu"})
    result = matrix.update_route(moved)
    text = list(csv.DictReader(io.StringIO(csv_text(result))))
    cell = next(r for r in text if (r["feature"], r["category"], r["route"]) ==
                ("b2b-feature", "user.contact.email", "maker-api"))
    assert cell["waived_by"] == "" and cell["decision"] == "allow" and cell["rules"] == "anything"
