"""The return template and the ledger: structure read back with openpyxl, round trips exact."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from factories import default_values

from etl.readers import read_file
from etl.records import Reason
from etl.writers import write_ledger, write_return
from foundation.catalogue import default_catalogue

CAT = default_catalogue()
JINGAN = CAT.units["jingan"]
TODAY = date(2024, 1, 15)
N = len(CAT.monthly_measures())  # 34 monthly measures: table rows 6..39


@pytest.fixture
def template(tmp_path: Path) -> Path:
    path = tmp_path / "jingan_2023-06.xlsx"
    write_return(path, unit=JINGAN, period="2023-06", catalogue=CAT)
    return path


def test_template_layout(template: Path) -> None:
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == ["月报", "填报说明"]
    ws = wb["月报"]
    assert ws["A1"].value == "静安区知识产权行政保护工作月报（2023年6月）"
    assert "A1:F1" in {str(r) for r in ws.merged_cells.ranges}
    assert [ws[c].value for c in ("A2", "B2", "C2", "D2")] == ["填报单位", "静安区", "报告期", "2023-06"]
    assert [ws[c].value for c in ("A3", "C3", "E3")] == ["填报人", "联系电话", "填报日期"]
    assert [c.value for c in ws[5]] == ["序号", "指标代码", "指标名称", "计量单位", "本月数", "备注"]
    assert [ws.cell(6 + i, 2).value for i in range(N)] == [m.code for m in CAT.monthly_measures()]
    assert ws["C7"].value == "专利侵权纠纷行政裁决案件结案数"
    assert ws["D14"].value == "万元"
    assert all(ws.cell(6 + i, 5).value is None for i in range(N))


def test_template_protection(template: Path) -> None:
    ws = openpyxl.load_workbook(template)["月报"]
    assert ws.protection.sheet is True
    assert not ws.protection.password
    for ref in ("A2", "C2", "A5", "E5", "B6", "C6", "D6", "B39"):
        assert ws[ref].protection.locked is True, ref
    for ref in ("B2", "D2", "B3", "D3", "F3", "E6", "E39", "F6"):
        assert ws[ref].protection.locked is False, ref


def test_template_data_validation(template: Path) -> None:
    ws = openpyxl.load_workbook(template)["月报"]
    rules = {dv.type: dv for dv in ws.data_validations.dataValidation}
    assert set(rules) == {"whole", "decimal"}
    whole, decimal = rules["whole"], rules["decimal"]
    assert (whole.operator, whole.formula1) == ("greaterThanOrEqual", "0")
    assert (decimal.operator, decimal.formula1) == ("greaterThanOrEqual", "0")
    assert whole.showErrorMessage and whole.error == "请填写非负整数。"
    assert decimal.error == "请填写非负数，最多两位小数。"
    # amount_involved (E14) and fines_confiscations (E15) are the decimal measures
    assert str(decimal.sqref) == "E14 E15"
    whole_cells = set(str(whole.sqref).split())
    assert "E6" in whole_cells and "E39" in whole_cells and "E14" not in whole_cells
    assert len(whole_cells) == N - 2


def test_instructions_sheet(template: Path) -> None:
    ws = openpyxl.load_workbook(template)["填报说明"]
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if c.value is not None)
    assert "2023年7月10日 24:00" in text  # due the 10th of the next month
    assert "静安区" in text and "jingan" in text
    assert "trainees" in text and "培训人次" in text and "人次" in text
    assert ws.protection.sheet is True


def test_december_return_is_due_in_january(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_return(path, unit=JINGAN, period="2023-12", catalogue=CAT)
    ws = openpyxl.load_workbook(path)["填报说明"]
    assert any("2024年1月10日" in str(c.value) for row in ws.iter_rows() for c in row)


def test_blank_template_reads_as_all_blank(template: Path) -> None:
    parsed = read_file(template, today=TODAY)
    assert parsed.ok, [e.message for e in parsed.errors]
    [record] = parsed.records
    assert (record.unit, record.period) == ("jingan", "2023-06")
    assert record.values == {m.code: 0.0 for m in CAT.monthly_measures()}
    assert [w.reason for w in parsed.warnings] == [Reason.BLANK_AS_ZERO]
    assert parsed.meta == {}


def test_filled_return_round_trips_exactly() -> None:
    values = {**default_values(), "amount_involved": 12345.67, "fines_confiscations": 0.1, "trainees": 12000}
    meta = {"填报人": "李四", "联系电话": "021-87654321", "填报日期": "2023-07-08"}
    buf = io.BytesIO()
    write_return(buf, unit=JINGAN, period="2023-06", catalogue=CAT, values=values, meta=meta)
    parsed = read_file(buf.getvalue(), file_name="r.xlsx", today=TODAY)
    assert parsed.ok and parsed.warnings == []
    assert parsed.records[0].values == values
    assert parsed.meta == meta


def test_numbers_written_as_numbers(tmp_path: Path) -> None:
    path = tmp_path / "r.xlsx"
    write_return(
        path,
        unit=JINGAN,
        period="2023-06",
        catalogue=CAT,
        values={"adjudication_closed": 7.0, "amount_involved": 1.5},
    )
    ws = openpyxl.load_workbook(path)["月报"]
    assert ws["E7"].value == 7 and isinstance(ws["E7"].value, int)
    assert ws["E14"].value == 1.5


def test_partly_filled_return_lists_the_blanks(tmp_path: Path) -> None:
    buf = io.BytesIO()
    values = {code: v for code, v in default_values().items() if code != "trainees"}
    write_return(buf, unit=JINGAN, period="2023-06", catalogue=CAT, values=values)
    parsed = read_file(buf.getvalue(), file_name="r.xlsx", today=TODAY)
    assert parsed.records[0].blanks == {"trainees"}
    assert "E37（trainees 培训人次，空白）" in parsed.warnings[0].message


# -- ledger ----------------------------------------------------------------------------------------


def _frame(rows: list[tuple[str, str, str, float]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["unit", "period", "measure", "value"])


def _sample_values() -> pd.DataFrame:
    monthly = CAT.monthly_measures()
    rows = []
    for unit_index, unit in enumerate(("jingan", "pudong", "chongming")):
        for month in ("2023-05", "2023-06"):
            if unit == "chongming" and month == "2023-06":
                continue  # not reported: must stay missing, not become zeros
            for i, measure in enumerate(monthly):
                value = 12345.67 + i if measure.dtype == "decimal" else float(unit_index * 100 + i)
                rows.append((unit, month, measure.code, value))
        rows.append((unit, "2023", "satisfaction_score", 82.04 - unit_index))
    rows.append(("jingan", "2022", "satisfaction_score", 80.61))
    return _frame(rows)


def test_ledger_round_trips_exactly(tmp_path: Path) -> None:
    values = _sample_values()
    units = [CAT.units[c] for c in ("pudong", "jingan", "chongming", "xuhui")]
    path = tmp_path / "ledger.xlsx"
    write_ledger(path, values, catalogue=CAT, units=units)
    parsed = read_file(path, today=TODAY)
    assert parsed.ok, [e.message for e in parsed.errors]
    back = _frame([(r.unit, r.period, m, v) for r in parsed.records for m, v in r.values.items()])
    key = ["unit", "period", "measure"]
    pd.testing.assert_frame_equal(
        back.sort_values(key).reset_index(drop=True), values.sort_values(key).reset_index(drop=True)
    )
    # the only warnings: units without values that month are "not reported", never zeros
    assert sorted((w.reason, w.sheet, w.unit) for w in parsed.warnings) == [
        (Reason.UNIT_NOT_REPORTED, "2022", "chongming"),
        (Reason.UNIT_NOT_REPORTED, "2022", "pudong"),
        (Reason.UNIT_NOT_REPORTED, "2022", "xuhui"),
        (Reason.UNIT_NOT_REPORTED, "2023", "xuhui"),
        (Reason.UNIT_NOT_REPORTED, "2023-05", "xuhui"),
        (Reason.UNIT_NOT_REPORTED, "2023-06", "chongming"),
        (Reason.UNIT_NOT_REPORTED, "2023-06", "xuhui"),
    ]


def test_ledger_layout(tmp_path: Path) -> None:
    path = tmp_path / "ledger.xlsx"
    write_ledger(path, _sample_values(), catalogue=CAT, units=[CAT.units["jingan"]])
    wb = openpyxl.load_workbook(path)
    # months ascending, then years; pudong and chongming are appended (in values, not in units)
    assert wb.sheetnames == ["2023-05", "2023-06", "2022", "2023"]
    ws = wb["2023-06"]
    assert ws["A1"].value == "单位"
    assert ws["B1"].value == "专利侵权纠纷行政裁决案件受理数"
    assert [ws.cell(r, 1).value for r in range(2, 6)] == ["静安区", "崇明区", "浦东新区", "合计"]
    assert ws["B2"].value == 0 and isinstance(ws["B2"].value, int)
    assert ws["J2"].value == 12345.67 + 8  # amount_involved, the 9th measure
    assert ws["B3"].value is None  # chongming did not report June
    assert ws["B5"].value == "=SUM(B2:B4)"
    annual = wb["2023"]
    assert [annual.cell(1, c).value for c in (1, 2)] == ["单位", "知识产权保护社会满意度得分"]
    assert annual.max_row == 4  # no 合计 row: scores are not summed


def test_ledger_total_row_checked_once_calculated(tmp_path: Path) -> None:
    """A SUM row Excel has calculated agrees with the units; the reader compares and stays quiet."""
    path = tmp_path / "ledger.xlsx"
    write_ledger(path, _sample_values(), catalogue=CAT, units=[CAT.units["jingan"], CAT.units["pudong"]])
    wb = openpyxl.load_workbook(path)
    for name in ("2023-05", "2023-06"):
        ws = wb[name]
        for col in range(2, ws.max_column + 1):
            ws.cell(ws.max_row, col).value = sum((ws.cell(r, col).value or 0) for r in range(2, ws.max_row))
    ws = wb["2023-05"]
    ws.cell(ws.max_row, 2).value = 999
    wb.save(path)
    parsed = read_file(path, today=TODAY)
    mismatches = [(w.sheet, w.cell, w.measure) for w in parsed.warnings if w.reason == Reason.TOTAL_MISMATCH]
    assert mismatches == [("2023-05", "B5", "adjudication_accepted")]


def test_empty_ledger_is_still_a_workbook(tmp_path: Path) -> None:
    path = tmp_path / "empty.xlsx"
    write_ledger(path, _frame([]), catalogue=CAT, units=[JINGAN])
    parsed = read_file(path, today=TODAY)
    assert [e.reason for e in parsed.errors] == [Reason.NO_SHEET]
