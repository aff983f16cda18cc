"""The data version of the dashboard's views: one cheap token that changes with every write a
cached view may depend on (``dashboard/response_cache.py`` keys every stored response on it).

What each view reads, and the write that changes it (checked view by view; issue 13):

| table | written by | read by | in the token as |
|---|---|---|---|
| ``revision`` (+ its ``submission``, ``measure_value``) | every accepted upload, ``ipdash load``, a restore | every figure; 区详情's list of returns | max id (append-only: a restore is a new revision) |
| ``unit_target`` | 管理's targets (``application.targets.save``), the sample build | scores (method ``target``), 区详情's 目标 | count and sum, and the id of the last ``targets`` audit event (an upsert may keep count and sum) |
| ``scheme_choice``, ``scoring_scheme`` | 管理's schemes | every score and rank | max ids (append-only) |
| ``return_review``, ``warning_note``, ``period_lock_event`` | the review loop, a district's notes, locks | no cached view today; in the token so a view that starts showing them stays right | max ids (append-only) |
| ``task_version`` | task ledgers, reports, analysts' edits | no cached view today (任务督办 is not cached) | max id (append-only) |

Not in it: the audit log as a whole (every sign-in, refusal and download is audited, so its max
id would throw every cached response away each time a leader signs in), accounts (no cached view
shows one; who may see what is decided by the gate before any lookup).

One round trip: each part is a primary-key maximum (an index look-up), the targets a sum over a
small table, the audit event an index range on (kind, at).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal, select
from sqlmodel import Session, col

from store.models import (
    AuditEvent,
    PeriodLockEvent,
    ReturnReview,
    Revision,
    SchemeChoice,
    ScoringScheme,
    TaskVersion,
    UnitTarget,
    WarningNote,
)

TARGETS_AUDIT_KIND = "targets"  # application.targets.save records this kind


def _top(column: Any) -> Any:  # a scalar subquery: max(column)
    return select(func.max(column)).scalar_subquery()


# Built once: building the statement cost more than running it.
_STATEMENT = select(
    _top(col(Revision.id)),
    select(func.count()).select_from(UnitTarget).scalar_subquery(),
    select(func.sum(col(UnitTarget.target))).scalar_subquery(),
    select(func.max(col(AuditEvent.id)))
    .where(col(AuditEvent.kind) == literal(TARGETS_AUDIT_KIND))
    .scalar_subquery(),
    _top(col(SchemeChoice.id)),
    _top(col(ScoringScheme.id)),
    _top(col(ReturnReview.id)),
    _top(col(WarningNote.id)),
    _top(col(PeriodLockEvent.id)),
    _top(col(TaskVersion.id)),
)


_TARGETS = select(
    select(func.count()).select_from(UnitTarget).scalar_subquery(),
    select(func.sum(col(UnitTarget.target))).scalar_subquery(),
    select(func.max(col(AuditEvent.id)))
    .where(col(AuditEvent.kind) == literal(TARGETS_AUDIT_KIND))
    .scalar_subquery(),
)


def targets_token(session: Session) -> tuple:
    """The targets' part alone (``application.service`` keys its score cache on it)."""
    return _numbers(session.connection().execute(_TARGETS).one())


def _numbers(row: Any) -> tuple:
    return tuple(0 if v is None else (float(v) if isinstance(v, float) else int(v)) for v in row)


def views_version(*, session: Session) -> tuple:
    """The token: a tuple of numbers that changes with every write the cached views read."""
    return _numbers(session.connection().execute(_STATEMENT).one())
