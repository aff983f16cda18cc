"""The rejected file handed back (etl/annotate.py): offending cells filled and commented, a sheet
listing every problem; .xls copied into .xlsx at the same positions; non-workbooks refused."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from factories import make_return, value_row
from openpyxl import load_workbook

from etl.annotate import ERROR_FILL, AnnotateError, annotate_workbook
from etl.readers import read_file
from etl.records import Issue, Reason
from foundation.i18n import t

FIXTURES = Path(__file__).with_name("fixtures")


def test_errors_are_filled_and_commented_where_they_are(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx", raw={"adjudication_closed": -3, "trainees": "十二"})
    parsed = read_file(path)
    assert len(parsed.errors) == 2
    content, name = annotate_workbook(path.read_bytes(), "r.xlsx", parsed.errors + parsed.warnings)
    assert name == "r_标注.xlsx"
    wb = load_workbook(BytesIO(content))
    ws = wb["月报"]
    for code in ("adjudication_closed", "trainees"):
        cell = ws[f"E{value_row(code)}"]
        assert cell.fill.fgColor.rgb.endswith(ERROR_FILL.fgColor.rgb[-6:])
        assert code in cell.comment.text
    assert ws[f"E{value_row('adjudication_accepted')}"].comment is None  # good cells untouched
    listing = wb[t("dash.annotate.sheet")]
    messages = [row[4] for row in listing.iter_rows(min_row=1, values_only=True) if row and len(row) > 4]
    assert all(e.message in messages for e in parsed.errors)


def test_issue_without_a_cell_goes_to_the_list_only(tmp_path: Path) -> None:
    path = make_return(tmp_path / "r.xlsx")
    issue = Issue(severity="error", reason=Reason.PERIOD_LOCKED, message="报告期已锁定", file="r.xlsx")
    content, _ = annotate_workbook(path.read_bytes(), "r.xlsx", [issue])
    wb = load_workbook(BytesIO(content))
    assert all(c.comment is None for row in wb["月报"].iter_rows() for c in row)
    assert "报告期已锁定" in [
        r[4] for r in wb[t("dash.annotate.sheet")].iter_rows(values_only=True) if len(r) > 4
    ]


def test_xls_is_copied_to_xlsx_at_the_same_positions() -> None:
    original = (FIXTURES / "return.xls").read_bytes()
    issue = Issue(
        severity="error", reason=Reason.NEGATIVE, message="负数", file="return.xls", sheet="月报", cell="B2"
    )
    content, name = annotate_workbook(original, "return.xls", [issue])
    assert name == "return_标注.xlsx"
    wb = load_workbook(BytesIO(content))
    assert wb["月报"]["A2"].value == "填报单位" and wb["月报"]["B2"].value == "静安区"
    assert "负数" in wb["月报"]["B2"].comment.text
    listing = [r[0] for r in wb[t("dash.annotate.sheet")].iter_rows(values_only=True)]
    assert t("dash.annotate.converted") in listing


def test_not_a_workbook_cannot_be_annotated() -> None:
    with pytest.raises(AnnotateError):
        annotate_workbook(b"hello, not excel", "x.xlsx", [])
    with pytest.raises(AnnotateError):
        annotate_workbook((FIXTURES / "encrypted.xlsx").read_bytes(), "encrypted.xlsx", [])
