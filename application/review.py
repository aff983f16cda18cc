"""The monthly review loop (issue 9).

Every accepted return (a current revision) is 待审核 (``pending``) until an analyst marks it
已通过 (``approved``) or 已退回 (``returned``, with a reason the district sees). A returned
return stays current — the figures keep using it — until the district uploads a correction: a
new revision, which has no decision yet and so is 待审核 again. Decisions, the districts'
explanations of warnings and every lock and unlock are rows that are only ever added.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from application import audit
from application.access import Account, Role, allowed, may_see_unit
from foundation.i18n import t
from store import repo
from store.models import (
    MeasureNote,
    MeasureValue,
    PeriodLockEvent,
    ReturnReview,
    Revision,
    Submission,
    Unit,
    WarningNote,
)

STATES = ("pending", "approved", "returned")
MAX_TEXT = 500


class ReviewError(ValueError):
    """A review request that cannot be done; the message is for the user (Chinese)."""


@dataclass(frozen=True)
class ReturnState:
    unit: str
    period: str
    revision_id: int
    revision_no: int
    received_at: datetime
    submitted_by: str
    file_name: str
    state: str = "pending"
    reason: str = ""
    reviewed_by: str = ""
    reviewed_at: datetime | None = None
    warnings: list[dict[str, Any]] = field(default_factory=list)  # each with "key" and "explanation"


def warning_key(warning: dict[str, Any]) -> str:
    """A stable name for one warning of a file: its reason, measure and cell."""
    parts = [str(warning.get(k) or "") for k in ("reason", "measure", "sheet", "cell", "unit", "period")]
    return "|".join(parts)[:200]


def _latest_reviews(session: Session, revision_ids: list[int]) -> dict[int, ReturnReview]:
    if not revision_ids:
        return {}
    rows = session.exec(
        select(ReturnReview)
        .where(ReturnReview.revision_id.in_(revision_ids))  # type: ignore[attr-defined]
        .order_by(col(ReturnReview.id))
    ).all()
    return {row.revision_id: row for row in rows}  # the last decision wins


def _latest_explanations(session: Session, revision_ids: list[int]) -> dict[tuple[int, str], str]:
    if not revision_ids:
        return {}
    rows = session.exec(
        select(WarningNote)
        .where(WarningNote.revision_id.in_(revision_ids))  # type: ignore[attr-defined]
        .order_by(col(WarningNote.id))
    ).all()
    return {(row.revision_id, row.warning_key): row.text for row in rows}


def current_returns(
    *,
    session: Session,
    region: str | None = None,
    units: Iterable[str] | None = None,
    periods: Iterable[str] | None = None,
) -> list[ReturnState]:
    """The current revision of each unit and month, with its review state and warnings."""
    stmt = (
        select(Revision, Submission)
        .join(Submission, col(Submission.id) == col(Revision.submission_id))
        .join(Unit, col(Unit.code) == col(Revision.unit_code))
        .where(Revision.is_current, func.length(Revision.period) == 7)
    )
    if region:
        stmt = stmt.where(Unit.region == region)
    if units is not None:
        stmt = stmt.where(Revision.unit_code.in_(list(units)))  # type: ignore[attr-defined]
    if periods is not None:
        stmt = stmt.where(Revision.period.in_(list(periods)))  # type: ignore[attr-defined]
    pairs = session.exec(stmt).all()
    ids = [int(rev.id or 0) for rev, _ in pairs]
    reviews = _latest_reviews(session, ids)
    explanations = _latest_explanations(session, ids)
    out = []
    for rev, sub in pairs:
        rid = int(rev.id or 0)
        review = reviews.get(rid)
        warnings = []
        for w in sub.warnings or []:
            if not repo.warning_concerns(w, rev.unit_code, rev.period):
                continue
            key = warning_key(w)
            warnings.append({**w, "key": key, "explanation": explanations.get((rid, key), "")})
        out.append(
            ReturnState(
                unit=rev.unit_code,
                period=rev.period,
                revision_id=rid,
                revision_no=rev.revision_no,
                received_at=rev.created_at,
                submitted_by=sub.submitted_by,
                file_name=sub.file_name,
                state=review.state if review else "pending",
                reason=review.reason if review else "",
                reviewed_by=review.by if review else "",
                reviewed_at=review.at if review else None,
                warnings=warnings,
            )
        )
    return out


def queue(*, session: Session, region: str) -> list[ReturnState]:
    """Returns waiting for an analyst (待审核), oldest first."""
    pending = [r for r in current_returns(session=session, region=region) if r.state == "pending"]
    return sorted(pending, key=lambda r: (r.received_at, r.unit, r.period))


def values_with_notes(*, session: Session, revision_id: int) -> list[tuple[str, float, str]]:
    """(measure, value, 备注) of one revision, in catalogue order."""
    from foundation.catalogue import default_catalogue

    values = dict(
        session.exec(
            select(MeasureValue.measure_code, MeasureValue.value).where(
                MeasureValue.revision_id == revision_id
            )
        ).all()
    )
    notes = dict(
        session.exec(
            select(MeasureNote.measure_code, MeasureNote.note).where(MeasureNote.revision_id == revision_id)
        ).all()
    )
    order = list(default_catalogue().measures)
    codes = sorted(values, key=lambda c: order.index(c) if c in order else len(order))
    return [(c, float(values[c]), notes.get(c, "")) for c in codes]


def _current(session: Session, unit: str, period: str) -> Revision:
    rev = session.exec(
        select(Revision).where(Revision.unit_code == unit, Revision.period == period, Revision.is_current)
    ).first()
    if rev is None:
        raise ReviewError(t("review.no_return", unit=unit, period=period))
    return rev


def decide(
    *,
    session: Session,
    account: Account,
    unit: str,
    period: str,
    revision_id: int,
    state: str,
    reason: str = "",
    address: str = "",
) -> None:
    """An analyst's decision on the current revision ``revision_id`` of ``unit`` and ``period``
    (refused when a correction has arrived meanwhile). Audited; the caller commits."""
    if not allowed(account, "review"):
        raise ReviewError(t("review.not_allowed"))
    if state not in ("approved", "returned"):
        raise ReviewError(t("review.bad_state", state=state))
    reason = reason.strip()[:MAX_TEXT]
    if state == "returned" and not reason:
        raise ReviewError(t("review.reason_needed"))
    rev = _current(session, unit, period)
    if rev.id != revision_id:
        raise ReviewError(t("review.superseded", unit=unit, period=period, no=rev.revision_no))
    session.add(ReturnReview(revision_id=revision_id, state=state, reason=reason, by=account.label))
    audit.record(
        "review",
        session=session,
        username=account.username,
        address=address,
        detail={
            "unit": unit,
            "period": period,
            "revision": rev.revision_no,
            "state": state,
            "reason": reason,
        },
    )


def explain_warning(
    *,
    session: Session,
    account: Account,
    unit: str,
    period: str,
    key: str,
    text: str,
    address: str = "",
) -> None:
    """A district explains one warning of its own current return in a sentence."""
    if account.role != Role.CLERK or not may_see_unit(account, unit):
        raise ReviewError(t("review.explain_own_only"))
    rev = _current(session, unit, period)
    text = text.strip()[:MAX_TEXT]
    session.add(WarningNote(revision_id=int(rev.id or 0), warning_key=key[:200], text=text, by=account.label))
    audit.record(
        "review",
        session=session,
        username=account.username,
        address=address,
        detail={"unit": unit, "period": period, "revision": rev.revision_no, "explain": key, "text": text},
    )


# --- locks with reasons and history --------------------------------------------------------------


def not_approved(*, session: Session, period: str, region: str | None = None) -> list[ReturnState]:
    """Current returns of ``period`` that are not 已通过 (what locking would freeze unreviewed)."""
    return [
        r for r in current_returns(session=session, region=region, periods=[period]) if r.state != "approved"
    ]


def lock(*, session: Session, account: Account, period: str, reason: str, address: str = "") -> bool:
    """Lock ``period`` for assessment with a reason; False when it was locked already."""
    if not allowed(account, "manage"):
        raise ReviewError(t("review.not_allowed"))
    reason = reason.strip()[:MAX_TEXT]
    if not reason:
        raise ReviewError(t("review.lock_reason_needed"))
    if not repo.lock_period(session=session, period=period, by=account.label):
        return False
    session.add(PeriodLockEvent(period=period, action="lock", reason=reason, by=account.label))
    audit.record(
        "lock",
        session=session,
        username=account.username,
        address=address,
        detail={"period": period, "reason": reason},
    )
    return True


def unlock(*, session: Session, account: Account, period: str, reason: str, address: str = "") -> bool:
    if not allowed(account, "manage"):
        raise ReviewError(t("review.not_allowed"))
    reason = reason.strip()[:MAX_TEXT]
    if not reason:
        raise ReviewError(t("review.lock_reason_needed"))
    if not repo.unlock_period(session=session, period=period):
        return False
    session.add(PeriodLockEvent(period=period, action="unlock", reason=reason, by=account.label))
    audit.record(
        "unlock",
        session=session,
        username=account.username,
        address=address,
        detail={"period": period, "reason": reason},
    )
    return True


def record_cli_lock(*, session: Session, period: str, action: str, by: str, reason: str) -> None:
    """History for a lock or unlock done from the command line."""
    session.add(PeriodLockEvent(period=period, action=action, reason=reason[:MAX_TEXT], by=by[:80]))
    audit.record(action, session=session, username=by[:40], detail={"period": period, "reason": reason})


def lock_history(*, session: Session, period: str | None = None) -> list[PeriodLockEvent]:
    stmt = select(PeriodLockEvent)
    if period:
        stmt = stmt.where(PeriodLockEvent.period == period)
    return list(session.exec(stmt.order_by(PeriodLockEvent.id.desc())).all())  # type: ignore[union-attr]
