"""The plan-task ledger (督查督办) for the faces: the status of every task on a date, the ledger to
fill in, a task's history and evidence, and the writes of the browser (report, create, edit,
close) — each write audited by the caller's session.

Status on day D uses only what was known by the end of D (Beijing time): the newest stored
version of each task recorded by then, else the catalogue as the plan states it. Tasks of plans
not yet issued on D, and tasks closed by an analyst, are not listed. The recurring reports of the
plans (001-R1 …) are listed for every year from ``RECURRING_FROM`` to D's year.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlmodel import Session

from application import audit
from application.access import Account, Role, allowed
from application.evidence import EvidenceError, check_evidence
from etl.task_load import catalogue_content, task_units
from foundation.calendar import BEIJING
from foundation.catalogue import Catalogue, default_catalogue, default_task_catalogue
from foundation.i18n import t
from foundation.tasks import (
    PROGRESS_TEXT,
    STATE_ORDER,
    DateFormError,
    TaskCatalogue,
    parse_date,
    split_owners,
    task_state,
)
from store import tasks as task_store

RECURRING_FROM = 2024  # the first year whose 3/20, 6/20, 11/20 reports are chased
# The JSON keys of ``ipdash tasks status`` (issue 11), in this order.
STATUS_KEYS = (
    "task",
    "title",
    "source",
    "lead",
    "owners",
    "units",
    "deadline",
    "progress",
    "done_on",
    "last_update",
    "state",
    "colour",
    "days_overdue",
)


@dataclass(frozen=True)
class TaskStatus:
    task: str
    title: str
    source: str
    lead: str
    owners: list[str]
    units: list[str]
    deadline: str  # YYYY-MM-DD or "ongoing"
    progress: str
    done_on: str | None
    last_update: str | None
    state: str
    colour: str
    days_overdue: int | None
    plan: str = ""
    note: str = ""
    deadline_text: str = ""
    version: int = 0  # 0: never reported (as the catalogue states it)

    def as_json(self) -> dict[str, Any]:
        """Exactly the issue's keys."""
        return {key: getattr(self, key) for key in STATUS_KEYS}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def end_of_day(day: date, tz: str = BEIJING) -> datetime:
    """The first moment after ``day`` in ``tz``: what was recorded before it was known on ``day``."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=ZoneInfo(tz))


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def task_contents(
    *,
    session: Session,
    as_of: date,
    tasks: TaskCatalogue | None = None,
    region: str = "shanghai",
    tz: str = BEIJING,
    known_by: datetime | None = None,
) -> dict[str, tuple[dict[str, Any], int]]:
    """task → (content as known at the end of ``as_of`` — or at ``known_by`` — and its version
    number; 0 = as the catalogue states it)."""
    cat = tasks or default_task_catalogue()
    stored = task_store.current_versions(session=session, as_of=known_by or end_of_day(as_of, tz))
    out: dict[str, tuple[dict[str, Any], int]] = {}
    for task in cat.all_tasks(range(RECURRING_FROM, as_of.year + 1)):
        plan = cat.plans.get(task.plan)
        if plan is not None and (plan.issued > as_of or (plan.region and plan.region != region)):
            continue
        out[task.task] = (catalogue_content(task, cat), 0)
    for name, version in sorted(stored.items()):
        out[name] = (task_store.content_of(version), version.version_no)
    return out


def task_statuses(
    *,
    session: Session,
    as_of: date,
    unit: str | None = None,
    region: str = "shanghai",
    tasks: TaskCatalogue | None = None,
    catalogue: Catalogue | None = None,
    tz: str = BEIJING,
    known_by: datetime | None = None,
) -> list[TaskStatus]:
    """Every task open on ``as_of`` with its state and colour, red first (then yellow, green),
    earliest deadline first within a state; ``unit``: only tasks linked to that unit;
    ``known_by``: a moment (the assessment's --as-of) instead of the end of ``as_of``."""
    cat = tasks or default_task_catalogue()
    units_cat = catalogue or default_catalogue()
    out: list[TaskStatus] = []
    for name, (content, version) in task_contents(
        session=session, as_of=as_of, tasks=cat, region=region, tz=tz, known_by=known_by
    ).items():
        if content["closed"]:
            continue
        linked = task_units(content, cat, units_cat, region)
        if unit is not None and unit not in linked:
            continue
        standing = task_state(
            deadline=content["deadline"],
            progress=content["progress"],
            done_on=content["done_on"],
            last_update=content["updated_on"],
            on=as_of,
        )
        out.append(
            TaskStatus(
                task=name,
                title=content["title"],
                source=content["source"],
                lead=content["lead"],
                owners=list(content["owners"]),
                units=linked,
                deadline=content["deadline"].isoformat() if content["deadline"] else "ongoing",
                progress=content["progress"],
                done_on=_iso(content["done_on"]),
                last_update=_iso(content["updated_on"]),
                state=standing.state,
                colour=standing.colour,
                days_overdue=standing.days_overdue,
                plan=content["plan"],
                note=content["note"],
                deadline_text=content["deadline_text"],
                version=version,
            )
        )
    order = {state: i for i, state in enumerate(STATE_ORDER)}
    out.sort(key=lambda s: (order[s.state], s.deadline if s.deadline != "ongoing" else "9999", s.task))  # type: ignore[index]
    return out


def colour_counts(statuses: Iterable[TaskStatus]) -> dict[str, int]:
    counts = {"red": 0, "yellow": 0, "green": 0}
    for s in statuses:
        counts[s.colour] += 1
    return counts


def ledger_rows(statuses: Iterable[TaskStatus]) -> list[dict[str, Any]]:
    """Statuses as layout-C rows (header text → value): the ledger to fill in, with the current
    report where there is one. Loaded back unchanged, it changes nothing."""
    rows = []
    for s in sorted(statuses, key=lambda s: s.task):
        rows.append(
            {
                "任务编号": s.task,
                "任务内容": s.title,
                "来源": s.source,
                "牵头单位": s.lead,
                "责任单位": "、".join(o for o in s.owners if o != s.lead),
                "完成时限": s.deadline_text,
                "进展状态": PROGRESS_TEXT[s.progress],  # type: ignore[index]
                "完成日期": s.done_on or "",
                "进展情况": s.note,
                "更新日期": s.last_update or "",
            }
        )
    return rows


def write_template(
    target: Any, *, session: Session, as_of: date, unit: str | None = None, region: str = "shanghai"
) -> int:
    """The ledger to fill in (every open task, or ``unit``'s); returns the number of rows."""
    from etl.task_ledger import write_task_ledger

    rows = ledger_rows(task_statuses(session=session, as_of=as_of, unit=unit, region=region))
    write_task_ledger(target, rows)
    return len(rows)


# --- who may see and do what (issue 9's roles; the dashboard's gate and these functions agree) -----


def linked_units_of(content: dict[str, Any], *, region: str = "shanghai") -> list[str]:
    return task_units(content, default_task_catalogue(), default_catalogue(), region)


def may_see_task(account: Account | None, units: Iterable[str]) -> bool:
    """Every role sees every task but a clerk, who sees the tasks its unit owns."""
    if not allowed(account, "view"):
        return False
    assert account is not None
    return allowed(account, "view_other_units") or (account.unit is not None and account.unit in set(units))


def may_report(account: Account | None, units: Iterable[str]) -> bool:
    """Progress and evidence: an analyst on any task; a clerk on the tasks its unit owns."""
    if not allowed(account, "report_task"):
        return False
    assert account is not None
    return account.role != Role.CLERK or (account.unit is not None and account.unit in set(units))


def statuses_for(
    account: Account | None, *, session: Session, as_of: date, region: str = "shanghai", tz: str = BEIJING
) -> list[TaskStatus]:
    """What this person may see: a clerk's unit's tasks, everyone else's all."""
    if not allowed(account, "view"):
        return []
    assert account is not None
    unit = None if allowed(account, "view_other_units") else (account.unit or "—")
    return task_statuses(session=session, as_of=as_of, unit=unit, region=region, tz=tz)


class TaskError(ValueError):
    """A request about a task that cannot be done; the message is for the user (Chinese)."""


MAX_NOTE = 500


def _current(session: Session, task: str, region: str) -> tuple[dict[str, Any], Any]:
    """(content now, newest stored version or None); TaskError for an unknown task."""
    stored = task_store.current_versions(session=session, tasks=[task]).get(task)
    if stored is not None:
        return task_store.content_of(stored), stored
    found = default_task_catalogue().get(task)
    if found is None:
        raise TaskError(t("tasks.error.unknown", task=task))
    return catalogue_content(found, default_task_catalogue()), None


def task_visible(account: Account | None, task: str, *, session: Session, region: str = "shanghai") -> bool:
    try:
        content, _ = _current(session, task, region)
    except TaskError:
        return False
    return may_see_task(account, linked_units_of(content, region=region))


def may_report_task(
    account: Account | None, task: str, *, session: Session, region: str = "shanghai"
) -> bool:
    try:
        content, _ = _current(session, task, region)
    except TaskError:
        return False
    return may_report(account, linked_units_of(content, region=region))


def _audit(session: Session, account: Account, action: str, task: str, address: str, **detail: Any) -> None:
    audit.record(
        "task",
        session=session,
        username=account.username,
        address=address,
        detail={"action": action, "task": task, **detail},
    )


def report_progress(
    *,
    session: Session,
    account: Account,
    task: str,
    progress: str,
    note: str,
    done_on: date | None,
    files: Iterable[tuple[str, bytes]] = (),
    today: date,
    address: str = "",
    region: str = "shanghai",
) -> int:
    """An owner's report: progress, a sentence, evidence files. Returns the new version number.
    PermissionError when this person may not report on the task (checked here too, not only by
    the page); TaskError for a bad value or file. Nothing is written on any error. The caller commits."""
    content, previous = _current(session, task, region)
    if not may_report(account, linked_units_of(content, region=region)):
        raise PermissionError(task)
    if progress not in PROGRESS_TEXT:
        raise TaskError(t("tasks.error.progress", allowed=" | ".join(PROGRESS_TEXT.values())))
    note = (note or "").strip()
    if len(note) > MAX_NOTE:
        raise TaskError(t("tasks.error.note_long", n=MAX_NOTE))
    if progress == "done" and done_on is None:
        raise TaskError(t("tasks.error.done_missing"))
    if done_on is not None and done_on > today:
        raise TaskError(t("tasks.error.done_future", day=done_on.isoformat(), today=today.isoformat()))
    try:
        checked = [check_evidence(name, data) for name, data in files]
    except EvidenceError as exc:
        raise TaskError(str(exc)) from exc
    new = {**content, "progress": progress, "note": note, "done_on": done_on if progress == "done" else None}
    new["updated_on"] = today
    version = task_store.add_version(
        session=session,
        change=task_store.TaskChange(task, new, "report"),
        previous=previous,
        recorded_by=account.label,
    )
    if version is None:  # the same report on the same day: files go with the version that has it
        if not checked or previous is None:
            raise TaskError(t("tasks.error.unchanged"))
        version = previous
    for ev in checked:
        task_store.add_evidence(
            session=session,
            version=version,
            file_name=ev.file_name,
            media_type=ev.media_type,
            sha256=ev.sha256,
            content=ev.content,
            uploaded_by=account.label,
        )
    _audit(
        session, account, "report", task, address,
        progress=progress, version=version.version_no,
        files=[{"file": ev.file_name, "sha256": ev.sha256, "bytes": len(ev.content)} for ev in checked],
    )  # fmt: skip
    return int(version.version_no)


@dataclass(frozen=True)
class TaskFields:
    """What an analyst sets on a task (the form of 任务督办)."""

    title: str
    lead: str
    owners: str  # co-owners, separated by 、 ， , ;
    deadline: str  # any 完成时限 form of a ledger
    source: str = ""


def _definition(fields: TaskFields) -> dict[str, Any]:
    title, lead = fields.title.strip(), fields.lead.strip()
    if not title or not lead:
        raise TaskError(t("tasks.error.required"))
    try:
        deadline = parse_date(fields.deadline, allow_ongoing=True)
    except DateFormError as exc:
        raise TaskError(t("tasks.error.deadline", value=fields.deadline)) from exc
    owners = list(dict.fromkeys([lead, *split_owners(fields.owners)]))
    return {"title": title[:300], "lead": lead[:100], "owners": owners, "deadline": deadline,
            "deadline_text": fields.deadline.strip()[:40], "source": fields.source.strip()[:200]}  # fmt: skip


def task_fields(task: str, *, session: Session, region: str = "shanghai") -> TaskFields | None:
    """A task's own fields as the analysts' form shows them (None: no such task)."""
    try:
        content, _ = _current(session, task, region)
    except TaskError:
        return None
    owners = "、".join(o for o in content["owners"] if o != content["lead"])
    return TaskFields(content["title"], content["lead"], owners, content["deadline_text"], content["source"])


def _manager(account: Account, task: str) -> None:
    if not allowed(account, "manage"):
        raise PermissionError(task)


def create_task(
    *,
    session: Session,
    account: Account,
    task: str,
    fields: TaskFields,
    address: str = "",
    region: str = "shanghai",
) -> None:
    """A new task (an analyst's): its id must be new to the catalogue and the store."""
    _manager(account, task)
    task = task.strip()
    if not task or len(task) > 40:
        raise TaskError(t("tasks.error.id"))
    exists = default_task_catalogue().get(task) is not None
    if exists or task_store.current_versions(session=session, tasks=[task]):
        raise TaskError(t("tasks.error.exists", task=task))
    content = {**_definition(fields), "plan": "", "closed": False, "progress": "not_started",
               "done_on": None, "note": "", "updated_on": None}  # fmt: skip
    task_store.add_version(
        session=session,
        change=task_store.TaskChange(task, content, "create"),
        previous=None,
        recorded_by=account.label,
    )
    _audit(session, account, "create", task, address, deadline=content["deadline_text"])


def edit_task(
    *,
    session: Session,
    account: Account,
    task: str,
    fields: TaskFields,
    address: str = "",
    region: str = "shanghai",
) -> bool:
    """Change a task's text, owners or deadline; False when nothing changed."""
    _manager(account, task)
    content, previous = _current(session, task, region)
    new = {**content, **_definition(fields)}
    if not new["source"]:
        new["source"] = content["source"]
    if previous is None and task_store.normalise(new) == task_store.normalise(content):
        return False  # a catalogue task edited to what the catalogue says: nothing to keep
    version = task_store.add_version(
        session=session,
        change=task_store.TaskChange(task, new, "edit"),
        previous=previous,
        recorded_by=account.label,
    )
    if version is None:
        return False
    _audit(session, account, "edit", task, address, changes=version.changes)
    return True


def close_task(
    *, session: Session, account: Account, task: str, reason: str, reopen: bool = False,
    address: str = "", region: str = "shanghai",
) -> bool:  # fmt: skip
    """Close a task (no longer chased: cancelled, merged, superseded) with a reason, or reopen it."""
    _manager(account, task)
    if not reason.strip():
        raise TaskError(t("tasks.error.reason"))
    content, previous = _current(session, task, region)
    new = {**content, "closed": not reopen}
    if new == content:
        return False
    version = task_store.add_version(
        session=session,
        change=task_store.TaskChange(task, new, "reopen" if reopen else "close"),
        previous=previous,
        recorded_by=account.label,
        note={"reason": reason.strip()[:MAX_NOTE]},
    )
    assert version is not None
    _audit(session, account, "reopen" if reopen else "close", task, address, reason=reason.strip()[:MAX_NOTE])
    return True


# --- history and evidence for the page ------------------------------------------------------------


def task_history(
    account: Account | None, task: str, *, session: Session, region: str = "shanghai"
) -> tuple[list[Any], list[Any]]:
    """(versions oldest first, evidence files without bytes) of a task this person may see;
    PermissionError otherwise."""
    if not task_visible(account, task, session=session, region=region):
        raise PermissionError(task)
    return task_store.history(session=session, task=task), task_store.evidence_list(
        session=session, task=task
    )


def evidence_download(
    account: Account | None,
    evidence_id: int,
    *,
    session: Session,
    address: str = "",
    region: str = "shanghai",
) -> tuple[str, str, bytes]:
    """(file name, media type, bytes) of an evidence file of a task this person may see, audited;
    PermissionError otherwise (a file of an unknown id too: nothing tells which ids exist)."""
    row = task_store.evidence_file(session=session, evidence_id=evidence_id)
    if row is None or account is None or not task_visible(account, row.task, session=session, region=region):
        raise PermissionError(evidence_id)
    audit.record(
        "evidence",
        session=session,
        username=account.username,
        address=address,
        detail={"task": row.task, "file": row.file_name, "sha256": row.sha256},
    )
    return row.file_name, row.media_type, bytes(row.content)


def evidence_visible(account: Account | None, evidence_id: int, *, session: Session) -> bool:
    row = task_store.evidence_file(session=session, evidence_id=evidence_id)
    return row is not None and task_visible(account, row.task, session=session)
