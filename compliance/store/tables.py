"""The store's tables. Constraints live in the database as well as in the YAML schema.

Editable rows carry a `version` column used for optimistic locking: a write based on a
stale read fails instead of overwriting someone else's change. Lists of plain labels
(models, tags) are JSON; anything that references another row is its own table with a
foreign key.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import declared_attr
from sqlmodel import Field, SQLModel

from compliance.store.enums import (
    ALL_AGREEMENT_STATUSES,
    AgreementKind,
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
from compliance.store.limits import (
    ACTION_LEN,
    ACTOR_LEN,
    COUNTRY_LEN,
    HASH_LEN,
    ID_LEN,
    NAME_LEN,
    REASON_LEN,
    TEXT_LEN,
)

# Every constraint gets a predictable name, so Alembic can alter it later (SQLite batch mode).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(table_name)s_%(column_0_name)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def enum_type(kind: type, name: str) -> sa.Enum:
    """A portable enum: a checked VARCHAR on both SQLite and PostgreSQL (stack-notes.md)."""
    return sa.Enum(
        kind,
        native_enum=False,
        create_constraint=True,
        length=20,
        values_callable=lambda members: [m.value for m in members],
        name=name,
    )


def _in(column: str, values: list[str]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def ref(target: str, ondelete: str = "RESTRICT") -> Any:
    return sa.ForeignKey(target, ondelete=ondelete, name=None)


class Versioned(SQLModel):
    """Rows people edit: `version` increases on every update and guards against lost updates."""

    version: int = Field(default=1, sa_column_kwargs={"nullable": False})

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - SQLAlchemy passes the class
        return {"version_id_col": cls.__table__.c.version}  # type: ignore[attr-defined]


class ProviderRow(Versioned, table=True):
    __tablename__ = "provider"

    id: str = Field(primary_key=True, max_length=ID_LEN)
    position: int = Field(default=0)
    name: str = Field(max_length=NAME_LEN)
    legal_entity: str | None = Field(default=None, max_length=NAME_LEN)
    hq_country: str | None = Field(default=None, max_length=COUNTRY_LEN)
    transfer_mechanism: TransferMechanism | None = Field(
        default=None, sa_type=enum_type(TransferMechanism, "transfer_mechanism"), nullable=True
    )
    owner: str | None = Field(default=None, max_length=NAME_LEN)
    last_reviewed_on: date | None = None
    next_review_on: date | None = None
    subprocessors_url: str | None = Field(default=None, max_length=TEXT_LEN)
    subprocessors_last_checked_on: date | None = None
    notes: str | None = Field(default=None, max_length=TEXT_LEN)


class AgreementRow(SQLModel, table=True):
    """A DPA or BAA with a provider; at most one of each kind per provider (locked via the provider)."""

    __tablename__ = "agreement"
    __table_args__ = (
        sa.UniqueConstraint("provider_id", "kind", name="uq_agreement_provider_kind"),
        sa.CheckConstraint(
            f"(kind = 'dpa' AND {_in('status', DpaStatus.values())})"
            f" OR (kind = 'baa' AND {_in('status', BaaStatus.values())})",
            name="status_fits_kind",
        ),
        sa.CheckConstraint(
            "signed_on IS NULL OR expires_on IS NULL OR expires_on >= signed_on",
            name="dates",
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: str = Field(sa_column_args=[ref("provider.id", "CASCADE")], max_length=ID_LEN, index=True)
    kind: AgreementKind = Field(sa_type=enum_type(AgreementKind, "agreement_kind"))
    status: str = Field(
        sa_type=sa.Enum(*ALL_AGREEMENT_STATUSES, native_enum=False, create_constraint=True,
                        length=20, name="status")
    )
    version_label: str | None = Field(default=None, max_length=NAME_LEN)
    signed_on: date | None = None
    expires_on: date | None = None
    document: str | None = Field(default=None, max_length=TEXT_LEN)
    notes: str | None = Field(default=None, max_length=TEXT_LEN)


class CertificationRow(SQLModel, table=True):
    __tablename__ = "certification"
    __table_args__ = (sa.UniqueConstraint("provider_id", "name", name="uq_certification_provider_name"),)

    id: int | None = Field(default=None, primary_key=True)
    provider_id: str = Field(sa_column_args=[ref("provider.id", "CASCADE")], max_length=ID_LEN, index=True)
    position: int = 0
    name: str = Field(max_length=ID_LEN)
    valid_until: date | None = None
    evidence: str | None = Field(default=None, max_length=TEXT_LEN)


class FactSourceRow(SQLModel, table=True):
    """Where a provider or route fact came from; belongs to exactly one of the two."""

    __tablename__ = "fact_source"
    __table_args__ = (
        sa.CheckConstraint("(provider_id IS NULL) <> (route_id IS NULL)", name="one_owner"),
    )

    id: int | None = Field(default=None, primary_key=True)
    provider_id: str | None = Field(
        default=None, sa_column_args=[ref("provider.id", "CASCADE")], max_length=ID_LEN, index=True
    )
    route_id: str | None = Field(
        default=None, sa_column_args=[ref("route.id", "CASCADE")], max_length=ID_LEN, index=True
    )
    position: int = 0
    field: str | None = Field(default=None, max_length=NAME_LEN)
    url: str | None = Field(default=None, max_length=TEXT_LEN)
    as_of: date | None = None
    status: SourceStatus = Field(sa_type=enum_type(SourceStatus, "source_status"))
    note: str | None = Field(default=None, max_length=TEXT_LEN)


class RouteRow(Versioned, table=True):
    __tablename__ = "route"
    __table_args__ = (
        sa.CheckConstraint("retention_days IS NULL OR retention_days >= 0", name="retention"),
        sa.CheckConstraint("regional_premium IS NULL OR regional_premium >= 0", name="premium"),
    )

    id: str = Field(primary_key=True, max_length=ID_LEN)
    position: int = 0
    name: str = Field(max_length=NAME_LEN)
    model_provider_id: str = Field(sa_column_args=[ref("provider.id")], max_length=ID_LEN, index=True)
    processor_id: str = Field(sa_column_args=[ref("provider.id")], max_length=ID_LEN, index=True)
    service: str = Field(max_length=NAME_LEN)
    region: str | None = Field(default=None, max_length=NAME_LEN)
    residency: Residency = Field(sa_type=enum_type(Residency, "residency"))
    zero_data_retention: bool = Field(sa_type=sa.Boolean(create_constraint=True, name="zdr_bool"))
    retention_days: int | None = None
    trains_on_inputs: bool = Field(sa_type=sa.Boolean(create_constraint=True, name="training_bool"))
    status: RouteStatus = Field(sa_type=enum_type(RouteStatus, "route_status"))
    price_provider: str | None = Field(default=None, max_length=ID_LEN)
    regional_premium: float | None = None
    regional_premium_models: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)
    models: list[Any] = Field(default_factory=list, sa_type=sa.JSON)  # ids, or {id, lifecycle dates, successor}
    last_verified_on: date | None = None
    verified_by: str | None = Field(default=None, max_length=NAME_LEN)
    notes: str | None = Field(default=None, max_length=TEXT_LEN)
    scan: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # scan hints: {hosts, env}
    ip_indemnity: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # {covered, conditions?, source?}
    latency: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)  # per model: ttft, throughput


class CategoryRow(Versioned, table=True):
    __tablename__ = "category"
    __table_args__ = (
        sa.CheckConstraint(
            "parent_key IS NULL OR substr(key, 1, length(parent_key) + 1) = parent_key || '.'",
            name="parent_prefix",
        ),
    )

    key: str = Field(primary_key=True, max_length=ID_LEN)
    parent_key: str | None = Field(
        default=None, sa_column_args=[ref("category.key")], max_length=ID_LEN, index=True
    )
    position: int = 0
    name: str = Field(max_length=NAME_LEN)
    description: str | None = Field(default=None, max_length=TEXT_LEN)
    sensitivity: Sensitivity = Field(sa_type=enum_type(Sensitivity, "sensitivity"))
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    source: str | None = Field(default=None, max_length=NAME_LEN)


class FeatureRow(Versioned, table=True):
    __tablename__ = "feature"
    __table_args__ = (
        sa.CheckConstraint(
            "(requests_per_user_month IS NULL AND input_tokens IS NULL AND output_tokens IS NULL)"
            " OR (requests_per_user_month IS NOT NULL AND input_tokens IS NOT NULL AND output_tokens IS NOT NULL)",
            name="usage_complete",
        ),
        sa.CheckConstraint(
            "cached_input_share IS NULL OR (cached_input_share >= 0 AND cached_input_share <= 1)",
            name="cached_share",
        ),
        sa.CheckConstraint(
            "requests_per_user_month IS NULL OR (requests_per_user_month >= 0 AND input_tokens >= 0"
            " AND output_tokens >= 0)",
            name="usage_positive",
        ),
    )

    id: str = Field(primary_key=True, max_length=ID_LEN)
    position: int = 0
    name: str = Field(max_length=NAME_LEN)
    description: str | None = Field(default=None, max_length=TEXT_LEN)
    owner: str | None = Field(default=None, max_length=NAME_LEN)
    segment: Segment = Field(sa_type=enum_type(Segment, "segment"))
    human_review: bool = Field(sa_type=sa.Boolean(create_constraint=True, name="review_bool"))
    tags: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    requests_per_user_month: float | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_share: float | None = None
    code: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # globs of the feature's source files
    # Legal's facts (records.md): Fides keys, GDPR Art. 6(1) basis, our customers' data, EU AI Act block.
    purposes: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    data_subjects: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    legal_basis: LegalBasis | None = Field(
        default=None, sa_type=enum_type(LegalBasis, "legal_basis"), nullable=True
    )
    customer_data: bool | None = Field(
        default=None, sa_type=sa.Boolean(create_constraint=True, name="customer_data_bool"), nullable=True
    )
    ai_act: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)
    services: list[str] = Field(default_factory=list, sa_type=sa.JSON)  # telemetry service.name values (observe)
    quality: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # {metric, min}
    latency: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)  # {p50_ms}


class FlowRow(SQLModel, table=True):
    """A declared flow: this feature sends these categories through this route."""

    __tablename__ = "flow"
    __table_args__ = (
        sa.UniqueConstraint("feature_id", "position", name="uq_flow_feature_position"),
        sa.CheckConstraint("share > 0 AND share <= 1", name="share"),
    )

    id: int | None = Field(default=None, primary_key=True)
    feature_id: str = Field(sa_column_args=[ref("feature.id", "CASCADE")], max_length=ID_LEN, index=True)
    position: int = 0
    route_id: str = Field(sa_column_args=[ref("route.id")], max_length=ID_LEN, index=True)
    model: str | None = Field(default=None, max_length=NAME_LEN)
    share: float = 1.0


class FlowCategoryRow(SQLModel, table=True):
    __tablename__ = "flow_category"
    __table_args__ = (sa.UniqueConstraint("flow_id", "category_key", name="uq_flow_category"),)

    flow_id: int = Field(sa_column_args=[ref("flow.id", "CASCADE")], primary_key=True)
    position: int = Field(primary_key=True)
    category_key: str = Field(sa_column_args=[ref("category.key")], max_length=ID_LEN, index=True)


class CostSegmentRow(Versioned, table=True):
    __tablename__ = "cost_segment"
    __table_args__ = (
        sa.CheckConstraint("active_share >= 0 AND active_share <= 1", name="active_share"),
        sa.CheckConstraint("users >= 0 AND revenue_per_user_month >= 0 AND other_cogs_per_user_month >= 0",
                           name="positive"),
    )

    id: str = Field(primary_key=True, max_length=ID_LEN)
    position: int = 0
    name: str | None = Field(default=None, max_length=NAME_LEN)
    users: int = Field(sa_type=sa.BigInteger)
    monthly_growth: float = 0.0
    active_share: float = 1.0
    revenue_per_user_month: float
    other_cogs_per_user_month: float = 0.0
    features: list[str] = Field(default_factory=list, sa_type=sa.JSON)


class ProjectionRow(Versioned, table=True):
    """The single row of projection settings."""

    __tablename__ = "projection"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("months >= 1", name="months"),
    )

    id: int = Field(default=1, primary_key=True)
    months: int = 24
    scenarios: dict[str, float] = Field(default_factory=dict, sa_type=sa.JSON)
    tiers: dict[str, list[str]] = Field(default_factory=dict, sa_type=sa.JSON)
    tier_scenarios: dict[str, dict[str, float]] = Field(default_factory=dict, sa_type=sa.JSON)


class PriceOverrideRow(Versioned, table=True):
    __tablename__ = "price_override"
    __table_args__ = (
        sa.CheckConstraint("discount IS NULL OR (discount >= 0 AND discount < 1)", name="discount"),
        sa.CheckConstraint(
            "valid_from IS NULL OR valid_until IS NULL OR valid_until >= valid_from", name="dates"
        ),
    )

    id: str = Field(primary_key=True, max_length=ID_LEN)
    position: int = 0
    price_provider: str = Field(max_length=ID_LEN)
    model: str = Field(max_length=NAME_LEN)
    input: float | None = None
    output: float | None = None
    cached_input: float | None = None
    discount: float | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    note: str = Field(max_length=TEXT_LEN)



class NoticeRow(Versioned, table=True):
    """The single row of data/subprocessors.yaml: our notice period and the announcements made."""

    __tablename__ = "subprocessor_notice"
    __table_args__ = (
        sa.CheckConstraint("id = 1", name="single_row"),
        sa.CheckConstraint("notice_days >= 0", name="notice_days"),
    )

    id: int = Field(default=1, primary_key=True)
    notice_days: int = 30
    announcements: list[dict[str, Any]] = Field(default_factory=list, sa_type=sa.JSON)


class EvalResultRow(Versioned, table=True):
    """How well a model did on a feature's eval set (models.md). Model ids are labels, like route models."""

    __tablename__ = "eval_result"
    __table_args__ = (
        sa.CheckConstraint("samples >= 0", name="samples"),
    )

    id: str = Field(primary_key=True, max_length=ID_LEN)
    position: int = 0
    feature: str = Field(sa_column_args=[ref("feature.id", "CASCADE")], max_length=ID_LEN, index=True)
    model: str = Field(max_length=NAME_LEN)
    route: str | None = Field(default=None, sa_column_args=[ref("route.id", "CASCADE")], max_length=ID_LEN)
    metric: str = Field(max_length=NAME_LEN)
    score: float
    samples: int
    run_on: date
    source: str = Field(max_length=TEXT_LEN)


class AuditEventRow(SQLModel, table=True):
    """One change to the store. Append-only; `hash` chains each event to the one before."""

    __tablename__ = "audit_event"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    actor: str = Field(max_length=ACTOR_LEN)
    action: str = Field(max_length=ACTION_LEN)
    entity: str = Field(max_length=ACTION_LEN, index=True)
    entity_id: str = Field(max_length=ID_LEN, index=True)
    changes: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    reason: str | None = Field(default=None, max_length=REASON_LEN)
    prev_hash: str = Field(max_length=HASH_LEN, sa_column_kwargs={"unique": True})
    hash: str = Field(max_length=HASH_LEN, sa_column_kwargs={"unique": True})
    mac: str | None = Field(default=None, max_length=HASH_LEN)  # HMAC-SHA256(key, hash) when a key is configured


class ScanRunRow(SQLModel, table=True):
    """One recorded run of `python -m compliance scan`: when, by whom, over what, with what totals."""

    __tablename__ = "scan_run"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    actor: str = Field(max_length=200)
    paths: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    rules_version: str = Field(max_length=40)
    files: int = 0
    lines: int = 0
    summary: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)


class ScanFindingRow(SQLModel, table=True):
    """One finding of a recorded scan (scan.md, "What a finding carries"); never edited."""

    __tablename__ = "scan_finding"
    __table_args__ = (sa.UniqueConstraint("run_id", "position", name="uq_scan_finding_run_position"),)

    id: int | None = Field(default=None, primary_key=True)
    run_id: int = Field(sa_column_args=[ref("scan_run.id", "CASCADE")], index=True)
    position: int = 0
    finding_id: str = Field(max_length=200)
    status: str = Field(max_length=20)
    file: str = Field(max_length=1000)
    line: int = 0
    cell: int | None = None
    function: str = Field(max_length=400)
    sdk: str | None = Field(default=None, max_length=40)
    callee: str | None = Field(default=None, max_length=400)
    route: str | None = Field(default=None, max_length=ID_LEN)
    feature: str | None = Field(default=None, max_length=ID_LEN)
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # the whole finding as JSON


class ObservedImportRow(SQLModel, table=True):
    """One `observe import`: when, by whom, which files, and what it read (observe.md)."""

    __tablename__ = "observed_import"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True))
    actor: str = Field(max_length=ACTOR_LEN)
    files: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    counts: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)
    seen: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON)  # unattributed/unresolved values, counted


class ObservedRecordRow(SQLModel, table=True):
    """A record id already counted (a digest of span or request id): what makes re-imports change nothing."""

    __tablename__ = "observed_record"

    # The first 8 bytes of the id's BLAKE2b digest as a signed integer: on SQLite the rowid itself, so
    # checking and adding a million ids is one B-tree, not a table and an index (migration 0010).
    key: int = Field(sa_column=sa.Column(sa.BigInteger().with_variant(sa.Integer(), "sqlite"), primary_key=True,
                                         autoincrement=False))
    import_id: int = Field(sa_column_args=[ref("observed_import.id", "CASCADE")])


class ObservedUsageRow(SQLModel, table=True):
    """Observed LLM usage, one day x feature x route x model (raw spans are never kept).

    `feature` None: unattributed; `route` None: unresolved; `seen` then names the values seen.
    """

    __tablename__ = "observed_usage"

    id: int | None = Field(default=None, primary_key=True)
    day: date = Field(index=True)
    feature: str | None = Field(default=None, max_length=ID_LEN)
    route: str | None = Field(default=None, max_length=ID_LEN)
    model: str = Field(default="", max_length=NAME_LEN)
    source: str = Field(max_length=20)  # otlp | litellm
    seen: str = Field(default="", max_length=TEXT_LEN)
    requests: int = 0
    input_tokens: int = Field(default=0, sa_type=sa.BigInteger)  # cached input included
    output_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    cached_input_tokens: int = Field(default=0, sa_type=sa.BigInteger)
    reported_cost: float | None = None  # what the records said they cost, where they said it
    reported_requests: int = 0
    # unattributed or unresolved rows: the values behind `seen` (feature, service_name, provider, host, region,
    # model), so that `observe resolve` can place the row once the mapping is fixed
    facts: dict[str, Any] | None = Field(default=None, sa_type=sa.JSON)


_usage = ObservedUsageRow.__table__.c  # type: ignore[attr-defined]
USAGE_MONTH = (sa.extract("year", _usage.day), sa.extract("month", _usage.day))
"""A daily aggregate's year and month, as `observe report` groups on them and the index below orders them."""

# `observe report`'s monthly sums in index order: the database groups a year of daily rows without sorting them
# (and, the index covering every column the report sums, without reading the table)
sa.Index("ix_observed_usage_month", _usage.feature, _usage.route, _usage.model, *USAGE_MONTH, _usage.day,
         _usage.requests, _usage.input_tokens, _usage.output_tokens, _usage.cached_input_tokens, _usage.reported_cost)


EDITABLE_TABLES = (
    ProviderRow, RouteRow, CategoryRow, FeatureRow, CostSegmentRow, ProjectionRow, PriceOverrideRow, NoticeRow,
    EvalResultRow,
)


class DecisionLogRow(SQLModel, table=True):
    """One decision the service answered (opt-in, `serve --decision-log`). Append-only; no foreign
    keys, so the log outlives the features and routes it names. `residency` is the route's at the time."""

    __tablename__ = "decision_log"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(sa_type=sa.DateTime(timezone=True), index=True)
    caller: str = Field(max_length=200)
    feature: str = Field(max_length=ID_LEN)
    category: str = Field(max_length=ID_LEN, index=True)
    route: str = Field(max_length=ID_LEN)
    residency: str = Field(max_length=20)
    as_of: date
    decision: str = Field(max_length=5)
    rules: list[str] = Field(default_factory=list, sa_type=sa.JSON)
    policy_digest: str = Field(max_length=64)
    store_head: str = Field(max_length=64)
