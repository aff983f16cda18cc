"""Writing the blank return template (layout A) and the consolidated ledger (layout B).

Both are read back by ``etl.readers.read_file`` exactly: a filled template gives the values it
was filled with, and a ledger gives the DataFrame it was written from (DOMAIN.md: export →
import round-trips exactly). Numbers are written as numbers (ints as int), never as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import BinaryIO

import pandas as pd
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Protection, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from etl.cells import cell_text
from foundation.calendar import chinese_month, due_date
from foundation.catalogue import Catalogue, Measure, Unit
from foundation.i18n import t

RETURN_SHEET = "月报"
INSTRUCTIONS_SHEET = "填报说明"
TABLE_HEADER = ("序号", "指标代码", "指标名称", "计量单位", "本月数", "备注")
HEADER_FIELDS = ("填报单位", "报告期", "填报人", "联系电话", "填报日期")

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_INPUT_FILL = PatternFill("solid", fgColor="FFF2CC")
_THIN = Side(style="thin", color="999999")
_BOX = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_CENTER = Alignment(horizontal="center", vertical="center")
_WRAP = Alignment(wrap_text=True, vertical="top")
_UNLOCKED = Protection(locked=False)

# Table position in the template (1-based rows, as openpyxl counts).
_FIRST_TABLE_ROW = 5


def _number_format(measure: Measure) -> str:
    return "#,##0" if measure.dtype == "int" else "#,##0.00"


def _typed(value: float, measure: Measure) -> int | float:
    """Ints as int so Excel shows 12, not 12.0; decimals rounded to the 2 places they may have."""
    return int(round(value)) if measure.dtype == "int" else round(float(value), 2)


def write_return(
    target: str | Path | BinaryIO,
    *,
    unit: Unit,
    period: str,
    catalogue: Catalogue,
    values: Mapping[str, float] | None = None,
    meta: Mapping[str, str] | None = None,
    due_day: int = 10,
) -> None:
    """A layout-A workbook for one unit and month: blank (``values=None``) or filled; its
    instructions name the deadline (``due_day`` of the next month, from the caller's settings)."""
    values = values or {}
    meta = meta or {}
    measures = catalogue.monthly_measures()
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # a new Workbook always has one sheet
    ws.title = RETURN_SHEET
    _fill_return_sheet(ws, unit, period, measures, values, meta)
    _fill_instructions(wb.create_sheet(INSTRUCTIONS_SHEET), unit, period, measures, due_day)
    wb.active = 0
    wb.save(target)


def _fill_return_sheet(
    ws: Worksheet,
    unit: Unit,
    period: str,
    measures: Sequence[Measure],
    values: Mapping[str, float],
    meta: Mapping[str, str],
) -> None:
    ws.merge_cells("A1:F1")
    title = ws.cell(1, 1, t("etl.template.title", unit=unit.name_zh, period=chinese_month(period)))
    title.font = _TITLE
    title.alignment = _CENTER
    ws.row_dimensions[1].height = 28

    # Header fields: label, then its value in the next cell (read back by label, not position).
    header_values = {
        "填报单位": unit.name_zh,
        "报告期": period,
        "填报人": meta.get("填报人", ""),
        "联系电话": meta.get("联系电话", ""),
        "填报日期": meta.get("填报日期", ""),
    }
    layout = {"填报单位": (2, 1), "报告期": (2, 3), "填报人": (3, 1), "联系电话": (3, 3), "填报日期": (3, 5)}
    for label, (row, col) in layout.items():
        ws.cell(row, col, label).font = _BOLD
        cell = ws.cell(row, col + 1, header_values[label] or None)
        cell.protection = _UNLOCKED
        cell.fill = _INPUT_FILL
        cell.number_format = "@"  # 2023-06 must stay text, not turn into a date

    for col, label in enumerate(TABLE_HEADER, start=1):
        cell = ws.cell(_FIRST_TABLE_ROW, col, label)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.border = _BOX
        cell.alignment = _CENTER

    validations: dict[tuple[str, float | None], DataValidation] = {}
    for i, measure in enumerate(measures, start=1):
        row = _FIRST_TABLE_ROW + i
        for col, text in enumerate((i, measure.code, measure.name_zh, measure.unit), start=1):
            cell = ws.cell(row, col, text)
            cell.border = _BOX
        value_cell = ws.cell(row, 5)
        if measure.code in values and values[measure.code] is not None:
            value_cell.value = _typed(values[measure.code], measure)
        value_cell.number_format = _number_format(measure)
        value_cell.protection = _UNLOCKED
        value_cell.fill = _INPUT_FILL
        value_cell.border = _BOX
        note_cell = ws.cell(row, 6)
        note_cell.protection = _UNLOCKED
        note_cell.border = _BOX
        key = (measure.dtype, measure.max)
        if key not in validations:
            validations[key] = _validation(measure)
        validations[key].add(value_cell.coordinate)
    for dv in validations.values():
        ws.add_data_validation(dv)

    for letter, width in zip("ABCDEF", (6, 28, 46, 10, 14, 24), strict=True):
        ws.column_dimensions[letter].width = width
    ws.freeze_panes = ws.cell(_FIRST_TABLE_ROW + 1, 1)
    # No password: protection guards labels against slips, not against a determined user.
    ws.protection.sheet = True
    ws.protection.formatCells = False
    ws.protection.formatColumns = False


def _validation(measure: Measure) -> DataValidation:
    kind = "whole" if measure.dtype == "int" else "decimal"
    expected = t("etl.expect.int") if measure.dtype == "int" else t("etl.expect.decimal")
    if measure.max is not None:
        dv = DataValidation(type=kind, operator="between", formula1="0", formula2=cell_text(measure.max))
        expected += t("etl.expect.max", max=cell_text(measure.max))
    else:
        dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1="0")
    dv.allow_blank = True
    dv.showErrorMessage = True
    dv.errorStyle = "stop"
    dv.errorTitle = t("etl.template.dv_title")
    dv.error = t("etl.template.dv_error", expected=expected)
    dv.showInputMessage = True
    dv.promptTitle = t("etl.template.dv_prompt_title")
    dv.prompt = t("etl.template.dv_prompt", expected=expected)
    return dv


def _fill_instructions(
    ws: Worksheet, unit: Unit, period: str, measures: Sequence[Measure], due_day: int
) -> None:
    due = due_date(period, due_day)
    ws.cell(1, 1, t("etl.template.instructions_title")).font = _TITLE
    lines = [
        t("etl.template.line_unit", unit=unit.name_zh, code=unit.code),
        t("etl.template.line_period", period=chinese_month(period)),
        t("etl.template.line_due", year=due.year, month=due.month, day=due.day),
        t("etl.template.line_fill"),
        t("etl.template.line_numbers"),
        t("etl.template.line_blank"),
        t("etl.template.line_int"),
        t("etl.template.line_decimal"),
        t("etl.template.line_flow_stock"),
        t("etl.template.line_labels"),
        t("etl.template.line_formula"),
    ]
    for i, line in enumerate(lines, start=3):
        cell = ws.cell(i, 1, line)
        cell.alignment = Alignment(wrap_text=False)
    row = len(lines) + 4
    headers = ("指标代码", "指标名称", "类型", "计量单位", "数值要求")
    for col, label in enumerate(headers, start=1):
        cell = ws.cell(row, col, label)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.border = _BOX
    for measure in measures:
        row += 1
        kind = t("etl.template.kind_flow") if measure.kind == "flow" else t("etl.template.kind_stock")
        rule = t("etl.expect.int") if measure.dtype == "int" else t("etl.expect.decimal")
        for col, text in enumerate((measure.code, measure.name_zh, kind, measure.unit, rule), start=1):
            ws.cell(row, col, text).border = _BOX
    for letter, width in zip("ABCDE", (28, 46, 12, 10, 24), strict=True):
        ws.column_dimensions[letter].width = width
    ws.protection.sheet = True


# -- layout B ------------------------------------------------------------------------------------


def write_ledger(
    target: str | Path | BinaryIO,
    values: pd.DataFrame,
    *,
    catalogue: Catalogue,
    units: Sequence[Unit],
) -> None:
    """A layout-B ledger: one sheet per month ('YYYY-MM') and per year of annual values ('YYYY').

    ``values`` has columns unit, period, measure, value (unit and measure codes). Every unit of
    ``units`` gets a row on every sheet; a unit without values for a period gets an empty row,
    which reads back as "not reported". Units found in ``values`` but not in ``units`` are
    appended so that nothing is silently dropped. Measures are labelled by their Chinese name
    (read back by name); a 合计 row holds SUM formulas, which readers ignore when uncalculated
    and check against the units when Excel has calculated them.
    """
    frame = values.loc[:, ["unit", "period", "measure", "value"]].copy()
    frame["unit"] = frame["unit"].astype(str)
    frame["period"] = frame["period"].astype(str)
    frame["measure"] = frame["measure"].astype(str)
    frame = frame[frame["measure"].isin(list(catalogue.measures))]
    frame = frame.dropna(subset=["value"])

    ordered_units = list(units)
    known = {u.code for u in ordered_units}
    for code in sorted(set(frame["unit"]) - known):
        if code in catalogue.units:
            ordered_units.append(catalogue.units[code])
            known.add(code)
    frame = frame[frame["unit"].isin(known)]

    lookup: dict[str, dict[str, dict[str, float]]] = {}
    for unit, period, measure, value in frame.itertuples(index=False, name=None):
        lookup.setdefault(period, {}).setdefault(unit, {})[measure] = float(value)

    months = sorted(p for p in lookup if len(p) == 7)
    years = sorted(p for p in lookup if len(p) == 4)
    wb = Workbook(write_only=True)
    for period in months:
        _ledger_sheet(wb, period, catalogue.monthly_measures(), ordered_units, lookup[period])
    for period in years:
        _ledger_sheet(wb, period, catalogue.annual_measures(), ordered_units, lookup[period])
    if not months and not years:
        # An empty export is still a valid workbook; it reads back as "no table" with a reason.
        wb.create_sheet(t("etl.ledger.empty_sheet"))
    wb.save(target)


def _ledger_sheet(
    wb: Workbook,
    period: str,
    measures: Sequence[Measure],
    units: Sequence[Unit],
    by_unit: Mapping[str, Mapping[str, float]],
) -> None:
    ws = wb.create_sheet(period)
    ws.freeze_panes = "B2"
    ws.column_dimensions["A"].width = 16
    for i in range(len(measures)):
        ws.column_dimensions[get_column_letter(i + 2)].width = 18

    def header_cell(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = _BOLD
        cell.fill = _HEAD_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        return cell

    ws.append([header_cell("单位")] + [header_cell(m.name_zh) for m in measures])
    formats = [_number_format(m) for m in measures]
    for unit in units:
        reported = by_unit.get(unit.code, {})
        row: list[object] = [unit.name_zh]
        for measure, fmt in zip(measures, formats, strict=True):
            if measure.code in reported:
                cell = WriteOnlyCell(ws, value=_typed(reported[measure.code], measure))
                cell.number_format = fmt
                row.append(cell)
            else:
                row.append(None)
        ws.append(row)
    if any(m.unit == "分" for m in measures):
        return  # scores are averaged, not summed: a 合计 row would mislead
    last = len(units) + 1
    total: list[object] = [header_cell("合计")]
    for i in range(len(measures)):
        col = get_column_letter(i + 2)
        total.append(f"=SUM({col}2:{col}{last})")
    ws.append(total)
