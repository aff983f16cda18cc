"""Loading a plan-task ledger (layout C) into the store: which rows change which task.

Rules (issue 11; where the issue is silent, decided here and in the README):
- A ledger updates the tasks it contains and leaves the others alone. A row whose content equals
  what is stored (or, for a catalogue task never reported, the catalogue) is ``unchanged``; a file
  none of whose rows changes anything is ``unchanged`` and writes nothing.
- 更新日期 left empty means "the day of the upload" only when the row's report (进展状态, 完成日期,
  进展情况) differs from what is stored; a row repeating the stored report without a date is
  unchanged and does not refresh the task's last update (a re-sent ledger is not news).
- A row for a task in neither the catalogue nor the store creates the task only when loaded
  without a unit scope (an analyst in the browser, or ``ipdash load`` without ``--as-unit`` — the
  operator of the server); from a district it is an error at its 任务编号 cell.
- A district (``scope_unit``: a clerk's unit, ``--as-unit``) may load only rows of tasks its unit
  owns — the lead or an owner of the *stored* task links to the unit (``linked_units``); what the
  row itself says about owners does not count, so a forged row cannot claim a task. Any other row
  is an error at its 任务编号 cell (nothing of the file is written). A district's row updates the
  report only; where its 任务内容, 牵头单位, 责任单位 or 完成时限 differ from the stored task, the
  stored ones are kept and a warning names the cell (analysts edit tasks).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from etl.issues import error, warning
from etl.records import Issue, Reason
from etl.task_ledger import TaskRow
from foundation.catalogue import Catalogue
from foundation.tasks import Task, TaskCatalogue, linked_units, owner_units
from store.tasks import TaskChange, normalise

REPORT_FIELDS = ("progress", "done_on", "note")


def catalogue_content(task: Task, tasks: TaskCatalogue) -> dict[str, Any]:
    """A catalogue task as the store would hold it before anyone reported on it."""
    return normalise(
        {
            "plan": task.plan,
            "source": tasks.source(task),
            "title": task.title,
            "lead": task.lead,
            "owners": list(task.owners),
            "deadline": task.deadline,
            "deadline_text": task.deadline_text,
            "closed": False,
            "progress": "not_started",
            "done_on": None,
            "note": "",
            "updated_on": None,
        }
    )


def task_units(
    content: Mapping[str, Any], tasks: TaskCatalogue, catalogue: Catalogue, region: str
) -> list[str]:
    """Codes of the units a task's lead and owners link to, in the units of the task's region."""
    plan = tasks.plans.get(str(content.get("plan") or ""))
    units = catalogue.units_of(plan.region if plan and plan.region else region)
    return linked_units([content["lead"], *content["owners"]], units)


def resolve_unit(value: str, catalogue: Catalogue) -> str | None:
    if value in catalogue.units:
        return value
    found = owner_units(value, list(catalogue.units.values()))
    return found[0] if len(found) == 1 else None


@dataclass
class TaskPlan:
    changes: list[TaskChange] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)


def plan_task_rows(
    rows: Sequence[TaskRow],
    *,
    file: str,
    stored: Mapping[str, Mapping[str, Any]],
    tasks: TaskCatalogue,
    catalogue: Catalogue,
    region: str,
    scope_unit: str | None,
    today: date,
) -> TaskPlan:
    """The changes ``rows`` make, or the errors that reject the file. ``stored``: task → content
    of its newest stored version; ``scope_unit``: the only unit whose tasks may be touched."""
    out = TaskPlan()
    unit_name = catalogue.units[scope_unit].name_zh if scope_unit in catalogue.units else (scope_unit or "")
    for row in rows:
        cell = row.cells.get("task", "A1")
        known = stored.get(row.task)
        catalogue_task = tasks.get(row.task) if known is None else None
        base = dict(known) if known is not None else None
        if base is None and catalogue_task is not None:
            base = catalogue_content(catalogue_task, tasks)
        if scope_unit is not None:
            if base is None:
                out.errors.append(
                    error(
                        Reason.TASK_UNKNOWN, "etl.task.unknown_task",
                        file=file, sheet=row.sheet, cell=cell, value=row.task, task=row.task,
                    )
                )  # fmt: skip
                continue
            if scope_unit not in task_units(base, tasks, catalogue, region):
                out.errors.append(
                    error(
                        Reason.TASK_NOT_OWNED, "etl.task.not_owned",
                        file=file, sheet=row.sheet, cell=cell, value=row.task, task=row.task, unit=unit_name,
                    )
                )  # fmt: skip
                continue
        new = _definition(row, base, scope_unit is not None, file=file, warnings=out.warnings)
        report = {"progress": row.progress, "done_on": row.done_on, "note": row.note}
        new.update(report)
        same_report = base is not None and all(base[k] == report[k] for k in REPORT_FIELDS)
        if row.updated_on is not None:
            new["updated_on"] = row.updated_on
        else:
            new["updated_on"] = base["updated_on"] if same_report and base is not None else today
        new = normalise(new)
        if base is not None and new == normalise(base):
            out.unchanged.append(row.task)
            continue
        out.changes.append(TaskChange(row.task, new, "ledger" if base is not None else "create"))
    if out.errors:
        out.changes, out.unchanged = [], []
    return out


def _definition(
    row: TaskRow, base: dict[str, Any] | None, district: bool, *, file: str, warnings: list[Issue]
) -> dict[str, Any]:
    """The task's own fields after this row: a new task's from the row; a district's row keeps
    the stored ones (warning where they differ); an analyst's row replaces them."""
    owners = list(dict.fromkeys([row.lead, *row.owners]))
    from_row: dict[str, Any] = {
        "title": row.title,
        "lead": row.lead,
        "owners": owners,
        "deadline": row.deadline,
        "deadline_text": row.deadline_text,
    }
    if base is None:
        return {"plan": row.task.split("-", 1)[0] if "-" in row.task else "", "source": row.source,
                "closed": False, **from_row}  # fmt: skip
    new = dict(base)
    shown = {"title": "任务内容", "lead": "牵头单位", "owners": "责任单位", "deadline": "完成时限"}
    cells = {"title": "title", "lead": "lead", "owners": "owners", "deadline": "deadline"}
    for name, column in shown.items():
        if cells[name] not in row.cells:
            continue  # the ledger has no such column (责任单位 is optional): nothing said
        if name == "owners":
            differs = set(owners) != set(base["owners"])
        else:
            differs = from_row[name] != base[name]
        if not differs:
            continue
        if district:
            stored = {"owners": "、".join(base["owners"]), "deadline": base["deadline_text"]}.get(
                name, base[name]
            )
            warnings.append(
                warning(
                    Reason.TASK_DEFINITION_KEPT, "etl.task.definition_kept",
                    file=file, sheet=row.sheet, cell=row.cells.get(cells[name], row.cells.get("task", "")),
                    task=row.task, column=column, stored=stored,
                )
            )  # fmt: skip
            continue
        new[name] = from_row[name]
        if name == "deadline":
            new["deadline_text"] = row.deadline_text
    if not district and row.source and row.source != base["source"]:
        new["source"] = row.source
    return new
