"""Issue 10, defect 9: ``ipdash serve`` runs gunicorn (workers × threads) on SQLite and PostgreSQL and
answers real HTTP requests."""

from __future__ import annotations

import http.cookiejar
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(p) for p in out.stdout.split()]


def signed_in(base: str, username: str) -> tuple[urllib.request.OpenerDirector, dict[str, str]]:
    """A browser-like HTTP session signed in through the real form; the headers Dash's renderer
    sends with a callback (the CSRF cookie as X-CSRFToken, same origin)."""
    from auth_support import PASSWORD, form_token

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login?next=/", timeout=60).read().decode("utf-8")
    form = {"username": username, "password": PASSWORD, "csrf_token": form_token(page), "next": "/"}
    request = urllib.request.Request(
        base + "/login", data=urllib.parse.urlencode(form).encode(), headers={"Origin": base}, method="POST"
    )
    opener.open(request, timeout=60).read()
    opener.open(base + "/", timeout=60).read()  # a page sets the CSRF cookie, as in the browser
    token = next((c.value for c in jar if c.name == "_csrf_token"), "")
    return opener, {"X-CSRFToken": token or "", "Origin": base}


def get(url: str, opener: urllib.request.OpenerDirector | None = None) -> tuple[int, str]:
    try:
        with (opener or urllib.request.build_opener()).open(url, timeout=30) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode("utf-8", "replace")


@contextmanager
def running_server(
    db_url: str, tmp_path: Path, *extra: str, settings: dict[str, str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """``ipdash serve`` in its own process group (with ``IPDASH_…`` ``settings`` only), up until it
    answers (a readiness wait, not a timing check); stopped with SIGTERM afterwards."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")} | (settings or {})
    log = (tmp_path / f"serve-{port}.log").open("w+")
    proc = subprocess.Popen(
        [sys.executable, "-m", "ipdash.cli", "serve", "--db", db_url, "--port", str(port), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        cwd=tmp_path,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        # Ready when it answers; a server that cannot start exits (gunicorn's master stops when a
        # worker fails to boot), which fails here with its log. No deadline on how fast it starts,
        # so a busy machine cannot fail this wait (a hung server is left to CI's own time limit).
        while True:
            assert proc.poll() is None, Path(log.name).read_text()
            try:
                if get(base + "/")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        yield base, proc
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=60)
        log.close()


def test_serve_runs_gunicorn_and_answers_pages(db_url: str, tmp_path: Path) -> None:
    from auth_support import make_accounts

    make_accounts(db_url)
    with running_server(db_url, tmp_path, "--workers", "3", "--threads", "2") as (base, proc):
        status, page = get(base + "/")
        assert status == 200 and "登录" in page  # anonymous: the sign-in page
        opener, _headers = signed_in(base, "analyst1")
        status, page = get(base + "/", opener)
        assert status == 200 and "知识产权行政保护绩效" in page and "_dash-config" in page
        assert get(base + "/_dash-layout", opener)[0] == 200
        assert get(base + "/_dash-component-suites/..%2f..%2fetc%2fpasswd", opener)[0] == 404
        # the gunicorn master (the ipdash process itself) and its three workers, once all booted
        log_path = next(tmp_path.glob("serve-*.log"))
        deadline = time.monotonic() + 120
        while log_path.read_text().count("Booting worker with pid") < 3 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert len(children(proc.pid)) == 3
        log = log_path.read_text()
    assert "Starting gunicorn" in log and "Using worker: gthread" in log
    assert log.count("Booting worker with pid") == 3
    assert "gunicorn，3 个工作进程 × 2 个线程" in log
    assert "development server" not in log


def test_serve_refuses_a_worker_count_below_one(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ipdash.cli", "serve", "--workers", "0"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert out.returncode == 2 and "“0”不是正整数" in out.stderr
