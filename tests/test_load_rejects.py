"""Every error kind, through ``ipdash load`` on a real database: the file is rejected with a
Chinese message naming sheet and cell (where there is one) and the measure code, and the database
is exactly as before (compared table by table).

These rejections are decided by the reader before a transaction opens, so the whole table runs
once, on SQLite; on PostgreSQL three representatives (a cell error, a file-level error, another
unit's file) prove the same "nothing written" there without repeating reader work per database.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from factories import make_return, value_row
from sqlalchemy import func, select
from sqlmodel import Session

from ipdash.cli import main
from store.db import open_engine
from store.models import MeasureValue, PeriodLock, Revision, Submission, SubmissionFile

FIXTURES = Path(__file__).parent / "fixtures"


def snapshot(url: str) -> dict[str, int]:
    eng = open_engine(url)
    with Session(eng) as s:
        out = {
            model.__tablename__: s.exec(select(func.count()).select_from(model)).one()
            for model in (Submission, SubmissionFile, Revision, MeasureValue, PeriodLock)
        }
    eng.dispose()
    return out


def _corrupt(p: Path) -> None:
    make_return(p)
    data = p.read_bytes()
    p.write_bytes(data[: len(data) // 2])


def _not_excel(p: Path) -> None:
    p.write_text("单位,数值\n静安区,1\n", encoding="utf-8")


def _too_large(p: Path) -> None:
    p.write_bytes(b"PK\x03\x04" + b"\0" * (10 * 1024 * 1024 + 10))


# (case, writer, extra CLI args, expected reason, expected cell or "", expected measure or "")
CASES = [
    (
        "not a number",
        lambda p: make_return(p, raw={"trainees": "十二"}),
        [],
        "not_a_number",
        f"E{value_row('trainees')}",
        "trainees",
    ),
    (
        "negative",
        lambda p: make_return(p, raw={"adjudication_closed": -3}),
        [],
        "negative",
        f"E{value_row('adjudication_closed')}",
        "adjudication_closed",
    ),
    (
        "not whole",
        lambda p: make_return(p, raw={"enforcement_filed": 2.5}),
        [],
        "not_whole",
        f"E{value_row('enforcement_filed')}",
        "enforcement_filed",
    ),
    (
        "3 decimals",
        lambda p: make_return(p, raw={"amount_involved": 1.234}),
        [],
        "too_many_decimals",
        f"E{value_row('amount_involved')}",
        "amount_involved",
    ),
    (
        "formula without cached value",
        lambda p: make_return(p, raw={"trainees": "=1+1"}),
        [],
        "formula_no_value",
        f"E{value_row('trainees')}",
        "trainees",
    ),
    (
        "measure missing",
        lambda p: make_return(p, omit=["mediation_accepted"]),
        [],
        "measure_missing",
        "",
        "mediation_accepted",
    ),
    (
        "measure twice",
        lambda p: make_return(p, duplicate=["complaints_closed"]),
        [],
        "measure_duplicate",
        None,
        "complaints_closed",
    ),
    ("unknown unit", lambda p: make_return(p, unit="静安县"), [], "unknown_unit", None, ""),
    ("unit missing", lambda p: make_return(p, unit=None), [], "unit_missing", None, ""),
    ("period missing", lambda p: make_return(p, period=None), [], "period_missing", None, ""),
    ("period malformed", lambda p: make_return(p, period="2023-13"), [], "period_malformed", None, ""),
    ("period in the future", lambda p: make_return(p, period="2999-01"), [], "period_future", None, ""),
    (
        "another unit's file",
        lambda p: make_return(p, unit="浦东新区"),
        ["--as-unit", "jingan"],
        "wrong_unit",
        None,
        "",
    ),
    ("corrupt workbook", _corrupt, [], "unreadable", "", ""),
    ("not Excel", _not_excel, [], "not_excel", "", ""),
    ("over 10 MB", _too_large, [], "too_large", "", ""),
    ("encrypted", lambda p: shutil.copy(FIXTURES / "encrypted.xlsx", p), [], "encrypted", "", ""),
]


@pytest.mark.parametrize(
    ("case", "write", "args", "reason", "cell", "measure"), CASES, ids=[c[0] for c in CASES]
)
def test_error_rejects_file_and_writes_nothing(
    tmp_path, sqlite_url, capsys, case, write, args, reason, cell, measure
):
    _rejects_and_writes_nothing(tmp_path, sqlite_url, capsys, write, args, reason, cell, measure)


PG_CASES = [c for c in CASES if c[0] in ("not a number", "corrupt workbook", "another unit's file")]


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("case", "write", "args", "reason", "cell", "measure"), PG_CASES, ids=[c[0] for c in PG_CASES]
)
def test_rejection_writes_nothing_on_postgresql(
    tmp_path, pg_url, capsys, case, write, args, reason, cell, measure
):
    _rejects_and_writes_nothing(tmp_path, pg_url, capsys, write, args, reason, cell, measure)


def _rejects_and_writes_nothing(tmp_path, db_url, capsys, write, args, reason, cell, measure):
    good = make_return(tmp_path / "good.xlsx", period="2023-05")
    assert main(["load", "--db", db_url, str(good)]) == 0
    before = snapshot(db_url)
    bad = tmp_path / "bad.xlsx"
    write(bad)
    capsys.readouterr()
    assert main(["load", "--db", db_url, "--json", *args, str(bad)]) == 1
    (report,) = json.loads(capsys.readouterr().out)
    assert report["status"] == "rejected"
    matching = [e for e in report["errors"] if e["reason"] == reason]
    assert matching, report["errors"]
    err = matching[0]
    assert "bad.xlsx" in err["message"]
    if cell is not None:
        assert err["cell"] == cell
        if cell:
            assert err["sheet"] == "月报" and f"月报」单元格 {cell}" in err["message"]
    if measure:
        assert err["measure"] == measure and measure in err["message"]
    assert snapshot(db_url) == before
