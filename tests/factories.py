"""Test data as code: plain functions writing real .xlsx files with openpyxl.

``make_return`` writes a district return (layout A) independently of ``etl.writers`` so the
reader is not only tested against its own writer. Its default layout is the template's:

    row 1  title (merged A1:F1)
    row 2  填报单位 | 静安区 | 报告期 | 2023-06
    row 3  填报人 | 张三 | 联系电话 | 021-12345678 | 填报日期 | 2023-07-05
    row 5  序号 | 指标代码 | 指标名称 | 计量单位 | 本月数 | 备注
    row 6… one row per monthly measure in catalogue order; 本月数 in column E

so adjudication_accepted is E6, adjudication_closed E7, and so on; tweaks move things around.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from foundation.catalogue import Catalogue, default_catalogue

FIRST_VALUE_ROW = 6


def monthly_codes(catalogue: Catalogue | None = None) -> list[str]:
    return [m.code for m in (catalogue or default_catalogue()).monthly_measures()]


def default_values(catalogue: Catalogue | None = None) -> dict[str, float]:
    """Every monthly measure: ints 1, 2, 3… in catalogue order, decimals 1234.5, 1235.5…"""
    values = {}
    for i, measure in enumerate((catalogue or default_catalogue()).monthly_measures()):
        values[measure.code] = float(i + 1) if measure.dtype == "int" else 1234.5 + i
    return values


def value_row(code: str, catalogue: Catalogue | None = None) -> int:
    """1-based row of a measure's value in the default layout (no offsets)."""
    return FIRST_VALUE_ROW + monthly_codes(catalogue).index(code)


def make_return(
    path: str | Path,
    *,
    unit: Any = "静安区",
    period: Any = "2023-06",
    values: Mapping[str, Any] | None = None,
    raw: Mapping[str, Any] | None = None,
    omit: Iterable[str] = (),
    duplicate: Iterable[str] = (),
    extra_rows: Sequence[tuple[Any, Any, Any]] = (),
    sheet_name: str = "月报",
    offset_rows: int = 0,
    offset_cols: int = 0,
    header_style: str = "next",
    with_code: bool = True,
    with_seq: bool = True,
    meta: Mapping[str, Any] | None = None,
    unit_label: str = "填报单位",
    period_label: str = "报告期",
    rows_before_table: Sequence[Sequence[Any]] = (),
    rows_after_table: Sequence[Sequence[Any]] = (),
    sheets_before: Sequence[str] = (),
    catalogue: Catalogue | None = None,
) -> Path:
    """Write a layout-A return; returns its path.

    values: measure code → number (default ``default_values()``); raw: measure code → cell
    content written as is (text, formula '=…', None for empty); omit: measures left out;
    duplicate: measures written twice; extra_rows: (code, name, value) rows appended.
    header_style: 'next' (label, value in the next cell), 'colon' (填报单位：静安区 in one cell),
    'colon_ascii' (填报单位:静安区), 'gap' (label, an empty cell, then the value).
    unit/period None: the label is written with no value; unit_label/period_label None: no label.
    """
    cat = catalogue or default_catalogue()
    path = Path(path)
    values = default_values(cat) if values is None else dict(values)
    raw = dict(raw or {})
    meta = {"填报人": "张三", "联系电话": "021-12345678", "填报日期": "2023-07-05"} if meta is None else meta
    omit = set(omit)
    wb = Workbook()
    first = wb.active
    for name in sheets_before:
        wb.create_sheet(name).cell(1, 1, f"{name}：本表不是月报")
    ws = wb.create_sheet(sheet_name)
    wb.remove(first)

    r0, c0 = offset_rows, offset_cols

    def put(row: int, col: int, value: Any) -> None:
        ws.cell(row + r0, col + c0, value)

    put(1, 1, "静安区知识产权行政保护工作月报")
    ws.merge_cells(start_row=1 + r0, start_column=1 + c0, end_row=1 + r0, end_column=6 + c0)

    def field(row: int, col: int, label: str | None, value: Any) -> None:
        if label is None:
            return
        if header_style == "next":
            put(row, col, label)
            put(row, col + 1, value)
        elif header_style == "gap":
            put(row, col, label)
            put(row, col + 2, value)
        else:
            colon = "：" if header_style == "colon" else ":"
            put(row, col, f"{label}{colon}{'' if value is None else value}")

    step = 3 if header_style == "gap" else 2
    field(2, 1, unit_label, unit)
    field(2, 1 + step, period_label, period)
    for i, key in enumerate(("填报人", "联系电话", "填报日期")):
        if key in meta:
            field(3, 1 + i * step, key, meta[key])

    row = 4
    for extra in rows_before_table:
        row += 1
        for col, value in enumerate(extra, start=1):
            put(row, col, value)
    row += 1
    header = ["序号", "指标代码", "指标名称", "计量单位", "本月数", "备注"]
    keep = [h for h in header if (with_seq or h != "序号") and (with_code or h != "指标代码")]
    for col, label in enumerate(keep, start=1):
        put(row, col, label)

    measures = [m for m in cat.monthly_measures() if m.code not in omit]
    measures += [cat.measures[c] for c in duplicate]
    for i, measure in enumerate(measures, start=1):
        row += 1
        cells = {
            "序号": i,
            "指标代码": measure.code,
            "指标名称": measure.name_zh,
            "计量单位": measure.unit,
            "本月数": raw[measure.code] if measure.code in raw else values.get(measure.code),
        }
        for col, label in enumerate(keep, start=1):
            if label in cells:
                put(row, col, cells[label])
    for code, name, value in extra_rows:
        row += 1
        cells = {"指标代码": code, "指标名称": name, "本月数": value}
        for col, label in enumerate(keep, start=1):
            if label in cells:
                put(row, col, cells[label])
    for extra in rows_after_table:
        row += 1
        for col, value in enumerate(extra, start=1):
            put(row, col, value)
    wb.save(path)
    return path


def write_grid(path: str | Path, sheets: Mapping[str, Sequence[Sequence[Any]]]) -> Path:
    """A workbook with one sheet per entry, cells written row by row from A1 (None: empty)."""
    path = Path(path)
    wb = Workbook()
    first = wb.active
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(r, c, value)
    wb.remove(first)
    wb.save(path)
    return path


def ledger_rows(
    units: Mapping[str, Mapping[str, Any] | None],
    *,
    measures: Sequence[str] | None = None,
    label: str = "单位",
    header_by: str = "code",
    total: Mapping[str, Any] | None = None,
    catalogue: Catalogue | None = None,
) -> list[list[Any]]:
    """Rows of one ledger sheet: header (单位 + measures), one row per unit, optional 合计 row.

    units: unit label → {measure: value} (None: an all-empty row); header_by: 'code' or 'name'.
    """
    cat = catalogue or default_catalogue()
    codes = list(measures) if measures is not None else monthly_codes(cat)
    heads = [c if header_by == "code" else cat.measures[c].name_zh for c in codes]
    rows: list[list[Any]] = [[label, *heads]]
    for unit_label, values in units.items():
        rows.append([unit_label, *[(values or {}).get(c) for c in codes]])
    if total is not None:
        rows.append(["合计", *[total.get(c) for c in codes]])
    return rows
