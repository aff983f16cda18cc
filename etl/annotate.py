"""The rejected file, handed back: the same workbook with every offending cell highlighted and
commented, and a last sheet listing every problem (also those that name no cell).

Rendered from the same ``Issue`` records as the CLI and the upload page. ``.xlsx``/``.xlsm`` are
edited with openpyxl (macros are dropped, never run: the result is always ``.xlsx``). Legacy
``.xls`` cannot be edited by openpyxl, so its values are copied by python-calamine into a fresh
``.xlsx`` at the same sheet names and cell positions (formatting is lost), and the list sheet says
so. Files that are not a readable workbook at all (corrupt, encrypted) cannot be annotated:
``AnnotateError``.
"""

from __future__ import annotations

import io
from collections import defaultdict
from pathlib import PurePath

from openpyxl import Workbook, load_workbook
from openpyxl.cell.cell import MergedCell
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils.cell import coordinate_from_string
from openpyxl.worksheet.worksheet import Worksheet

from etl.records import Issue
from foundation.i18n import t

ERROR_FILL = PatternFill("solid", fgColor="FFC7CE")
WARNING_FILL = PatternFill("solid", fgColor="FFEB9C")
AUTHOR = "ipdash"
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


class AnnotateError(ValueError):
    """The file is not a workbook that can be opened (corrupt, encrypted, not Excel)."""


def annotated_name(file_name: str) -> str:
    return f"{PurePath(file_name).stem}{t('dash.annotate.suffix')}.xlsx"


def annotate_workbook(content: bytes, file_name: str, issues: list[Issue]) -> tuple[bytes, str]:
    """The annotated workbook's bytes and its file name (``<name>_标注.xlsx``).

    The bytes pass the same gate as an upload first (size, container, encryption, zip bomb,
    sheet extent): a file the upload refused is never opened here either."""
    from etl.safety import load_source

    gate = load_source(content, file_name=file_name)
    if not gate.ok:
        raise AnnotateError(gate.issues[0].message)
    converted = False
    try:
        if content.startswith(ZIP_MAGIC):
            wb = load_workbook(io.BytesIO(content), keep_vba=False, keep_links=False)
        elif content.startswith(OLE_MAGIC):
            wb = _from_xls(content)
            converted = True
        else:
            raise AnnotateError(t("dash.annotate.unreadable", file=file_name))
    except AnnotateError:
        raise
    except Exception as exc:  # encrypted, corrupt: openpyxl and calamine raise many kinds
        raise AnnotateError(t("dash.annotate.unreadable", file=file_name)) from exc

    by_cell: dict[tuple[str, str], list[Issue]] = defaultdict(list)
    for issue in issues:
        if issue.sheet and issue.cell and issue.sheet in wb.sheetnames:
            by_cell[(issue.sheet, issue.cell)].append(issue)
    for (sheet, ref), found in by_cell.items():
        _mark(wb[sheet], ref, found)
    _issue_sheet(wb, file_name, issues, converted)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), annotated_name(file_name)


def _from_xls(content: bytes) -> Workbook:
    from python_calamine import CalamineWorkbook

    source = CalamineWorkbook.from_filelike(io.BytesIO(content))
    wb = Workbook()
    first = wb.active
    for name in source.sheet_names:
        ws = wb.create_sheet(title=name)
        # skip_empty_area=False keeps A1 at the origin, so cell references stay the same.
        for r, row in enumerate(source.get_sheet_by_name(name).to_python(skip_empty_area=False), start=1):
            for c, value in enumerate(row, start=1):
                if value != "" and value is not None:
                    ws.cell(row=r, column=c, value=value)
    if first is not None and len(wb.sheetnames) > 1:
        wb.remove(first)
    return wb


def _mark(ws: Worksheet, ref: str, issues: list[Issue]) -> None:
    try:
        coordinate_from_string(ref)
    except ValueError:
        return  # not a cell reference: listed on the issues sheet only
    cell = ws[ref]
    if isinstance(cell, MergedCell):  # comments and fills live on a merged range's top-left cell
        for merged in ws.merged_cells.ranges:
            if ref in merged:
                cell = ws.cell(row=merged.min_row, column=merged.min_col)
                break
    has_error = any(i.severity == "error" for i in issues)
    cell.fill = ERROR_FILL if has_error else WARNING_FILL
    text = "\n".join(
        f"[{t('dash.annotate.error') if i.severity == 'error' else t('dash.annotate.warning')}] {i.message}"
        for i in issues
    )
    if cell.comment is not None and cell.comment.text:
        text = cell.comment.text + "\n" + text
    comment = Comment(text, AUTHOR)
    comment.width, comment.height = 360, 40 + 60 * len(issues)
    cell.comment = comment


def _issue_sheet(wb: Workbook, file_name: str, issues: list[Issue], converted: bool) -> None:
    title = t("dash.annotate.sheet")
    while title in wb.sheetnames:
        title += "_"
    ws = wb.create_sheet(title=title)
    ws.append([t("dash.annotate.heading", file=file_name)])
    ws["A1"].font = Font(bold=True, size=13)
    if converted:
        ws.append([t("dash.annotate.converted")])
    ws.append([])
    ws.append(
        [
            t("dash.annotate.col_severity"),
            t("dash.annotate.col_where"),
            t("dash.annotate.col_measure"),
            t("dash.annotate.col_value"),
            t("dash.annotate.col_message"),
        ]
    )
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for i in issues:
        ws.append(
            [
                t("dash.annotate.error") if i.severity == "error" else t("dash.annotate.warning"),
                i.where,
                i.measure,
                i.value,
                i.message,
            ]
        )
        ws.cell(row=ws.max_row, column=1).fill = ERROR_FILL if i.severity == "error" else WARNING_FILL
    for col, width in zip("ABCDE", (8, 14, 28, 14, 90), strict=True):
        ws.column_dimensions[col].width = width
