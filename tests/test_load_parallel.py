"""Issue 13: ``ipdash load`` reads its files ahead in worker processes (``etl.batch``) and writes
them here in file order. What it stores, prints and returns must be exactly what the serial run
gives — on a SQLite file and on PostgreSQL — a bad file among many still writes nothing and
names file, sheet and cell, and a bug or a dead worker in the pool is reported as in a serial run.

Every file here is a real .xlsx (sample returns, the factories' returns, a task ledger written
with openpyxl); nothing of the loader is stubbed except, where a test says so, a bug injected
into the reader to see how it is reported.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import PG_ADMIN_URL, _pg_unreachable
from factories import make_return, value_row
from sqlalchemy import DateTime, create_engine, select, text
from sqlalchemy.engine import Engine, make_url
from sqlmodel import Session, SQLModel

from etl.batch import PARALLEL_MIN_FILES, ReadAhead, ReadFault
from etl.load import load_paths
from foundation.incidents import log_incidents_to, stop_logging
from store.db import open_engine

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data" / "returns"
ID = re.compile(r"编号 (E\d{8}-[0-9a-f]{6})")

# The batch: 16 sample returns, then one file of each kind of outcome, in this order.
SAMPLE_UNITS = ("baoshan", "changning", "chongming", "fengxian", "hongkou", "huangpu", "jiading", "jingan")
EXPECTED_STATUS = [
    *["accepted"] * 16,  # 01..16: the sample returns of 2023-01 and 2023-02 of eight districts
    "rejected",  # 17: 静安 2023-03 with 培训人次 "十二": not a number, at its cell
    "unchanged",  # 18: a copy of file 01 under another name
    "rejected",  # 19: text named .xlsx
    "rejected",  # 20: 2022-12, a period locked before the load
    "accepted",  # 21: 长宁 2023-01 again with other values: revision 2
    "accepted",  # 22: the satisfaction ledger (layout B, one sheet per year)
    "accepted",  # 23: a plan-task ledger (layout C)
    "rejected",  # 24: a path that does not exist
]


def _task_ledger(path: Path) -> Path:
    from test_etl_task_ledger import ledger

    path.write_bytes(
        ledger(
            [["003-02", "深化数据知识产权工作试点", "上海市知识产权局",
              "市经济信息化委、市贸促会、浦东新区政府、国家知识产权局战略规划司", "2024年12月底",
              "推进中", None, "登记规则草案已起草", "2025-06-01"]],
            title_rows=0,
        )
    )  # fmt: skip
    return path


def make_batch(folder: Path) -> list[Path]:
    """The files of ``EXPECTED_STATUS``, named so that a folder lists them in that order."""
    folder.mkdir()
    files: list[Path] = []
    for month in ("2023-01", "2023-02"):
        for code in SAMPLE_UNITS:
            target = folder / f"{len(files) + 1:02d}_{code}_{month}.xlsx"
            files.append(Path(shutil.copyfile(SAMPLES / month / f"{code}_{month}.xlsx", target)))
    bad = make_return(
        folder / "17_jingan_bad.xlsx", unit="静安区", period="2023-03", raw={"trainees": "十二"}
    )
    copy = Path(shutil.copyfile(files[0], folder / "18_copy_of_01.xlsx"))
    text_file = folder / "19_not_excel.xlsx"
    text_file.write_text("这不是表格", encoding="utf-8")
    locked = make_return(folder / "20_jingan_locked.xlsx", unit="静安区", period="2022-12")
    revised = make_return(folder / "21_changning_revised.xlsx", unit="长宁区", period="2023-01")
    ledger = Path(
        shutil.copyfile(ROOT / "sample_data" / "ledger_satisfaction.xlsx", folder / "22_ledger.xlsx")
    )
    tasks = _task_ledger(folder / "23_tasks.xlsx")
    return [*files, bad, copy, text_file, locked, revised, ledger, tasks, folder / "24_missing.xlsx"]


def _fresh_pg() -> Iterator[str]:
    name = f"ipdash_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def two_engines(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Engine]]:
    """Two fresh, migrated databases of one kind: one for the serial load, one for the parallel."""
    if request.param == "sqlite":
        urls = [f"sqlite:///{tmp_path / 'serial.db'}", f"sqlite:///{tmp_path / 'parallel.db'}"]
        engines = [open_engine(u) for u in urls]
        yield engines[0], engines[1]
        for e in engines:
            e.dispose()
        return
    reason = _pg_unreachable()
    if reason:
        pytest.skip(reason)
    first, second = _fresh_pg(), _fresh_pg()
    engines = [open_engine(next(first)), open_engine(next(second))]
    try:
        yield engines[0], engines[1]
    finally:
        for e in engines:
            e.dispose()
        for gen in (first, second):
            next(gen, None)


def _lock_2022_12(engine: Engine) -> None:
    from application.submissions import lock_period

    with Session(engine) as session:
        assert lock_period(session=session, period="2022-12", by="analyst1")
        session.commit()


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, ids included, in primary-key order; only times are left out
    (each run writes its own 'now')."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            cols = [c for c in table.columns if not isinstance(getattr(c.type, "impl", c.type), DateTime)]
            rows = conn.execute(select(*cols).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(r) for r in rows]
    return out


def test_parallel_load_stores_and_reports_exactly_what_the_serial_load_does(
    two_engines: tuple[Engine, Engine], tmp_path: Path
) -> None:
    serial_engine, parallel_engine = two_engines
    files = make_batch(tmp_path / "batch")
    assert len(files) >= PARALLEL_MIN_FILES
    for engine in two_engines:
        _lock_2022_12(engine)

    serial = list(load_paths(files, engine=serial_engine, submitted_by="tester", jobs=1))
    with ReadAhead(files, jobs=2) as reads:
        assert reads.parallel and reads.jobs == 2  # really two worker processes
        parallel = list(load_paths(files, engine=parallel_engine, submitted_by="tester", reads=reads))

    assert [r.status for r in serial] == EXPECTED_STATUS
    assert [r.to_dict() for r in parallel] == [r.to_dict() for r in serial]
    stored = dump(serial_engine)
    assert dump(parallel_engine) == stored
    # What was stored, worked out from the batch: the 16 returns, revision 2 of 长宁 2023-01, the
    # ledger's 17 units × 2 years (2022, 2023) and one task version; the copy, the bad, the
    # locked and the text file wrote nothing.
    assert parallel[20].new_revisions == [("changning", "2023-01", 2)]
    assert parallel[21].periods == ["2022", "2023"] and len(parallel[21].new_revisions) == 34
    assert len(stored["revision"]) == 16 + 1 + 34
    assert len(stored["task_version"]) == 1
    with parallel_engine.connect() as conn:
        names = conn.execute(text("SELECT file_name FROM submission ORDER BY id")).scalars().all()
    assert names == [f.name for f in files[:16]] + [
        "21_changning_revised.xlsx",
        "22_ledger.xlsx",
        "23_tasks.xlsx",
    ]


def test_a_bad_file_among_many_in_parallel_writes_nothing_and_names_file_sheet_cell(
    sqlite_url: str, tmp_path: Path
) -> None:
    files = make_batch(tmp_path / "batch")[:17]  # the sixteen returns and the bad one last
    engine = open_engine(sqlite_url)
    with ReadAhead(files, jobs=2) as reads:
        assert reads.parallel
        results = list(load_paths(files, engine=engine, submitted_by="tester", reads=reads))
    bad = results[16]
    assert bad.status == "rejected" and bad.file == "17_jingan_bad.xlsx"
    (issue,) = bad.errors
    cell = f"E{value_row('trainees')}"  # 本月数 is column E of the factory's layout
    assert (issue.sheet, issue.cell, issue.measure, issue.value) == ("月报", cell, "trainees", "十二")
    assert "17_jingan_bad.xlsx" in issue.message and "月报" in issue.message and cell in issue.message
    with Session(engine) as session:
        stored = (
            session.connection().execute(text("SELECT file_name FROM submission ORDER BY id")).scalars().all()
        )
        jingan_march = session.connection().execute(
            text("SELECT count(*) FROM revision WHERE unit_code = 'jingan' AND period = '2023-03'")
        )
        assert jingan_march.scalar_one() == 0
    engine.dispose()
    assert stored == [f.name for f in files[:16]]


def test_a_period_locked_during_a_parallel_load_refuses_the_files_after_it(
    sqlite_url: str, tmp_path: Path
) -> None:
    """Reading ahead never decides a lock: each file is checked against the store when its turn
    to be written comes. Here another process (``ipdash lock``) locks 2023-02 while the batch has
    written the January files and the workers have long read February's."""
    files = make_batch(tmp_path / "batch")[:16]
    engine = open_engine(sqlite_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    with ReadAhead(files, jobs=2) as reads:
        results = load_paths(files, engine=engine, submitted_by="tester", reads=reads)
        january = [next(results) for _ in range(8)]
        locked = subprocess.run(
            [sys.executable, "-m", "ipdash.cli", "lock", "--period", "2023-02", "--db", sqlite_url],
            capture_output=True, text=True, env=env, cwd=tmp_path,
        )  # fmt: skip
        assert locked.returncode == 0, locked.stderr
        february = list(results)
    engine.dispose()
    assert [r.status for r in january] == ["accepted"] * 8
    assert [r.status for r in february] == ["rejected"] * 8
    assert all(r.errors[0].reason == "period_locked" and r.errors[0].period == "2023-02" for r in february)


def _read_or_raise(path: Path, **kwargs: Any) -> Any:  # a bug injected into the reader
    from etl.readers import read_file

    if path.name.startswith("05_"):
        raise ZeroDivisionError("division by zero")
    return read_file(path, **kwargs)


def test_a_bug_while_reading_in_a_worker_is_logged_there_and_reported_with_its_id(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import etl.batch

    files = make_batch(tmp_path / "batch")[:16]
    monkeypatch.setattr(etl.batch, "read_file", _read_or_raise)  # inherited by the forked workers
    log = tmp_path / "errors.log"
    handler = log_incidents_to(log)
    engine = open_engine(sqlite_url)
    try:
        with ReadAhead(files, jobs=2) as reads:
            assert reads.parallel
            results = list(load_paths(files, engine=engine, submitted_by="tester", reads=reads))
    finally:
        stop_logging(handler)
        engine.dispose()
    assert [r.status for r in results] == ["accepted"] * 4 + ["rejected"] + ["accepted"] * 11
    (incident,) = ID.findall(results[4].errors[0].message)
    assert (
        "未写入任何数据" in results[4].errors[0].message
        and "ZeroDivisionError" in results[4].errors[0].message
    )
    logged = log.read_text(encoding="utf-8")  # written by the worker process that read the file
    assert f"internal error {incident}: loading {files[4]}" in logged
    assert "Traceback (most recent call last)" in logged and "ZeroDivisionError" in logged


def _die_in_a_worker(path: Path, **kwargs: Any) -> Any:
    from etl.readers import read_file

    if path.name.startswith("03_") and os.getpid() != PARENT_PID:
        os._exit(3)  # a crash of a native library, say: the worker is gone
    return read_file(path, **kwargs)


PARENT_PID = os.getpid()


def test_a_worker_that_dies_leaves_the_rest_to_the_parent_with_the_serial_result(
    two_engines: tuple[Engine, Engine], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import etl.batch

    serial_engine, parallel_engine = two_engines
    files = make_batch(tmp_path / "batch")
    for engine in two_engines:
        _lock_2022_12(engine)
    serial = list(load_paths(files, engine=serial_engine, submitted_by="tester", jobs=1))
    monkeypatch.setattr(etl.batch, "read_file", _die_in_a_worker)
    with ReadAhead(files, jobs=2) as reads:
        assert reads.parallel
        parallel = list(load_paths(files, engine=parallel_engine, submitted_by="tester", reads=reads))
        assert not reads.parallel  # the pool broke and was closed
    assert [r.to_dict() for r in parallel] == [r.to_dict() for r in serial]
    assert dump(parallel_engine) == dump(serial_engine)


def test_the_command_prints_the_same_and_exits_the_same_with_one_or_two_processes(tmp_path: Path) -> None:
    folder = tmp_path / "batch"
    make_batch(folder)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    env["IPDASH_ERROR_LOG"] = str(tmp_path / "errors.log")
    outputs = {}
    for jobs in ("1", "2"):
        for fmt in ([], ["--json"]):
            db = tmp_path / f"jobs{jobs}{''.join(fmt)}.db"
            setup = subprocess.run(
                [sys.executable, "-m", "ipdash.cli", "lock", "--period", "2022-12", "--db", f"sqlite:///{db}"],
                capture_output=True, text=True, env=env, cwd=tmp_path,
            )  # fmt: skip
            assert setup.returncode == 0, setup.stderr
            done = subprocess.run(
                [sys.executable, "-m", "ipdash.cli", "load", str(folder), "--jobs", jobs, "--by", "tester",
                 "--db", f"sqlite:///{db}", *fmt],
                capture_output=True, text=True, env=env, cwd=tmp_path,
            )  # fmt: skip
            outputs[(jobs, tuple(fmt))] = (done.returncode, done.stdout, done.stderr)
    for fmt in ((), ("--json",)):
        assert outputs[("2", fmt)] == outputs[("1", fmt)]
    code, stdout, stderr = outputs[("2", ())]
    assert code == 1 and stderr == ""  # a file rejected: exit 1, and no traceback anywhere
    assert stdout.splitlines()[-1] == "共 23 个文件：接收 19，内容未变 1，拒收 3"
    assert "17_jingan_bad.xlsx" in stdout and "Traceback" not in stdout


# --- start-up: what `ipdash --help` and each command's --help import --------------------------------

HEAVY = ("pandas", "numpy", "sqlalchemy", "sqlmodel", "alembic", "dash", "plotly", "flask", "openpyxl")


def _imported_after(code: str) -> list[str]:
    """Run ``code`` in a fresh interpreter; the heavy packages it left in sys.modules."""
    probe = f"""
import sys
{code}
print("\\nHEAVY=" + ",".join(m for m in {HEAVY!r} if m in sys.modules))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    (found,) = re.findall(r"^HEAVY=(.*)$", done.stdout, flags=re.MULTILINE)
    return [m for m in found.split(",") if m]


def test_help_imports_none_of_the_heavy_libraries() -> None:
    """``ipdash --help`` and ``ipdash <command> --help`` build the whole parser (every command
    registers its options) and import no data, database or web library: those come with the
    command that runs. (Speed itself is measured in bench/bench_load_process.py, not here.)"""
    from ipdash.cli import build_parser

    def commands(parser: argparse.ArgumentParser, before: list[str]) -> list[list[str]]:
        found = [[*before, "--help"]]
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in sorted(action.choices.items()):
                    found += commands(sub, [*before, name])
        return found

    every = commands(build_parser(), [])
    assert {"load", "indicators", "status", "serve", "briefing"} <= {argv[0] for argv in every}
    assert ["user", "add", "--help"] in every and ["tasks", "status", "--help"] in every
    for argv in every:
        code = f"""
from ipdash.cli import main
try:
    main({argv!r})
except SystemExit as exc:
    assert exc.code == 0, exc.code
"""
        assert _imported_after(code) == [], argv


def test_the_reading_side_of_a_load_imports_no_database_or_data_frame_library() -> None:
    """Workers are forked before the parent imports the database stack: what they run (the gate,
    the readers, the pool) needs none of it, so they start at once and stay small."""
    assert _imported_after("import etl.batch") == []


def test_the_libraries_are_there_when_the_command_runs(tmp_path: Path) -> None:
    """The opposite check, so the one above cannot pass by testing nothing: running a command
    imports what it needs."""
    code = f"""
from ipdash.cli import main
assert main(["load", {str(SAMPLES / "2023-01" / "jingan_2023-01.xlsx")!r}, "--db", "sqlite:///{tmp_path / "x.db"}"]) == 0
"""
    assert {"sqlalchemy", "sqlmodel", "alembic"} <= set(_imported_after(code))


def test_a_few_files_or_one_job_are_read_in_the_process_itself(tmp_path: Path) -> None:
    """Workers start only where they pay: 12 files or more, more than one job, and fork available."""
    files = make_batch(tmp_path / "batch")
    with ReadAhead(files[: PARALLEL_MIN_FILES - 1], jobs=2) as few:
        assert not few.parallel and few.jobs == 1
    with ReadAhead(files, jobs=1) as one:
        assert not one.parallel
    with ReadAhead(
        files[:PARALLEL_MIN_FILES], jobs=8
    ) as capped:  # 12 files = 3 chunks of 4: 3 workers at most
        assert capped.parallel and capped.jobs == 3
        assert [r.file for r in capped if not isinstance(r, ReadFault)] == [f.name for f in files[:12]]


def test_workers_do_not_outlive_a_killed_parent(tmp_path: Path) -> None:
    """``kill -9`` of ``ipdash load`` closes nothing: its workers must notice and exit by
    themselves rather than wait for work forever. (The loop below is a hang guard, not a speed
    requirement.)"""
    import signal
    import time

    files = make_batch(tmp_path / "batch")[:16]
    script = f"""
import sys, time
from pathlib import Path
from etl.batch import ReadAhead
reads = ReadAhead([Path(p) for p in {[str(f) for f in files]!r}], jobs=2)
reads.__enter__()
print(" ".join(str(pid) for pid in reads._pool._processes), flush=True)  # type: ignore[union-attr]
time.sleep(600)
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    parent = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, env=env, cwd=ROOT
    )
    assert parent.stdout is not None
    workers = [int(pid) for pid in parent.stdout.readline().split()]
    assert len(workers) == 2

    def alive(pid: int) -> bool:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        # a zombie (exited, not yet reaped by init) is gone for our purpose
        status = Path(f"/proc/{pid}/status")
        return not (status.exists() and "\nState:\tZ" in status.read_text())

    assert all(alive(pid) for pid in workers)
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    # No deadline (a busy machine must not fail this): the workers' watchdog notices the parent is
    # gone within PARENT_CHECK_SECONDS; without it they would wait for work for ever and this
    # wait with them (then CI's time limit names this test).
    while any(alive(pid) for pid in workers):
        time.sleep(0.2)
