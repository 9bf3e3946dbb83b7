"""SQLAlchemy 2 models of the store (typed ORM, one class per table).

Relationships are left out on purpose: the service queries what it needs, and deletes that must
reach child rows rely on the database's ``ON DELETE CASCADE`` (SQLite runs with
``PRAGMA foreign_keys=ON``, see :mod:`service.store.db`). Token columns carry CHECK constraints
with the same tuples as :mod:`matching.types`. Migrations in ``migrations/versions`` must match
these classes: ``tests/store/test_migrations.py`` compares them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from matching.types import CONTRACTS, DIPLOMA_LEVELS, GENDERS, SECTOR_FAMILIES
from service.store.columns import NAMING, BigIntId, JsonDocument, UtcDateTime, one_of, utcnow
from service.store.outcome_codes import OUTCOME_STATUSES

ROLES: tuple[str, ...] = ("adviser", "employer_relations", "batch", "admin")
SCOPED_ROLES: tuple[str, ...] = ("adviser", "employer_relations")
"""Roles whose keys belong to one Mission Locale."""
VACANCY_STATUSES: tuple[str, ...] = ("open", "filled", "expired")
ITEM_KINDS: tuple[str, ...] = ("trade", "vacancy")
INDEX_KINDS: tuple[str, ...] = ("youth", "vacancy")
INDEX_OPS: tuple[str, ...] = ("upsert", "delete")
SHARE_REQUEST_STATUSES: tuple[str, ...] = ("pending", "granted", "dismissed")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JsonDocument}


class MissionLocale(Base):
    __tablename__ = "mission_locales"

    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    territory: Mapped[dict[str, Any]] = mapped_column(
        comment='{"departements": ["57", ...], "communes": ["57463", ...]}'
    )
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    __tablename__ = "api_keys"
    __table_args__ = (
        one_of("role", ROLES),
        CheckConstraint(
            "role NOT IN ('adviser', 'employer_relations') OR mission_locale IS NOT NULL",
            name="scoped_role_has_mission_locale",
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True, comment="sha256 hex of the key")
    prefix: Mapped[str] = mapped_column(String(16), comment="first characters, for display")
    role: Mapped[str] = mapped_column(String(24))
    mission_locale: Mapped[str | None] = mapped_column(
        ForeignKey("mission_locales.code", ondelete="RESTRICT")
    )
    label: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class Youth(Base):
    __tablename__ = "youths"
    __table_args__ = (
        one_of("gender", GENDERS),
        Index(None, "mission_locale", "external_id"),
        Index(None, "last_activity_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    mission_locale: Mapped[str] = mapped_column(
        ForeignKey("mission_locales.code", ondelete="RESTRICT")
    )
    external_id: Mapped[str | None] = mapped_column(String(64))
    profile: Mapped[dict[str, Any]] = mapped_column(comment="youth profile JSON form")
    gender: Mapped[str | None] = mapped_column(String(1))
    qpv: Mapped[bool | None] = mapped_column(Boolean)
    commune_insee: Mapped[str | None] = mapped_column(String(5))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)

    __mapper_args__ = {"version_id_col": version}


class Employer(Base):
    __tablename__ = "employers"
    __table_args__ = (one_of("sector_family", SECTOR_FAMILIES),)

    siret: Mapped[str] = mapped_column(String(14), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    naf: Mapped[str] = mapped_column(String(6))
    sector_family: Mapped[str] = mapped_column(String(16))
    size_band: Mapped[str | None] = mapped_column(String(32))
    commune_insee: Mapped[str] = mapped_column(String(5))
    postcode: Mapped[str | None] = mapped_column(String(5))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)

    __mapper_args__ = {"version_id_col": version}


class Vacancy(Base):
    __tablename__ = "vacancies"
    __table_args__ = (
        one_of("contract", CONTRACTS),
        one_of("level_required", DIPLOMA_LEVELS),
        one_of("status", VACANCY_STATUSES),
        CheckConstraint("places >= 1", name="places_positive"),
        Index(None, "employer_siret"),
        Index(None, "status", "end_date"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    external_id: Mapped[str | None] = mapped_column(String(64), comment="the client's own reference")
    employer_siret: Mapped[str] = mapped_column(ForeignKey("employers.siret", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    code_rome: Mapped[str] = mapped_column(String(5))
    rome_inferred: Mapped[bool] = mapped_column(Boolean, default=False)
    contract: Mapped[str] = mapped_column(String(24))
    level_required: Mapped[str | None] = mapped_column(String(4))
    beginners_accepted: Mapped[bool] = mapped_column(Boolean, default=True)
    places: Mapped[int] = mapped_column(Integer, default=1)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="open")
    commune_insee: Mapped[str | None] = mapped_column(String(5), comment="NULL: the employer's")
    postcode: Mapped[str | None] = mapped_column(String(5))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    synthetic: Mapped[bool] = mapped_column(Boolean, default=False)

    __mapper_args__ = {"version_id_col": version}


class Suggestion(Base):
    """One item proposed to one youth. Erased with the youth (``ON DELETE CASCADE``)."""

    __tablename__ = "suggestions"
    __table_args__ = (
        one_of("item_kind", ITEM_KINDS),
        one_of("sector_family", SECTOR_FAMILIES),
        Index(None, "youth_id"),
        Index(None, "mission_locale", "created_at"),
        Index(None, "item_kind", "created_at", "item_id"),
        Index(None, "list_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    youth_id: Mapped[str] = mapped_column(ForeignKey("youths.id", ondelete="CASCADE"))
    mission_locale: Mapped[str] = mapped_column(
        ForeignKey("mission_locales.code", ondelete="RESTRICT")
    )
    item_kind: Mapped[str] = mapped_column(String(8))
    item_id: Mapped[str] = mapped_column(String(64), comment="ROME code or vacancy id")
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    policy: Mapped[dict[str, Any]] = mapped_column(comment="mixité policy and parameters")
    engine_version: Mapped[str] = mapped_column(String(64))
    sector_family: Mapped[str | None] = mapped_column(String(16), comment="vacancies only")
    employer_siret: Mapped[str | None] = mapped_column(String(14), comment="vacancies only")
    non_traditional: Mapped[bool | None] = mapped_column(
        Boolean, comment="trade atypical for the youth's gender group when suggested"
    )
    list_id: Mapped[str | None] = mapped_column(String(36), comment="one per served list")
    features: Mapped[dict[str, Any] | None] = mapped_column(comment="{feature name: value}")
    model_version: Mapped[str | None] = mapped_column(
        String(64), comment="learned ranker; NULL: untrained fusion"
    )
    propensity: Mapped[float | None] = mapped_column(
        Float, comment="probability of being shown; NULL: exploration off"
    )
    simulated: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Outcome(Base):
    """What happened to a suggestion; one row per step (contacted, immersion, hired...)."""

    __tablename__ = "outcomes"
    __table_args__ = (one_of("status", OUTCOME_STATUSES), Index(None, "suggestion_id"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    suggestion_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("suggestions.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditLine(Base):
    """Who did what to which object, when; never any profile content."""

    __tablename__ = "audit_log"
    __table_args__ = (Index(None, "object_kind", "object_id"), Index(None, "at"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_key_id: Mapped[int | None] = mapped_column(Integer, comment="api_keys.id; NULL: CLI")
    role: Mapped[str | None] = mapped_column(String(24))
    mission_locale: Mapped[str | None] = mapped_column(String(32))
    action: Mapped[str] = mapped_column(String(32))
    object_kind: Mapped[str] = mapped_column(String(16))
    object_id: Mapped[str | None] = mapped_column(String(64), comment="pseudonym once erased")
    detail: Mapped[str | None] = mapped_column(
        Text, comment="JSON: output files of a batch run, or those an erasure leaves behind")


class IndicatorCount(Base):
    """Anonymous counts folded in from erased youths; summed with live rows by the indicators.

    Key columns are never NULL ('' stands for "none") so that one row holds one group.
    """

    __tablename__ = "indicator_counts"
    __table_args__ = (
        UniqueConstraint(
            "mission_locale",
            "period",
            "gender_group",
            "item_kind",
            "sector_family",
            "non_traditional",
            "employer_siret",
            name="uq_indicator_counts_group",
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    mission_locale: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(7), comment="YYYY-MM")
    gender_group: Mapped[str] = mapped_column(String(10), comment="F, M, X or not_stated")
    item_kind: Mapped[str] = mapped_column(String(8))
    sector_family: Mapped[str] = mapped_column(String(16))
    non_traditional: Mapped[bool] = mapped_column(Boolean)
    employer_siret: Mapped[str] = mapped_column(String(14))
    youths: Mapped[int] = mapped_column(Integer, default=0, comment="by first suggestion's month")
    suggestions: Mapped[int] = mapped_column(Integer, default=0)
    contacted: Mapped[int] = mapped_column(Integer, default=0)
    immersion: Mapped[int] = mapped_column(Integer, default=0)
    hired: Mapped[int] = mapped_column(Integer, default=0)
    in_post_6_months: Mapped[int] = mapped_column(Integer, default=0)
    declined: Mapped[int] = mapped_column(Integer, default=0)
    applied: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # declines by reason code (service.store.outcome_codes.DECLINE_REASONS); a decline recorded
    # without a code counts in ``declined`` only
    declined_employer_no_reply: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    declined_employer_declined: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    declined_youth_declined: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    declined_transport_distance: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    declined_hours_conditions: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    declined_qualification_missing: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0"
    )
    declined_position_filled: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    declined_other: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class IndexChange(Base):
    """The latest change of each indexed object, ordered by ``generation``.

    One row per object (a new change replaces the old row): replaying rows with a generation
    above a snapshot's brings an index up to date, deletes included. Rows of erased youths keep
    only the int64 index key, and tombstones are pruned once a snapshot covers them.
    """

    __tablename__ = "index_changes"
    __table_args__ = (one_of("kind", INDEX_KINDS), one_of("op", INDEX_OPS))

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    object_key: Mapped[int] = mapped_column(
        BigInteger, primary_key=True, autoincrement=False, comment="matching.types.stable_key(id)"
    )
    object_id: Mapped[str | None] = mapped_column(String(64), comment="NULL for deletes")
    op: Mapped[str] = mapped_column(String(8))
    generation: Mapped[int] = mapped_column(BigInteger, unique=True)


class IndexGeneration(Base):
    """A one-row counter. Writers lock it (UPDATE) so generations commit in increasing order.

    ``pruned_upto``: tombstones at or below it were pruned (a snapshot covers them); an index
    older than that cannot replay deletes from the log and must diff its keys with the store.
    """

    __tablename__ = "index_generation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger)
    pruned_upto: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    instance: Mapped[str] = mapped_column(
        String(32), default="", server_default="", comment="random id of this store, for snapshots"
    )


class Share(Base):
    """An adviser shared a consenting youth's full profile with one key or for one vacancy.

    Erased with the youth (``ON DELETE CASCADE``); exactly one of ``key_id`` / ``vacancy_id``.
    """

    __tablename__ = "shares"
    __table_args__ = (
        CheckConstraint(
            "(shared_with_key_id IS NULL) <> (vacancy_id IS NULL)", name="one_target"
        ),
        Index(None, "youth_id"),
        Index(None, "vacancy_id"),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    youth_id: Mapped[str] = mapped_column(ForeignKey("youths.id", ondelete="CASCADE"))
    shared_with_key_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_keys.id", ondelete="CASCADE")
    )
    vacancy_id: Mapped[str | None] = mapped_column(String(64), comment="no FK: history stays")
    by_key_id: Mapped[int | None] = mapped_column(Integer, comment="api_keys.id; NULL: CLI")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ShareRequest(Base):
    """Employer-relations staff asked a youth's adviser to share the profile for a vacancy.

    Erased with the youth (``ON DELETE CASCADE``); ``mission_locale``: the youth's, whose
    advisers see it. See :mod:`service.store.share_requests`.
    """

    __tablename__ = "share_requests"
    __table_args__ = (one_of("status", SHARE_REQUEST_STATUSES), Index(None, "youth_id", "status"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    vacancy_id: Mapped[str] = mapped_column(String(64), comment="no FK: history stays")
    youth_id: Mapped[str] = mapped_column(ForeignKey("youths.id", ondelete="CASCADE"))
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"), comment="who asked")
    mission_locale: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class IdempotencyKey(Base):
    """A create answered under an ``Idempotency-Key``: a retry with the key gets the same answer.

    No body, profile or API key: the SHA-256 of the request and the created resource's kind and
    id (read again on replay). Scoped to the caller's key; kept 24 h; erased with the youth it
    concerns (``ON DELETE CASCADE``).
    """

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("key_id", "idempotency_key"), Index(None, "created_at"),
                      Index(None, "youth_id"))

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id", ondelete="CASCADE"))
    idempotency_key: Mapped[str] = mapped_column(String(128))
    request_hash: Mapped[str] = mapped_column(String(64), comment="SHA-256 of method, route, body")
    status: Mapped[int] = mapped_column(Integer)
    resource_kind: Mapped[str] = mapped_column(String(32))
    resource_id: Mapped[str] = mapped_column(String(64))
    youth_id: Mapped[str | None] = mapped_column(ForeignKey("youths.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
