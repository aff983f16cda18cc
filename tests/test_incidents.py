"""Issue 10: "系统内部错误" is reserved for bugs, and each one is logged with its traceback under an id
that the user's message repeats (CLI, batch load, dashboard)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from factories import make_return

ID = re.compile(r"编号 (E\d{8}-[0-9a-f]{6})")


def test_cli_internal_error_names_an_id_found_in_the_log_with_its_traceback(tmp_path: Path) -> None:
    log = tmp_path / "errors.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    env["IPDASH_ERROR_LOG"] = str(log)
    # a database server that answers but has no such database: the command cannot complete
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/ipdash_no_such_database_10"
    out = subprocess.run(
        [sys.executable, "-m", "ipdash.cli", "status", "--period", "2023-03", "--db", url],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr + out.stdout
    (incident,) = ID.findall(out.stderr)
    assert "系统内部错误" in out.stderr and str(log) in out.stderr
    logged = log.read_text(encoding="utf-8")
    assert f"internal error {incident}: ipdash status --period 2023-03" in logged
    assert "Traceback (most recent call last)" in logged


def test_a_bug_during_a_batch_load_is_reported_with_its_id(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    import etl.load
    from store.db import open_engine

    def broken_save(**_kwargs: object) -> None:  # a bug injected where the store is written
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(etl.load.repo, "save_submission", broken_save)
    engine = open_engine(sqlite_url)
    path = make_return(tmp_path / "jingan.xlsx")
    with caplog.at_level(logging.ERROR, logger="ipdash.incident"):
        (result,) = list(etl.load.load_paths([path], engine=engine))
    engine.dispose()
    assert result.status == "rejected"
    (incident,) = ID.findall(result.errors[0].message)
    assert "未写入任何数据" in result.errors[0].message
    (record,) = [r for r in caplog.records if incident in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


def test_dashboard_bug_shows_an_id_that_the_log_repeats(
    sqlite_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    from auth_support import make_accounts, sign_in

    from dashboard.app import create_app
    from dashboard.safe import run_guarded

    make_accounts(sqlite_url)  # migrates; the sign-in gate runs before any route
    app = create_app(sqlite_url)
    server = app.server

    @server.route("/_test_bug")
    def bug() -> str:
        return str(1 / 0)

    client = server.test_client()
    sign_in(client, "analyst1")
    with caplog.at_level(logging.ERROR, logger="ipdash.incident"):
        response = client.get("/_test_bug")
        shown = run_guarded(lambda: [][1], lambda message: message)
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Traceback" not in body and "ZeroDivisionError" not in body
    for text, kind in ((body, ZeroDivisionError), (shown, IndexError)):
        (incident,) = ID.findall(text)
        (record,) = [r for r in caplog.records if incident in r.getMessage()]
        assert record.exc_info is not None and record.exc_info[0] is kind
