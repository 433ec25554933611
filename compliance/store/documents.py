"""The YAML form of the store (data.md), as strict pydantic models.

These models are the one schema: `load` validates files against them, `export` writes
them, and the tables are filled from them. Unknown keys are errors; types are strict
(a quoted number is not a number), but dates may be written quoted or bare.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    model_validator,
)

from compliance.store.enums import (
    AiRisk,
    AiRole,
    Art50Duty,
    BaaStatus,
    DpaStatus,
    LegalBasis,
    Residency,
    RouteStatus,
    Segment,
    Sensitivity,
    SourceStatus,
    TransferMechanism,
)
from compliance.store.limits import COUNTRY_LEN, ID_LEN, ID_PATTERN, NAME_LEN, TEXT_LEN


def _no_nul(value: str) -> str:
    if "\x00" in value:  # PostgreSQL cannot store it; SQLite would
        raise ValueError("must not contain a NUL character")
    return value


def _day(value: Any) -> Any:
    """A date as YAML writes it (bare or quoted YYYY-MM-DD); never a number (`0` is not 1970-01-01)
    and never a date with a time."""
    if isinstance(value, datetime):
        raise ValueError("must be a date (YYYY-MM-DD) without a time")
    if isinstance(value, date):
        return value
    if isinstance(value, str) and _ISO_DAY.match(value):
        return value
    raise ValueError("must be a date (YYYY-MM-DD)")


_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")

Id = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=ID_LEN)]
Text = Annotated[str, StringConstraints(max_length=TEXT_LEN), AfterValidator(_no_nul)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=NAME_LEN), AfterValidator(_no_nul)]
CertificationName = Annotated[str, StringConstraints(min_length=1, max_length=ID_LEN), AfterValidator(_no_nul)]
Day = Annotated[date, Field(strict=False), BeforeValidator(_day)]
Fraction = Annotated[float, Field(ge=0, le=1)]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z]{2}$", max_length=COUNTRY_LEN, to_upper=True)]
Premium = Annotated[float, Field(ge=0, le=10)]


# Enum fields accept their string values (lax) while everything else stays strict.
DpaStatusValue = Annotated[DpaStatus, Field(strict=False)]
BaaStatusValue = Annotated[BaaStatus, Field(strict=False)]
ResidencyValue = Annotated[Residency, Field(strict=False)]
RouteStatusValue = Annotated[RouteStatus, Field(strict=False)]
SegmentValue = Annotated[Segment, Field(strict=False)]
SensitivityValue = Annotated[Sensitivity, Field(strict=False)]
SourceStatusValue = Annotated[SourceStatus, Field(strict=False)]
TransferMechanismValue = Annotated[TransferMechanism, Field(strict=False)]
LegalBasisValue = Annotated[LegalBasis, Field(strict=False)]
AiRoleValue = Annotated[AiRole, Field(strict=False)]
AiRiskValue = Annotated[AiRisk, Field(strict=False)]
Art50DutyValue = Annotated[Art50Duty, Field(strict=False)]


class _Doc(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=False)


class Source(_Doc):
    field: ShortText | None = None
    url: Text | None = None
    as_of: Day | None = None
    status: SourceStatusValue = SourceStatus.unverified  # a source nobody rated is not verified
    note: Text | None = None


class _Agreement(_Doc):
    version: ShortText | None = None
    signed_on: Day | None = None
    expires_on: Day | None = None
    document: Text | None = None
    notes: Text | None = None

    @model_validator(mode="after")
    def _expires_after_signing(self) -> _Agreement:
        if self.signed_on and self.expires_on and self.expires_on < self.signed_on:
            raise ValueError(f"expires_on {self.expires_on} is before signed_on {self.signed_on}: "
                             "an agreement cannot end before it is signed")
        return self


class DpaAgreement(_Agreement):
    status: DpaStatusValue


class BaaAgreement(_Agreement):
    status: BaaStatusValue


class Certification(_Doc):
    name: CertificationName
    valid_until: Day | None = None
    evidence: Text | None = None


class Subprocessors(_Doc):
    url: Annotated[str, StringConstraints(min_length=1, max_length=TEXT_LEN), AfterValidator(_no_nul)] | None = None
    last_checked_on: Day | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> Subprocessors:  # an empty one would be dropped by the store and differ on reload
        if self.url is None and self.last_checked_on is None:
            raise ValueError("give url or last_checked_on, or leave subprocessors out")
        return self


class Provider(_Doc):
    id: Id
    name: ShortText
    legal_entity: ShortText | None = None
    hq_country: CountryCode | None = None
    dpa: DpaAgreement | None = None
    baa: BaaAgreement | None = None
    transfer_mechanism: TransferMechanismValue | None = None
    certifications: list[Certification] = []
    subprocessors: Subprocessors | None = None
    owner: ShortText | None = None
    last_reviewed_on: Day | None = None
    next_review_on: Day | None = None
    notes: Text | None = None
    sources: list[Source] = []


class ScanHints(_Doc):
    """What code alone cannot tell about a route: hosts that reach it, environment values of its deployment."""

    hosts: list[ShortText] = []
    env: dict[Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$", max_length=200)], ShortText] = {}


class ModelEntry(_Doc):
    """A model served on a route, with its lifecycle (models.md): the vendor's dates, and what replaces it."""

    id: ShortText
    released_on: Day | None = None
    deprecated_on: Day | None = None
    retires_on: Day | None = None
    successor: ShortText | None = None

    @model_validator(mode="after")
    def _dates_in_order(self) -> ModelEntry:
        if self.deprecated_on and self.retires_on and self.retires_on < self.deprecated_on:
            raise ValueError(f"retires_on {self.retires_on} is before deprecated_on {self.deprecated_on}")
        if self.released_on and self.retires_on and self.retires_on < self.released_on:
            raise ValueError(f"retires_on {self.retires_on} is before released_on {self.released_on}")
        return self


def _model_kind(value: Any) -> str:
    return "id" if isinstance(value, str) else "entry"


# A string is a model id, a mapping a lifecycle entry: errors name only the form that was written.
ModelItem = Annotated[
    Annotated[ShortText, Tag("id")] | Annotated[ModelEntry, Tag("entry")], Discriminator(_model_kind)]


class IpIndemnity(_Doc):
    """Whether the processor on a route defends us against third-party copyright claims over outputs."""

    covered: bool
    conditions: Text | None = None
    source: Text | None = None


class LatencyFact(_Doc):
    """Measured latency of one model on a route: time to first token and output throughput (p50)."""

    model: ShortText
    ttft_p50_ms: Annotated[float, Field(ge=0, le=600_000)]
    output_tokens_per_s: Annotated[float, Field(gt=0, le=100_000)]
    as_of: Day | None = None
    source: Text | None = None

    def expected_ms(self, output_tokens: int) -> float:
        """Expected latency of a request = TTFT + output tokens / throughput (models.md)."""
        return self.ttft_p50_ms + output_tokens / self.output_tokens_per_s * 1000.0


class Route(_Doc):
    id: Id
    name: ShortText
    model_provider: Id
    processor: Id
    service: ShortText
    region: ShortText | None = None
    residency: ResidencyValue
    zero_data_retention: bool
    retention_days: Annotated[int, Field(ge=0, le=36_500)] | None = None
    trains_on_inputs: bool
    status: RouteStatusValue
    price_provider: Id | None = None
    regional_premium: Premium | None = None
    # per-model premium where it differs from the route's (e.g. OpenAI's residency uplift only for
    # models released on/after 2026-03-05); keys must be in `models`
    regional_premium_models: dict[ShortText, Premium] = {}
    models: list[ModelItem] = []  # a plain id, or an id with its lifecycle
    last_verified_on: Day | None = None
    verified_by: ShortText | None = None
    notes: Text | None = None
    sources: list[Source] = []
    scan: ScanHints | None = None  # hints for `python -m compliance scan` (scan.md)
    ip_indemnity: IpIndemnity | None = None
    latency: list[LatencyFact] = []

    @property
    def model_ids(self) -> list[str]:
        """The ids of the models served here, in file order (entries may carry a lifecycle)."""
        return [m if isinstance(m, str) else m.id for m in self.models]

    def model_entry(self, model: str) -> ModelEntry | None:
        """The lifecycle entry of `model` on this route, if the file gave one."""
        return next((m for m in self.models if isinstance(m, ModelEntry) and m.id == model), None)

    def latency_of(self, model: str) -> LatencyFact | None:
        return next((x for x in self.latency if x.model == model), None)


class Category(_Doc):
    key: Id
    name: ShortText
    description: Text | None = None
    sensitivity: SensitivityValue
    tags: list[ShortText] = []
    source: ShortText | None = None

    @property
    def parent(self) -> str | None:
        return self.key.rsplit(".", 1)[0] if "." in self.key else None


class Flow(_Doc):
    route: Id
    categories: Annotated[list[Id], Field(min_length=1)]
    model: ShortText | None = None
    share: Annotated[float, Field(gt=0, le=1)] = 1.0


class QualityNeed(_Doc):
    """The eval score a feature needs on a metric before a model is good enough for it."""

    metric: ShortText
    min: float


class LatencyNeed(_Doc):
    p50_ms: Annotated[float, Field(gt=0, le=3_600_000)]


class Usage(_Doc):
    requests_per_user_month: Annotated[float, Field(ge=0, le=1e9)]
    input_tokens: Annotated[int, Field(ge=0, le=100_000_000)]
    output_tokens: Annotated[int, Field(ge=0, le=100_000_000)]
    cached_input_share: Fraction | None = None


class AiAct(_Doc):
    """The feature as an AI system under the EU AI Act (records.md)."""

    role: AiRoleValue
    risk: AiRiskValue
    annex_iii: ShortText | None = None  # the Annex III point of a high-risk system, e.g. "5(b)"
    art50: list[Art50DutyValue] = []
    disclosure: Text | None = None  # how the Art. 50 duties are met, e.g. the notice users see
    notes: Text | None = None


class Feature(_Doc):
    id: Id
    name: ShortText
    description: Text | None = None
    owner: ShortText | None = None
    segment: SegmentValue
    human_review: bool
    tags: list[ShortText] = []
    flows: list[Flow] = []
    usage: Usage | None = None
    code: list[ShortText] = []  # gitignore-style globs of the files that belong to this feature (scan.md)
    purposes: list[Id] = []  # Fides data_use keys (records.md)
    data_subjects: list[Id] = []  # Fides data_subject keys
    legal_basis: LegalBasisValue | None = None  # GDPR Art. 6(1)
    customer_data: bool | None = None  # our customers' data under our DPA with them; unset = segment is b2b
    ai_act: AiAct | None = None
    services: list[ShortText] = []  # telemetry `service.name`s whose LLM calls belong to this feature (observe.md)
    quality: QualityNeed | None = None  # what an eval must show (models.md)
    latency: LatencyNeed | None = None

    @property
    def processes_customer_data(self) -> bool:
        return self.customer_data if self.customer_data is not None else self.segment == Segment.b2b


class EvalResult(_Doc):
    """How well `model` did on `feature`'s eval set (models.md); `id` is given on load when absent."""

    id: Id | None = None
    feature: Id
    model: ShortText
    route: Id | None = None
    metric: ShortText
    score: float
    samples: Annotated[int, Field(ge=0, le=100_000_000)]
    run_on: Day
    source: Text


class CostSegment(_Doc):
    id: Id
    name: ShortText | None = None
    users: Annotated[int, Field(ge=0, le=10_000_000_000)]
    monthly_growth: Annotated[float, Field(ge=-1, le=10)] = 0.0
    active_share: Fraction = 1.0
    revenue_per_user_month: Annotated[float, Field(ge=0, le=1e7)]
    other_cogs_per_user_month: Annotated[float, Field(ge=0, le=1e7)] = 0.0
    features: list[Id] = []


class Projection(_Doc):
    months: Annotated[int, Field(ge=1, le=240)] = 24
    scenarios: dict[Id, Fraction] = {}
    tiers: dict[Id, list[ShortText]] = {}
    tier_scenarios: dict[Id, dict[Id, Fraction]] = {}


class PriceOverride(_Doc):
    id: Id | None = None
    price_provider: Id
    model: ShortText
    input: Annotated[float, Field(ge=0, le=1e5)] | None = None
    output: Annotated[float, Field(ge=0, le=1e5)] | None = None
    cached_input: Annotated[float, Field(ge=0, le=1e5)] | None = None
    discount: Annotated[float, Field(ge=0, lt=1)] | None = None
    valid_from: Day | None = None
    valid_until: Day | None = None
    note: Text

    @model_validator(mode="after")
    def _prices_or_discount(self) -> PriceOverride:
        """data.md: absolute prices or a discount. Both would hide one of them; neither changes no price."""
        absolute = any(v is not None for v in (self.input, self.output, self.cached_input))
        if absolute == (self.discount is not None):
            raise ValueError("give either absolute prices (input/output) or a discount, not both and not neither")
        return self


class Costs(_Doc):
    segments: list[CostSegment] = []  # YAML may also write a mapping keyed by segment id
    projection: Projection = Projection()
    price_overrides: list[PriceOverride] = []


class Announcement(_Doc):
    """We told our customers that this processor will receive their data (records.md)."""

    processor: Id
    announced_on: Day
    url: Text | None = None


class Notice(_Doc):
    """Our DPA's promise to customers: notice_days of notice before a new subprocessor gets their data."""

    notice_days: Annotated[int, Field(ge=0, le=3650)] = 30
    announcements: list[Announcement] = []

    def announced_on(self, processor: str) -> date | None:
        days = [a.announced_on for a in self.announcements if a.processor == processor]
        return min(days) if days else None


class DataSet(_Doc):
    """Everything the store holds except the audit log, in YAML order."""

    providers: list[Provider] = []
    routes: list[Route] = []
    categories: list[Category] = []
    features: list[Feature] = []
    costs: Costs = Costs()
    notice: Notice | None = None  # data/subprocessors.yaml; None when the file is absent
    evals: list[EvalResult] = []
