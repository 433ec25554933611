"""The closed vocabularies of data.md, shared by the YAML schema and the tables."""

from __future__ import annotations

import enum


class _Values(str, enum.Enum):
    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def values(cls) -> list[str]:
        return [member.value for member in cls]


class DpaStatus(_Values):
    signed = "signed"
    in_review = "in_review"
    requested = "requested"
    not_started = "not_started"
    expired = "expired"
    terminated = "terminated"
    not_required = "not_required"


class BaaStatus(_Values):
    signed = "signed"
    available = "available"
    not_available = "not_available"
    not_required = "not_required"


class AgreementKind(_Values):
    dpa = "dpa"
    baa = "baa"


class TransferMechanism(_Values):
    dpf = "dpf"
    scc = "scc"
    bcr = "bcr"
    adequacy = "adequacy"
    none = "none"
    not_applicable = "not_applicable"


class Residency(_Values):
    eu = "eu"
    us = "us"
    uk = "uk"
    ca = "ca"
    au = "au"
    jp = "jp"
    in_ = "in"
    global_ = "global"
    on_premises = "on_premises"


class RouteStatus(_Values):
    approved = "approved"
    under_review = "under_review"
    blocked = "blocked"
    retired = "retired"


class Sensitivity(_Values):
    low = "low"
    moderate = "moderate"
    high = "high"
    special = "special"


class Segment(_Values):
    b2b = "b2b"
    consumer = "consumer"
    internal = "internal"


class SourceStatus(_Values):
    verified = "verified"
    secondary = "secondary"
    unverified = "unverified"


ALL_AGREEMENT_STATUSES = sorted(set(DpaStatus.values()) | set(BaaStatus.values()))


class LegalBasis(_Values):
    """GDPR Art. 6(1) lawful bases."""

    consent = "consent"
    contract = "contract"
    legal_obligation = "legal_obligation"
    vital_interests = "vital_interests"
    public_task = "public_task"
    legitimate_interests = "legitimate_interests"


class AiRole(_Values):
    """Our role for an AI system under the EU AI Act."""

    provider = "provider"
    deployer = "deployer"


class AiRisk(_Values):
    prohibited = "prohibited"
    high = "high"
    limited = "limited"
    minimal = "minimal"


class Art50Duty(_Values):
    """EU AI Act Art. 50 transparency duties."""

    chatbot_disclosure = "chatbot_disclosure"
    synthetic_content_marking = "synthetic_content_marking"
    emotion_recognition_notice = "emotion_recognition_notice"
    deepfake_disclosure = "deepfake_disclosure"
