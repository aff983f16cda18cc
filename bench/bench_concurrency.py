"""Benchmark (issue 13, goal 3): 200 concurrent rankings requests against a real ``ipdash serve``
(gunicorn, 4 workers) on the sample store, with the response cache off (the baseline), in each
worker's memory (the default) and in a shared Redis — alternated round by round in one run.

    .venv/bin/python bench/bench_concurrency.py                       # 2 rounds of off / memory / redis
    .venv/bin/python bench/bench_concurrency.py --rounds 3 --views 18  # 18 different views in the burst
    .venv/bin/python bench/bench_concurrency.py --modes off,memory --requests 400
    .venv/bin/python bench/bench_concurrency.py --workers 2 --threads 8   # another sizing

What one burst is: the sample store built into a temp dir (408 returns, SQLite file), ``ipdash
serve --workers 4 --threads 4`` started as a subprocess with ``IPDASH_RESPONSE_CACHE=off``, or
nothing set, or ``IPDASH_CACHE_URL=redis://127.0.0.1:6379/14`` (database 14 is this benchmark's:
emptied before each Redis run); 20 leaders signed in through the real form; a warm-up of 16
sequential requests of the same views (as the issue's "one warm call alone"); then ``--requests``
threads released at once by a barrier, each POSTing the rankings callback exactly as the browser
does (session cookie, CSRF header) — the composite ranking of the latest month, YTD, or with
``--views N`` N different indicators in turn. Reported per mode: p50 / p95 / max latency from
the release, errors (any status but 200, or no answer), requests per second over the burst, and
how many were served from the cache (the ``X-IPdash-Cache`` header), the median of the rounds;
then "one alone": the median of 50 requests one after the other on one kept-alive connection.

Goal: p95 under 2 s with no error. The issue measured p50 5.9 s, p95 15.1 s (≈ 13 req/s).
"""

from __future__ import annotations

import argparse
import http.client
import http.cookiejar
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

REDIS_URL = "redis://127.0.0.1:6379/14"
PASSWORD = "bench-password-13"
LEADERS = 20
WORKERS = 4
THREADS = 4
WARM_UP = 16
SEQUENTIAL = 50
INDICATOR_ID = '{"name":"indicator","type":"query-param"}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_store(folder: Path) -> tuple[str, str]:
    """The sample store and its latest month; 20 leaders."""
    from bench_dashboard import build_sample
    from sqlmodel import Session

    from application import service
    from application.accounts import add_user
    from store.db import open_engine

    url = f"sqlite:///{build_sample(folder)}"
    engine = open_engine(url)
    with Session(engine) as session:
        for i in range(LEADERS):
            add_user(
                session=session, username=f"leader{i:02d}", role="leader", password=PASSWORD, actor="bench"
            )
        session.commit()
        latest = service.available_months(session=session, region="shanghai")[0]
    engine.dispose()
    return url, latest


class Server:
    """``ipdash serve`` in its own process group with the mode's settings."""

    def __init__(self, url: str, folder: Path, mode: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
        if mode == "off":
            env["IPDASH_RESPONSE_CACHE"] = "off"
        elif mode == "redis":
            env["IPDASH_CACHE_URL"] = REDIS_URL
        self.log_path = folder / f"serve-{mode}-{self.port}.log"
        self.log = self.log_path.open("w")
        command = [sys.executable, "-m", "ipdash.cli", "serve", "--db", url, "--port", str(self.port)]
        command += ["--workers", str(WORKERS), "--threads", str(THREADS)]
        self.proc = subprocess.Popen(
            command, stdout=self.log, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True
        )

    def wait_ready(self) -> None:
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("ipdash serve exited:\n" + self.log_path.read_text())
            booted = self.log_path.read_text().count("Booting worker with pid")
            if booted >= WORKERS:
                try:
                    with urllib.request.urlopen(self.base + "/login", timeout=10) as response:
                        if response.status == 200:
                            return
                except OSError:
                    pass
            time.sleep(0.3)

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


def sign_in(base: str, username: str) -> dict[str, str]:
    """Headers of a signed-in browser's callback request: its cookies and the CSRF token."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(base + "/login?next=/", timeout=60).read().decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    form = {"username": username, "password": PASSWORD, "csrf_token": token.group(1), "next": "/"}
    request = urllib.request.Request(
        base + "/login", data=urllib.parse.urlencode(form).encode(), headers={"Origin": base}, method="POST"
    )
    opener.open(request, timeout=60).read()
    opener.open(base + "/rankings", timeout=60).read()  # sets the CSRF cookie, as in the browser
    cookies = {c.name: c.value for c in jar}
    return {
        "Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
        "X-CSRFToken": cookies.get("_csrf_token", ""),
        "Origin": base,
        "Content-Type": "application/json",
    }


def rankings_bodies(base: str, headers: dict[str, str], period: str, views: int) -> list[bytes]:
    """The rankings callback's request as the renderer sends it, for ``views`` indicators."""
    from foundation.catalogue import default_catalogue

    request = urllib.request.Request(base + "/_dash-dependencies", headers=headers)
    with urllib.request.urlopen(request, timeout=60) as response:
        deps = json.loads(response.read())
    (spec,) = [d for d in deps if d["output"].startswith("..rk-graph.figure")]
    indicators = ["composite", *default_catalogue().indicators][:views]
    bodies = []
    for indicator in indicators:
        values = {
            "filter-region.value": "shanghai",
            "filter-window.value": "ytd",
            "filter-period.value": period,
            f"{INDICATOR_ID}.value": indicator,
        }
        outputs = [
            dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
            for part in spec["output"].strip(".").split("...")
        ]
        inputs = [
            {
                "id": json.loads(d["id"]) if d["id"].startswith("{") else d["id"],
                "property": d["property"],
                "value": values.get(f"{d['id']}.{d['property']}"),
            }
            for d in spec["inputs"]
        ]
        body = {"output": spec["output"], "outputs": outputs, "inputs": inputs, "changedPropIds": []}
        bodies.append(json.dumps(body).encode())
    return bodies


def one_request(port: int, headers: dict[str, str], body: bytes) -> tuple[int, str]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    try:
        conn.request("POST", "/_dash-update-component", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        if response.status == 200:
            json.loads(data)  # a whole JSON answer
        return response.status, response.getheader("X-IPdash-Cache") or "-"
    finally:
        conn.close()


def burst(port: int, sessions: list[dict[str, str]], bodies: list[bytes], n: int) -> dict[str, Any]:
    latencies: list[float] = [0.0] * n
    outcomes: list[tuple[int, str]] = [(0, "-")] * n
    barrier = threading.Barrier(n + 1)
    started = [0.0]

    def run(i: int) -> None:
        headers, body = sessions[i % len(sessions)], bodies[i % len(bodies)]
        barrier.wait()
        try:
            outcomes[i] = one_request(port, headers, body)
        except Exception as exc:  # an error to count, not to stop the burst
            outcomes[i] = (-1, exc.__class__.__name__)
        latencies[i] = time.perf_counter() - started[0]  # from the release of the burst

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for thread in threads:
        thread.start()
    started[0] = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started[0]
    ordered = sorted(latencies)
    cache = Counter(o[1] for o in outcomes if o[0] == 200)
    return {
        "p50": statistics.median(ordered),
        "p95": ordered[int(0.95 * (n - 1))],
        "max": ordered[-1],
        "errors": sum(1 for o in outcomes if o[0] != 200),
        "rps": n / wall,
        "hits": cache.get("hit", 0),
    }


def sequential(port: int, headers: dict[str, str], body: bytes, n: int) -> float:
    """Median of ``n`` requests one after the other on one kept-alive connection: the cost of one
    answer with nothing else running (a cached one: the gate, the session, the token, the bytes)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    times = []
    try:
        for _ in range(n):
            t0 = time.perf_counter()
            conn.request("POST", "/_dash-update-component", body=body, headers=headers)
            response = conn.getresponse()
            response.read()
            times.append(time.perf_counter() - t0)
            assert response.status == 200, response.status
    finally:
        conn.close()
    return statistics.median(times)


def flush_redis() -> str | None:
    try:
        import redis

        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).flushdb()
    except Exception as exc:  # no Redis: that mode is skipped, saying why
        return f"{exc.__class__.__name__}: {exc}"
    return None


def run_mode(url: str, folder: Path, mode: str, period: str, views: int, n: int) -> dict[str, Any] | None:
    if mode == "redis":
        reason = flush_redis()
        if reason:
            print(f"  redis: skipped, no Redis at {REDIS_URL} ({reason})")
            return None
    server = Server(url, folder, mode)
    try:
        server.wait_ready()
        sessions = [sign_in(server.base, f"leader{i:02d}") for i in range(LEADERS)]
        bodies = rankings_bodies(server.base, sessions[0], period, views)
        for i in range(WARM_UP):
            status, _ = one_request(server.port, sessions[i % LEADERS], bodies[i % len(bodies)])
            assert status == 200, status
        found = burst(server.port, sessions, bodies, n)
        found["one"] = sequential(server.port, sessions[0], bodies[0], SEQUENTIAL)
        return found
    finally:
        server.stop()


def main() -> int:
    global WORKERS, THREADS
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument(
        "--views", type=int, default=1, help="different indicators in one burst (1: the same view)"
    )
    parser.add_argument("--modes", default="off,memory,redis")
    parser.add_argument("--workers", type=int, default=WORKERS)
    parser.add_argument("--threads", type=int, default=THREADS)
    args = parser.parse_args()
    WORKERS, THREADS = args.workers, args.threads
    modes = [m.strip() for m in args.modes.split(",") if m.strip()]

    folder = Path(tempfile.mkdtemp(prefix="ipdash-bench-conc-"))
    try:
        print(f"load average at start: {os.getloadavg()[0]:.2f} (2 cores)")
        url, period = build_store(folder)
        print(
            f"sample store {url}, latest month {period}; {args.requests} concurrent rankings requests, "
            f"{args.views} view(s); gunicorn {WORKERS} workers × {THREADS} threads"
        )
        results: dict[str, list[dict[str, Any]]] = {m: [] for m in modes}
        for r in range(args.rounds):
            for mode in modes:
                found = run_mode(url, folder, mode, period, args.views, args.requests)
                if found is None:
                    continue
                results[mode].append(found)
                print(
                    f"  round {r + 1} {mode:6s}: p50 {found['p50']:.2f} s  p95 {found['p95']:.2f} s  "
                    f"max {found['max']:.2f} s  errors {found['errors']}  {found['rps']:.0f} req/s  "
                    f"hits {found['hits']}  one alone {found['one'] * 1000:.1f} ms  (load {os.getloadavg()[0]:.2f})"
                )
        print("median of the rounds:")
        base = results.get("off") or []
        for mode, runs in results.items():
            if not runs:
                continue
            med = {k: statistics.median(run[k] for run in runs) for k in ("p50", "p95", "max", "rps", "one")}
            errors = sum(run["errors"] for run in runs)
            ratio = ""
            if base and mode != "off":
                ratio = f"  (p95 {statistics.median(run['p95'] for run in base) / med['p95']:.1f}× better than off)"
            print(
                f"  {mode:6s}: p50 {med['p50']:.2f} s  p95 {med['p95']:.2f} s  max {med['max']:.2f} s  "
                f"{med['rps']:.0f} req/s  errors {errors}  one alone {med['one'] * 1000:.1f} ms{ratio}"
            )
        print(f"load average at end: {os.getloadavg()[0]:.2f}")
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
