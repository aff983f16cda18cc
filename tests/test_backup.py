"""Issue 10, backups: ``ipdash backup -o FILE`` copies a SQLite database consistently while uploads
commit; on PostgreSQL the README's pg_dump / pg_restore commands restore every value."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from test_cli_etl import CAT, make

from ipdash.cli import main
from store.models import SQLModel

IPDASH = [sys.executable, "-m", "ipdash.cli"]
TABLES = sorted(SQLModel.metadata.tables)


ORDER = {"submission": "id", "revision": "id", "submission_file": "submission_id", "alembic_version": "1"}


def rows(conn, table: str) -> list[tuple]:  # noqa: ANN001 - a DB-API or SQLAlchemy connection
    query = f'SELECT * FROM "{table}" ORDER BY {ORDER.get(table, "1, 2")}'
    result = conn.execute(text(query)) if hasattr(conn, "dialect") else conn.execute(query)
    return [tuple(r) for r in result]


def test_sqlite_backup_while_uploads_commit(tmp_path: Path) -> None:
    db = tmp_path / "live.db"
    url = f"sqlite:///{db}"
    assert main(["db", "upgrade", "--db", url]) == 0
    units = [u.code for u in CAT.units_of("shanghai")]
    folders = []
    for month in range(1, 7):  # one folder a month, loaded by one `ipdash load` each, in turn
        folder = tmp_path / f"in{month:02d}"
        folder.mkdir()
        folders.append(str(folder))
        for j, unit in enumerate(units):
            i = (month - 1) * len(units) + j
            make(folder, unit, f"2023-{month:02d}", seed=i % 7 + 1, name=f"{i:03d}_{unit}.xlsx")
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    # Uploads arriving over time: since issue 13 one `ipdash load` of all 102 files is over before a
    # backup process has started, so the months come as six loads in a row (a real process each).
    loads = " && ".join(f"{shlex.join([*IPDASH, 'load', '--db', url, d])} >/dev/null" for d in folders)
    writer = subprocess.Popen(["sh", "-c", loads], env=env)
    backups: list[tuple[Path, bool]] = []
    try:
        while len(backups) < 3 and writer.poll() is None:
            with sqlite3.connect(db) as conn:
                n = conn.execute("SELECT count(*) FROM submission").fetchone()[0]
            if n <= 5 * len(backups):  # spread the copies over the load
                time.sleep(0.05)
                continue
            target = tmp_path / f"copy{len(backups)}.db"
            out = subprocess.run(
                [*IPDASH, "backup", "--db", url, "-o", str(target)], env=env, capture_output=True, text=True
            )
            assert out.returncode == 0, out.stderr
            assert "已备份数据库到" in out.stdout
            backups.append((target, writer.poll() is None))
    finally:
        assert writer.wait(timeout=600) == 0
    assert any(during for _, during in backups), "no copy was taken while the load was writing"

    live = sqlite3.connect(db)
    final = {table: rows(live, table) for table in TABLES}
    for target, _during in backups:
        copy = sqlite3.connect(target)
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        # the database as of one moment: a prefix of what was committed, each file whole
        n = copy.execute("SELECT count(*) FROM submission").fetchone()[0]
        assert 0 < n
        assert rows(copy, "submission") == final["submission"][:n]
        assert rows(copy, "revision") == final["revision"][:n]  # one revision per file here
        ids = {r[0] for r in copy.execute("SELECT id FROM revision")}
        assert rows(copy, "measure_value") == [r for r in final["measure_value"] if r[0] in ids]
        assert len(rows(copy, "measure_value")) == n * len(CAT.monthly_measures())
        assert rows(copy, "unit") == final["unit"]
        copy.close()
    live.close()


def test_backup_refuses_postgresql_and_names_pg_dump(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["backup", "--db", "postgresql+psycopg://postgres@127.0.0.1:5432/x", "-o", "/tmp/never.db"])
    err = capsys.readouterr().err
    assert code == 2 and "pg_dump" in err and "pg_restore" in err
    assert not Path("/tmp/never.db").exists()


def test_backup_onto_the_database_itself_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "a.db"
    assert main(["db", "upgrade", "--db", f"sqlite:///{db}"]) == 0
    capsys.readouterr()
    assert main(["backup", "--db", f"sqlite:///{db}", "-o", str(db)]) == 2
    assert "就是数据库文件本身" in capsys.readouterr().err


def test_pg_dump_and_pg_restore_keep_every_value(pg_url: str, tmp_path: Path) -> None:
    """The README's commands, run as written, on a database with uploads, revisions and a lock."""
    for tool in ("pg_dump", "pg_restore"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} not installed (scripts/setup --test installs postgresql-client)")
    files = [make(tmp_path, u, "2023-06", seed=2) for u in ("jingan", "xuhui", "pudong")]
    files.append(make(tmp_path, "jingan", "2023-06", seed=5, name="jingan_更正.xlsx"))
    assert main(["load", "--db", pg_url, "--by", "备份测试", *map(str, files)]) == 0
    assert main(["lock", "--period", "2023-06", "--by", "市局", "--db", pg_url]) == 0

    libpq = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    dump = tmp_path / "ipdash.dump"
    subprocess.run(["pg_dump", "-Fc", "-f", str(dump), libpq], check=True)
    restored_name = f"ipdash_r_{uuid.uuid4().hex[:10]}"
    admin = create_engine(make_url(pg_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{restored_name}"'))
    restored_url = make_url(pg_url).set(database=restored_name)
    try:
        target = restored_url.set(drivername="postgresql").render_as_string(hide_password=False)
        subprocess.run(["pg_restore", "--no-owner", "-d", target, str(dump)], check=True)
        source_engine, restored_engine = create_engine(pg_url), create_engine(restored_url)
        with source_engine.connect() as a, restored_engine.connect() as b:
            for table in [*TABLES, "alembic_version"]:
                assert rows(b, table) == rows(a, table), table
            assert len(rows(b, "revision")) == 4 and len(rows(b, "period_lock")) == 1
        source_engine.dispose()
        restored_engine.dispose()
        # the restored database serves the same figures
        assert (
            main(
                [
                    "history",
                    "--unit",
                    "jingan",
                    "--period",
                    "2023-06",
                    "--db",
                    restored_url.render_as_string(hide_password=False),
                ]
            )
            == 0
        )
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{restored_name}" WITH (FORCE)'))
        admin.dispose()
