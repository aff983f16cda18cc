"""Accounts and the audit log from the command line (``ipdash user``, ``ipdash audit``), the
rules they keep, a secret key shared by two server processes, and an audit row for each kind
of event the web side writes."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from auth_support import PASSWORD, csrf_headers, make_accounts, sign_in
from sqlmodel import Session


def ipdash(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ipdash.cli", *args], input=stdin, capture_output=True, text=True, timeout=120
    )


def test_user_commands(db_url: str) -> None:
    add = ipdash(
        "user",
        "add",
        "wang",
        "--role",
        "clerk",
        "--unit",
        "jingan",
        "--name",
        "王芳",
        "--password-stdin",
        "--db",
        db_url,
        stdin="静安-2024-password\n",
    )
    assert add.returncode == 0, add.stderr
    assert "静安-2024-password" not in add.stdout + add.stderr  # never echoed
    # The rules: a clerk needs a unit, others have none; 10 characters; no duplicate.
    cases = [
        (["li", "--role", "clerk"], "long-enough-pw", "必须指定一个单位"),
        (["li", "--role", "analyst", "--unit", "jingan"], "long-enough-pw", "只有区县填报员"),
        (["li", "--role", "analyst"], "short", "至少 10 个字符"),
        (["li", "--role", "clerk", "--unit", "atlantis"], "long-enough-pw", "未知单位"),
        (["wang", "--role", "leader"], "long-enough-pw", "用户已存在"),
    ]
    for extra, password, message in cases:
        out = ipdash("user", "add", *extra, "--password-stdin", "--db", db_url, stdin=password + "\n")
        assert out.returncode == 2 and message in out.stderr, (extra, out.stderr)
    listed = json.loads(ipdash("user", "list", "--format", "json", "--db", db_url).stdout)
    assert listed == [
        {"username": "wang", "display_name": "王芳", "role": "clerk", "unit": "jingan", "active": True}
    ]
    assert ipdash("user", "set-role", "wang", "--role", "analyst", "--db", db_url).returncode == 0
    assert (
        ipdash(
            "user", "set-password", "wang", "--password-stdin", "--db", db_url, stdin="another-password-9\n"
        ).returncode
        == 0
    )
    assert ipdash("user", "disable", "wang", "--db", db_url).returncode == 0
    (row,) = json.loads(ipdash("user", "list", "--format", "json", "--db", db_url).stdout)
    assert (row["role"], row["unit"], row["active"]) == ("analyst", None, False)

    audit_rows = json.loads(ipdash("audit", "--format", "json", "--db", db_url).stdout)
    actions = [r["detail"]["action"] for r in audit_rows if r["kind"] == "user"]
    assert actions == ["disable", "set_password", "set_role", "add"]  # newest first
    assert all("password" not in json.dumps(r["detail"]).replace("set_password", "") for r in audit_rows)
    csv_out = ipdash("audit", "--format", "csv", "--kind", "user", "--db", db_url).stdout.splitlines()
    assert csv_out[0] == "at,username,address,kind,outcome,detail" and len(csv_out) == 5
    assert ipdash("audit", "--since", "2999-01-01", "--db", db_url).stdout.strip() == "（没有符合条件的记录）"
    assert ipdash("audit", "--since", "01/02/2024", "--db", db_url).returncode == 2


def test_audit_log_is_append_only(engine) -> None:  # noqa: ANN001
    from sqlalchemy import text

    from application import audit

    with Session(engine) as session:
        audit.record("login", session=session, username="x", address="1.2.3.4")
        session.commit()
    for statement in ("UPDATE audit_event SET username = 'y'", "DELETE FROM audit_event"):
        with pytest.raises(Exception, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    with Session(engine) as session:
        assert [e.username for e in audit.events(session=session)] == ["x"]


def test_demo_accounts_one_per_role_and_serve_says_how_to_add_an_admin(engine, capsys) -> None:  # noqa: ANN001
    from application.accounts import ensure_demo_accounts, has_admin
    from dashboard.server import _say_how_to_add_an_admin

    _say_how_to_add_an_admin(engine, "sqlite:///x.db")
    assert (
        "ipdash user add admin --role admin --password-stdin --db 'sqlite:///x.db'" in capsys.readouterr().out
    )
    with Session(engine) as session:
        made = ensure_demo_accounts(session=session)
        session.commit()
        assert has_admin(session=session)
    assert sorted((a.role.value, a.unit) for a, _ in made) == [
        ("admin", None),
        ("analyst", None),
        ("clerk", "jingan"),
        ("leader", None),
    ]
    _say_how_to_add_an_admin(engine, None)
    assert capsys.readouterr().out == ""
    # Running the demo again gives new passwords; the old ones stop working.
    with Session(engine) as session:
        again = ensure_demo_accounts(session=session)
        session.commit()
    assert [p for _, p in made] != [p for _, p in again]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SERVE = """
import sys
from dashboard.app import create_app
app = create_app(sys.argv[1])
app.server.run(host="127.0.0.1", port=int(sys.argv[2]), threaded=True)
"""


def test_two_server_processes_share_the_secret_key(tmp_path: Path) -> None:
    """Sign in on one process, use the session cookie on another: they sign with the same key,
    generated once and kept in the database (no IPDASH_SECRET_KEY set)."""
    import os

    import requests

    url = f"sqlite:///{tmp_path / 'shared.db'}"
    make_accounts(url)
    env = {k: v for k, v in os.environ.items() if k != "IPDASH_SECRET_KEY"}
    ports = [_free_port(), _free_port()]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", SERVE, url, str(p)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for p in ports
    ]
    try:
        bases = [f"http://127.0.0.1:{p}" for p in ports]
        for base in bases:
            for _ in range(200):
                try:
                    requests.get(base + "/login", timeout=2)
                    break
                except requests.ConnectionError:
                    time.sleep(0.1)
        first = requests.Session()
        page = first.get(bases[0] + "/login").text
        token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
        signed = first.post(
            bases[0] + "/login",
            data={"username": "leader1", "password": PASSWORD, "csrf_token": token, "next": "/"},
            headers={"Origin": bases[0]},
            allow_redirects=False,
        )
        assert signed.status_code == 303
        cookie = first.cookies.get("ipdash_session")
        other = requests.get(
            bases[1] + "/rankings", cookies={"ipdash_session": cookie}, allow_redirects=False
        )
        assert other.status_code == 200
        stranger = requests.get(
            bases[1] + "/rankings", cookies={"ipdash_session": cookie[:-4] + "AAAA"}, allow_redirects=False
        )
        assert stranger.status_code == 302  # a tampered cookie is not accepted
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(timeout=10)


def test_every_web_event_kind_is_audited(db_url: str, tmp_path: Path) -> None:
    import base64

    from factories import make_return
    from test_access import callback_body

    from application import audit
    from dashboard.app import create_app
    from store.db import make_engine

    make_accounts(db_url)
    app = create_app(db_url)
    app.server.test_client().get("/login")
    for _ in range(5):  # login_failed × 5 from 127.0.0.1
        assert sign_in(app.server.test_client(), "ghost", "wrong-password-x").status_code == 401
    clerk = app.server.test_client()
    assert sign_in(clerk, "clerk_jingan").status_code == 429  # login_locked: the address
    # A fresh address for the rest (the test client sends REMOTE_ADDR from environ_base).
    other = {"REMOTE_ADDR": "10.1.1.1"}
    clerk = app.server.test_client()
    clerk.environ_base.update(other)
    assert sign_in(clerk, "clerk_jingan").status_code == 303  # login
    headers = csrf_headers(clerk)
    jingan = make_return(tmp_path / "jingan_2023-06.xlsx", unit="静安区", period="2023-06")
    pending = [{"name": jingan.name, "content": base64.b64encode(jingan.read_bytes()).decode(), "ok": True}]
    key = next(k for k in app.callback_map if k.startswith("..up-pending"))
    body = callback_body(app, key, {"up-pending.data": pending, "filter-region.value": "shanghai"})
    body["changedPropIds"] = ["up-confirm.n_clicks"]
    assert clerk.post("/_dash-update-component", json=body, headers=headers).status_code == 200  # upload
    export_key = next(k for k in app.callback_map if k.startswith("..st-export-download"))
    values = {
        "st-export-unit.value": "jingan",
        "filter-region.value": "shanghai",
        "filter-window.value": "ytd",
        "filter-period.value": "2023-06",
    }
    assert (
        clerk.post(
            "/_dash-update-component", json=callback_body(app, export_key, values), headers=headers
        ).status_code
        == 200
    )
    assert clerk.get("/unit/pudong").status_code == 403  # refused
    with clerk.session_transaction() as session:
        session["seen"] = int(time.time()) - 3600
    clerk.get("/")  # session_expired
    assert sign_in(clerk, "clerk_jingan").status_code == 303
    assert clerk.post("/logout", headers=csrf_headers(clerk)).status_code == 303  # logout

    engine = make_engine(db_url)
    with Session(engine) as session:
        found = audit.events(session=session)
    engine.dispose()
    kinds = {e.kind for e in found}
    assert {
        "user",
        "login_failed",
        "login_locked",
        "login",
        "upload",
        "export",
        "refused",
        "session_expired",
        "logout",
    } <= kinds
    (upload,) = [e for e in found if e.kind == "upload"]
    import hashlib

    assert upload.username == "clerk_jingan" and upload.outcome == "accepted" and upload.address == "10.1.1.1"
    assert upload.detail["sha256"] == hashlib.sha256(jingan.read_bytes()).hexdigest()
    assert (upload.detail["units"], upload.detail["periods"], upload.detail["file"]) == (
        ["jingan"],
        ["2023-06"],
        jingan.name,
    )
    (export,) = [e for e in found if e.kind == "export"]
    assert export.detail["unit"] == "jingan" and export.detail["file"].endswith(".xlsx")
    refused = [e for e in found if e.kind == "refused"]
    assert any(e.detail.get("path") == "/unit/pudong" and e.username == "clerk_jingan" for e in refused)
