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

from etl.task_load import catalogue_content, task_units
from foundation.calendar import BEIJING
from foundation.catalogue import Catalogue, default_catalogue
from foundation.tasks import (
    PROGRESS_TEXT,
    STATE_ORDER,
    TaskCatalogue,
    default_task_catalogue,
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
