"""Derived facts at their boundaries (policy.md, "Precise points")."""

from __future__ import annotations

from datetime import date

from compliance.store.derived import active_certifications, agreement_active, days_to_expiry, route_stale
from compliance.store.documents import Certification, DpaAgreement

D = date(2026, 11, 30)


def dpa(status: str = "signed", signed_on: date | None = None, expires_on: date | None = None) -> DpaAgreement:
    return DpaAgreement.model_validate({"status": status, "signed_on": signed_on, "expires_on": expires_on})


def test_absent_agreement_is_unknown() -> None:
    assert agreement_active(None, D) is None
    assert days_to_expiry(None, D) is None


def test_signed_agreement_is_active_on_its_first_and_last_day() -> None:
    assert agreement_active(dpa(signed_on=D, expires_on=D), D) is True


def test_agreement_is_inactive_before_signing_and_after_expiry() -> None:
    assert agreement_active(dpa(signed_on=date(2026, 12, 1)), D) is False
    assert agreement_active(dpa(expires_on=date(2026, 11, 29)), D) is False


def test_only_signed_status_counts_as_active() -> None:
    assert agreement_active(dpa(status="in_review"), D) is False
    assert agreement_active(dpa(status="signed"), D) is True


def test_days_to_expiry_is_unknown_without_a_date() -> None:
    assert days_to_expiry(dpa(), D) is None
    assert days_to_expiry(dpa(expires_on=date(2027, 1, 15)), D) == 46
    assert days_to_expiry(dpa(expires_on=date(2026, 11, 20)), D) == -10


def test_certification_is_active_until_its_last_day() -> None:
    certs = [
        Certification(name="soc2_type2", valid_until=D),
        Certification(name="iso27001", valid_until=date(2026, 11, 29)),
        Certification(name="iso42001"),
    ]
    assert active_certifications(certs, D) == ["soc2_type2", "iso42001"]


def test_route_is_fresh_at_180_days_and_stale_at_181() -> None:
    assert route_stale(date(2026, 6, 3), D) is False  # 180 days
    assert route_stale(date(2026, 6, 2), D) is True  # 181 days
    assert route_stale(None, D) is True
    assert route_stale(date(2026, 11, 1), D, window_days=20) is True
