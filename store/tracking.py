"""Read side for the submission tracker and for exports that must name the revisions they used.

``revision_log`` → one row per stored revision (optionally only those created by ``as_of``),
with its submission: who, when, which file, its SHA-256 and the warnings stored with it that
concern this unit and period. ``application.tracker`` turns it into on-time/late/missing states;
the assessment export writes the revisions current at its cut-off into its ``修订记录`` sheet.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session, col

from store.models import Revision, Submission, Unit
from store.repo import warning_concerns

LOG_COLUMNS = [
    "unit",
    "period",
    "revision_no",
    "created_at",
    "created_by",
    "is_current",
    "restored_from",
    "content_sha",
    "submission_id",
    "file_name",
    "sha256",
    "layout",
    "submitted_at",
    "warnings",
]


def revision_log(
    *,
    session: Session,
    region: str | None = None,
    periods: Iterable[str] | None = None,
    units: Iterable[str] | None = None,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """Every revision (created by ``as_of`` when given), oldest first per unit and period.

    ``is_current`` is recomputed for ``as_of``: the highest revision number created by then is
    the one that was current (history is append-only, see store/models.py). ``created_at`` and
    ``submitted_at`` are aware UTC timestamps.
    """
    stmt = select(
        col(Revision.unit_code),
        col(Revision.period),
        col(Revision.revision_no),
        col(Revision.created_at),
        col(Revision.created_by),
        col(Revision.is_current),
        col(Revision.restored_from),
        col(Revision.content_sha),
        col(Submission.id),
        col(Submission.file_name),
        col(Submission.sha256),
        col(Submission.layout),
        col(Submission.submitted_at),
        col(Submission.warnings),
    ).join(Submission, col(Submission.id) == col(Revision.submission_id))
    if region:
        stmt = stmt.join(Unit, col(Unit.code) == col(Revision.unit_code)).where(col(Unit.region) == region)
    if periods is not None:
        stmt = stmt.where(Revision.period.in_(list(periods)))  # type: ignore[attr-defined]
    if units is not None:
        stmt = stmt.where(Revision.unit_code.in_(list(units)))  # type: ignore[attr-defined]
    if as_of is not None:
        stmt = stmt.where(col(Revision.created_at) <= as_of)
    rows = [list(r) for r in session.connection().execute(stmt).all()]
    for row in rows:
        row[-1] = [w for w in (row[-1] or []) if warning_concerns(w, row[0], row[1])]
    frame = pd.DataFrame(rows, columns=LOG_COLUMNS)
    frame["created_at"] = pd.to_datetime(frame["created_at"], utc=True)
    frame["submitted_at"] = pd.to_datetime(frame["submitted_at"], utc=True)
    frame["revision_no"] = frame["revision_no"].astype(int)
    frame = frame.sort_values(["unit", "period", "revision_no"], kind="stable").reset_index(drop=True)
    if as_of is not None and not frame.empty:
        latest = frame.groupby(["unit", "period"])["revision_no"].transform("max")
        frame["is_current"] = frame["revision_no"] == latest
    frame["is_current"] = frame["is_current"].astype(bool)
    return frame
