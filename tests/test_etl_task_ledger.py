"""Layout C, the plan-task ledger: hand-made workbooks (openpyxl) for every accepted form and every
error; each error names its sheet and cell, and a file with any error yields no task."""

from __future__ import annotations

import io
from datetime import date, datetime
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from etl.readers import read_file
from etl.records import Reason
from etl.task_ledger import HEADER, write_task_ledger

TODAY = date(2025, 6, 15)


def ledger(rows: list[list[Any]], *, header: list[str] | None = None, title_rows: int = 1) -> bytes:
    """A ledger sheet: ``title_rows`` lines of title first (people add them), then the header."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "督查台账"
    for _ in range(title_rows):
        ws.append(["2025年知识产权强市建设任务进展台账"])
    ws.append(
        header
        or [
            "任务编号",
            "任务内容",
            "牵头单位",
            "责任单位",
            "完成时限",
            "进展状态",
            "完成日期",
            "进展情况",
            "更新日期",
        ]
    )
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


GOOD = [
    "003-02",
    "深化数据知识产权工作试点",
    "上海市知识产权局",
    "浦东新区政府、市经济信息化委",
    "2024年12月底",
    "推进中",
    None,
    "已完成登记规则草案",
    "2025-06-01",
]


def read(data: bytes):  # noqa: ANN201
    return read_file(data, file_name="tasks.xlsx", today=TODAY)


def test_a_good_ledger_reads_every_field() -> None:
    parsed = read(ledger([GOOD]))
    assert parsed.errors == [] and parsed.layout == "C"
    (row,) = parsed.tasks
    assert (row.task, row.title, row.lead, row.owners) == (
        "003-02",
        "深化数据知识产权工作试点",
        "上海市知识产权局",
        ["浦东新区政府", "市经济信息化委"],
    )
    assert (row.deadline, row.progress, row.done_on, row.updated_on) == (
        date(2024, 12, 31),
        "in_progress",
        None,
        date(2025, 6, 1),
    )
    assert (row.note, row.sheet, row.row) == ("已完成登记规则草案", "督查台账", 3)
    assert row.cells["progress"] == "F3"


def test_columns_in_any_order_and_optional_ones_absent() -> None:
    # the header row is recognised by 任务编号 as its first non-empty cell; the rest in any order
    header = ["", "任务编号", "进展状态", "完成时限", "牵头单位", "任务内容"]
    data = ledger(
        [[None, "004-08", "未启动", "持续推进", "静安区知识产权局", "中期检查"]], header=header, title_rows=0
    )
    parsed = read(data)
    assert parsed.errors == []
    (row,) = parsed.tasks
    assert (row.task, row.deadline, row.progress, row.owners, row.updated_on) == (
        "004-08",
        None,
        "not_started",
        [],
        None,
    )


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2025-12-31", date(2025, 12, 31)),
        ("2025年12月31日", date(2025, 12, 31)),
        ("2025年12月底", date(2025, 12, 31)),
        ("2025年11月", date(2025, 11, 30)),
        ("2025年底", date(2025, 12, 31)),
        ("持续推进", None),
        ("长期", None),
        (datetime(2025, 9, 30), date(2025, 9, 30)),  # a real Excel date cell
    ],
)
def test_deadline_forms(cell: object, expected: date | None) -> None:
    row = list(GOOD)
    row[4] = cell
    parsed = read(ledger([row]))
    assert parsed.errors == []
    assert parsed.tasks[0].deadline == expected


def _only_error(data: bytes) -> Any:
    parsed = read(data)
    assert parsed.tasks == []  # nothing from a file with an error
    assert len(parsed.errors) == 1, [e.message for e in parsed.errors]
    return parsed.errors[0]


def _with(index: int, value: object) -> list[Any]:
    row = list(GOOD)
    row[index] = value
    return row


@pytest.mark.parametrize(
    ("rows", "cell", "message"),
    [
        ([_with(0, None)], "A3", "文件 tasks.xlsx 工作表「督查台账」单元格 A3：任务编号为空"),
        ([GOOD, GOOD], "A4", "任务编号 003-02 重复，已在 督查台账!A3 出现"),
        ([_with(1, " ")], "B3", "（任务 003-02）：任务内容为空，此列必填"),
        ([_with(2, None)], "C3", "（任务 003-02）：牵头单位为空，此列必填"),
        ([_with(4, "2025-13-01")], "E3", "完成时限“2025-13-01”无法识别"),
        ([_with(4, "明年")], "E3", "完成时限“明年”无法识别"),
        ([_with(5, "进行中")], "F3", "进展状态“进行中”无效；只能填写 未启动 | 推进中 | 已完成"),
        ([_with(5, "已完成")], "G3", "进展状态为“已完成”，但未填写完成日期"),
        ([_with(6, "上周")], "G3", "完成日期“上周”无法识别"),
        ([_with(6, "2025-06-16")], "G3", "完成日期 2025-06-16 晚于今天（2025-06-15）"),
        ([_with(8, "2025/6/1")], "I3", "更新日期“2025/6/1”无法识别"),
    ],
)
def test_each_error_names_its_cell(rows: list[list[Any]], cell: str, message: str) -> None:
    issue = _only_error(ledger(rows))
    assert (issue.reason, issue.sheet, issue.cell) == (Reason.TASK_INVALID, "督查台账", cell)
    assert message in issue.message
    assert issue.message.startswith(f"文件 tasks.xlsx 工作表「督查台账」单元格 {cell}")


def test_done_today_is_accepted() -> None:
    row = _with(5, "已完成")
    row[6] = "2025年6月15日"
    parsed = read(ledger([row]))
    assert parsed.errors == [] and parsed.tasks[0].done_on == TODAY


def test_a_missing_required_column_is_an_error_at_the_header() -> None:
    header = ["任务编号", "任务内容", "完成时限", "进展状态"]
    issue = _only_error(ledger([["003-02", "x", "2025年底", "推进中"]], header=header))
    assert issue.cell == "A2" and "缺少必填列 牵头单位" in issue.message


def test_several_errors_are_all_listed() -> None:
    parsed = read(ledger([_with(4, "明年"), _with(0, "003-03")[:5] + ["推进", None, None, None]]))
    assert parsed.tasks == []
    assert [e.cell for e in parsed.errors] == ["E3", "F4"]


def test_the_template_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    write_task_ledger(
        path,
        [
            dict(
                zip(
                    HEADER,
                    [
                        "003-07",
                        "深化知识产权全链条保护",
                        "",
                        "上海市知识产权局",
                        "市高院",
                        "持续推进",
                        "未启动",
                        "",
                        "",
                        "",
                    ],
                    strict=True,
                )
            )
        ],
    )
    parsed = read_file(path, today=TODAY)
    assert parsed.errors == [] and parsed.layout == "C"
    assert [(t.task, t.deadline, t.progress, t.owners) for t in parsed.tasks] == [
        ("003-07", None, "not_started", ["市高院"])
    ]
