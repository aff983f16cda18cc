"""``ipdash tasks status`` / ``template`` and application.tasks: the status of every task on a
date from what was known then (history rebuilds an earlier status, to the Beijing day), exactly
the issue's JSON keys, the unit filter, and the template that loads back unchanged."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import openpyxl
import pytest
from sqlmodel import Session
from test_task_store import T02, write

from application.tasks import task_statuses
from etl.load import load_paths
from ipdash.cli import main
from store.db import open_engine

BEIJING = ZoneInfo("Asia/Shanghai")


def run(capsys, *argv: str) -> tuple[int, str]:  # noqa: ANN001 - pytest fixture
    code = main(list(argv))
    out, _ = capsys.readouterr()
    return code, out


def _load_at(engine, path: Path, when: datetime) -> None:  # noqa: ANN001
    (result,) = list(load_paths([path], engine=engine, submitted_by="analyst1", received_at=when))
    assert result.status == "accepted", [e.message for e in result.errors]


def _status(engine, day: date, task: str = "003-02", **kw):  # noqa: ANN001, ANN003, ANN202
    with Session(engine) as session:
        return {s.task: s for s in task_statuses(session=session, as_of=day, **kw)}.get(task)


def test_history_rebuilds_an_earlier_status(db_url: str, tmp_path: Path) -> None:
    engine = open_engine(db_url)
    # 003-02's deadline: 2024年12月底 = 2024-12-31.
    _load_at(
        engine,
        write(tmp_path / "march.xlsx", [[*T02, "推进中", None, "草案已起草", "2025-03-01"]]),
        datetime(2025, 3, 10, 10, 0, tzinfo=BEIJING),
    )
    _load_at(
        engine,
        write(tmp_path / "july.xlsx", [[*T02, "已完成", "2024-12-20", "规则已印发", "2025-07-01"]]),
        datetime(2025, 7, 1, 23, 30, tzinfo=BEIJING),  # 15:30 UTC: still 1 July in Beijing
    )
    # 9 March: nothing reported yet — the catalogue: not started, overdue 31 + 28 + 9 = 68 days.
    before = _status(engine, date(2025, 3, 9))
    assert (before.progress, before.state, before.colour, before.days_overdue, before.version) == (
        "not_started", "overdue", "red", 68, 0,
    )  # fmt: skip
    # 30 June: the March report only; overdue 31+28+31+30+31+30 = 181 days.
    june = _status(engine, date(2025, 6, 30))
    assert (june.progress, june.last_update, june.state, june.days_overdue, june.version) == (
        "in_progress", "2025-03-01", "overdue", 181, 1,
    )  # fmt: skip
    # 1 July (Beijing): the July report counts — done on 2024-12-20 ≤ deadline: green.
    july = _status(engine, date(2025, 7, 1))
    assert (july.progress, july.done_on, july.state, july.colour, july.days_overdue) == (
        "done", "2024-12-20", "done", "green", None,
    )  # fmt: skip
    engine.dispose()


def test_plans_not_yet_issued_and_unit_filter(db_url: str) -> None:
    engine = open_engine(db_url)
    with Session(engine) as session:
        early = {s.task for s in task_statuses(session=session, as_of=date(2023, 6, 1))}
        jingan = {s.task for s in task_statuses(session=session, as_of=date(2025, 6, 1), unit="jingan")}
        pudong = {s.task for s in task_statuses(session=session, as_of=date(2025, 6, 1), unit="pudong")}
    # Seed 003 was issued on 2023-12-07, seed 004 on 2023-05-11, seed 000 on 2023-03-15.
    assert not any(t.startswith("003-") for t in early)
    assert "004-08" in early and "000-01" in early
    assert not any(t.startswith("001-R") for t in early)  # yearly reports chased from 2024
    assert {"001-R1-2024", "001-R3-2025"} <= jingan and "001-R1-2026" not in jingan
    # 004-08 (静安's mid-term check) is 静安's, 003-02 (浦东新区政府 among its owners) 浦东's.
    assert "004-08" in jingan and "004-08" not in pudong
    assert "003-02" in pudong and "003-02" not in jingan
    engine.dispose()


def test_cli_status_json_keys_and_order(db_url: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    code, out = run(capsys, "tasks", "status", "--as-of", "2024-12-01", "--format", "json", "--db", db_url)
    assert code == 0
    rows = json.loads(out)
    keys = ["task", "title", "source", "lead", "owners", "units", "deadline", "progress", "done_on",
            "last_update", "state", "colour", "days_overdue"]  # fmt: skip
    assert all(list(r) == keys for r in rows)
    by_task = {r["task"]: r for r in rows}
    # 003-02 on 2024-12-01: deadline 2024-12-31 is within 30 days: due soon, yellow.
    assert by_task["003-02"]["state"] == "due_soon" and by_task["003-02"]["colour"] == "yellow"
    assert by_task["003-02"]["source"] == "沪府办〔2023〕34号 一、2"
    assert by_task["003-02"]["owners"][0] == "上海市知识产权局" and by_task["003-02"]["units"] == ["pudong"]
    # 003-01 is ongoing and never reported: stale.
    assert by_task["003-01"]["deadline"] == "ongoing" and by_task["003-01"]["state"] == "stale"
    # Red first, then yellow, then green.
    rank = {"red": 0, "yellow": 1, "green": 2}
    colours = [rank[r["colour"]] for r in rows]
    assert colours == sorted(colours) and colours[0] == 0
    code, out = run(capsys, "tasks", "status", "--as-of", "2024-12-01", "--format", "csv", "--db", db_url)
    assert out.splitlines()[0] == ",".join(keys)
    with pytest.raises(SystemExit) as refused:
        run(capsys, "tasks", "status", "--as-of", "2024-13-01", "--db", db_url)
    assert refused.value.code == 2 and "日期格式应为 YYYY-MM-DD：2024-13-01" in capsys.readouterr().err


def test_template_loads_back_unchanged_and_carries_progress(db_url: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    engine = open_engine(db_url)
    _load_at(
        engine,
        write(tmp_path / "r.xlsx", [[*T02, "推进中", None, "草案已起草", "2025-03-01"]]),
        datetime(2025, 3, 10, 10, 0, tzinfo=BEIJING),
    )
    target = tmp_path / "ledger.xlsx"
    code, out = run(capsys, "tasks", "template", "--unit", "pudong", "-o", str(target), "--db", db_url)
    assert code == 0 and target.exists()
    ws = openpyxl.load_workbook(target).active
    header = [c.value for c in ws[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert rows["003-02"]["进展状态"] == "推进中" and rows["003-02"]["进展情况"] == "草案已起草"
    assert rows["003-02"]["更新日期"] == "2025-03-01" and rows["003-02"]["完成时限"] == "2024年12月底"
    assert "004-08" not in rows  # 静安's
    code, out = run(capsys, "load", "--db", db_url, "--as-unit", "pudong", str(target))
    assert code == 0 and "unchanged" in out
    engine.dispose()
