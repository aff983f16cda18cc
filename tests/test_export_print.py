"""How the assessment workbook prints (issue 12): wrapped cells get their row heights (LibreOffice
does not grow rows itself), the 35-column raw sheets print landscape over three page widths with
the header row and unit column repeated, a one-unit scorecard prints a handful of pages (not one
per month), and the subtitle reads to the minute with the name of who made it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser_support import build_sample_db
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment

from application.assessment import fit_row_heights
from ipdash.cli import main

ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts" / "workbook"


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{build_sample_db(tmp_path_factory.mktemp('print-sample'))}"


def test_fit_row_heights_by_hand() -> None:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.column_dimensions["A"].width = 10
    ws.column_dimensions["B"].width = 20
    ws.column_dimensions["C"].width = 20
    wrap = Alignment(wrap_text=True)
    # 20 CJK characters = 40 width units in a column of 10 (9 usable): ceil(40 / 9) = 5 lines
    ws["A1"] = "一" * 20
    ws["A1"].alignment = wrap
    # merged B2:C2 is 40 wide (39 usable): 30 CJK = 60 units → 2 lines; a line break adds one
    ws["B2"] = "二" * 30 + "\n" + "三"
    ws["B2"].alignment = wrap
    ws.merge_cells("B2:C2")
    # not wrapped: left alone; a header row set taller stays as it is
    ws["A3"] = "四" * 50
    ws["A4"] = "五"
    ws["A4"].alignment = wrap
    ws.row_dimensions[4].height = 32
    fit_row_heights(ws)
    assert ws.row_dimensions[1].height == 15 * 5 + 3
    assert ws.row_dimensions[2].height == 15 * 3 + 3
    assert ws.row_dimensions[3].height is None
    assert ws.row_dimensions[4].height == 32


def _pages(pdf: Path) -> int:
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


def _to_pdf(xlsx: Path) -> Path:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("soffice missing: ./scripts/setup --test installs LibreOffice (writer and calc, no GUI)")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{xlsx.parent / 'lo-profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(ARTIFACTS),
            str(xlsx),
        ],
        check=True,
        capture_output=True,
        env={**os.environ, "HOME": str(xlsx.parent)},
        timeout=300,
    )
    return ARTIFACTS / (xlsx.stem + ".pdf")


def test_workbook_prints_readably(sample_url, tmp_path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "assessment.xlsx"
    assert (
        main(
            [
                "export",
                "--db",
                sample_url,
                "--period",
                "2023-12",
                "--window",
                "year",
                "--by",
                "张三",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    wb = load_workbook(out)
    # subtitle: minutes, no microseconds, and who made it
    subtitle = wb["综合排名"]["A2"].value
    assert re.search(
        r"数据截至：\d{4}-\d\d-\d\d \d\d:\d\d　生成：\d{4}-\d\d-\d\d \d\d:\d\d 张三$", subtitle
    ), subtitle
    # 口径说明: avg_handling_days' 计分方法 (功效系数法 …, ~120 width units in a column of 48) needs
    # three lines; the row is at least that tall
    notes = wb["口径说明"]
    row = next(c.row for c in notes["A"] if c.value == "avg_handling_days")
    assert notes.row_dimensions[row].height >= 3 * 15
    # raw sheets: landscape, three pages wide, header row and unit column on every page
    raw = wb["2023-06"]
    assert raw.page_setup.orientation == "landscape" and raw.page_setup.fitToWidth == 3
    assert raw.print_title_rows == "$1:$1" and raw.print_title_cols == "$A:$A"
    pdf = _to_pdf(out)
    # 26 period sheets × 3 page widths + the named sheets: far from one 2-pt page each
    assert 26 * 3 <= _pages(pdf) <= 120


def test_one_unit_scorecard_prints_a_few_pages(sample_url, tmp_path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "scorecard.xlsx"
    assert (
        main(
            [
                "export",
                "--db",
                sample_url,
                "--period",
                "2023-12",
                "--unit",
                "jingan",
                "--by",
                "张三",
                "-o",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    wb = load_workbook(out)
    period_sheets = [ws for ws in wb.worksheets if re.fullmatch(r"\d{4}(-\d\d)?", ws.title)]
    assert len(period_sheets) == 26  # 2022-01 … 2023-12 and the years 2022, 2023: still in the file
    assert all(ws.sheet_state == "hidden" for ws in period_sheets)
    assert all(ws.sheet_state == "visible" for ws in wb.worksheets if ws not in period_sheets)
    # it printed 31 pages, 26 of them one-row raw sheets; now the named sheets only
    assert _pages(_to_pdf(out)) <= 8
    # and it still loads back: the hidden sheets are read (ipdash load of the scorecard)
    code = main(["load", "--db", f"sqlite:///{tmp_path / 'fresh.db'}", "--json", str(out)])
    assert code == 0, capsys.readouterr()
