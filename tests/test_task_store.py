"""Task ledgers (layout C) into the store: append-only versions with previous values, who and when;
a later ledger touches only its own tasks; identical content is ``unchanged``; a district loads
only rows of tasks its unit owns (a forged 责任单位 does not help); a new task only from an
analyst; nothing written on any error. SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
from sqlmodel import Session, select

from etl.load import load_paths
from etl.records import Reason
from foundation.calendar import today as beijing_today
from store.db import open_engine
from store.models import Submission, TaskVersion
from store.tasks import current_versions, history

HEADER = [
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
# 003-02: lead 上海市知识产权局; owners 市经济信息化委、市贸促会、浦东新区政府、国家知识产权局战略规划司 → pudong only.
T02 = ["003-02", "深化数据知识产权工作试点", "上海市知识产权局",
       "市经济信息化委、市贸促会、浦东新区政府、国家知识产权局战略规划司", "2024年12月底"]  # fmt: skip
# 003-03: owners 各区政府、国家知识产权局运用促进司 → every district (静安 included).
T03 = ["003-03", "支持浦东新区和闵行区、徐汇区、松江区、嘉定区等高标准建设国家知…", "上海市知识产权局",
       "各区政府、国家知识产权局运用促进司", "2025年12月底"]  # fmt: skip


def write(path: Path, rows: list[list[Any]], header: list[str] = HEADER) -> Path:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "任务台账"
    ws.append(["2025年任务进展台账"])  # a title row: the header is row 2, data from row 3
    ws.append(header)
    for row in rows:
        ws.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    path.write_bytes(buf.getvalue())
    return path


def load(engine: Any, path: Path, *, as_unit: str | None = None, by: str = "analyst1") -> Any:
    (result,) = list(load_paths([path], engine=engine, submitted_by=by, as_unit=as_unit))
    return result


def versions(engine: Any) -> list[TaskVersion]:
    with Session(engine) as session:
        return list(session.exec(select(TaskVersion).order_by(TaskVersion.id)))  # type: ignore[arg-type]


def submissions(engine: Any) -> int:
    with Session(engine) as session:
        return len(session.exec(select(Submission)).all())


def test_ledger_versions_history_and_unchanged(db_url: str, tmp_path: Path) -> None:
    engine = open_engine(db_url)
    first = write(tmp_path / "a.xlsx", [[*T02, "推进中", None, "登记规则草案已起草", "2025-06-01"]])
    result = load(engine, first)
    assert result.status == "accepted", [e.message for e in result.errors]
    assert result.tasks == [("003-02", 1)]
    (v1,) = versions(engine)
    assert (v1.task, v1.version_no, v1.progress, v1.note, v1.updated_on) == (
        "003-02", 1, "in_progress", "登记规则草案已起草", date(2025, 6, 1),
    )  # fmt: skip
    assert v1.deadline == date(2024, 12, 31) and v1.recorded_by == "analyst1" and v1.action == "ledger"
    assert v1.owners[0] == "上海市知识产权局" and "浦东新区政府" in v1.owners
    # The same content again (another file name): unchanged, nothing written.
    again = load(
        engine, write(tmp_path / "b.xlsx", [[*T02, "推进中", None, "登记规则草案已起草", "2025-06-01"]])
    )
    assert again.status == "unchanged" and again.tasks == [] and again.tasks_unchanged == ["003-02"]
    assert len(versions(engine)) == 1 and submissions(engine) == 1
    # A later ledger with only 003-03 leaves 003-02 alone.
    other = load(engine, write(tmp_path / "c.xlsx", [[*T03, "未启动", None, "", "2025-05-01"]]))
    assert other.status == "accepted" and other.tasks == [("003-03", 1)]
    # 003-02 done: version 2 keeps what changed and from what, who and when.
    done = load(
        engine,
        write(tmp_path / "d.xlsx", [[*T02, "已完成", "2024-12-20", "登记规则已印发", "2025-01-05"]]),
        by="clerk_pudong",
        as_unit="pudong",
    )
    assert done.status == "accepted", [e.message for e in done.errors]
    with Session(engine) as session:
        (h1, h2) = history(session=session, task="003-02")
        current = current_versions(session=session)
    assert h1.version_no == 1 and h2.version_no == 2 and h2.recorded_by == "clerk_pudong"
    assert h2.changes == {
        "progress": ["in_progress", "done"],
        "done_on": [None, "2024-12-20"],
        "note": ["登记规则草案已起草", "登记规则已印发"],
        "updated_on": ["2025-06-01", "2025-01-05"],
    }
    assert h2.recorded_at >= h1.recorded_at
    assert current["003-02"].version_no == 2 and current["003-03"].version_no == 1
    engine.dispose()


def test_defaulted_update_date(db_url: str, tmp_path: Path) -> None:
    """更新日期 left empty: the upload day only when the report changed; the same report with no
    date is unchanged and keeps the stored date."""
    engine = open_engine(db_url)
    load(engine, write(tmp_path / "a.xlsx", [[*T03, "推进中", None, "已部署", "2025-03-01"]]))
    same = load(engine, write(tmp_path / "b.xlsx", [[*T03, "推进中", None, "已部署", None]]))
    assert same.status == "unchanged"
    newer = load(engine, write(tmp_path / "c.xlsx", [[*T03, "推进中", None, "已部署，完成一半", None]]))
    assert newer.status == "accepted"
    last = versions(engine)[-1]
    assert last.version_no == 2 and last.updated_on == beijing_today()
    # A catalogue task never reported, sent exactly as the catalogue has it (未启动, no note, no
    # date): unchanged, nothing written.
    blank = load(engine, write(tmp_path / "d.xlsx", [[*T02, "未启动", None, None, None]]))
    assert blank.status == "unchanged" and len(versions(engine)) == 2
    engine.dispose()


def test_a_district_loads_only_its_own_tasks(db_url: str, tmp_path: Path) -> None:
    engine = open_engine(db_url)
    # 静安 sends a row of 003-02 (浦东's) between two of its own: the file is refused at A4.
    rows = [
        [*T03, "推进中", None, "静安已部署", "2025-05-01"],
        [*T02, "推进中", None, "代报", "2025-05-01"],
    ]
    refused = load(engine, write(tmp_path / "a.xlsx", rows), as_unit="jingan", by="clerk_jingan")
    assert refused.status == "rejected"
    (err,) = refused.errors
    assert err.reason == Reason.TASK_NOT_OWNED and err.cell == "A4" and err.sheet == "任务台账"
    assert "静安区" in err.message and "003-02" in err.message
    # A forged 责任单位 naming 静安 does not make 003-02 静安's.
    forged = [[*T02[:3], "静安区政府", T02[4], "推进中", None, "代报", "2025-05-01"]]
    assert (
        load(engine, write(tmp_path / "b.xlsx", forged), as_unit="jingan").errors[0].reason
        == Reason.TASK_NOT_OWNED
    )
    # A task in no catalogue: an error for a district, a new task for an analyst.
    new = [
        [
            "X-01",
            "临时交办：专利侵权纠纷快处试点",
            "上海市知识产权局",
            "静安区知识产权局",
            "2025年底",
            "未启动",
            None,
            "",
            None,
        ]
    ]
    unknown = load(engine, write(tmp_path / "c.xlsx", new), as_unit="jingan")
    assert unknown.status == "rejected" and unknown.errors[0].reason == Reason.TASK_UNKNOWN
    assert unknown.errors[0].cell == "A3"
    assert versions(engine) == [] and submissions(engine) == 0  # nothing written by any of these
    created = load(engine, write(tmp_path / "d.xlsx", new))
    assert created.status == "accepted" and created.tasks == [("X-01", 1)]
    assert versions(engine)[0].action == "create" and versions(engine)[0].deadline == date(2025, 12, 31)
    # Now 静安 owns X-01 (静安区知识产权局 links to jingan) and may report on it.
    report = [
        [
            "X-01",
            "临时交办：专利侵权纠纷快处试点",
            "上海市知识产权局",
            "静安区知识产权局",
            "2025年底",
            "推进中",
            None,
            "已启动",
            "2025-06-01",
        ]
    ]
    assert load(engine, write(tmp_path / "e.xlsx", report), as_unit="jingan").status == "accepted"
    engine.dispose()


def test_a_district_row_keeps_the_task_definition(db_url: str, tmp_path: Path) -> None:
    """A district's 完成时限 differing from the task's: kept as stored, with a warning at the cell;
    the same row from an analyst changes the deadline."""
    engine = open_engine(db_url)
    row = [*T03[:4], "2026年6月", "推进中", None, "申请延期", "2025-05-01"]
    result = load(engine, write(tmp_path / "a.xlsx", [row]), as_unit="jingan")
    assert result.status == "accepted"
    (kept,) = [w for w in result.warnings if w.reason == Reason.TASK_DEFINITION_KEPT]
    assert kept.cell == "E3" and "2025年12月底" in kept.message
    assert versions(engine)[-1].deadline == date(2025, 12, 31)
    analyst = load(engine, write(tmp_path / "b.xlsx", [row]))
    assert analyst.status == "accepted"
    last = versions(engine)[-1]
    assert last.deadline == date(2026, 6, 30) and last.changes["deadline"] == ["2025-12-31", "2026-06-30"]
    engine.dispose()


def test_any_error_writes_nothing(db_url: str, tmp_path: Path) -> None:
    engine = open_engine(db_url)
    rows = [[*T03, "推进中", None, "好行", "2025-05-01"], [*T02, "进行中", None, "", None]]
    result = load(engine, write(tmp_path / "a.xlsx", rows))
    assert result.status == "rejected" and result.errors[0].cell == "F4"
    assert versions(engine) == [] and submissions(engine) == 0
    engine.dispose()


def test_task_history_is_append_only_in_the_database(db_url: str, tmp_path: Path) -> None:
    """The database itself refuses to change or delete a task version (triggers, as for the audit log)."""
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    engine = open_engine(db_url)
    load(engine, write(tmp_path / "a.xlsx", [[*T03, "推进中", None, "已部署", "2025-03-01"]]))
    for statement in ("UPDATE task_version SET note = 'x'", "DELETE FROM task_version"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as conn:
            conn.execute(text(statement))
    assert [v.note for v in versions(engine)] == ["已部署"]
    engine.dispose()
