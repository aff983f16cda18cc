"""The store's tables, in SQLModel's family style (``XBase`` → ``X(table=True)`` → ``XRead``).

History is append-only: an accepted file is a ``Submission``; each unit and period it carries
becomes a ``Revision`` holding ``MeasureValue`` rows. Exactly one revision per unit and period is
current (``is_current``). Restoring an old revision writes a new revision copying it, so the
revision current at any past moment can be found from ``created_at`` alone (exports ``--as-of``).
Schema changes go through Alembic migrations in ``store/migrations``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, Column, Index, LargeBinary, Text, UniqueConstraint
from sqlmodel import Field, SQLModel


def utcnow() -> datetime:
    """Aware UTC. SQLModel's UTCDateTime columns keep it aware on SQLite and PostgreSQL alike."""
    return datetime.now(UTC)


# --- catalogue mirrors (synced from foundation.catalogue so foreign keys hold) ---------------------


class UnitBase(SQLModel):
    code: str = Field(primary_key=True, max_length=40)
    admin_code: str = Field(default="", max_length=12)
    name_zh: str = Field(max_length=60)
    short_zh: str = Field(max_length=20)
    name_en: str = Field(max_length=80)
    kind: str = Field(max_length=20)
    region: str = Field(index=True, max_length=40)


class Unit(UnitBase, table=True):
    __tablename__ = "unit"


class MeasureBase(SQLModel):
    code: str = Field(primary_key=True, max_length=60)
    name_zh: str = Field(max_length=120)
    name_en: str = Field(max_length=160)
    category: str = Field(max_length=40)
    kind: str = Field(max_length=10)
    unit: str = Field(max_length=10)
    dtype: str = Field(max_length=10)
    max: float | None = None


class Measure(MeasureBase, table=True):
    __tablename__ = "measure"


# --- submissions and revisions ------------------------------------------------------------------


class SubmissionBase(SQLModel):
    file_name: str = Field(sa_type=Text)  # shown to people whole, however long (migration 0003)
    sha256: str = Field(index=True, max_length=64)
    submitted_by: str = Field(max_length=80)
    submitted_at: datetime = Field(default_factory=utcnow, index=True)
    layout: str = Field(max_length=2)  # "A" district return, "B" ledger, "R" a restore
    status: str = Field(default="accepted", max_length=12)
    as_unit: str | None = Field(default=None, max_length=40)
    size_bytes: int = 0
    warnings: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Submission(SubmissionBase, table=True):
    __tablename__ = "submission"
    id: int | None = Field(default=None, primary_key=True)


class SubmissionRead(SubmissionBase):
    id: int


class SubmissionFile(SQLModel, table=True):
    """The accepted file itself, kept so it can be downloaded again."""

    __tablename__ = "submission_file"
    submission_id: int = Field(foreign_key="submission.id", primary_key=True)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))


class RevisionBase(SQLModel):
    unit_code: str = Field(foreign_key="unit.code", max_length=40)
    period: str = Field(max_length=7)  # YYYY-MM, or YYYY for annual measures
    revision_no: int
    content_sha: str = Field(max_length=64)
    created_at: datetime = Field(default_factory=utcnow)
    created_by: str = Field(max_length=80)
    is_current: bool = True
    restored_from: int | None = None  # revision_no this one copies, for restores


class Revision(RevisionBase, table=True):
    __tablename__ = "revision"
    __table_args__ = (
        UniqueConstraint("unit_code", "period", "revision_no", name="uq_revision_unit_period_no"),
        Index("ix_revision_current", "is_current", "period"),
        Index("ix_revision_unit_period", "unit_code", "period"),
    )
    id: int | None = Field(default=None, primary_key=True)
    submission_id: int = Field(foreign_key="submission.id", index=True)


class RevisionRead(RevisionBase):
    id: int
    submission_id: int


class MeasureValue(SQLModel, table=True):
    __tablename__ = "measure_value"
    revision_id: int = Field(foreign_key="revision.id", primary_key=True)
    measure_code: str = Field(foreign_key="measure.code", primary_key=True, max_length=60)
    value: float
    blank: bool = False  # the cell was empty (or —, 无) and read as 0


# --- city-maintained tables ---------------------------------------------------------------------


class UnitTarget(SQLModel, table=True):
    """A target set per unit and year (scheme method ``target`` with ``unit_target``)."""

    __tablename__ = "unit_target"
    unit_code: str = Field(foreign_key="unit.code", primary_key=True, max_length=40)
    year: int = Field(primary_key=True)
    indicator: str = Field(primary_key=True, max_length=60)
    target: float


class PeriodLock(SQLModel, table=True):
    """A period locked for assessment refuses uploads until unlocked."""

    __tablename__ = "period_lock"
    period: str = Field(primary_key=True, max_length=7)
    locked_at: datetime = Field(default_factory=utcnow)
    locked_by: str = Field(max_length=80)


# --- accounts, audit, the server's secret (issue 9) ----------------------------------------------


class UserAccount(SQLModel, table=True):
    """A person who signs in. A clerk (区县) has exactly one unit; the other roles have none.

    ``auth_stamp`` changes whenever the password, the role or the state changes: sessions carry
    it, so every session of that person ends at once."""

    __tablename__ = "user_account"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(max_length=40, unique=True, index=True)
    display_name: str = Field(max_length=40)
    role: str = Field(max_length=10)
    unit_code: str | None = Field(default=None, foreign_key="unit.code", max_length=40)
    password_hash: str = Field(max_length=255)
    active: bool = True
    auth_stamp: str = Field(max_length=32)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)


class AuditEvent(SQLModel, table=True):
    """Append-only: rows are inserted, never updated or deleted (triggers on both databases
    refuse UPDATE and DELETE; migration 0002)."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_kind_at", "kind", "at"),)
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, index=True)
    username: str = Field(default="", max_length=40, index=True)
    address: str = Field(default="", max_length=64)
    kind: str = Field(max_length=40)
    outcome: str = Field(default="ok", max_length=12)
    detail: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class AppSecret(SQLModel, table=True):
    """Secrets the server generates once and every worker shares (the session signing key)."""

    __tablename__ = "app_secret"
    name: str = Field(primary_key=True, max_length=40)
    value: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow)


# --- the monthly review loop (issue 9) -----------------------------------------------------------


class MeasureNote(SQLModel, table=True):
    """A district's 备注 beside one value of a revision (kept as read from the file)."""

    __tablename__ = "measure_note"
    revision_id: int = Field(foreign_key="revision.id", primary_key=True)
    measure_code: str = Field(foreign_key="measure.code", primary_key=True, max_length=60)
    note: str = Field(max_length=500)


class ReturnReview(SQLModel, table=True):
    """An analyst's decision on one revision: ``approved`` (已通过) or ``returned`` (已退回, with
    the reason the district sees). Append-only; the latest row of a revision is its state, and
    a revision with no row is 待审核."""

    __tablename__ = "return_review"
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    state: str = Field(max_length=10)
    reason: str = Field(default="", max_length=500)
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)


class WarningNote(SQLModel, table=True):
    """A district's one-sentence explanation of a warning on its own return (append-only; the
    latest per revision and warning is shown)."""

    __tablename__ = "warning_note"
    id: int | None = Field(default=None, primary_key=True)
    revision_id: int = Field(foreign_key="revision.id", index=True)
    warning_key: str = Field(max_length=200)
    text: str = Field(max_length=500)
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)


class PeriodLockEvent(SQLModel, table=True):
    """Every lock and unlock of a period, who, when and why; never deleted."""

    __tablename__ = "period_lock_event"
    id: int | None = Field(default=None, primary_key=True)
    period: str = Field(max_length=7, index=True)
    action: str = Field(max_length=6)  # lock | unlock
    reason: str = Field(default="", max_length=500)
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)


# --- scoring schemes kept in the database (issue 9) ----------------------------------------------


class ScoringScheme(SQLModel, table=True):
    """One version of a scoring scheme as uploaded (the CSV text itself); never changed."""

    __tablename__ = "scoring_scheme"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    version: str = Field(max_length=12, unique=True, index=True)  # SHA-256 of the text, 12 hex digits
    text: str = Field(sa_column=Column(Text, nullable=False))
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)


class SchemeChoice(SQLModel, table=True):
    """Each choice of the default scheme (the latest row wins; ``shipped`` = the built-in one)."""

    __tablename__ = "scheme_choice"
    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(max_length=12)
    by: str = Field(max_length=80)
    at: datetime = Field(default_factory=utcnow)


# --- plan tasks (督查督办) -----------------------------------------------------------------------


class TaskVersion(SQLModel, table=True):
    """One version of a plan task: everything known of it from ``recorded_at`` until the next
    version. Append-only like revisions: a change (a ledger row, a report in the browser, an
    analyst's edit or close) adds version ``version_no + 1``; nothing is updated or deleted, so
    the status as it stood on any earlier day is the highest version recorded by then, and the
    previous values of a change are the version before it (``changes`` lists them too)."""

    __tablename__ = "task_version"
    __table_args__ = (
        UniqueConstraint("task", "version_no", name="uq_task_version_no"),
        Index("ix_task_version_task_recorded", "task", "recorded_at"),
    )
    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=40)
    version_no: int
    # the task itself (a catalogue task starts as the catalogue says; analysts may edit it)
    plan: str = Field(default="", max_length=20)
    source: str = Field(default="")
    title: str
    lead: str
    owners: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    deadline: date | None = None  # None: ongoing
    deadline_text: str = Field(default="", max_length=40)
    closed: bool = False  # closed by an analyst (cancelled or merged): no longer chased
    # what the owners report
    progress: str = Field(max_length=12)  # not_started | in_progress | done
    done_on: date | None = None
    note: str = Field(default="")
    updated_on: date | None = None  # the date the owner's report speaks of
    # who and when
    recorded_at: datetime = Field(default_factory=utcnow)
    recorded_by: str = Field(max_length=80)
    action: str = Field(max_length=12)  # ledger | report | create | edit | close | reopen
    submission_id: int | None = Field(default=None, foreign_key="submission.id")
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))


class TaskEvidence(SQLModel, table=True):
    """A file an owner attached to a progress report (PDF, Word, Excel, image), kept whole with
    its SHA-256; shown with the version it came with."""

    __tablename__ = "task_evidence"
    id: int | None = Field(default=None, primary_key=True)
    task: str = Field(max_length=40, index=True)
    version_id: int = Field(foreign_key="task_version.id")
    file_name: str
    media_type: str = Field(max_length=100)
    size_bytes: int
    sha256: str = Field(max_length=64)
    uploaded_at: datetime = Field(default_factory=utcnow)
    uploaded_by: str = Field(max_length=80)
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
