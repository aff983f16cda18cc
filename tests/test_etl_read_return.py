"""Layout A, the district monthly return: what reads, and every error with its sheet and cell.

Cells are computed by hand from the factory's default layout (tests/factories.py): 本月数 is
column E from row 6 in catalogue order, so adjudication_accepted is E6, adjudication_closed E7,
adjudication_pending E8, enforcement_filed E9, amount_involved E14, trainees E37.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import date, datetime
from pathlib import Path

import pytest
from factories import default_values, make_return, monthly_codes

from etl.readers import read_file
from etl.records import ParsedFile, Reason
from foundation.catalogue import Catalogue, default_catalogue

FIXTURES = Path(__file__).parent / "fixtures"
TODAY = date(2024, 1, 15)
CAT = default_catalogue()


def read(path: Path, **kwargs: object) -> ParsedFile:
    kwargs.setdefault("today", TODAY)
    return read_file(path, **kwargs)  # type: ignore[arg-type]


def errors(parsed: ParsedFile) -> list[tuple[Reason, str, str, str]]:
    return [(e.reason, e.sheet, e.cell, e.measure) for e in parsed.errors]


def test_default_return_reads_completely(tmp_path: Path) -> None:
    path = make_return(tmp_path / "jingan_2023-06.xlsx")
    parsed = read(path)
    assert parsed.ok, [e.message for e in parsed.errors]
    assert parsed.warnings == []
    assert parsed.layout == "A"
    assert parsed.file == "jingan_2023-06.xlsx"
    assert parsed.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert parsed.size_bytes == path.stat().st_size
    assert parsed.meta == {"填报人": "张三", "联系电话": "021-12345678", "填报日期": "2023-07-05"}
    [record] = parsed.records
    assert (record.unit, record.period) == ("jingan", "2023-06")
    assert record.values == default_values()
    assert record.values["adjudication_closed"] == 2.0
    assert record.values["amount_involved"] == 1242.5  # 1234.5 + its index 8
    assert record.blanks == set()
    assert record.cells["adjudication_accepted"] == ("月报", "E6")
    assert record.cells["trainees"] == ("月报", "E37")


@pytest.mark.parametrize("style", ["next", "colon", "colon_ascii", "gap"])
def test_header_value_after_colon_or_in_a_cell_to_the_right(tmp_path: Path, style: str) -> None:
    parsed = read(make_return(tmp_path / "r.xlsx", header_style=style))
    assert parsed.ok, [e.message for e in parsed.errors]
    assert (parsed.records[0].unit, parsed.records[0].period) == ("jingan", "2023-06")
    assert parsed.meta["联系电话"] == "021-12345678"


@pytest.mark.parametrize("style", ["next", "colon"])
def test_header_label_with_a_note_in_brackets(tmp_path: Path, style: str) -> None:
    parsed = read(make_return(tmp_path / "r.xlsx", unit_label="填报单位（盖章）", header_style=style))
    assert parsed.ok, [e.message for e in parsed.errors]
    assert parsed.records[0].unit == "jingan"


def test_inserted_empty_rows_and_columns_keep_original_cell_references(tmp_path: Path) -> None:
    """calamine trims leading empty rows/columns unless told not to: references must not shift."""
    path = make_return(tmp_path / "r.xlsx", offset_rows=3, offset_cols=2, raw={"adjudication_closed": "abc"})
    parsed = read(path)
    # E7 moved 3 rows down and 2 columns right.
    assert errors(parsed) == [(Reason.NOT_A_NUMBER, "月报", "G10", "adjudication_closed")]


def test_not_a_number_message(tmp_path: Path) -> None:
    path = make_return(tmp_path / "jingan_2023-06.xlsx", raw={"adjudication_closed": "abc"})
    [issue] = read(path).errors
    assert issue.message == (
        "文件 jingan_2023-06.xlsx 工作表「月报」单元格 E7（adjudication_closed 专利侵权纠纷行政裁决案件结案数）："
        "值“abc”不是数字，应为非负整数"
    )
    assert issue.where == "月报!E7"
    assert issue.value == "abc"
    assert (issue.unit, issue.period) == ("jingan", "2023-06")


def test_every_value_error_is_collected(tmp_path: Path) -> None:
    path = make_return(
        tmp_path / "r.xlsx",
        raw={
            "adjudication_accepted": -1,  # E6
            "adjudication_closed": 2.5,  # E7
            "adjudication_pending": "=A1+1",  # E8, openpyxl writes no cached value
            "enforcement_filed": "12件",  # E9
            "amount_involved": "12.345",  # E14
        },
    )
    parsed = read(path)
    assert errors(parsed) == [
        (Reason.NEGATIVE, "月报", "E6", "adjudication_accepted"),
        (Reason.NOT_WHOLE, "月报", "E7", "adjudication_closed"),
        (Reason.FORMULA_NO_VALUE, "月报", "E8", "adjudication_pending"),
        (Reason.NOT_A_NUMBER, "月报", "E9", "enforcement_filed"),
        (Reason.TOO_MANY_DECIMALS, "月报", "E14", "amount_involved"),
    ]
    messages = [e.message for e in parsed.errors]
    assert messages[0].endswith(
        "（adjudication_accepted 专利侵权纠纷行政裁决案件受理数）：值“-1”为负数，应为非负整数"
    )
    assert messages[1].endswith("值“2.5”不是整数，应为非负整数")
    assert "单元格是公式但没有计算结果" in messages[2]
    assert messages[4].endswith(
        "（amount_involved 案件涉案金额）：值“12.345”超过两位小数，应为非负数，最多两位小数"
    )
    # the formula cell is an error, not a blank read as 0
    assert parsed.warnings == []


def _catalogue_with_max(code: str, maximum: float) -> Catalogue:
    cat = Catalogue()
    for unit in CAT.units.values():
        cat.register_unit(unit)
    for measure in CAT.measures.values():
        cat.register_measure(replace(measure, max=maximum) if measure.code == code else measure)
    return cat


def test_above_max(tmp_path: Path) -> None:
    cat = _catalogue_with_max("trainees", 1000)
    path = make_return(tmp_path / "r.xlsx", raw={"trainees": 1001})
    [issue] = read(path, catalogue=cat).errors
    assert (issue.reason, issue.cell) == (Reason.ABOVE_MAX, "E37")
    assert issue.message.endswith("（trainees 培训人次）：值“1001”超过上限 1000，应为非负整数，且不超过 1000")
    assert read(make_return(tmp_path / "ok.xlsx", raw={"trainees": 1000}), catalogue=cat).ok


def test_tolerated_cell_forms(tmp_path: Path) -> None:
    path = make_return(
        tmp_path / "r.xlsx",
        raw={
            "adjudication_accepted": "１２",  # E6
            "adjudication_closed": "1,234",  # E7
            "adjudication_pending": " 7\u3000",  # E8
            "enforcement_filed": "\u00a09\u00a0",  # E9
            "amount_involved": "１２，３４５．６７",  # E14
            "fines_confiscations": "—",  # E15
            "criminal_transfers": "无",  # E16
            "abnormal_patent_notified": None,  # E17, empty
            "abnormal_patent_withdrawn": "-",  # E18
            "malicious_tm_leads": "/",  # E19
            "malicious_tm_leads_handled": "15.0",  # E20: whole, written with a decimal point
        },
    )
    parsed = read(path)
    assert parsed.ok, [e.message for e in parsed.errors]
    values = parsed.records[0].values
    assert values["adjudication_accepted"] == 12
    assert values["adjudication_closed"] == 1234
    assert values["adjudication_pending"] == 7
    assert values["enforcement_filed"] == 9
    assert values["amount_involved"] == 12345.67
    assert values["malicious_tm_leads_handled"] == 15
    blanks = {
        "fines_confiscations",
        "criminal_transfers",
        "abnormal_patent_notified",
        "abnormal_patent_withdrawn",
        "malicious_tm_leads",
    }
    assert parsed.records[0].blanks == blanks
    assert all(values[code] == 0.0 for code in blanks)
    [blank] = parsed.warnings
    assert blank.reason == Reason.BLANK_AS_ZERO
    assert blank.message == (
        "文件 r.xlsx 工作表「月报」：静安区(jingan)有 5 个单元格为空或填写“—/无”，已按 0 读取："
        "E15（fines_confiscations 罚没款金额，—）、E16（criminal_transfers 移送司法机关案件数，无）、"
        "E17（abnormal_patent_notified 非正常专利申请通知（转办）件数，空白）、"
        "E18（abnormal_patent_withdrawn 非正常专利申请主动撤回件数，-）、"
        "E19（malicious_tm_leads 商标恶意注册线索数，/）"
    )


def test_formula_cached_value_is_read() -> None:
    """Saved by LibreOffice (tests/fixtures/make_fixtures.py): formulas with their results."""
    parsed = read(FIXTURES / "formula_cached.xlsx")
    assert parsed.ok, [e.message for e in parsed.errors]
    values = parsed.records[0].values
    assert values["adjudication_accepted"] == 5  # =2+3
    assert values["amount_involved"] == 2000.5  # =1000.25*2
    assert values["trainees"] == 3  # =SUM(1,2)
    assert values["adjudication_closed"] == 2  # a plain number beside them


@pytest.mark.parametrize("name", ["return.xls", "return.xlsm"])
def test_xls_and_xlsm_read_like_xlsx(name: str) -> None:
    parsed = read(FIXTURES / name)
    assert parsed.ok, [e.message for e in parsed.errors]
    assert parsed.meta["填报人"] == "张三"
    [record] = parsed.records
    assert (record.unit, record.period) == ("jingan", "2023-06")
    assert record.values == default_values()
    assert record.cells["adjudication_closed"] == ("月报", "E7")


def test_xls_errors_name_the_cell(tmp_path: Path) -> None:
    """An .xls has no sheet XML to scan, but cell references must still be right."""
    data = (FIXTURES / "return.xls").read_bytes()
    parsed = read_file(data, file_name="r.xls", as_unit="xuhui", today=TODAY)
    assert errors(parsed) == [(Reason.WRONG_UNIT, "月报", "B2", "")]


def test_renamed_sheet_found_by_content(tmp_path: Path) -> None:
    path = make_return(
        tmp_path / "r.xlsx",
        sheet_name="Sheet1",
        sheets_before=["填报说明"],
        raw={"adjudication_closed": "x"},
    )
    assert errors(read(path)) == [(Reason.NOT_A_NUMBER, "Sheet1", "E7", "adjudication_closed")]


def test_no_code_column_matches_rows_by_name(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx", with_code=False, raw={"adjudication_closed": "x"})
    parsed = read(path)
    # 序号 A, 指标名称 B, 计量单位 C, 本月数 D
    assert errors(parsed) == [(Reason.NOT_A_NUMBER, "月报", "D7", "adjudication_closed")]
    ok = read(make_return(tmp_path / "ok.xlsx", with_code=False, with_seq=False))
    assert ok.ok
    assert ok.records[0].values == default_values()


def test_notes_and_inserted_rows_around_the_table(tmp_path: Path) -> None:
    path = make_return(
        tmp_path / "r.xlsx",
        rows_before_table=[["注：本表数据为当月发生数"], [None]],
        rows_after_table=[[None], ["注：如有疑问请联系市局保护处"], ["单位负责人：", None, "王五"]],
        raw={"adjudication_closed": "x"},
    )
    parsed = read(path)
    # the table moved down 2 rows; notes are neither data nor unknown rows
    assert errors(parsed) == [(Reason.NOT_A_NUMBER, "月报", "E9", "adjudication_closed")]
    assert parsed.warnings == []


def test_date_cell_as_period_and_filled_date(tmp_path: Path) -> None:
    path = make_return(
        tmp_path / "r.xlsx",
        period=datetime(2023, 6, 1),
        meta={"填报人": "张三", "联系电话": 13800000000, "填报日期": datetime(2023, 7, 5)},
    )
    parsed = read(path)
    assert parsed.ok, [e.message for e in parsed.errors]
    assert parsed.records[0].period == "2023-06"
    assert parsed.meta == {"填报人": "张三", "联系电话": "13800000000", "填报日期": "2023-07-05"}


@pytest.mark.parametrize("period", ["2023年6月", "202306", 202306, "2023.06", "2023/6", "２０２３－０６"])
def test_period_forms(tmp_path: Path, period: object) -> None:
    parsed = read(make_return(tmp_path / "r.xlsx", period=period))
    assert parsed.ok, [e.message for e in parsed.errors]
    assert parsed.records[0].period == "2023-06"


@pytest.mark.parametrize(
    "unit", ["静安区", "静安", "jingan", "JINGAN", "Jing'an", 310106, "310106", " 静安区\u3000"]
)
def test_unit_forms(tmp_path: Path, unit: object) -> None:
    parsed = read(make_return(tmp_path / "r.xlsx", unit=unit))
    assert parsed.ok, [e.message for e in parsed.errors]
    assert parsed.records[0].unit == "jingan"


def test_unknown_unit_names_the_closest(tmp_path: Path) -> None:
    [issue] = read(make_return(tmp_path / "r.xlsx", unit="静安新区")).errors
    assert (issue.reason, issue.cell, issue.value) == (Reason.UNKNOWN_UNIT, "B2", "静安新区")
    assert issue.message.startswith(
        "文件 r.xlsx 工作表「月报」单元格 B2：未知单位“静安新区”；最接近的单位：静安区(jingan)"
    )


def test_unit_of_another_region_is_unknown(tmp_path: Path) -> None:
    [issue] = read(make_return(tmp_path / "r.xlsx"), region="anhui").errors
    assert issue.reason == Reason.UNKNOWN_UNIT


def test_unit_missing(tmp_path: Path) -> None:
    assert errors(read(make_return(tmp_path / "a.xlsx", unit=None))) == [
        (Reason.UNIT_MISSING, "月报", "A2", "")
    ]
    assert errors(read(make_return(tmp_path / "b.xlsx", unit_label=None))) == [
        (Reason.UNIT_MISSING, "月报", "", "")
    ]


def test_uploading_for_another_unit(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx")
    [issue] = read(path, as_unit="xuhui").errors
    assert (issue.reason, issue.cell) == (Reason.WRONG_UNIT, "B2")
    assert issue.message == (
        "文件 r.xlsx 工作表「月报」单元格 B2：本表的填报单位为静安区(jingan)，"
        "与上传单位徐汇区(xuhui)不一致，不能代其他单位报送"
    )
    assert read(path, as_unit="jingan").ok


@pytest.mark.parametrize(
    ("period", "reason", "cell"),
    [
        (None, Reason.PERIOD_MISSING, "C2"),
        ("2023-13", Reason.PERIOD_MALFORMED, "D2"),
        ("六月", Reason.PERIOD_MALFORMED, "D2"),
        ("2023", Reason.PERIOD_MALFORMED, "D2"),
        ("2024-02", Reason.PERIOD_FUTURE, "D2"),
    ],
)
def test_period_errors(tmp_path: Path, period: object, reason: Reason, cell: str) -> None:
    parsed = read(make_return(tmp_path / "r.xlsx", period=period))
    assert errors(parsed) == [(reason, "月报", cell, "")]
    assert parsed.records == []


def test_future_period_message_and_current_month_allowed(tmp_path: Path) -> None:
    [issue] = read(make_return(tmp_path / "r.xlsx", period="2024-02")).errors
    assert issue.message == (
        "文件 r.xlsx 工作表「月报」单元格 D2：报告期 2024-02 晚于当前月份 2024-01，不能报送未来月份的数据"
    )
    assert read(make_return(tmp_path / "now.xlsx", period="2024-01")).ok


def test_period_label_missing(tmp_path: Path) -> None:
    assert errors(read(make_return(tmp_path / "r.xlsx", period_label=None))) == [
        (Reason.PERIOD_MISSING, "月报", "", "")
    ]


def test_required_measure_missing(tmp_path: Path) -> None:
    [issue] = read(make_return(tmp_path / "r.xlsx", omit=["trainees"])).errors
    assert (issue.reason, issue.sheet, issue.cell, issue.measure) == (
        Reason.MEASURE_MISSING,
        "月报",
        "",
        "trainees",
    )
    assert (
        issue.message
        == "文件 r.xlsx 工作表「月报」（trainees 培训人次）：缺少必填指标，月报须包含全部月度指标"
    )


def test_same_measure_twice(tmp_path: Path) -> None:
    parsed = read(make_return(tmp_path / "r.xlsx", duplicate=["trainees"]))
    # 34 measure rows E6..E39, the duplicate is E40
    assert errors(parsed) == [(Reason.MEASURE_DUPLICATE, "月报", "E40", "trainees")]
    assert "首次出现在 E37" in parsed.errors[0].message


def test_unknown_and_annual_rows_are_warnings(tmp_path: Path) -> None:
    path = make_return(
        tmp_path / "r.xlsx",
        extra_rows=[
            ("my_extra", "自定义指标", 3),
            ("satisfaction_score", "知识产权保护社会满意度得分", 82.5),
        ],
    )
    parsed = read(path)
    assert parsed.ok
    assert [(w.reason, w.cell, w.measure) for w in parsed.warnings] == [
        (Reason.UNKNOWN_ROW, "B40", ""),
        (Reason.UNKNOWN_ROW, "B41", "satisfaction_score"),
    ]
    assert (
        parsed.warnings[0].message
        == "文件 r.xlsx 工作表「月报」单元格 B40：未知指标“my_extra 自定义指标”，该行未读取"
    )
    assert "satisfaction_score" not in parsed.records[0].values
    assert set(parsed.records[0].values) == set(monthly_codes())


def test_errors_are_all_collected_not_just_the_first(tmp_path: Path) -> None:
    path = make_return(
        tmp_path / "r.xlsx",
        unit="火星区",
        period="2023-14",
        omit=["trainees"],
        raw={"adjudication_closed": "x"},
    )
    reasons = [e.reason for e in read(path).errors]
    assert reasons == [
        Reason.UNKNOWN_UNIT,
        Reason.PERIOD_MALFORMED,
        Reason.NOT_A_NUMBER,
        Reason.MEASURE_MISSING,
    ]


def test_no_recognisable_sheet(tmp_path: Path) -> None:
    from factories import write_grid

    path = write_grid(tmp_path / "r.xlsx", {"Sheet1": [["hello", "world"]], "数据": [[1, 2]]})
    [issue] = read(path).errors
    assert issue.reason == Reason.NO_SHEET
    assert "现有工作表：「Sheet1」、「数据」" in issue.message


def test_bytes_source_without_name(tmp_path: Path) -> None:
    data = make_return(tmp_path / "r.xlsx", raw={"adjudication_closed": "x"}).read_bytes()
    parsed = read_file(data, today=TODAY)
    assert parsed.file == "（上传文件）"
    assert parsed.errors[0].message.startswith("文件 （上传文件） 工作表「月报」单元格 E7")
