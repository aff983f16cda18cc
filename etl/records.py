"""Errors as data: what a reader finds in a file, as records.

Readers never raise on bad input: they collect every problem as an ``Issue`` (file, sheet, cell,
measure, value, reason code, message) and return a ``ParsedFile``. The CLI, the JSON output,
the upload page and the annotated workbook all render from the same records.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal


class Reason(StrEnum):
    # errors: the whole file is rejected
    UNREADABLE = "unreadable"  # corrupt, not Excel, encrypted, too large, expands too far
    ENCRYPTED = "encrypted"
    TOO_LARGE = "too_large"
    TOO_EXPANDED = "too_expanded"
    NOT_EXCEL = "not_excel"
    NO_SHEET = "no_sheet"  # no sheet with the expected layout
    NO_TABLE = "no_table"  # header row of the table not found
    UNKNOWN_UNIT = "unknown_unit"
    UNIT_MISSING = "unit_missing"
    WRONG_UNIT = "wrong_unit"  # a unit uploading for another unit
    PERIOD_MISSING = "period_missing"
    PERIOD_MALFORMED = "period_malformed"
    PERIOD_FUTURE = "period_future"
    PERIOD_LOCKED = "period_locked"
    PERIOD_DUPLICATE = "period_duplicate"  # two ledger sheets for the same period
    MEASURE_MISSING = "measure_missing"
    MEASURE_DUPLICATE = "measure_duplicate"
    UNIT_DUPLICATE = "unit_duplicate"
    NOT_A_NUMBER = "not_a_number"
    NEGATIVE = "negative"
    NOT_WHOLE = "not_whole"
    TOO_MANY_DECIMALS = "too_many_decimals"
    ABOVE_MAX = "above_max"
    FORMULA_NO_VALUE = "formula_no_value"
    TASK_INVALID = "task_invalid"  # a task-ledger (layout C) cell: missing, duplicate, bad date or state
    TASK_NOT_OWNED = "task_not_owned"  # a district's ledger row for a task its unit does not own
    TASK_UNKNOWN = (
        "task_unknown"  # a row for a task in neither the catalogue nor the store, not from an analyst
    )
    # warnings: the file is accepted and the warning stored with it
    BLANK_AS_ZERO = "blank_as_zero"
    TASK_DEFINITION_KEPT = "task_definition_kept"  # a district's row differs in what only analysts edit
    UNKNOWN_ROW = "unknown_row"
    UNKNOWN_COLUMN = "unknown_column"
    UNKNOWN_SHEET = "unknown_sheet"
    CLOSED_ABOVE_OPEN = "closed_above_open"
    WITHDRAWN_ABOVE_NOTIFIED = "withdrawn_above_notified"
    SUCCEEDED_ABOVE_ACCEPTED = "succeeded_above_accepted"
    DISCLOSED_ABOVE_CLOSED = "disclosed_above_closed"
    TOTAL_MISMATCH = "total_mismatch"
    STOCK_JUMP = "stock_jump"
    UNIT_NOT_REPORTED = "unit_not_reported"  # ledger row with every measure cell empty


Severity = Literal["error", "warning"]


@dataclass(frozen=True)
class Issue:
    severity: Severity
    reason: Reason
    message: str  # Chinese, complete: names file, sheet, cell, measure code, value, expectation
    file: str
    sheet: str = ""
    cell: str = ""  # A1 reference, e.g. "E12"; "" when the problem is the whole file or sheet
    measure: str = ""  # measure code
    value: str = ""  # the value found, as text
    unit: str = ""
    period: str = ""

    @property
    def where(self) -> str:
        """``月报!E12`` style location."""
        if self.sheet and self.cell:
            return f"{self.sheet}!{self.cell}"
        return self.sheet

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reason"] = str(self.reason)
        return d


@dataclass
class UnitPeriodValues:
    """One unit's values for one period, as read from a file."""

    unit: str  # unit code
    period: str  # YYYY-MM, or YYYY for annual measures
    values: dict[str, float]  # measure code -> value (blank cells already 0.0)
    blanks: set[str] = field(default_factory=set)  # measure codes whose cell was blank/—/无
    cells: dict[str, tuple[str, str]] = field(default_factory=dict)  # measure -> (sheet, cell)
    notes: dict[str, str] = field(default_factory=dict)  # measure -> the district's 备注 beside it


@dataclass
class ParsedFile:
    file: str  # the file name as the user knows it
    sha256: str
    size_bytes: int
    layout: Literal["A", "B", "C", ""]
    records: list[UnitPeriodValues] = field(default_factory=list)
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)  # layout A header: 填报人, 联系电话, 填报日期
    tasks: list[Any] = field(default_factory=list)  # layout C: etl.task_ledger.TaskRow, one per task
    task_plan: Any = None  # layout C, once checked against the store: etl.task_load.TaskPlan

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def units(self) -> list[str]:
        return sorted({r.unit for r in self.records})

    @property
    def periods(self) -> list[str]:
        return sorted({r.period for r in self.records})
