"""Layout B, the consolidated ledger: sheets per period, rows per unit, columns per measure.

With ``ledger_rows`` the header is row 1 (A1 单位, then measures from B1 in catalogue order:
adjudication_accepted B, adjudication_closed C, adjudication_pending D …) and units follow from
row 2 in the order given.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from factories import default_values, ledger_rows, monthly_codes, write_grid

from etl.readers import read_file
from etl.records import ParsedFile, Reason

TODAY = date(2024, 1, 15)
VALUES = default_values()


def read(path: Path, **kwargs: object) -> ParsedFile:
    kwargs.setdefault("today", TODAY)
    return read_file(path, **kwargs)  # type: ignore[arg-type]


def by_key(parsed: ParsedFile) -> dict[tuple[str, str], dict[str, float]]:
    return {(r.unit, r.period): r.values for r in parsed.records}


def issues(found: list[Any]) -> list[tuple[Reason, str, str, str]]:
    return [(i.reason, i.sheet, i.cell, i.measure) for i in found]


def test_ledger_with_two_units(tmp_path: Path) -> None:
    other = {c: v * 10 for c, v in VALUES.items()}
    path = write_grid(tmp_path / "l.xlsx", {"2023-06": ledger_rows({"静安区": VALUES, "徐汇区": other})})
    parsed = read(path)
    assert parsed.ok, [e.message for e in parsed.errors]
    assert parsed.warnings == []
    assert parsed.layout == "B"
    assert by_key(parsed) == {("jingan", "2023-06"): VALUES, ("xuhui", "2023-06"): other}
    xuhui = next(r for r in parsed.records if r.unit == "xuhui")
    assert xuhui.cells["adjudication_closed"] == ("2023-06", "C3")


@pytest.mark.parametrize(
    ("sheet", "period"),
    [
        ("2023-06", "2023-06"),
        ("2023年6月", "2023-06"),
        ("202306", "2023-06"),
        ("2023.6", "2023-06"),
        ("2023年06月", "2023-06"),
    ],
)
def test_sheet_name_variants(tmp_path: Path, sheet: str, period: str) -> None:
    parsed = read(write_grid(tmp_path / "l.xlsx", {sheet: ledger_rows({"静安区": VALUES})}))
    assert parsed.ok, [e.message for e in parsed.errors]
    assert parsed.periods == [period]


@pytest.mark.parametrize("sheet", ["2023", "2023年"])
def test_annual_sheet(tmp_path: Path, sheet: str) -> None:
    rows = ledger_rows(
        {"静安区": {"satisfaction_score": 82.04}, "浦东新区": {"satisfaction_score": 81.5}},
        measures=["satisfaction_score"],
    )
    parsed = read(write_grid(tmp_path / "l.xlsx", {sheet: rows}))
    assert parsed.ok, [e.message for e in parsed.errors]
    assert by_key(parsed) == {
        ("jingan", "2023"): {"satisfaction_score": 82.04},
        ("pudong", "2023"): {"satisfaction_score": 81.5},
    }


def test_annual_sheet_rules(tmp_path: Path) -> None:
    rows = ledger_rows(
        {"静安区": {"satisfaction_score": 100.5, "trainees": 3}}, measures=["satisfaction_score", "trainees"]
    )
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023": rows}))
    assert issues(parsed.errors) == [(Reason.ABOVE_MAX, "2023", "B2", "satisfaction_score")]
    assert parsed.errors[0].message.endswith("值“100.5”超过上限 100，应为非负数，最多两位小数，且不超过 100")
    # a monthly measure on an annual sheet is not read
    assert issues(parsed.warnings) == [(Reason.UNKNOWN_COLUMN, "2023", "C1", "trainees")]


def test_header_by_chinese_name_with_seq_column_and_other_unit_label(tmp_path: Path) -> None:
    rows = ledger_rows({"静安": VALUES, "310104": VALUES}, header_by="name", label="地区")
    rows = [["序号", *rows[0]]] + [[i, *row] for i, row in enumerate(rows[1:], start=1)]
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}))
    assert parsed.ok, [e.message for e in parsed.errors]
    assert by_key(parsed) == {("jingan", "2023-06"): VALUES, ("xuhui", "2023-06"): VALUES}


def test_title_rows_above_the_header(tmp_path: Path) -> None:
    rows = [
        ["2023年6月全市知识产权行政保护工作汇总"],
        [None],
        *ledger_rows({"静安区": {**VALUES, "adjudication_closed": "x"}}, label="填报单位"),
    ]
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}))
    assert issues(parsed.errors) == [(Reason.NOT_A_NUMBER, "2023-06", "C4", "adjudication_closed")]


def test_total_row_agreeing_is_silent_and_disagreeing_warns(tmp_path: Path) -> None:
    a = {c: 1.0 for c in monthly_codes()}
    b = {c: 2.0 for c in monthly_codes()}
    total = {c: 3.0 for c in monthly_codes()}
    ok = read(
        write_grid(tmp_path / "ok.xlsx", {"2023-06": ledger_rows({"静安区": a, "徐汇区": b}, total=total)})
    )
    assert ok.ok and ok.warnings == []
    assert len(ok.records) == 2  # the 合计 row is not data

    total["adjudication_closed"] = 4.0
    parsed = read(
        write_grid(tmp_path / "bad.xlsx", {"2023-06": ledger_rows({"静安区": a, "徐汇区": b}, total=total)})
    )
    assert parsed.ok
    assert issues(parsed.warnings) == [(Reason.TOTAL_MISMATCH, "2023-06", "C4", "adjudication_closed")]
    assert parsed.warnings[0].message == (
        "文件 bad.xlsx 工作表「2023-06」单元格 C4（adjudication_closed 专利侵权纠纷行政裁决案件结案数）："
        "合计行的值“4”与 2 个单位之和 3 不一致（合计行不作为数据读取）"
    )


def test_unreported_unit_row_is_skipped_not_zero(tmp_path: Path) -> None:
    rows = ledger_rows({"静安区": VALUES, "徐汇区": None, "黄浦区": {"adjudication_closed": 5}})
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}))
    assert parsed.ok
    assert parsed.units == ["huangpu", "jingan"]
    assert [(w.reason, w.cell, w.unit) for w in parsed.warnings] == [
        (Reason.UNIT_NOT_REPORTED, "A3", "xuhui"),
        (Reason.BLANK_AS_ZERO, "", "huangpu"),  # a partly filled row: its blanks are zeros
    ]
    assert parsed.warnings[0].message == (
        "文件 l.xlsx 工作表「2023-06」单元格 A3：徐汇区(xuhui)本期各指标均为空，视为未报送，未读取（不按 0 计）"
    )
    huangpu = by_key(parsed)[("huangpu", "2023-06")]
    assert huangpu["adjudication_closed"] == 5
    assert huangpu["trainees"] == 0.0


def test_row_of_dashes_is_an_explicit_zero(tmp_path: Path) -> None:
    rows = ledger_rows({"徐汇区": {c: "—" for c in monthly_codes()}})
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}))
    assert parsed.ok
    assert by_key(parsed)[("xuhui", "2023-06")] == {c: 0.0 for c in monthly_codes()}
    assert [w.reason for w in parsed.warnings] == [Reason.BLANK_AS_ZERO]


def test_unknown_columns_and_sheets_are_warnings(tmp_path: Path) -> None:
    rows = ledger_rows({"静安区": VALUES})
    rows[0].append("自定义指标")
    rows[1].append(9)
    rows[0].append("备注")  # a known non-measure column: silently ignored
    path = write_grid(tmp_path / "l.xlsx", {"说明": [["本台账由市局汇总"]], "2023-06": rows, "2023-07": []})
    parsed = read(path)
    assert parsed.ok
    assert issues(parsed.warnings) == [
        (Reason.UNKNOWN_SHEET, "说明", "", ""),
        (Reason.UNKNOWN_COLUMN, "2023-06", "AJ1", ""),
        (Reason.UNKNOWN_SHEET, "2023-07", "", ""),  # empty sheet
    ]


def test_unit_errors(tmp_path: Path) -> None:
    rows = ledger_rows({"静安区": VALUES, "静安新区": VALUES, "静安": VALUES})
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}))
    assert [(e.reason, e.cell, e.value) for e in parsed.errors] == [
        (Reason.UNKNOWN_UNIT, "A3", "静安新区"),
        (Reason.UNIT_DUPLICATE, "A4", "静安"),
    ]
    assert "最接近的单位：静安区(jingan)" in parsed.errors[0].message
    assert "首次出现在 A2" in parsed.errors[1].message


def test_wrong_unit_in_a_ledger(tmp_path: Path) -> None:
    rows = ledger_rows({"静安区": VALUES, "徐汇区": VALUES})
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}), as_unit="jingan")
    assert [(e.reason, e.cell, e.unit) for e in parsed.errors] == [(Reason.WRONG_UNIT, "A3", "xuhui")]


def test_missing_and_duplicate_measure_columns(tmp_path: Path) -> None:
    codes = [c for c in monthly_codes() if c != "trainees"] + ["adjudication_closed"]
    rows = ledger_rows({"静安区": VALUES}, measures=codes)
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}))
    # 33 measures B..AH, the repeated column is AI
    assert issues(parsed.errors) == [
        (Reason.MEASURE_DUPLICATE, "2023-06", "AI1", "adjudication_closed"),
        (Reason.MEASURE_MISSING, "2023-06", "", "trainees"),
    ]


def test_value_errors_name_their_cells(tmp_path: Path) -> None:
    rows = ledger_rows(
        {"静安区": VALUES, "徐汇区": {**VALUES, "adjudication_pending": -2, "amount_involved": "1.234"}}
    )
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}))
    assert issues(parsed.errors) == [
        (Reason.NEGATIVE, "2023-06", "D3", "adjudication_pending"),
        (Reason.TOO_MANY_DECIMALS, "2023-06", "J3", "amount_involved"),
    ]


def test_formula_without_value_in_an_otherwise_empty_row_is_an_error(tmp_path: Path) -> None:
    rows = ledger_rows({"静安区": VALUES, "徐汇区": {"adjudication_closed": "=1+1"}})
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows}))
    assert issues(parsed.errors) == [(Reason.FORMULA_NO_VALUE, "2023-06", "C3", "adjudication_closed")]


def test_future_sheet(tmp_path: Path) -> None:
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2024-02": ledger_rows({"静安区": VALUES})}))
    assert issues(parsed.errors) == [(Reason.PERIOD_FUTURE, "2024-02", "", "")]
    assert parsed.records == []


def test_same_period_twice(tmp_path: Path) -> None:
    rows = ledger_rows({"静安区": VALUES})
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": rows, "2023年6月": rows}))
    assert issues(parsed.errors) == [(Reason.PERIOD_DUPLICATE, "2023年6月", "", "")]


def test_ledger_sheet_not_named_by_period(tmp_path: Path) -> None:
    parsed = read(write_grid(tmp_path / "l.xlsx", {"Sheet1": ledger_rows({"静安区": VALUES})}))
    assert issues(parsed.errors) == [(Reason.PERIOD_MALFORMED, "Sheet1", "", "")]
    assert "不是报告期" in parsed.errors[0].message


def test_sheet_with_content_but_no_header(tmp_path: Path) -> None:
    parsed = read(write_grid(tmp_path / "l.xlsx", {"2023-06": [["静安区", 1, 2]]}))
    assert issues(parsed.errors) == [(Reason.NO_TABLE, "2023-06", "", "")]


def test_months_and_year_in_one_ledger(tmp_path: Path) -> None:
    path = write_grid(
        tmp_path / "l.xlsx",
        {
            "2023-05": ledger_rows({"静安区": VALUES}),
            "2023-06": ledger_rows({"静安区": VALUES, "徐汇区": VALUES}),
            "2023": ledger_rows({"静安区": {"satisfaction_score": 80}}, measures=["satisfaction_score"]),
        },
    )
    parsed = read(path)
    assert parsed.ok
    assert sorted(by_key(parsed)) == [
        ("jingan", "2023"),
        ("jingan", "2023-05"),
        ("jingan", "2023-06"),
        ("xuhui", "2023-06"),
    ]
