"""Write side of the store: submissions, revisions, restores, locks and targets.

Functions take ``*, session`` and never commit: the caller commits once per file, so a file is
all or nothing. The revision rules (DOMAIN.md "Submissions and revisions"):
- an accepted file is a ``Submission``; each unit and period in it whose content differs from
  the current revision becomes a new ``Revision`` and current;
- content identical to the current revision adds nothing; a file all of whose unit-periods are
  identical is ``unchanged`` and writes nothing at all;
- restoring revision N writes a new revision copying N (history stays append-only, and the
  revision current at any moment is the highest ``revision_no`` created by then).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, func, insert, update
from sqlalchemy import select as sa_select  # more than four columns: SQLAlchemy's typed select
from sqlmodel import Session, col, select

from store.models import (
    MeasureNote,
    MeasureValue,
    PeriodLock,
    Revision,
    Submission,
    SubmissionFile,
    UnitTarget,
    utcnow,
)

if TYPE_CHECKING:
    import pandas as pd


# Statements of the write path built once: a batch load runs them for every file, and building a
# statement (columns, IN lists) cost more than running it on SQLite. Lists go in as expanding
# parameters, so one compiled form serves every file (SQLAlchemy's compiled cache).
_STATE_COLUMNS = (
    col(Revision.unit_code),
    col(Revision.period),
    col(Revision.id),
    col(Revision.revision_no),
    col(Revision.content_sha),
    col(Revision.is_current),
)
_STATE_OF = (
    sa_select(*_STATE_COLUMNS)
    .where(col(Revision.unit_code).in_(bindparam("units", expanding=True)))
    .where(col(Revision.period).in_(bindparam("periods", expanding=True)))
)
_LOCKS_OF = sa_select(col(PeriodLock.period), col(PeriodLock.locked_by)).where(
    col(PeriodLock.period).in_(bindparam("periods", expanding=True))
)
_INSERT_SUBMISSION = insert(Submission).returning(col(Submission.id))
_INSERT_FILE = insert(SubmissionFile)
_SUPERSEDE = (
    update(Revision).where(col(Revision.id).in_(bindparam("ids", expanding=True))).values(is_current=False)
)
_INSERT_REVISIONS = insert(Revision).returning(col(Revision.id), sort_by_parameter_order=True)
_INSERT_VALUES = insert(MeasureValue)
_INSERT_NOTES = insert(MeasureNote)


def content_sha(values: Mapping[str, float]) -> str:
    """A fingerprint of one unit-period's values, independent of order and of int/float form."""
    text = ";".join(f"{k}={float(values[k])!r}" for k in sorted(values))
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass
class RecordToSave:
    unit: str
    period: str
    values: Mapping[str, float]
    blanks: Iterable[str] = ()
    notes: Mapping[str, str] = field(default_factory=dict)  # measure -> 备注 (not part of the content)


@dataclass
class SaveOutcome:
    status: str  # "accepted" | "unchanged"
    submission_id: int | None = None
    new_revisions: list[tuple[str, str, int]] = field(default_factory=list)  # unit, period, no
    unchanged: list[tuple[str, str]] = field(default_factory=list)
    revision_ids: list[int] = field(default_factory=list)  # parallel to new_revisions
    content_shas: list[str] = field(default_factory=list)  # parallel to new_revisions


def _advisory_key(unit: str, period: str) -> int:
    """A stable signed 64-bit key for PostgreSQL's advisory locks (collisions only serialise more)."""
    digest = hashlib.blake2b(f"ipdash:{unit}:{period}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_unit_periods(session: Session, pairs: Iterable[tuple[str, str]]) -> None:
    """Hold, until the transaction ends, the right to write these unit-months.

    PostgreSQL: one transaction-level advisory lock per unit-month, taken in sorted order (no
    deadlock between two files sharing months). SQLite: a no-op write takes the database's
    single write lock now (pysqlite opens the transaction just before it), so the state read
    next is the latest committed one; other writers wait on the busy timeout (``store.db``).
    """
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        for key in sorted({_advisory_key(u, p) for u, p in pairs}):
            conn.exec_driver_sql("SELECT pg_advisory_xact_lock(%(k)s)", {"k": key})
    elif conn.dialect.name == "sqlite":
        conn.exec_driver_sql("UPDATE revision SET id = id WHERE 0")


def _current_by_pair(
    session: Session, pairs: set[tuple[str, str]]
) -> dict[tuple[str, str], tuple[int, int, str]]:
    """(unit, period) → (revision id, max revision_no, current content sha) for stored pairs."""
    if not pairs:
        return {}
    units = sorted({u for u, _ in pairs})
    periods = sorted({p for _, p in pairs})
    out: dict[tuple[str, str], tuple[int, int, str]] = {}
    max_no: dict[tuple[str, str], int] = {}
    rows = session.connection().execute(_STATE_OF, {"units": units, "periods": periods})
    for unit, period, rid, no, sha, current in rows:
        key = (unit, period)
        if key not in pairs:
            continue
        max_no[key] = max(max_no.get(key, 0), no)
        if current:
            assert rid is not None  # a stored row always has its id
            out[key] = (rid, 0, sha)
    return {k: (rid, max_no[k], sha) for k, (rid, _, sha) in out.items()}


def save_submission(
    *,
    session: Session,
    records: Sequence[RecordToSave],
    file_name: str,
    sha256: str,
    layout: str,
    submitted_by: str,
    submitted_at: datetime | None = None,
    as_unit: str | None = None,
    warnings: list[dict[str, Any]] | None = None,
    content: bytes | None = None,
    restored_from: int | None = None,
) -> SaveOutcome:
    """Store an accepted file's records under the revision rules. Does not commit."""
    pairs = {(r.unit, r.period) for r in records}
    # Serialise writers of the same unit-months, then read their state under the lock: two
    # uploads of one month at once become revisions n and n+1 in arrival order (or `unchanged`),
    # never a collision on the revision number. A batch's cached state could be stale by then,
    # so the state is always read here (one indexed query per file).
    lock_unit_periods(session, pairs)
    stored = _current_by_pair(session, pairs)
    at = submitted_at or utcnow()
    changed: list[tuple[RecordToSave, str, int]] = []
    outcome = SaveOutcome(status="unchanged")
    superseded: list[int] = []
    for rec in records:
        sha = content_sha(rec.values)
        key = (rec.unit, rec.period)
        if key in stored and stored[key][2] == sha:
            outcome.unchanged.append(key)
            continue
        next_no = stored[key][1] + 1 if key in stored else 1
        if key in stored:
            superseded.append(stored[key][0])
        changed.append((rec, sha, next_no))
    if not changed:
        return outcome

    conn = session.connection()
    # Core inserts: one statement each, no ORM unit of work (the load benchmark counts these).
    submission_id = conn.execute(
        _INSERT_SUBMISSION,
        {
            "file_name": file_name,
            "sha256": sha256,
            "submitted_by": submitted_by,
            "submitted_at": at,
            "layout": layout,
            "status": "accepted",
            "as_unit": as_unit,
            "size_bytes": len(content) if content is not None else 0,
            "warnings": warnings or [],
        },
    ).scalar_one()
    if content is not None:
        conn.execute(_INSERT_FILE, {"submission_id": submission_id, "content": content})
    if superseded:
        conn.execute(_SUPERSEDE, {"ids": superseded})
    rev_rows = [
        {
            "submission_id": submission_id,
            "unit_code": rec.unit,
            "period": rec.period,
            "revision_no": no,
            "content_sha": sha,
            "created_at": at,
            "created_by": submitted_by,
            "is_current": True,
            "restored_from": restored_from,
        }
        for rec, sha, no in changed
    ]
    ids = conn.execute(_INSERT_REVISIONS, rev_rows).scalars().all()
    value_rows: list[dict[str, Any]] = []
    for rid, (rec, _sha, _no) in zip(ids, changed, strict=True):
        blanks = set(rec.blanks)
        value_rows.extend(
            {"revision_id": rid, "measure_code": m, "value": float(v), "blank": m in blanks}
            for m, v in rec.values.items()
        )
    if value_rows:
        conn.execute(_INSERT_VALUES, value_rows)
    note_rows = [
        {"revision_id": rid, "measure_code": m, "note": str(text)[:500]}
        for rid, (rec, _sha, _no) in zip(ids, changed, strict=True)
        for m, text in rec.notes.items()
        if m in rec.values and text
    ]
    if note_rows:
        conn.execute(_INSERT_NOTES, note_rows)
    outcome.status = "accepted"
    outcome.submission_id = submission_id
    outcome.new_revisions = [(rec.unit, rec.period, no) for rec, _sha, no in changed]
    outcome.revision_ids = [rid for rid in ids if rid is not None]  # RETURNING gives every id
    outcome.content_shas = [sha for _rec, sha, _no in changed]
    return outcome


def stored_state(
    *, session: Session, units: Sequence[str], periods: Sequence[str]
) -> dict[tuple[str, str], tuple[int, int, str, dict[str, float]]]:
    """(unit, period) → (current revision id, highest revision_no, content sha, current values)."""
    max_no: dict[tuple[str, str], int] = {}
    current: dict[tuple[str, str], tuple[int, str]] = {}
    conn = session.connection()
    for unit, period, rid, no, sha, is_current in conn.execute(
        _STATE_OF, {"units": list(units), "periods": list(periods)}
    ):
        key = (unit, period)
        max_no[key] = max(max_no.get(key, 0), no)
        if is_current:
            assert rid is not None  # a stored row always has its id
            current[key] = (rid, sha)
    if not current:
        return {}
    by_id = {rid: key for key, (rid, _sha) in current.items()}
    values: dict[tuple[str, str], dict[str, float]] = {key: {} for key in current}
    rows = conn.execute(
        select(MeasureValue.revision_id, col(MeasureValue.measure_code), col(MeasureValue.value)).where(
            col(MeasureValue.revision_id).in_(list(by_id))
        )
    )
    for rid, measure, value in rows:
        values[by_id[rid]][measure] = float(value)
    return {key: (rid, max_no[key], sha, values[key]) for key, (rid, sha) in current.items()}


# --- history and restore -------------------------------------------------------------------------


def warning_concerns(warning: dict[str, Any], unit: str, period: str) -> bool:
    """A stored warning concerns a unit-period when it names it, or names no unit/period at all
    (a file-level warning, e.g. an unread sheet). ``ipdash history`` and the tracker both use it."""
    return (warning.get("unit") or "") in ("", unit) and (warning.get("period") or "") in ("", period)


def list_revisions(*, session: Session, unit: str, period: str) -> list[dict[str, Any]]:
    """Every revision of one unit and period, oldest first, with its submission."""
    stmt = (
        select(Revision, Submission)
        .join(Submission, col(Submission.id) == col(Revision.submission_id))
        .where(Revision.unit_code == unit, col(Revision.period) == period)
        .order_by(Revision.revision_no)  # type: ignore[arg-type]
    )
    out = []
    for rev, sub in session.exec(stmt).all():
        out.append(
            {
                "revision_no": rev.revision_no,
                "is_current": rev.is_current,
                "created_at": rev.created_at,
                "created_by": rev.created_by,
                "file_name": sub.file_name,
                "sha256": sub.sha256,
                "submission_id": sub.id,
                "restored_from": rev.restored_from,
                "warnings": [w for w in sub.warnings if warning_concerns(w, unit, period)],
            }
        )
    return out


def revision_values(*, session: Session, unit: str, period: str, revision_no: int) -> dict[str, float] | None:
    rev = session.exec(
        select(Revision).where(
            col(Revision.unit_code) == unit,
            col(Revision.period) == period,
            col(Revision.revision_no) == revision_no,
        )
    ).first()
    if rev is None:
        return None
    rows = session.connection().execute(
        select(MeasureValue.measure_code, col(MeasureValue.value)).where(MeasureValue.revision_id == rev.id)
    )
    return {m: float(v) for m, v in rows}


def restore_revision(
    *, session: Session, unit: str, period: str, revision_no: int, by: str
) -> SaveOutcome | None:
    """Make revision ``revision_no`` current again by writing a new revision that copies it.

    None when no such revision exists; ``unchanged`` when it is already the current content.
    """
    values = revision_values(session=session, unit=unit, period=period, revision_no=revision_no)
    if values is None:
        return None
    return save_submission(
        session=session,
        records=[RecordToSave(unit, period, values)],
        file_name=f"restore:{unit}:{period}:r{revision_no}",
        sha256=content_sha(values),
        layout="R",
        submitted_by=by,
        restored_from=revision_no,
    )


# --- locks and targets -----------------------------------------------------------------------------


def locked_periods(*, session: Session, periods: Iterable[str] | None = None) -> dict[str, PeriodLock]:
    stmt = select(PeriodLock)
    if periods is not None:
        stmt = stmt.where(PeriodLock.period.in_(list(periods)))  # type: ignore[attr-defined]
    return {lock.period: lock for lock in session.exec(stmt).all()}


def lock_holders(*, session: Session, periods: Iterable[str]) -> dict[str, str]:
    """Locked periods among ``periods`` → who locked them (what a load checks for every file)."""
    periods = list(periods)
    if not periods:
        return {}
    rows = session.connection().execute(_LOCKS_OF, {"periods": periods})
    return {period: by for period, by in rows}


def lock_period(*, session: Session, period: str, by: str) -> bool:
    """Lock ``period`` for assessment; False when it was locked already."""
    if session.get(PeriodLock, period) is not None:
        return False
    session.add(PeriodLock(period=period, locked_by=by))
    return True


def unlock_period(*, session: Session, period: str) -> bool:
    lock = session.get(PeriodLock, period)
    if lock is None:
        return False
    session.delete(lock)
    return True


def replace_targets(*, session: Session, targets: pd.DataFrame) -> int:
    """Upsert per-unit targets (columns unit, year, indicator, target)."""
    n = 0
    for row in targets.itertuples(index=False):
        key = (row.unit, int(row.year), row.indicator)
        existing = session.get(UnitTarget, key)
        if existing is None:
            session.add(
                UnitTarget(
                    unit_code=row.unit, year=int(row.year), indicator=row.indicator, target=float(row.target)
                )
            )
        else:
            existing.target = float(row.target)
        n += 1
    return n


def data_version(*, session: Session) -> tuple[int, int]:
    """A cheap token that changes whenever values change: (max revision id, revision count)."""
    row = session.connection().execute(select(func.max(col(Revision.id)), func.count(col(Revision.id)))).one()
    return int(row[0] or 0), int(row[1] or 0)
