"""The CLI contract of ``ipdash status | lock | unlock | export`` (errors and exit codes) on real
files and real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session, select
from test_export_data import CAT, month_values, seed_scenario

from etl.writers import write_ledger, write_return
from ipdash.cli import main
from store.models import MeasureValue, PeriodLock, Revision, Submission


def run(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001 - pytest fixture
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def counts(engine) -> tuple[int, int, int]:  # noqa: ANN001
    with Session(engine) as s:
        return (
            len(s.exec(select(Submission)).all()),
            len(s.exec(select(Revision)).all()),
            len(s.exec(select(MeasureValue)).all()),
        )


def ledger(path: Path, rows: dict[tuple[str, str], dict[str, float]]) -> Path:
    frame = pd.DataFrame(
        [(u, p, m, v) for (u, p), values in rows.items() for m, v in values.items()],
        columns=["unit", "period", "measure", "value"],
    )
    write_ledger(path, frame, catalogue=CAT, units=CAT.units_of("shanghai"))
    return path


# --- lock / unlock ----------------------------------------------------------------------------------


def test_a_locked_period_refuses_uploads_and_writes_nothing(engine, db_url, tmp_path, capsys) -> None:  # noqa: ANN001
    seed_scenario(engine)
    code, out, _ = run(capsys, "lock", "--period", "2023-03", "--by", "市局保护处", "--db", db_url)
    assert code == 0 and "已锁定报告期 2023-03" in out
    code, out, _ = run(capsys, "lock", "--db", db_url)
    assert code == 0 and "2023-03\t锁定人 市局保护处" in out
    before = counts(engine)

    # a district return for the locked month
    ret = tmp_path / "jingan_2023-03.xlsx"
    write_return(ret, unit=CAT.units["jingan"], period="2023-03", catalogue=CAT, values=month_values(40))
    code, out, _ = run(capsys, "load", "--db", db_url, str(ret))
    assert code == 1
    assert "已拒收" in out and "报告期 2023-03 已由 市局保护处 锁定用于考核" in out
    # a ledger with an open month and the locked one: the whole file is refused
    both = ledger(
        tmp_path / "台账.xlsx",
        {("jingan", "2023-02"): month_values(41), ("jingan", "2023-03"): month_values(42)},
    )
    code, out, _ = run(capsys, "load", "--json", "--db", db_url, str(both))
    assert code == 1
    result = json.loads(out)[0]
    assert result["status"] == "rejected"
    assert [e["reason"] for e in result["errors"]] == ["period_locked"]
    assert counts(engine) == before

    # the tracker shows the lock
    code, out, _ = run(capsys, "status", "--period", "2023-03", "--format", "json", "--db", db_url)
    status = json.loads(out)
    assert status["locked"] == ["2023-03"]
    assert {r["locked"] for r in status["rows"] if r["period"] == "2023-03"} == {True}
    assert {r["locked"] for r in status["rows"] if r["period"] != "2023-03"} == {False}
    code, out, _ = run(capsys, "status", "--period", "2023-03", "--db", db_url)
    assert "已锁定用于考核的报告期：2023-03" in out and "（已锁定）" in out

    # locking again says so; unlocking lets the return in
    code, out, _ = run(capsys, "lock", "--period", "2023-03", "--db", db_url)
    assert code == 0 and "已于" in out and "由 市局保护处 锁定" in out
    code, out, _ = run(capsys, "unlock", "--period", "2023-03", "--db", db_url)
    assert code == 0 and "已解锁报告期 2023-03" in out
    code, out, _ = run(capsys, "load", "--db", db_url, str(ret))
    assert code == 0 and "已接收" in out
    assert counts(engine)[1] == before[1] + 1
    code, out, _ = run(capsys, "unlock", "--period", "2023-03", "--db", db_url)
    assert code == 0 and "未锁定" in out


def test_lock_a_year_and_several_months(engine, db_url, capsys) -> None:  # noqa: ANN001
    code, _, _ = run(capsys, "lock", "--period", "2023", "2023-01", "2023-02", "--by", "a", "--db", db_url)
    assert code == 0
    with Session(engine) as s:
        assert sorted(p.period for p in s.exec(select(PeriodLock)).all()) == ["2023", "2023-01", "2023-02"]


@pytest.mark.parametrize("period", ["2023-13", "23-01", "2023/01", "202301"])
def test_lock_refuses_a_malformed_period(period: str, capsys) -> None:  # noqa: ANN001
    with pytest.raises(SystemExit) as exc:
        main(["lock", "--period", period])
    assert exc.value.code == 2
    assert "报告期格式应为 YYYY-MM" in capsys.readouterr().err


# --- status -----------------------------------------------------------------------------------------


def test_status_json_text_and_csv(engine, db_url, capsys) -> None:  # noqa: ANN001
    seed_scenario(engine)
    code, out, _ = run(capsys, "status", "--period", "2023-03", "--format", "json", "--db", db_url)
    assert code == 0
    status = json.loads(out)
    assert status["months"] == ["2023-01", "2023-02", "2023-03"] and status["latest_due_month"] == "2023-03"
    rows = {(r["unit"], r["period"]): r for r in status["rows"]}
    assert len(rows) == 17 * 3
    assert rows[("huangpu", "2023-03")]["state"] == "late"
    assert rows[("huangpu", "2023-03")]["first_received_at"] == "2023-04-11T08:00:00+08:00"
    assert rows[("huangpu", "2023-03")]["due_limit"] == "2023-04-11T00:00:00+08:00"
    assert rows[("xuhui", "2023-03")]["revisions"] == 2 and rows[("xuhui", "2023-03")]["revised"]
    assert (rows[("jingan", "2023-02")]["state"], rows[("jingan", "2023-02")]["overdue"]) == ("missing", True)
    assert rows[("jingan", "2023-03")]["open_warnings"] == 2
    assert status["rows"][0]["unit"] == "changning"  # nothing sent at all: chased first

    # as it stood on 2023-04-05: March not yet due for huangpu
    code, out, _ = run(
        capsys,
        "status",
        "--period",
        "2023-03",
        "--as-of",
        "2023-04-05T00:00",
        "--format",
        "json",
        "--db",
        db_url,
    )
    then = {(r["unit"], r["period"]): r for r in json.loads(out)["rows"]}
    assert (then[("huangpu", "2023-03")]["state"], then[("huangpu", "2023-03")]["overdue"]) == (
        "missing",
        False,
    )

    code, out, _ = run(capsys, "status", "--period", "2023-03", "--db", db_url)
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("上海市 报送情况 · 2023-01 至 2023-03")
    assert "最近已到期月份：2023-03（应于 2023-04-10 24:00 前报送）；该月未报送：13 个单位" in out
    grid: dict[str, list[str]] = {}
    for line in lines:  # the grid comes first; the month's detail table repeats the names below it
        if line.split() and line.split()[0] in ("黄浦", "徐汇", "静安", "长宁"):
            grid.setdefault(line.split()[0], line.split()[1:])
    assert grid["黄浦"][:3] == ["✓", "✓", "迟"]
    assert grid["徐汇"][:3] == ["✓", "迟", "✓2"]
    assert grid["静安"][:3] == ["✓", "✗", "✓!"]
    assert grid["长宁"][:3] == ["✗", "✗", "✗"]
    assert "静安 2023-03 存量跳变" in out

    code, out, _ = run(capsys, "status", "--period", "2023-03", "--format", "csv", "--db", db_url)
    frame = pd.read_csv(io.StringIO(out))
    assert len(frame) == 51 and frame.columns[0] == "unit"


def test_status_refuses_a_bad_as_of(db_url, capsys) -> None:  # noqa: ANN001
    code, _, err = run(capsys, "status", "--period", "2023-03", "--as-of", "昨天", "--db", db_url)
    assert code == 2 and "ISO 8601" in err


# --- export errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("extra", "exit_code", "message"),
    [
        (["--as-of", "not a time"], 2, "--as-of 时间格式应为 ISO 8601"),
        (["--as-of", "2999-01-01T00:00:00"], 2, "晚于当前时间"),
        (["--unit", "atlantis"], 2, "未知单位：atlantis"),
        (["--unit", "hefei"], 2, "不属于地区"),
    ],
)
def test_export_usage_errors(extra, exit_code, message, tmp_path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "x.xlsx"
    code, _, err = run(capsys, "export", "--period", "2023-03", "-o", str(out), *extra)
    assert code == exit_code
    assert message in err and "Traceback" not in err
    assert not out.exists()


def test_export_with_a_bad_scheme_or_an_unwritable_target(sqlite_url, tmp_path, capsys) -> None:  # noqa: ANN001
    scheme = tmp_path / "bad.csv"
    scheme.write_text(
        "indicator,weight,method,target,floor,ceiling,bands\nnope,100,target,1,,,\n", encoding="utf-8"
    )
    code, _, err = run(
        capsys,
        "export",
        "--period",
        "2023-03",
        "--scheme",
        str(scheme),
        "--db",
        sqlite_url,
        "-o",
        str(tmp_path / "x.xlsx"),
    )
    assert code == 1 and "考核方案有误" in err and "nope" in err
    code, _, err = run(capsys, "export", "--period", "2023-03", "--db", sqlite_url, "-o", str(tmp_path))
    assert code == 1 and "无法写入文件" in err
