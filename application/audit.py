"""The audit log: append-only rows in the database (``store.models.AuditEvent``).

Every sign-in (success and failure), sign-out, lock-out, upload, review, lock/unlock, target and
scheme change, export, user change and refused request is one row. ``record`` adds a row in the
caller's session (the caller commits, so an upload and its audit row commit together);
``record_now`` commits a row on its own (a refusal writes nothing else). Nothing here updates or
deletes a row; the migration also makes the database refuse it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from store.models import AuditEvent, utcnow

# The kinds of event; the admin page and ``ipdash audit --kind`` offer these.
KINDS = (
    "login",
    "login_failed",
    "login_locked",
    "logout",
    "session_expired",
    "upload",
    "review",
    "lock",
    "unlock",
    "targets",
    "scheme",
    "export",
    "user",
    "refused",
    "task",  # plan tasks: report, create, edit, close
    "evidence",  # an evidence file downloaded
)


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    username: str
    address: str
    kind: str
    outcome: str
    detail: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "at": self.at.isoformat(),
            "username": self.username,
            "address": self.address,
            "kind": self.kind,
            "outcome": self.outcome,
            "detail": self.detail,
        }


def record(
    kind: str,
    *,
    session: Session,
    username: str = "",
    address: str = "",
    outcome: str = "ok",
    detail: dict[str, Any] | None = None,
    at: datetime | None = None,
) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown audit kind {kind!r}")
    session.add(
        AuditEvent(
            at=at or utcnow(),
            username=username[:40],
            address=address[:64],
            kind=kind,
            outcome=outcome[:12],
            detail=detail or {},
        )
    )


def record_now(kind: str, *, engine: Engine, **fields: Any) -> None:
    """One row in a transaction of its own."""
    with Session(engine) as session:
        record(kind, session=session, **fields)
        session.commit()


def events(
    *,
    session: Session,
    since: datetime | None = None,
    until: datetime | None = None,
    username: str | None = None,
    kind: str | None = None,
    limit: int | None = None,
) -> list[Event]:
    """Newest first."""
    stmt = select(AuditEvent)
    if since is not None:
        stmt = stmt.where(AuditEvent.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEvent.at < until)
    if username:
        stmt = stmt.where(AuditEvent.username == username)
    if kind:
        stmt = stmt.where(AuditEvent.kind == kind)
    stmt = stmt.order_by(col(AuditEvent.at).desc(), col(AuditEvent.id).desc())
    if limit:
        stmt = stmt.limit(limit)
    return [
        Event(
            id=int(row.id or 0),
            at=row.at,
            username=row.username,
            address=row.address,
            kind=row.kind,
            outcome=row.outcome,
            detail=dict(row.detail or {}),
        )
        for row in session.exec(stmt)
    ]


def recent_failures(*, session: Session, username: str, address: str, window: timedelta) -> int:
    """Failed sign-ins within ``window`` for this user name or from this address (the larger
    count): the lock-out rule, shared by every worker because it lives in the database."""
    since = utcnow() - window
    counts = []
    for column, value in ((AuditEvent.username, username), (AuditEvent.address, address)):
        if not value:
            continue
        stmt = select(func.count()).where(
            AuditEvent.kind == "login_failed", AuditEvent.at >= since, column == value
        )
        counts.append(int(session.exec(stmt).one()))
    return max(counts, default=0)
