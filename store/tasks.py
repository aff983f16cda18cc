"""Plan tasks in the store: append-only versions and evidence files (issue 11).

Every change of a task adds a ``TaskVersion`` (version_no + 1) holding the whole task as it then
stood, who made it, when and why (``action``), and which fields changed from what
(``changes``: field → [old, new]). Nothing is updated or deleted, so the task as it stood at any
moment is the highest version recorded by then. Functions take ``*, session`` and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from store.models import Submission, SubmissionFile, TaskEvidence, TaskVersion, utcnow

# The fields whose values make a task's content (compared to decide ``unchanged``).
CONTENT_FIELDS = (
    "plan",
    "source",
    "title",
    "lead",
    "owners",
    "deadline",
    "deadline_text",
    "closed",
    "progress",
    "done_on",
    "note",
    "updated_on",
)


def content_of(version: TaskVersion) -> dict[str, Any]:
    return normalise({name: getattr(version, name) for name in CONTENT_FIELDS})


def normalise(content: Mapping[str, Any]) -> dict[str, Any]:
    """Every content field, in one form (lists for owners, "" for empty texts), so that equal
    content compares equal whichever way it was built."""
    new = {name: content.get(name) for name in CONTENT_FIELDS}
    new["owners"] = list(new["owners"] or [])
    new["closed"] = bool(new["closed"])
    for name in ("plan", "source", "note", "deadline_text"):
        new[name] = new[name] or ""
    return new


def _json(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def current_versions(
    *, session: Session, tasks: Iterable[str] | None = None, as_of: datetime | None = None
) -> dict[str, TaskVersion]:
    """task → its newest version (recorded at or before ``as_of`` when given)."""
    newest = select(TaskVersion.task, func.max(TaskVersion.version_no).label("no"))
    if as_of is not None:
        newest = newest.where(TaskVersion.recorded_at <= as_of)
    if tasks is not None:
        wanted = sorted(set(tasks))
        if not wanted:
            return {}
        newest = newest.where(col(TaskVersion.task).in_(wanted))
    sub = newest.group_by(TaskVersion.task).subquery()
    stmt = select(TaskVersion).join(
        sub, (col(TaskVersion.task) == sub.c.task) & (col(TaskVersion.version_no) == sub.c.no)
    )
    return {v.task: v for v in session.exec(stmt)}


def history(*, session: Session, task: str) -> list[TaskVersion]:
    """Every version of a task, oldest first."""
    stmt = select(TaskVersion).where(TaskVersion.task == task).order_by(col(TaskVersion.version_no))
    return list(session.exec(stmt))


@dataclass
class TaskChange:
    """What a writer wants a task to be: its whole content."""

    task: str
    content: Mapping[str, Any]
    action: str  # ledger | report | create | edit | close | reopen


def add_version(
    *,
    session: Session,
    change: TaskChange,
    previous: TaskVersion | None,
    recorded_by: str,
    recorded_at: datetime | None = None,
    submission_id: int | None = None,
    note: Mapping[str, Any] | None = None,
) -> TaskVersion | None:
    """Append the next version of ``change.task``, or None when its content equals ``previous``.
    ``previous`` must be the task's newest version (None: the task has none yet); ``note``: more
    to keep with the change (an analyst's reason), stored beside the changed fields."""
    new = normalise(change.content)
    old = content_of(previous) if previous is not None else {}
    if previous is not None and old == new:
        return None
    changes = {
        name: [_json(old.get(name)), _json(new[name])]
        for name in CONTENT_FIELDS
        if previous is None or old.get(name) != new[name]
    }
    changes.update(note or {})
    version = TaskVersion(
        task=change.task,
        version_no=(previous.version_no if previous is not None else 0) + 1,
        recorded_at=recorded_at or utcnow(),
        recorded_by=recorded_by[:80],
        action=change.action,
        submission_id=submission_id,
        changes=changes,
        **new,
    )
    session.add(version)
    session.flush()  # the id, for evidence
    return version


def add_evidence(
    *,
    session: Session,
    version: TaskVersion,
    file_name: str,
    media_type: str,
    sha256: str,
    content: bytes,
    uploaded_by: str,
) -> TaskEvidence:
    assert version.id is not None
    row = TaskEvidence(
        task=version.task,
        version_id=version.id,
        file_name=file_name[:255],
        media_type=media_type,
        size_bytes=len(content),
        sha256=sha256,
        uploaded_at=version.recorded_at,
        uploaded_by=uploaded_by[:80],
        content=content,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class EvidenceInfo:
    id: int
    task: str
    version_id: int
    file_name: str
    media_type: str
    size_bytes: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str


def evidence_list(*, session: Session, task: str) -> list[EvidenceInfo]:
    """A task's evidence files, without their bytes, oldest first."""
    stmt = (
        select(TaskEvidence)
        .options(defer(TaskEvidence.content))  # type: ignore[arg-type]
        .where(TaskEvidence.task == task)
        .order_by(col(TaskEvidence.id))
    )
    return [
        EvidenceInfo(
            int(e.id or 0),
            e.task,
            e.version_id,
            e.file_name,
            e.media_type,
            e.size_bytes,
            e.sha256,
            e.uploaded_at,
            e.uploaded_by,
        )  # fmt: skip
        for e in session.exec(stmt)
    ]


def evidence_file(*, session: Session, evidence_id: int) -> TaskEvidence | None:
    return session.get(TaskEvidence, evidence_id)


def save_task_ledger(
    *,
    session: Session,
    changes: list[TaskChange],
    file_name: str,
    sha256: str,
    submitted_by: str,
    submitted_at: datetime | None = None,
    as_unit: str | None = None,
    warnings: list[dict[str, Any]] | None = None,
    content: bytes | None = None,
) -> tuple[int | None, list[tuple[str, int]]]:
    """An accepted task ledger: a ``Submission`` (layout C, the file kept) and one new version per
    changed task. (None, []) and nothing written when no task changes. Does not commit."""
    at = submitted_at or utcnow()
    previous = current_versions(session=session, tasks=[c.task for c in changes])
    pending = [
        c
        for c in changes
        if previous.get(c.task) is None or content_of(previous[c.task]) != normalise(c.content)
    ]
    if not pending:
        return None, []
    submission = Submission(
        file_name=file_name,
        sha256=sha256,
        submitted_by=submitted_by[:80],
        submitted_at=at,
        layout="C",
        as_unit=as_unit,
        size_bytes=len(content) if content is not None else 0,
        warnings=warnings or [],
    )
    session.add(submission)
    session.flush()
    assert submission.id is not None
    if content is not None:
        session.add(SubmissionFile(submission_id=submission.id, content=content))
    written: list[tuple[str, int]] = []
    for change in pending:
        version = add_version(
            session=session,
            change=change,
            previous=previous.get(change.task),
            recorded_by=submitted_by,
            recorded_at=at,
            submission_id=submission.id,
        )
        if version is not None:
            written.append((change.task, version.version_no))
    return submission.id, written


def tasks_version_token(*, session: Session) -> int:
    """The highest version id (versions are append-only): changes whenever any task does."""
    return int(session.exec(select(func.max(TaskVersion.id))).one() or 0)
