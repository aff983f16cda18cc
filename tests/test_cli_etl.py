"""The CLI contract of ``ipdash load | history | restore | template | export-raw`` on real files
and real databases (SQLite file and PostgreSQL)."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlmodel import Session, select

from etl.writers import write_return
from foundation.catalogue import default_catalogue
from ipdash.cli import main
from store import queries
from store.db import open_engine
from store.models import MeasureValue, Revision, Submission

CAT = default_catalogue()
MONTHLY = [m.code for m in CAT.monthly_measures()]
IPDASH = [sys.executable, "-m", "ipdash.cli"]


def values_for(seed: int) -> dict[str, float]:
    """Consistent values (closed ≤ open, withdrawn ≤ notified...) that differ by seed."""
    v = {code: float(seed) for code in MONTHLY}
    v.update(
        adjudication_accepted=10 + seed,
        adjudication_closed=5,
        adjudication_pending=20,
        enforcement_filed=10 + seed,
        enforcement_closed=5,
        enforcement_pending=20,
        closed_cases_disclosed=4,
        abnormal_patent_notified=10,
        abnormal_patent_withdrawn=8,
        mediation_accepted=10,
        mediation_succeeded=7,
        malicious_tm_leads=6,
        malicious_tm_leads_handled=5,
        complaints_received=9,
        complaints_closed=9,
        aid_workstations=2,
        standardized_markets=3,
        amount_involved=12.34 + seed,
        fines_confiscations=1.5,
    )
    return v


def make(
    tmp: Path, unit: str, period: str, seed: int = 1, name: str | None = None, **override: float
) -> Path:
    path = tmp / (name or f"{unit}_{period}.xlsx")
    vals = values_for(seed) | override
    write_return(path, unit=CAT.units[unit], period=period, catalogue=CAT, values=vals)
    return path


def counts(url: str) -> tuple[int, int, int]:
    eng = open_engine(url)
    with Session(eng) as s:
        out = (
            len(s.exec(select(Submission.id)).all()),
            len(s.exec(select(Revision.id)).all()),
            len(s.exec(select(MeasureValue.revision_id)).all()),
        )
    eng.dispose()
    return out


def test_load_folder_accepts_and_reports_each_file(tmp_path, db_url, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    make(folder, "jingan", "2023-05")
    make(folder, "jingan", "2023-06", seed=2)
    make(folder, "pudong", "2023-06", seed=3)
    assert main(["load", "--db", db_url, "--by", "张三", str(folder)]) == 0
    out = capsys.readouterr().out
    assert out.count("已接收") == 3
    assert "共 3 个文件：接收 3，内容未变 0，拒收 0" in out
    # 3 submissions, 3 revisions, 3 × 34 monthly measures
    assert counts(db_url) == (3, 3, 3 * len(MONTHLY))


def test_load_json_and_bad_file_writes_nothing(tmp_path, db_url, capsys):
    good = make(tmp_path, "jingan", "2023-06")
    assert main(["load", "--db", db_url, str(good)]) == 0
    before = counts(db_url)
    bad = make(tmp_path, "jingan", "2023-07", name="bad.xlsx", adjudication_closed=-3)
    capsys.readouterr()
    assert main(["load", "--db", db_url, "--json", str(bad)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in report] == ["rejected"]
    (err,) = report[0]["errors"]
    assert err["measure"] == "adjudication_closed"
    assert err["sheet"] == "月报" and err["cell"]
    assert "adjudication_closed" in err["message"] and "-3" in err["message"]
    assert counts(db_url) == before


def test_same_file_again_is_unchanged_then_history_and_restore(tmp_path, db_url, capsys):
    first = make(tmp_path, "xuhui", "2023-03", seed=1, name="v1.xlsx")
    assert main(["load", "--db", db_url, str(first)]) == 0
    assert main(["load", "--db", db_url, str(first)]) == 0
    assert "内容未变" in capsys.readouterr().out
    assert counts(db_url)[1] == 1
    second = make(tmp_path, "xuhui", "2023-03", seed=5, name="v2.xlsx")
    assert main(["load", "--db", db_url, str(second)]) == 0
    capsys.readouterr()
    assert main(["history", "--db", db_url, "--unit", "xuhui", "--period", "2023-03"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("  第1版") and "v1.xlsx" in out[1]
    assert out[2].startswith("* 第2版") and "v2.xlsx" in out[2]
    assert main(["restore", "--db", db_url, "--unit", "xuhui", "--period", "2023-03", "--revision", "1"]) == 0
    assert "第3版" in capsys.readouterr().out
    eng = open_engine(db_url)
    with Session(eng) as s:
        cur = queries.current_values(session=s)
    eng.dispose()
    # seed 1 gives training_sessions = 1.0 (seed 5 gave 5.0): revision 1's content is current again
    assert cur.set_index("measure").loc["training_sessions", "value"] == 1.0


def test_as_unit_refuses_another_units_file(tmp_path, sqlite_url, capsys):
    f = make(tmp_path, "pudong", "2023-06")
    assert main(["load", "--db", sqlite_url, "--as-unit", "jingan", "--json", str(f)]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report[0]["status"] == "rejected"
    assert any(e["reason"] == "wrong_unit" for e in report[0]["errors"])
    assert counts(sqlite_url) == (0, 0, 0)


def test_locked_period_refuses_load(tmp_path, sqlite_url, capsys):
    from store.repo import lock_period

    eng = open_engine(sqlite_url)
    with Session(eng) as s:
        lock_period(session=s, period="2023-06", by="市局分析员")
        s.commit()
    eng.dispose()
    f = make(tmp_path, "jingan", "2023-06")
    assert main(["load", "--db", sqlite_url, str(f)]) == 1
    out = capsys.readouterr().out
    assert "2023-06 已由 市局分析员 锁定" in out
    assert counts(sqlite_url) == (0, 0, 0)


def test_exit_codes_through_the_real_command(tmp_path, sqlite_url):
    f = make(tmp_path, "jingan", "2023-06")
    ok = subprocess.run([*IPDASH, "load", "--db", sqlite_url, str(f)], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(
        [*IPDASH, "load", "--db", sqlite_url, str(tmp_path / "nope.xlsx")], capture_output=True, text=True
    )
    assert missing.returncode == 1 and "文件不存在" in missing.stdout
    usage = subprocess.run([*IPDASH, "load", "--db", sqlite_url], capture_output=True, text=True)
    assert usage.returncode == 2
    bad_period = subprocess.run(
        [*IPDASH, "template", "--unit", "jingan", "--period", "2023-13", "-o", "x.xlsx"],
        capture_output=True,
        text=True,
    )
    assert bad_period.returncode == 2 and "YYYY-MM" in bad_period.stderr
    assert "Traceback" not in ok.stderr + missing.stderr + usage.stderr + bad_period.stderr


def test_template_is_a_loadable_blank_return(tmp_path, sqlite_url, capsys):
    out = tmp_path / "tpl.xlsx"
    assert main(["template", "--unit", "jingan", "--period", "2023-06", "-o", str(out)]) == 0
    assert "已生成 静安区 2023-06 月报模板" in capsys.readouterr().out
    # A blank template reads as all zeros with a warning listing the blank cells (DOMAIN.md).
    assert main(["load", "--db", sqlite_url, "--json", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report[0]["status"] == "accepted"
    assert any(w["reason"] == "blank_as_zero" for w in report[0]["warnings"])


def _ledger_db(url: str, tmp: Path) -> None:
    """Two units × three months of 2023 plus the annual score, loaded from returns + a ledger."""
    from etl.writers import write_ledger

    files = [
        make(tmp, u, f"2023-0{m}", seed=m + i) for i, u in enumerate(["jingan", "pudong"]) for m in (1, 2, 3)
    ]
    annual = pd.DataFrame(
        {
            "unit": ["jingan", "pudong"],
            "period": "2023",
            "measure": "satisfaction_score",
            "value": [81.25, 79.5],
        }
    )
    write_ledger(tmp / "annual.xlsx", annual, catalogue=CAT, units=CAT.units_of("shanghai"))
    assert main(["load", "--db", url, *map(str, files), str(tmp / "annual.xlsx")]) == 0


def test_export_raw_round_trip(tmp_path, db_url, sqlite_url, capsys):
    _ledger_db(db_url, tmp_path)
    out = tmp_path / "raw_2023.xlsx"
    assert main(["export-raw", "--db", db_url, "--year", "2023", "-o", str(out)]) == 0
    # load the export into another, empty database: the same values come back
    assert main(["load", "--db", sqlite_url, str(out)]) == 0

    def frame(url: str) -> pd.DataFrame:
        eng = open_engine(url)
        with Session(eng) as s:
            df = queries.current_values(session=s)
        eng.dispose()
        return df.sort_values(["unit", "period", "measure"]).reset_index(drop=True)

    a, b = frame(db_url), frame(sqlite_url)
    assert len(a) == 2 * 3 * len(MONTHLY) + 2
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize(
    "argv", [["history", "--unit", "nowhere", "--period", "2023-01"], ["load", "--as-unit", "x", "f.xlsx"]]
)
def test_unknown_unit_is_usage_error(argv, sqlite_url):
    assert main([argv[0], "--db", sqlite_url, *argv[1:]]) == 2


def test_cross_period_warning_in_one_batch_and_across_loads(tmp_path, db_url, capsys):
    """The batch cache sees the files committed before it in the same run, and the stored state
    of earlier runs; the preview path (check_file without cache) sees the store the same way."""
    from etl.load import check_file

    folder = tmp_path / "batch"
    folder.mkdir()
    make(folder, "jingan", "2023-05", aid_workstations=2)
    make(folder, "jingan", "2023-06", aid_workstations=4)  # 2 → 4 is +100 %: a stock jump
    assert main(["load", "--db", db_url, "--json", str(folder)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [[w["reason"] for w in r["warnings"]] for r in report] == [[], ["stock_jump"]]
    jump = report[1]["warnings"][0]
    assert jump["measure"] == "aid_workstations" and jump["period"] == "2023-06"
    # a later, separate load of July against the stored June (4 → 7 is +75 %)
    july = make(tmp_path, "jingan", "2023-07", aid_workstations=7)
    assert main(["load", "--db", db_url, "--json", str(july)]) == 0
    assert [w["reason"] for w in json.loads(capsys.readouterr().out)[0]["warnings"]] == ["stock_jump"]
    eng = open_engine(db_url)
    with Session(eng) as s:
        aug = make(tmp_path, "jingan", "2023-08", aid_workstations=20)
        parsed = check_file(aug, session=s)
    eng.dispose()
    assert [w.reason for w in parsed.warnings] == ["stock_jump"]


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, to see the progress bar."""

    def isatty(self) -> bool:
        return True


def test_progress_bar_on_a_terminal_only_and_quiet_under_json(tmp_path, sqlite_url, capsys, monkeypatch):
    folder = tmp_path / "many"
    folder.mkdir()
    for m in (1, 2, 3):
        make(folder, "jingan", f"2023-0{m}", seed=m)
    fake = _Terminal()
    monkeypatch.setattr(sys, "stderr", fake)
    assert main(["load", "--db", sqlite_url, "--by", "李四", str(folder)]) == 0
    assert "载入" in fake.getvalue() and "3/3" in fake.getvalue()
    out = capsys.readouterr().out
    assert out.count("已接收(accepted)") == 3
    # who submitted is recorded (--by) and shown by history
    assert main(["history", "--db", sqlite_url, "--unit", "jingan", "--period", "2023-02"]) == 0
    assert "李四" in capsys.readouterr().out
    # --json: nothing but the JSON, even on a terminal
    fake.seek(0)
    fake.truncate()
    make(folder, "jingan", "2023-04", seed=4)
    assert main(["load", "--db", sqlite_url, "--json", str(folder)]) == 0
    assert fake.getvalue() == ""
    assert [r["status"] for r in json.loads(capsys.readouterr().out)] == ["unchanged"] * 3 + ["accepted"]
