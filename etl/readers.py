"""Reading a district return (layout A) or a consolidated ledger (layout B) into records.

``read_file`` never raises on bad input: every problem becomes an ``Issue`` (DOMAIN.md
"Validation"), all of them are collected, and the caller writes nothing when any is an error.

Things are found by their labels, never by fixed positions (DOMAIN.md "Files people bring"):
the return's sheet is the one holding a ``指标代码/指标名称 … 本月数`` header row, whatever it
is called; header fields are ``label：value`` in one cell or a label and the next non-empty cell
to its right; ledger sheets are named by period and their header row starts with
``单位``/``填报单位``/``地区``.

Grids come from python-calamine with ``skip_empty_area=False`` so that row/column indexes are
those of the original sheet (A1 = [0][0]) and the cell references in messages match Excel.

Decisions written down:
- An annual measure (satisfaction_score) in a monthly return is not read: it is set by the city
  per year, so the row gets an UNKNOWN_ROW warning saying so.
- Blank cells are listed in one BLANK_AS_ZERO warning per unit and period (not one per cell);
  the cells themselves are in ``UnitPeriodValues.blanks``/``cells``.
- A ledger row whose measure cells are all truly empty is "not reported" (skipped, warned);
  a row of `—` is an explicit zero and is read.
- Two ledger sheets naming the same period are an error (PERIOD_DUPLICATE): which would win?
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

from python_calamine import CalamineWorkbook, SheetTypeEnum

from etl.cells import (
    VALUE_CEILING,
    CellKind,
    a1,
    cell_text,
    clean_value,
    fold,
    parse_date_text,
    parse_number,
    parse_period,
    parse_year,
    value_problem,
)
from etl.formulas import FormulaIndex
from etl.issues import error, warning
from etl.records import Issue, ParsedFile, Reason, UnitPeriodValues
from etl.safety import Gate, check_grid_size, load_source
from etl.task_ledger import is_task_ledger, read_task_sheets
from etl.units import UnitMatcher, describe_unit
from foundation.calendar import current_month
from foundation.calendar import today as calendar_today
from foundation.catalogue import Catalogue, Measure, Unit, default_catalogue, normalise_label
from foundation.i18n import t
from foundation.settings import BUILT_IN, Settings

Grid = list[list[Any]]

# A 备注 is kept up to this many characters (store.models.MeasureNote).
NOTE_MAX = 500
# Layout A table header: normalised label → column role.
_RETURN_COLUMNS = {
    "序号": "seq",
    "指标代码": "code",
    "代码": "code",
    "指标编码": "code",
    "指标编号": "code",
    "指标名称": "name",
    "指标": "name",
    "项目": "name",
    "计量单位": "uom",
    "单位": "uom",
    "本月数": "value",
    "本月": "value",
    "本月值": "value",
    "本月数值": "value",
    "本期数": "value",
    "备注": "note",
    "说明": "note",
}

# Layout A header fields: normalised label → meta key.
_META_LABELS = {
    "填报单位": "unit",
    "报送单位": "unit",
    "单位名称": "unit",
    "报告期": "period",
    "报告期间": "period",
    "报告月份": "period",
    "统计期": "period",
    "统计月份": "period",
    "所属期": "period",
    "填报人": "填报人",
    "联系人": "填报人",
    "联系电话": "联系电话",
    "电话": "联系电话",
    "填报日期": "填报日期",
    "报送日期": "填报日期",
}

_LEDGER_UNIT_HEADERS = frozenset({"单位", "填报单位", "地区", "单位名称", "区", "区县"})
_LEDGER_SKIP_HEADERS = frozenset({"序号", "备注", "说明", "单位代码", "代码", "行政区划代码"})
_TOTAL_LABELS = frozenset({"合计", "总计", "全市", "全市合计", "合计数", "全省", "全省合计"})
# Free text people put under a table; never data.
_NOTE_PREFIXES = (
    "注",
    "说明",
    "备注",
    "填表",
    "填报人",
    "制表",
    "审核",
    "负责人",
    "单位负责人",
    "统计负责人",
)
_PAREN_SUFFIX = re.compile(r"\([^()]*\)$")

_TOTAL_TOLERANCE = 0.005


@dataclass
class _Context:
    file: str
    catalogue: Catalogue
    matcher: UnitMatcher
    as_unit: Unit | None
    current_month: str  # YYYY-MM, Asia/Shanghai
    today: date  # in the settings' time zone: no completion date after it (task ledgers)
    formulas: FormulaIndex | None  # None: not an .xlsx/.xlsm, no formula scan
    parsed: ParsedFile
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def is_formula(self, sheet: str, ref: str) -> bool:
        return self.formulas is not None and self.formulas.is_formula(sheet, ref)


def read_file(
    source: str | Path | bytes,
    *,
    file_name: str | None = None,
    catalogue: Catalogue | None = None,
    region: str | None = None,
    as_unit: str | None = None,
    today: date | None = None,
    settings: Settings = BUILT_IN,
) -> ParsedFile:
    """Read and validate one uploaded workbook (layout A or B) into a ``ParsedFile``.

    ``as_unit``: the unit code of the uploader; a file for any other unit is an error.
    ``today``: the date in the settings' time zone used to refuse future periods (tests pass one).
    ``settings``: file limits and time zone, from the caller's edge.
    """
    cat = catalogue or default_catalogue()
    if file_name is None:
        file_name = t("etl.unnamed_file") if isinstance(source, bytes | bytearray) else Path(source).name
    gate = load_source(source, file_name=file_name, settings=settings)
    parsed = ParsedFile(
        file=file_name,
        sha256=hashlib.sha256(gate.data).hexdigest() if gate.data else "",
        size_bytes=gate.size,
        layout="",
    )
    if not gate.ok:
        parsed.errors.extend(gate.issues)
        return parsed

    matcher = UnitMatcher(cat, region)
    ctx = _Context(
        file=file_name,
        catalogue=cat,
        matcher=matcher,
        as_unit=None,
        current_month=current_month(settings.timezone, on=today),
        today=today or calendar_today(settings.timezone),
        formulas=FormulaIndex(gate.scans) if gate.scans is not None else None,
        parsed=parsed,
    )
    if as_unit is not None:
        ctx.as_unit = cat.units.get(as_unit) or matcher.match(as_unit)
        if ctx.as_unit is None:
            ctx.errors.append(
                error(
                    Reason.UNKNOWN_UNIT,
                    "etl.unknown_uploader",
                    file=file_name,
                    value=as_unit,
                    closest=matcher.closest_text(as_unit),
                )
            )

    sheets = _read_sheets(gate, ctx)
    if sheets is not None:
        _dispatch(sheets, ctx)
    parsed.errors.extend(ctx.errors)
    parsed.warnings.extend(ctx.warnings)
    return parsed


def _read_sheets(gate: Gate, ctx: _Context) -> list[tuple[str, Grid]] | None:
    """Every worksheet as a grid anchored at A1; None (with an error) if the workbook breaks."""
    try:
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(gate.workbook))
    except Exception as exc:  # calamine raises its own errors, ValueError, OSError…
        ctx.errors.append(error(Reason.UNREADABLE, "etl.unreadable", file=ctx.file, detail=_detail(exc)))
        return None
    sheets: list[tuple[str, Grid]] = []
    try:
        with workbook:
            for meta in workbook.sheets_metadata:
                if meta.typ != SheetTypeEnum.WorkSheet:
                    continue  # chart and macro sheets hold no cells to read
                sheet = workbook.get_sheet_by_name(meta.name)
                end = sheet.end
                if end is not None:
                    too_big = check_grid_size(end[0] + 1, end[1] + 1, file_name=ctx.file)
                    if too_big is not None:
                        ctx.errors.append(too_big)
                        return None
                grid = sheet.to_python(skip_empty_area=False)
                sheets.append((meta.name, grid))
    except Exception as exc:  # a damaged sheet part: the whole file is unreadable
        ctx.errors.append(error(Reason.UNREADABLE, "etl.unreadable", file=ctx.file, detail=_detail(exc)))
        return None
    return sheets


def _detail(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"{exc.__class__.__name__}: {text}"[:200] if text else exc.__class__.__name__


def _dispatch(sheets: list[tuple[str, Grid]], ctx: _Context) -> None:
    if is_task_ledger(sheets):
        ctx.parsed.layout = "C"
        rows, errors, warnings = read_task_sheets(sheets, file=ctx.file, today=ctx.today)
        ctx.parsed.tasks.extend(rows)
        ctx.errors.extend(errors)
        ctx.warnings.extend(warnings)
        return
    returns = [(name, grid, header) for name, grid in sheets if (header := _find_return_header(grid))]
    if returns:
        ctx.parsed.layout = "A"
        name, grid, header = returns[0]
        for other, _, _ in returns[1:]:
            ctx.warnings.append(
                warning(
                    Reason.UNKNOWN_SHEET, "etl.extra_return_sheet", file=ctx.file, sheet=other, first=name
                )
            )
        _read_return(name, grid, header, ctx)
        return

    ledger: list[tuple[str, Grid, str]] = []
    misnamed: list[str] = []
    others: list[str] = []
    for name, grid in sheets:
        period = parse_period(name) or parse_year(name)
        if period:
            ledger.append((name, grid, period))
        elif _find_ledger_header(grid) is not None:
            misnamed.append(name)
        else:
            others.append(name)
    if not ledger:
        if misnamed:
            for name in misnamed:
                ctx.errors.append(
                    error(
                        Reason.PERIOD_MALFORMED,
                        "etl.ledger_sheet_name",
                        file=ctx.file,
                        sheet=name,
                        value=name,
                    )
                )
        else:
            names = "、".join(f"「{name}」" for name, _ in sheets)
            ctx.errors.append(error(Reason.NO_SHEET, "etl.no_sheet", file=ctx.file, sheets=names))
        return
    ctx.parsed.layout = "B"
    own = _own_non_data_sheets()
    for name in [n for n in misnamed + others if n not in own]:
        ctx.warnings.append(warning(Reason.UNKNOWN_SHEET, "etl.unknown_sheet", file=ctx.file, sheet=name))
    seen: dict[str, str] = {}
    for name, grid, period in ledger:
        if period in seen:
            ctx.errors.append(
                error(
                    Reason.PERIOD_DUPLICATE,
                    "etl.period_duplicate",
                    file=ctx.file,
                    sheet=name,
                    period=period,
                    first=seen[period],
                )
            )
            continue
        seen[period] = name
        _read_ledger_sheet(name, grid, period, ctx)


# -- shared helpers ------------------------------------------------------------------------------


def _own_non_data_sheets() -> set[str]:
    """Sheets the project itself writes beside the period sheets (the template's instructions,
    the assessment workbook's ranking, detail, notes...). Re-importing an export reads its period
    sheets; these carry no values and are not "unknown" to us, so they raise no warning."""
    from etl.writers import INSTRUCTIONS_SHEET
    from foundation.sheets import assessment_sheet_names

    return assessment_sheet_names() | {INSTRUCTIONS_SHEET}


def _label(raw: object) -> str:
    """A header cell as a matching key: NFKC, no spaces, trailing colon dropped."""
    if not isinstance(raw, str) or not raw:
        return ""
    return normalise_label(raw).rstrip(":")


def _measure_for(label: object, catalogue: Catalogue) -> Measure | None:
    """A measure by code or Chinese name; '受理数（件）' also matches without its unit suffix."""
    if not isinstance(label, str) or not label.strip():
        return None
    found = catalogue.measure_by_label(label)
    if found is None:
        key = normalise_label(label)
        stripped = _PAREN_SUFFIX.sub("", key)
        if stripped != key:
            found = catalogue.measure_by_label(stripped)
    return found


def _expected(measure: Measure) -> str:
    text = t("etl.expect.int") if measure.dtype == "int" else t("etl.expect.decimal")
    if measure.max is not None:
        text += t("etl.expect.max", max=cell_text(measure.max))
    return text


_PROBLEM_KEYS = {
    Reason.NEGATIVE: "etl.negative",
    Reason.NOT_WHOLE: "etl.not_whole",
    Reason.TOO_MANY_DECIMALS: "etl.too_many_decimals",
    Reason.ABOVE_MAX: "etl.above_max",
}


def _max_text(measure: Measure) -> str:
    return cell_text(measure.max) if measure.max is not None else f"{int(VALUE_CEILING):d}"


def _read_value(
    raw: object,
    measure: Measure,
    sheet: str,
    row: int,
    col: int,
    record: UnitPeriodValues,
    ctx: _Context,
) -> bool:
    """Put one cell's value into the record; False (with an error) when it breaks a rule."""
    ref = a1(row, col)
    cell = parse_number(raw)

    def common() -> dict[str, Any]:  # the fields of an error message (built only for an error)
        return {
            "file": ctx.file,
            "sheet": sheet,
            "cell": ref,
            "measure": measure,
            "value": cell.text,
            "unit": record.unit,
            "period": record.period,
            "expected": _expected(measure),
        }

    excel_error = (
        ctx.formulas.error_value(sheet, ref) if ctx.formulas and cell.kind == CellKind.EMPTY else None
    )
    if excel_error is not None:
        fields = common() | {"value": excel_error or "#ERROR"}
        ctx.errors.append(error(Reason.NOT_A_NUMBER, "etl.error_cell", **fields))
        return False
    if cell.kind == CellKind.EMPTY and ctx.is_formula(sheet, ref):
        ctx.errors.append(error(Reason.FORMULA_NO_VALUE, "etl.formula_no_value", **common()))
        return False
    record.cells[measure.code] = (sheet, ref)
    if cell.is_blank:
        record.values[measure.code] = 0.0
        record.blanks.add(measure.code)
        return True
    if cell.kind == CellKind.BAD:
        ctx.errors.append(error(Reason.NOT_A_NUMBER, "etl.not_a_number", **common()))
        return False
    problem = value_problem(cell.value, measure)
    if problem is not None:
        ctx.errors.append(error(problem, _PROBLEM_KEYS[problem], max=_max_text(measure), **common()))
        return False
    record.values[measure.code] = clean_value(cell.value, measure)
    return True


def _blank_warning(record: UnitPeriodValues, raw_by_measure: dict[str, str], ctx: _Context) -> None:
    if not record.blanks:
        return
    measures = ctx.catalogue.measures
    order = {code: i for i, code in enumerate(measures)}
    parts = []
    sheet = ""
    for code in sorted(record.blanks, key=lambda c: order.get(c, 0)):
        sheet, ref = record.cells[code]
        raw = raw_by_measure.get(code, "")
        parts.append(
            t(
                "etl.blank_item",
                cell=ref,
                code=code,
                name=measures[code].name_zh,
                value=raw if raw else t("etl.empty_cell"),
            )
        )
    ctx.warnings.append(
        warning(
            Reason.BLANK_AS_ZERO,
            "etl.blank_as_zero",
            file=ctx.file,
            sheet=sheet,
            unit=record.unit,
            period=record.period,
            count=len(parts),
            cells="、".join(parts),
            unit_name=describe_unit(ctx.catalogue.units[record.unit]),
        )
    )


def _check_future(period: str, ctx: _Context) -> bool:
    """True when the period is after the current month (a year: after the current year)."""
    if len(period) == 4:
        return period > ctx.current_month[:4]
    return period > ctx.current_month


# -- layout A: one district, one month -------------------------------------------------------------


@dataclass
class _ReturnHeader:
    row: int
    columns: dict[str, int]  # role → column index


@lru_cache(maxsize=8192)
def _column_role(raw: str) -> str | None:
    """The column a header text names (``本月数（件）`` → value), None for any other text.
    Cached: every cell of every sheet is looked at, and the same texts recur in every file."""
    key = _label(raw)
    if not key:
        return None
    return _RETURN_COLUMNS.get(key) or _RETURN_COLUMNS.get(_PAREN_SUFFIX.sub("", key))


def _find_return_header(grid: Grid) -> _ReturnHeader | None:
    for r, row in enumerate(grid):
        columns: dict[str, int] = {}
        for c, raw in enumerate(row):
            if not isinstance(raw, str) or not raw:
                continue
            role = _column_role(raw)
            if role and role not in columns:
                columns[role] = c
        if "value" in columns and ("code" in columns or "name" in columns):
            return _ReturnHeader(r, columns)
    return None


@dataclass
class _Found:
    raw: Any
    row: int
    col: int


def _header_fields(grid: Grid, skip_row: int) -> tuple[dict[str, _Found], dict[str, _Found]]:
    """Header fields (label → value) anywhere on the sheet except the table header row.

    Returns (values, labels): where each value was found, and where its label is.
    """
    values: dict[str, _Found] = {}
    labels: dict[str, _Found] = {}
    for r, row in enumerate(grid):
        if r == skip_row:
            continue
        for c, raw in enumerate(row):
            if not isinstance(raw, str) or not raw:
                continue
            key, sep, after = _meta_parts(raw)
            if key is None or key in labels:
                continue
            labels[key] = _Found(raw, r, c)
            if sep and after:
                # Keep the original text (spaces inside a phone number or name survive).
                original_after = re.split(r"[:：]", raw, maxsplit=1)[1].strip()
                values[key] = _Found(original_after, r, c)
                continue
            for c2 in range(c + 1, len(row)):
                right = row[c2]
                if right == "" or right is None:
                    continue
                if isinstance(right, str) and _meta_parts(right)[0]:
                    break  # the next label: this field was left empty
                values[key] = _Found(right, r, c2)
                break
    return values, labels


@lru_cache(maxsize=8192)
def _meta_parts(raw: str) -> tuple[str | None, str, str]:
    """A cell's text folded and split at its first colon: (header field it labels or None, the
    colon, what follows). Cached: the same texts recur in every file of a batch."""
    label, sep, after = fold(raw).partition(":")
    return _meta_key(label), sep, after


def _meta_key(label: str) -> str | None:
    """填报单位, and 填报单位（盖章） too."""
    return _META_LABELS.get(label) or _META_LABELS.get(_PAREN_SUFFIX.sub("", label))


def _read_return(sheet: str, grid: Grid, header: _ReturnHeader, ctx: _Context) -> None:
    values, labels = _header_fields(grid, header.row)
    unit = _return_unit(sheet, values, labels, ctx)
    period = _return_period(sheet, values, labels, ctx)
    for key in ("填报人", "联系电话"):
        if key in values:
            ctx.parsed.meta[key] = cell_text(values[key].raw)
    if "填报日期" in values:
        ctx.parsed.meta["填报日期"] = parse_date_text(values["填报日期"].raw)

    record = UnitPeriodValues(unit=unit.code if unit else "", period=period or "", values={})
    raw_by_measure: dict[str, str] = {}
    seen: dict[str, str] = {}  # measure → first cell
    cols = header.columns
    value_col = cols["value"]
    meta_rows = {found.row for found in labels.values()}
    for r in range(header.row + 1, len(grid)):
        row = grid[r]
        if r in meta_rows:
            continue
        code_raw = row[cols["code"]] if "code" in cols and cols["code"] < len(row) else ""
        name_raw = row[cols["name"]] if "name" in cols and cols["name"] < len(row) else ""
        value_raw = row[value_col] if value_col < len(row) else ""
        if _is_empty(code_raw) and _is_empty(name_raw):
            if not _is_empty(value_raw):
                ctx.warnings.append(
                    warning(
                        Reason.UNKNOWN_ROW,
                        "etl.value_without_measure",
                        file=ctx.file,
                        sheet=sheet,
                        cell=a1(r, value_col),
                        value=cell_text(value_raw),
                    )
                )
            continue
        first_text = next((cell_text(x) for x in row if not _is_empty(x)), "")
        if _is_note(first_text):
            continue  # 注：… / 单位负责人：… under or inside the table
        measure = _measure_for(code_raw, ctx.catalogue) or _measure_for(name_raw, ctx.catalogue)
        label_col = cols["code"] if "code" in cols and not _is_empty(code_raw) else cols["name"]
        if measure is None:
            label = cell_text(code_raw) or cell_text(name_raw)
            if _is_note(label) or normalise_label(label) in _TOTAL_LABELS:
                continue
            ctx.warnings.append(
                warning(
                    Reason.UNKNOWN_ROW,
                    "etl.unknown_row",
                    file=ctx.file,
                    sheet=sheet,
                    cell=a1(r, label_col),
                    value=" ".join(x for x in (cell_text(code_raw), cell_text(name_raw)) if x),
                )
            )
            continue
        if not measure.monthly:
            ctx.warnings.append(
                warning(
                    Reason.UNKNOWN_ROW,
                    "etl.annual_in_return",
                    file=ctx.file,
                    sheet=sheet,
                    cell=a1(r, label_col),
                    measure=measure,
                    value=cell_text(value_raw),
                )
            )
            continue
        ref = a1(r, value_col)
        if measure.code in seen:
            ctx.errors.append(
                error(
                    Reason.MEASURE_DUPLICATE,
                    "etl.measure_duplicate",
                    file=ctx.file,
                    sheet=sheet,
                    cell=ref,
                    measure=measure,
                    value=cell_text(value_raw),
                    first=seen[measure.code],
                )
            )
            continue
        seen[measure.code] = ref
        raw_by_measure[measure.code] = cell_text(value_raw)
        if "note" in cols and cols["note"] < len(row) and not _is_empty(row[cols["note"]]):
            record.notes[measure.code] = cell_text(row[cols["note"]])[:NOTE_MAX]
        _read_value(value_raw, measure, sheet, r, value_col, record, ctx)

    for measure in ctx.catalogue.monthly_measures():
        if measure.code not in seen:
            ctx.errors.append(
                error(
                    Reason.MEASURE_MISSING,
                    "etl.measure_missing",
                    file=ctx.file,
                    sheet=sheet,
                    measure=measure,
                    unit=record.unit,
                    period=record.period,
                )
            )
    if unit is not None and period is not None:
        _blank_warning(record, raw_by_measure, ctx)
        ctx.parsed.records.append(record)


def _return_unit(
    sheet: str, values: dict[str, _Found], labels: dict[str, _Found], ctx: _Context
) -> Unit | None:
    found = values.get("unit")
    if found is None:
        label = labels.get("unit")
        ctx.errors.append(
            error(
                Reason.UNIT_MISSING,
                "etl.unit_missing",
                file=ctx.file,
                sheet=sheet,
                cell=a1(label.row, label.col) if label else "",
            )
        )
        return None
    ref = a1(found.row, found.col)
    unit = ctx.matcher.match(found.raw)
    if unit is None:
        ctx.errors.append(
            error(
                Reason.UNKNOWN_UNIT,
                "etl.unknown_unit",
                file=ctx.file,
                sheet=sheet,
                cell=ref,
                value=cell_text(found.raw),
                closest=ctx.matcher.closest_text(found.raw),
            )
        )
        return None
    if ctx.as_unit is not None and unit.code != ctx.as_unit.code:
        ctx.errors.append(
            error(
                Reason.WRONG_UNIT,
                "etl.wrong_unit",
                file=ctx.file,
                sheet=sheet,
                cell=ref,
                value=cell_text(found.raw),
                unit=unit.code,
                found=describe_unit(unit),
                expected=describe_unit(ctx.as_unit),
            )
        )
    return unit


def _return_period(
    sheet: str, values: dict[str, _Found], labels: dict[str, _Found], ctx: _Context
) -> str | None:
    found = values.get("period")
    if found is None:
        label = labels.get("period")
        ctx.errors.append(
            error(
                Reason.PERIOD_MISSING,
                "etl.period_missing",
                file=ctx.file,
                sheet=sheet,
                cell=a1(label.row, label.col) if label else "",
            )
        )
        return None
    ref = a1(found.row, found.col)
    period = parse_period(found.raw)
    if period is None:
        ctx.errors.append(
            error(
                Reason.PERIOD_MALFORMED,
                "etl.period_malformed",
                file=ctx.file,
                sheet=sheet,
                cell=ref,
                value=cell_text(found.raw),
            )
        )
        return None
    if _check_future(period, ctx):
        ctx.errors.append(
            error(
                Reason.PERIOD_FUTURE,
                "etl.period_future",
                file=ctx.file,
                sheet=sheet,
                cell=ref,
                value=cell_text(found.raw),
                period=period,
                current=ctx.current_month,
            )
        )
        return None
    return period


def _is_empty(raw: object) -> bool:
    return raw is None or (isinstance(raw, str) and not raw.strip())


def _is_note(label: str) -> bool:
    return normalise_label(label).startswith(_NOTE_PREFIXES)


# -- layout B: many units, one sheet per period ------------------------------------------------------


def _find_ledger_header(grid: Grid) -> tuple[int, int] | None:
    """(row, unit column) of the header row: its first label (after 序号) is 单位/填报单位/地区."""
    for r, row in enumerate(grid):
        for c, raw in enumerate(row):
            if _is_empty(raw):
                continue
            key = _label(raw) if isinstance(raw, str) else ""
            if key == "序号":
                continue
            if key in _LEDGER_UNIT_HEADERS:
                return r, c
            break  # the first label of this row is something else: not the header
    return None


def _read_ledger_sheet(sheet: str, grid: Grid, period: str, ctx: _Context) -> None:
    annual = len(period) == 4
    if not any(not _is_empty(raw) for row in grid for raw in row):
        ctx.warnings.append(warning(Reason.UNKNOWN_SHEET, "etl.empty_sheet", file=ctx.file, sheet=sheet))
        return
    found = _find_ledger_header(grid)
    if found is None:
        ctx.errors.append(error(Reason.NO_TABLE, "etl.no_ledger_header", file=ctx.file, sheet=sheet))
        return
    header_row, unit_col = found
    future = _check_future(period, ctx)
    if future:
        ctx.errors.append(
            error(
                Reason.PERIOD_FUTURE,
                "etl.sheet_period_future",
                file=ctx.file,
                sheet=sheet,
                value=sheet,
                period=period,
                current=ctx.current_month[:4] if annual else ctx.current_month,
            )
        )

    columns = _ledger_columns(sheet, grid[header_row], header_row, unit_col, annual, ctx)
    required = ctx.catalogue.annual_measures() if annual else ctx.catalogue.monthly_measures()
    present = {m.code for _, m in columns}
    for measure in required:
        if measure.code not in present:
            ctx.errors.append(
                error(
                    Reason.MEASURE_MISSING,
                    "etl.measure_missing_column",
                    file=ctx.file,
                    sheet=sheet,
                    measure=measure,
                    period=period,
                )
            )

    seen_units: dict[str, str] = {}
    totals: list[tuple[int, list[Any]]] = []
    records: list[UnitPeriodValues] = []
    for r in range(header_row + 1, len(grid)):
        row = grid[r]
        label_raw = row[unit_col] if unit_col < len(row) else ""
        cells = [(c, m, row[c] if c < len(row) else "") for c, m in columns]
        if _is_empty(label_raw):
            if any(not _is_empty(raw) for _, _, raw in cells):
                ctx.warnings.append(
                    warning(
                        Reason.UNKNOWN_ROW,
                        "etl.row_without_unit",
                        file=ctx.file,
                        sheet=sheet,
                        cell=a1(r, unit_col),
                    )
                )
            continue
        label = cell_text(label_raw)
        key = normalise_label(label)
        if key in _TOTAL_LABELS:
            totals.append((r, row))
            continue
        if _is_note(label):
            continue
        ref = a1(r, unit_col)
        unit = ctx.matcher.match(label_raw)
        if unit is None:
            ctx.errors.append(
                error(
                    Reason.UNKNOWN_UNIT,
                    "etl.unknown_unit",
                    file=ctx.file,
                    sheet=sheet,
                    cell=ref,
                    value=label,
                    period=period,
                    closest=ctx.matcher.closest_text(label_raw),
                )
            )
            continue
        if unit.code in seen_units:
            ctx.errors.append(
                error(
                    Reason.UNIT_DUPLICATE,
                    "etl.unit_duplicate",
                    file=ctx.file,
                    sheet=sheet,
                    cell=ref,
                    value=label,
                    unit=unit.code,
                    period=period,
                    unit_name=describe_unit(unit),
                    first=seen_units[unit.code],
                )
            )
            continue
        seen_units[unit.code] = ref
        if ctx.as_unit is not None and unit.code != ctx.as_unit.code:
            ctx.errors.append(
                error(
                    Reason.WRONG_UNIT,
                    "etl.wrong_unit",
                    file=ctx.file,
                    sheet=sheet,
                    cell=ref,
                    value=label,
                    unit=unit.code,
                    period=period,
                    found=describe_unit(unit),
                    expected=describe_unit(ctx.as_unit),
                )
            )
            continue
        if cells and all(raw == "" or raw is None for _, _, raw in cells):
            if not any(ctx.is_formula(sheet, a1(r, c)) for c, _, _ in cells):
                ctx.warnings.append(
                    warning(
                        Reason.UNIT_NOT_REPORTED,
                        "etl.unit_not_reported",
                        file=ctx.file,
                        sheet=sheet,
                        cell=ref,
                        unit=unit.code,
                        period=period,
                        unit_name=describe_unit(unit),
                    )
                )
                continue
        record = UnitPeriodValues(unit=unit.code, period=period, values={})
        raw_by_measure = {}
        for c, measure, raw in cells:
            raw_by_measure[measure.code] = cell_text(raw)
            _read_value(raw, measure, sheet, r, c, record, ctx)
        _blank_warning(record, raw_by_measure, ctx)
        records.append(record)

    for r, row in totals:
        _check_total(sheet, r, row, columns, records, period, ctx)
    if not future:
        ctx.parsed.records.extend(records)


def _ledger_columns(
    sheet: str, header: list[Any], header_row: int, unit_col: int, annual: bool, ctx: _Context
) -> list[tuple[int, Measure]]:
    columns: list[tuple[int, Measure]] = []
    seen: dict[str, str] = {}
    for c in range(unit_col + 1, len(header)):
        raw = header[c]
        if _is_empty(raw):
            continue
        ref = a1(header_row, c)
        measure = _measure_for(raw, ctx.catalogue)
        if measure is None:
            if _label(raw) not in _LEDGER_SKIP_HEADERS:
                ctx.warnings.append(
                    warning(
                        Reason.UNKNOWN_COLUMN,
                        "etl.unknown_column",
                        file=ctx.file,
                        sheet=sheet,
                        cell=ref,
                        value=cell_text(raw),
                    )
                )
            continue
        if measure.monthly == annual:
            ctx.warnings.append(
                warning(
                    Reason.UNKNOWN_COLUMN,
                    "etl.column_wrong_kind" if annual else "etl.column_annual_in_month",
                    file=ctx.file,
                    sheet=sheet,
                    cell=ref,
                    measure=measure,
                    value=cell_text(raw),
                )
            )
            continue
        if measure.code in seen:
            ctx.errors.append(
                error(
                    Reason.MEASURE_DUPLICATE,
                    "etl.measure_duplicate_column",
                    file=ctx.file,
                    sheet=sheet,
                    cell=ref,
                    measure=measure,
                    value=cell_text(raw),
                    first=seen[measure.code],
                )
            )
            continue
        seen[measure.code] = ref
        columns.append((c, measure))
    return columns


def _check_total(
    sheet: str,
    r: int,
    row: list[Any],
    columns: Sequence[tuple[int, Measure]],
    records: Sequence[UnitPeriodValues],
    period: str,
    ctx: _Context,
) -> None:
    """A 合计 row is not data; it is only compared with the sum of the unit rows read."""
    for c, measure in columns:
        raw = row[c] if c < len(row) else ""
        cell = parse_number(raw)
        if cell.kind != CellKind.NUMBER:
            continue  # an empty total (e.g. an uncalculated SUM) says nothing
        total = sum(rec.values.get(measure.code, 0.0) for rec in records)
        if abs(total - cell.value) > _TOTAL_TOLERANCE:
            ctx.warnings.append(
                warning(
                    Reason.TOTAL_MISMATCH,
                    "etl.total_mismatch",
                    file=ctx.file,
                    sheet=sheet,
                    cell=a1(r, c),
                    measure=measure,
                    value=cell.text,
                    period=period,
                    total=cell_text(round(total, 2)),
                    count=len(records),
                )
            )
