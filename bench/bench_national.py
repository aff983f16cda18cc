"""Benchmark: national scale on PostgreSQL (issue 13, goal 4) — 2,850 units × 36 months.

The 2,850 units are a catalogue folder (``units_national.csv``, ``regions.csv``) that every process
of the run gets as ``IPDASH_CATALOGUE_DIR`` (with ``IPDASH_REGION=national``), as a national
deployment would. Builds (once; ``--rebuild`` to start again) the national store in its own PostgreSQL database
through the store's real write path (``store.repo.save_submission``, one submission per month,
as a layout-B ledger would write it), then measures each goal against a baseline run in the same
invocation: the baseline is the code of ``--baseline`` (a commit, default the one before issue
13's national work) extracted with ``git archive`` into a temporary folder and run with this
virtualenv's Python (``PYTHONPATH`` first), alternated with the working tree's code:

(a) ``ipdash serve --db … --workers 2`` (gunicorn, a subprocess): time from launch until it
    answers, then — signed in as a leader created here — the first rankings callback and the first
    overview callback over HTTP (``/_dash-update-component``), each on a new connection;
(b) the first trend view of a few indicators, cold (the region's frames read, that indicator's
    trend not computed yet): ``dashboard.pages.trends.trends_view`` in a process of each variant;
(c) an upload of one unit-month (a real layout-A return through
    ``application.submissions.load_upload``), then the next indicator view, score view and rankings
    callback, in the same process;
(d) the memory of each gunicorn worker after its warm-up: RSS and PSS (``/proc/PID/smaps_rollup``;
    PSS splits pages shared copy-on-write with the master between the processes sharing them).

    .venv/bin/python bench/bench_national.py                   # build once (minutes), then measure
    .venv/bin/python bench/bench_national.py --rounds 3        # alternate baseline/new 3 times
    .venv/bin/python bench/bench_national.py --rebuild         # drop and rebuild the national database
    .venv/bin/python bench/bench_national.py --no-baseline

Goals: a worker's first request under 2 s, the first trend view of any indicator under 1 s, the
refresh after an upload under 0.5 s, memory per worker stated.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/i13e_national"
DEFAULT_BASELINE = "b276c46"  # main before goal 4's work (with the catalogue folder of issue 13)
REGION = "national"
LEADER = "bench_leader"
TREND_INDICATORS = ("abnormal_withdrawal_rate", "timeliness_rate", "case_completion_rate")


# --- the national catalogue ----------------------------------------------------------------------


def use_catalogue(folder: Path) -> None:
    """This process and its children use the catalogue folder, as a deployment would set it."""
    from foundation.catalogue import install_catalogue

    os.environ["IPDASH_CATALOGUE_DIR"] = str(folder)
    os.environ["IPDASH_REGION"] = REGION
    install_catalogue(folder, region=REGION)


# --- building the store --------------------------------------------------------------------------


def admin_url(url: str) -> tuple[str, str]:
    """(URL of the server's ``postgres`` database, name of the bench database) for psycopg."""
    parsed = urllib.parse.urlsplit(url.replace("postgresql+psycopg://", "postgresql://"))
    return parsed._replace(path="/postgres").geturl(), parsed.path.lstrip("/")


def database_exists(url: str) -> bool:
    import psycopg

    server, name = admin_url(url)
    with psycopg.connect(server, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def create_database(url: str, *, drop: bool) -> None:
    import psycopg

    server, name = admin_url(url)
    assert re.fullmatch(r"i13e_[a-z0-9_]+", name), f"only a database of this branch (i13e_…): {name}"
    with psycopg.connect(server, autocommit=True) as conn:
        if drop:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def build_store(url: str, units: int, months: int) -> None:
    """The national store through ``repo.save_submission``: one on-time layout-B submission a month."""
    # Imported here, in the measuring process only: bench_dashboard puts this tree first on
    # sys.path, which an --inner process of the baseline tree must not get.
    from bench_dashboard import fill_national_store

    fill_national_store(url, units, months, progress=True)


def leader_password(url: str) -> str:
    """A leader account for the HTTP requests, with a new random password on every run."""
    from sqlmodel import Session

    from application.accounts import add_user, get_user, set_password
    from store.db import open_engine

    password = secrets.token_urlsafe(16)
    engine = open_engine(url)
    with Session(engine) as session:
        if get_user(session=session, username=LEADER) is None:
            add_user(
                session=session, username=LEADER, role="leader", unit=None, password=password, actor="bench"
            )
        else:
            set_password(session=session, username=LEADER, password=password, actor="bench")
        session.commit()
    engine.dispose()
    return password


def latest_periods(url: str) -> tuple[str, str]:
    from sqlmodel import Session

    from application import service
    from store.db import open_engine

    engine = open_engine(url)
    with Session(engine) as session:
        months = service.available_months(session=session, region=REGION)
    engine.dispose()
    return months[0], months[3]


# --- (b) and (c): in a process of one variant ------------------------------------------------------


def inner(url: str, seed: int) -> dict[str, Any]:
    """Run in a child process whose ``PYTHONPATH`` starts with the variant's code; prints JSON."""
    import io

    from application import service
    from dashboard import data
    from dashboard.app import create_app
    from dashboard.pages import rankings, trends
    from etl.writers import write_return
    from foundation.catalogue import default_catalogue
    from sample_data.generator import generate_values

    out: dict[str, Any] = {}
    app = create_app(url)
    with app.server.app_context():
        last = data.latest_month(REGION)
        assert last is not None
        start = time.perf_counter()
        rankings.rankings_view(REGION, "ytd", last, "composite")
        out["process_first_rankings_s"] = time.perf_counter() - start
        out["trend_first_s"] = {}
        for indicator in TREND_INDICATORS:
            start = time.perf_counter()
            trends.trends_view(REGION, last, indicator, [])
            out["trend_first_s"][indicator] = time.perf_counter() - start
        # (c) one unit-month uploaded as a district would (layout A, through the application), then
        # the next views; three times (three units), each after the views were computed again
        cat = default_catalogue()
        for key in (
            "upload_s",
            "after_upload_indicators_s",
            "after_upload_scores_s",
            "after_upload_rankings_month_s",
        ):
            out[key] = []
        for n, code in enumerate(("n0001", "n0002", "n0003")):
            rankings.rankings_view(REGION, "month", last, "composite")  # the views, computed for this version
            values = generate_values([code], [last], seed=seed * 10 + n, with_annual=False)
            buffer = io.BytesIO()
            write_return(
                buffer,
                unit=cat.units[code],
                period=last,
                catalogue=cat,
                values=dict(zip(values["measure"], values["value"], strict=True)),
            )
            start = time.perf_counter()
            result = data.load_upload(
                buffer.getvalue(),
                file_name=f"{code}_{last}_bench.xlsx",
                submitted_by="bench",
                as_unit=None,
                region=REGION,
            )
            out["upload_s"].append(time.perf_counter() - start)
            out["upload_status"] = result.status
            with data.session_scope() as session:
                start = time.perf_counter()
                service.indicator_table(session=session, region=REGION, period=last, window="ytd")
                out["after_upload_indicators_s"].append(time.perf_counter() - start)
                start = time.perf_counter()
                service.score_table(session=session, region=REGION, period=last, window="ytd")
                out["after_upload_scores_s"].append(time.perf_counter() - start)
            start = time.perf_counter()
            rankings.rankings_view(REGION, "month", last, "composite")
            out["after_upload_rankings_month_s"].append(time.perf_counter() - start)
    return out


# --- (a) and (d): ipdash serve over HTTP ---------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fetch(
    opener: urllib.request.OpenerDirector, url: str, data: bytes | None = None, headers: dict | None = None
) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, headers=headers or {}, method="POST" if data else "GET")
    try:
        with opener.open(request, timeout=600) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def sign_in(base: str, password: str) -> tuple[urllib.request.OpenerDirector, dict[str, str]]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = fetch(opener, base + "/login?next=/")[1].decode()
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, "the sign-in form carries a CSRF token"
    form = {"username": LEADER, "password": password, "csrf_token": token.group(1), "next": "/"}
    fetch(opener, base + "/login", urllib.parse.urlencode(form).encode(), {"Origin": base})
    fetch(opener, base + "/", None)
    csrf = next((c.value for c in jar if c.name == "_csrf_token"), "")
    assert csrf, "signed in (the CSRF cookie is set)"
    return opener, {"X-CSRFToken": csrf or "", "Origin": base, "Content-Type": "application/json"}


def callback_payload(callback: dict, values: dict[str, Any]) -> dict:
    """The request Dash's renderer sends for ``callback`` with the filters in ``values`` (matched
    on a part of each input's id)."""

    def value_of(dep: dict) -> Any:
        ident = dep["id"] if isinstance(dep["id"], str) else json.dumps(dep["id"])
        for part, value in values.items():
            if part in ident:
                return value
        return None

    def fill(deps: list[dict]) -> list[dict]:
        out = []
        for dep in deps:
            ident = json.loads(dep["id"]) if dep["id"].startswith("{") else dep["id"]
            out.append({"id": ident, "property": dep["property"], "value": value_of(dep)})
        return out

    outputs = [
        dict(zip(("id", "property"), part.rsplit(".", 1), strict=True))
        for part in callback["output"].strip(".").split("...")
    ]
    return {
        "output": callback["output"],
        "outputs": outputs,
        "inputs": fill(callback["inputs"]),
        "changedPropIds": [],
        "state": fill(callback["state"]),
    }


class Server:
    """``ipdash serve`` of one variant's code in its own process group."""

    def __init__(self, code: Path, url: str, workers: int, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log.open("w")
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}, **env}
        env["IPDASH_CATALOGUE_DIR"] = os.environ["IPDASH_CATALOGUE_DIR"]
        env["PYTHONPATH"] = str(code)
        env["IPDASH_REGION"] = REGION  # a national deployment's default region: what is warmed up
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "ipdash.cli",
                "serve",
                "--db",
                url,
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            cwd=code,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self) -> float:
        while True:
            assert self.proc.poll() is None, Path(self.log.name).read_text()[-3000:]
            try:
                if fetch(urllib.request.build_opener(), self.base + "/login")[0] == 200:
                    return time.perf_counter() - self.started
            except OSError:
                pass
            time.sleep(0.05)

    def workers(self) -> list[int]:
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [int(c) for c in children]

    def stop(self) -> None:
        os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self.log.close()


def memory_mib(pid: int) -> tuple[float, float]:
    """(RSS, PSS) of ``pid`` in MiB, from /proc/PID/smaps_rollup."""
    fields = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0].endswith(":") and parts[1].isdigit():
            fields[parts[0][:-1]] = int(parts[1])
    return fields["Rss"] / 1024, fields["Pss"] / 1024


def serve_round(
    code: Path, url: str, password: str, last: str, env: dict[str, str], log: Path
) -> dict[str, Any]:
    server = Server(code, url, 2, env, log)
    out: dict[str, Any] = {}
    try:
        out["ready_s"] = server.wait_ready()
        opener, headers = sign_in(server.base, password)
        deps = json.loads(fetch(opener, server.base + "/_dash-dependencies")[1])

        def callback(output_part: str) -> dict:
            return next(c for c in deps if output_part in c["output"])

        filters = {"filter-region": REGION, "filter-window": "ytd", "filter-period": last}
        # 总览 draws its first view with the layout; its callback answers a view asked for by the
        # filters (components.view_gate writes it to ov-view-wanted): the request a change sends;
        # the baseline tree still takes the filters themselves.
        overview = {
            **filters,
            "mounted": True,
            "ov-view-wanted": {"region": REGION, "window": "ytd", "period": last},
        }
        requests = [
            ("rankings", callback("rk-graph.figure"), {**filters, '"indicator"': "composite"}),
            ("overview", callback("ov-cards.children"), overview),
            ("rankings", callback("rk-graph.figure"), {**filters, '"indicator"': "composite"}),
            ("overview", callback("ov-cards.children"), overview),
        ]
        out["first_requests"] = []
        for name, cb, values in requests:
            start = time.perf_counter()
            payload = json.dumps(callback_payload(cb, values)).encode()
            status, body = fetch(opener, server.base + "/_dash-update-component", payload, headers)
            elapsed = time.perf_counter() - start
            assert status == 200, (status, body[:300])
            out["first_requests"].append((name, elapsed))
        out["since_launch_s"] = time.perf_counter() - server.started
        # (d) memory per worker, after a trend view in each (the workers' own warm-up done)
        trend = callback("tr-monthly.figure")
        for _ in range(4):
            fetch(
                opener,
                server.base + "/_dash-update-component",
                json.dumps(
                    callback_payload(trend, {**filters, '"indicator"': TREND_INDICATORS[0], '"units"': []})
                ).encode(),
                headers,
            )
        time.sleep(2)
        out["master_mib"] = memory_mib(server.proc.pid)
        out["workers_mib"] = [memory_mib(pid) for pid in server.workers()]
    finally:
        server.stop()
        warmed = re.search(r"warmed up before forking in ([0-9.]+) s", Path(server.log.name).read_text())
        out["master_warm_up_s"] = float(warmed.group(1)) if warmed else None
    return out


# --- the run ---------------------------------------------------------------------------------------


def extract_baseline(commit: str, folder: Path) -> Path:
    target = folder / f"baseline-{commit}"
    target.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "-C", str(ROOT), "archive", commit], check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive, check=True)
    return target


def run_inner(code: Path, url: str, seed: int) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    env["PYTHONPATH"] = str(code)
    env["IPDASH_CATALOGUE_DIR"] = os.environ["IPDASH_CATALOGUE_DIR"]
    env["IPDASH_REGION"] = REGION
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--inner", "--db", url, "--seed", str(seed)],
        cwd=code,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--rebuild", action="store_true", help="drop and build the national database again")
    parser.add_argument("--units", type=int, default=2850)
    parser.add_argument("--months", type=int, default=36)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", default=DEFAULT_BASELINE, help="commit whose code is the baseline")
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument(
        "--in-process-only",
        action="store_true",
        help="only (b) and (c), in a process of each variant (no server)",
    )
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.inner:  # a child process: the variant's code comes first on PYTHONPATH
        use_catalogue(Path(os.environ["IPDASH_CATALOGUE_DIR"]))
        print(json.dumps(inner(args.db, args.seed)))
        return 0

    sys.path.insert(0, str(ROOT))
    from bench_dashboard import write_national_catalogue  # the measuring process only (see build_store)

    folder = Path(tempfile.mkdtemp(prefix="ipdash-bench-national-"))
    try:
        use_catalogue(write_national_catalogue(folder, args.units))
        if args.rebuild or not database_exists(args.db):
            print("Building the national store (once; --rebuild to start again) …", flush=True)
            create_database(args.db, drop=args.rebuild)
            build_store(args.db, args.units, args.months)
        password = leader_password(args.db)
        last, _prev = latest_periods(args.db)
        load = os.getloadavg()
        print(
            f"National store {args.db}: latest month {last}; load average {load[0]:.1f} {load[1]:.1f}",
            flush=True,
        )
        variants: list[tuple[str, Path, bool]] = []
        if not args.no_baseline:
            variants.append((f"baseline {args.baseline}", extract_baseline(args.baseline, folder), False))
        variants.append(("new (no snapshot)", ROOT, False))
        if not args.in_process_only:
            variants.append(("new (snapshot)", ROOT, True))
        snapshots = folder / "snapshots"
        results: dict[str, list[dict[str, Any]]] = {name: [] for name, _, _ in variants}
        seed = int(time.time()) % 10_000
        for round_no in range(args.rounds):
            for name, code, with_snapshot in variants:
                env = {}
                if code == ROOT:
                    if not with_snapshot:
                        shutil.rmtree(snapshots, ignore_errors=True)  # a cold start writes a new one
                    env["IPDASH_SNAPSHOT_DIR"] = str(snapshots)
                print(f"  round {round_no + 1}: {name} …", flush=True)
                row: dict[str, Any] = {}
                if not args.in_process_only:
                    row["serve"] = serve_round(
                        code,
                        args.db,
                        password,
                        last,
                        env,
                        folder / f"serve-{round_no}-{len(results[name])}.log",
                    )
                if not with_snapshot:
                    seed += 1
                    row["inner"] = run_inner(code, args.db, seed)
                results[name].append(row)
                print(f"    {json.dumps(row)}", flush=True)
        report(results)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def report(results: dict[str, list[dict[str, Any]]]) -> None:
    print("\nMedians over rounds (seconds; memory MiB):")
    for name, rows in results.items():
        serve = [r["serve"] for r in rows if "serve" in r]
        print(f"  {name}")
        if serve:
            report_serve(serve)
        inner_rows = [r["inner"] for r in rows if "inner" in r]
        if inner_rows:
            for indicator in TREND_INDICATORS:
                print(
                    f"    (b) first trend view {indicator}: {median([i['trend_first_s'][indicator] for i in inner_rows]):.3f}"
                )

            def each(key: str, rows: list[dict[str, Any]] = inner_rows) -> list[float]:
                return [t for i in rows for t in i[key]]

            print(
                f"    (c) after an upload ({inner_rows[-1]['upload_status']}; median of {len(each('upload_s'))}): "
                f"indicators {median(each('after_upload_indicators_s')):.3f}, scores {median(each('after_upload_scores_s')):.3f}, "
                f"together {median([a + b for a, b in zip(each('after_upload_indicators_s'), each('after_upload_scores_s'), strict=True)]):.3f}; "
                f"rankings page (month) {median(each('after_upload_rankings_month_s')):.3f}"
            )
            print(
                f"    process's first rankings (full read) {median([i['process_first_rankings_s'] for i in inner_rows]):.2f}"
            )


def report_serve(serve: list[dict[str, Any]]) -> None:
    first = [s["first_requests"][0][1] for s in serve]
    worst_first = [max(t for _, t in s["first_requests"][:2]) for s in serve]
    print(
        f"    (a) launch → answering {median([s['ready_s'] for s in serve]):.2f}; first rankings request {median(first):.2f}; slowest of the first rankings+overview {median(worst_first):.2f}"
    )
    warm = [s["master_warm_up_s"] for s in serve if s.get("master_warm_up_s") is not None]
    if warm:
        print(f"    (a) of which the master's warm-up before forking {median(warm):.2f}")
    rss = [w[0] for s in serve for w in s["workers_mib"]]
    pss = [w[1] for s in serve for w in s["workers_mib"]]
    master = [s["master_mib"][0] for s in serve]
    print(
        f"    (d) per worker RSS {median(rss):.0f} (PSS {median(pss):.0f}); master RSS {median(master):.0f}"
    )


if __name__ == "__main__":
    sys.exit(main())
