"""Layout C: the plan-task ledger (任务台账) — one row per task, columns found by their header text.

A sheet is a task ledger when its header row — the first row whose first non-empty cell is
``任务编号`` — exists. Columns in any order: 任务编号 (required, unique), 任务内容 (required), 来源,
牵头单位 (required), 责任单位 (names separated by 、 ， , ;), 完成时限 (required), 进展状态 (required:
未启动 | 推进中 | 已完成), 完成日期 (required when 已完成), 进展情况, 更新日期 (default: the day of the
upload). Every problem is an ``Issue`` naming the sheet and cell; any error rejects the file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from etl.cells import a1, cell_text
from etl.issues import error, warning
from etl.records import Issue, Reason
from foundation.tasks import PROGRESS_LABELS, DateFormError, Progress, parse_date, split_owners

HEADER_FIRST = "任务编号"
# header text → field; REQUIRED must all be present
COLUMNS: dict[str, str] = {
    "任务编号": "task",
    "任务内容": "title",
    "来源": "source",
    "牵头单位": "lead",
    "责任单位": "owners",
    "完成时限": "deadline",
    "进展状态": "progress",
    "完成日期": "done_on",
    "进展情况": "note",
    "更新日期": "updated_on",
}
REQUIRED = ("任务编号", "任务内容", "牵头单位", "完成时限", "进展状态")


@dataclass
class TaskRow:
    """One task as a ledger states it (the cells each field came from, for messages later)."""

    task: str
    title: str
    source: str
    lead: str
    owners: list[str]  # co-owners as written (the lead is not repeated)
    deadline: date | None  # None: ongoing
    deadline_text: str
    progress: Progress
    done_on: date | None
    note: str
    updated_on: date | None  # None: the day of the upload
    sheet: str = ""
    row: int = 0  # 1-based Excel row
    cells: dict[str, str] = field(default_factory=dict)  # field -> A1 reference


def _label(raw: object) -> str:
    return "".join(cell_text(raw).split()).rstrip(":：")


def find_task_header(grid: list[list[Any]]) -> int | None:
    """Index of the header row: the first row whose first non-empty cell is 任务编号."""
    for r, row in enumerate(grid):
        for cell in row:
            # The first non-empty cell decides. Only text can read 任务编号; any other value (a
            # number, a date) reads as non-empty text, so it ends the row. Every cell of every
            # sheet of every file passes here: no cell_text() for the many empty ones.
            if cell is None or (isinstance(cell, str) and not cell.strip()):
                continue
            if isinstance(cell, str) and _label(cell) == HEADER_FIRST:
                return r
            break
    return None


def is_task_ledger(sheets: list[tuple[str, list[list[Any]]]]) -> bool:
    return any(find_task_header(grid) is not None for _, grid in sheets)


def read_task_sheets(
    sheets: list[tuple[str, list[list[Any]]]], *, file: str, today: date
) -> tuple[list[TaskRow], list[Issue], list[Issue]]:
    """(rows, errors, warnings) of every task-ledger sheet of a workbook."""
    rows: list[TaskRow] = []
    errors: list[Issue] = []
    warnings: list[Issue] = []
    seen: dict[str, str] = {}  # task id -> where first seen
    for sheet, grid in sheets:
        header_row = find_task_header(grid)
        if header_row is None:
            if any(cell_text(c).strip() for row in grid for c in row):
                warnings.append(warning(Reason.UNKNOWN_SHEET, "etl.unknown_sheet", file=file, sheet=sheet))
            continue
        columns: dict[str, int] = {}
        for c, raw in enumerate(grid[header_row]):
            label = _label(raw)
            if label in COLUMNS and COLUMNS[label] not in columns:
                columns[COLUMNS[label]] = c
            elif label:
                warnings.append(
                    warning(
                        Reason.UNKNOWN_COLUMN,
                        "etl.task.unknown_column",
                        file=file,
                        sheet=sheet,
                        cell=a1(header_row, c),
                        value=label,
                    )
                )
        missing = [h for h in REQUIRED if COLUMNS[h] not in columns]
        if missing:
            errors.append(
                error(
                    Reason.NO_TABLE,
                    "etl.task.column_missing",
                    file=file,
                    sheet=sheet,
                    cell=a1(header_row, 0),
                    columns="、".join(missing),
                )
            )
            continue
        for r in range(header_row + 1, len(grid)):
            if not any(cell_text(v).strip() for v in grid[r]):
                continue  # an empty row
            reader = _RowReader(file=file, sheet=sheet, line=grid[r], r=r, columns=columns, today=today)
            row = reader.read(seen)
            errors += reader.errors
            if row is not None:
                rows.append(row)
    return ([] if errors else rows), errors, warnings  # a file with an error yields no task


@dataclass
class _RowReader:
    """One ledger row: its fields, or the errors at their cells."""

    file: str
    sheet: str
    line: list[Any]
    r: int  # 0-based row index
    columns: dict[str, int]
    today: date
    errors: list[Issue] = field(default_factory=list)
    task_id: str = ""

    def raw(self, name: str) -> Any:
        c = self.columns.get(name)
        return self.line[c] if c is not None and c < len(self.line) else None

    def ref(self, name: str) -> str:
        return a1(self.r, self.columns.get(name, 0))

    def fail(self, name: str, key: str, value: object = "", **fields: object) -> None:
        self.errors.append(
            error(
                Reason.TASK_INVALID,
                key,
                file=self.file,
                sheet=self.sheet,
                cell=self.ref(name),
                value=cell_text(value).strip(),
                task=self.task_id or "—",
                **fields,
            )
        )

    def date_field(self, name: str, key: str) -> date | None:
        raw = self.raw(name)
        if not cell_text(raw).strip():
            return None
        try:
            value = parse_date(raw, allow_ongoing=False)
        except DateFormError:
            self.fail(name, f"etl.task.{key}_form", raw)
            return None
        if value is not None and value > self.today:
            self.fail(name, f"etl.task.{key}_future", raw, today=self.today.isoformat())
        return value

    def read(self, seen: dict[str, str]) -> TaskRow | None:
        self.task_id = cell_text(self.raw("task")).strip()
        if not self.task_id:
            self.fail("task", "etl.task.id_missing")
        elif self.task_id in seen:
            self.fail("task", "etl.task.id_duplicate", self.task_id, first=seen[self.task_id])
        else:
            seen[self.task_id] = f"{self.sheet}!{self.ref('task')}"
        title = cell_text(self.raw("title")).strip()
        if not title:
            self.fail("title", "etl.task.required", column="任务内容")
        lead = cell_text(self.raw("lead")).strip()
        if not lead:
            self.fail("lead", "etl.task.required", column="牵头单位")
        deadline: date | None = None
        try:
            deadline = parse_date(self.raw("deadline"), allow_ongoing=True)
        except DateFormError:
            self.fail("deadline", "etl.task.deadline_form", self.raw("deadline"))
        progress = PROGRESS_LABELS.get(_label(self.raw("progress")))
        if progress is None:
            self.fail(
                "progress", "etl.task.progress", self.raw("progress"), allowed=" | ".join(PROGRESS_LABELS)
            )
        done_on = self.date_field("done_on", "done")
        if progress == "done" and done_on is None and not cell_text(self.raw("done_on")).strip():
            self.fail("done_on", "etl.task.done_missing")
        updated_on = self.date_field("updated_on", "updated")
        if self.errors or progress is None:
            return None
        return TaskRow(
            task=self.task_id,
            title=title,
            source=cell_text(self.raw("source")).strip(),
            lead=lead,
            owners=[o for o in split_owners(cell_text(self.raw("owners"))) if o != lead],
            deadline=deadline,
            deadline_text=cell_text(self.raw("deadline")).strip(),
            progress=progress,
            done_on=done_on,
            note=cell_text(self.raw("note")).strip(),
            updated_on=updated_on,
            sheet=self.sheet,
            row=self.r + 1,
            cells={name: self.ref(name) for name in self.columns},
        )


# --- writing a ledger to fill in ---------------------------------------------------------------------

HEADER = list(COLUMNS)  # 任务编号 … 更新日期, the order the template uses
SHEET_TITLE = "任务台账"


def write_task_ledger(target: Any, rows: list[dict[str, Any]]) -> None:
    """A layout-C workbook: one row per task (``rows``: header text → value), 进展状态 as a
    drop-down of the three states, 完成时限 and the dates as text people can read and edit."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_TITLE
    ws.append(HEADER)
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDEBF7")
    for row in rows:
        ws.append([row.get(h, "") for h in HEADER])
    widths = {"任务编号": 12, "任务内容": 48, "来源": 16, "牵头单位": 18, "责任单位": 36, "完成时限": 14}
    for i, h in enumerate(HEADER, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = widths.get(h, 14)
    wrap = Alignment(wrap_text=True, vertical="top")
    for line in ws.iter_rows(min_row=2):
        for cell in line:
            cell.alignment = wrap
    progress_col = ws.cell(1, HEADER.index("进展状态") + 1).column_letter
    dv = DataValidation(type="list", formula1='"' + ",".join(PROGRESS_LABELS) + '"', allow_blank=False)
    dv.add(f"{progress_col}2:{progress_col}{max(len(rows) + 1, 2) + 200}")
    ws.add_data_validation(dv)
    ws.freeze_panes = "B2"
    wb.save(target)
