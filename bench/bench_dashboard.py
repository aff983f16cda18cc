"""Benchmark: the dashboard's callbacks (server side) and every page in headless Chromium.

Server side (in process): each page's callback body — the service call, the figure builders and
the JSON encoding Dash does on the way out — timed ``--repeat`` times over a few filter
combinations; the first call per combination is "cold" (the service's cache empty), the rest
"warm". HTTP overhead is not included.

Browser: the app as operators run it — ``ipdash serve`` (gunicorn, 2 workers × 4 threads) on a
copy of the sample database with a bench analyst and admin added through application.accounts —
and one headless Chromium per account, signed in through the real form. Every page of the app is
loaded in full (``driver.get``) ``--page-repeat`` times after one warm-up round (plotly.js and the
bundles then come from the browser cache). A page is interactive at the first animation frame
from which its content selectors are all present, no callback request is in flight and nothing is
marked loading — and still so 500 ms later (a callback starting meanwhile resets it); the time is
``performance.now()`` then, i.e. from navigation start. Every callback request's round trip
(server time + HTTP, as the browser saw it) is recorded too: p50/p95 per callback output.
``--baseline DIR`` serves another source tree the same way and alternates the two load by load.

    .venv/bin/python bench/bench_dashboard.py                 # sample data (built into a temp dir)
    git archive <commit> | tar -x -C /tmp/base && \
      .venv/bin/python bench/bench_dashboard.py --baseline /tmp/base --no-inprocess
    .venv/bin/python bench/bench_dashboard.py --db /path/ipdash.db
    .venv/bin/python bench/bench_dashboard.py --national --no-browser   # + 2,850 units × 36 months

Goals (issue 13): every page interactive in < 1 s warm on the sample, callbacks p95 < 100 ms.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import plotly.io.json as pio_json  # noqa: E402


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


def _encode(outputs: Any) -> None:
    pio_json.to_json_plotly(outputs)  # what Dash does with a callback's return value


def callback_cases(region: str, period: str, prev: str, unit: str) -> dict[str, list[Callable[[], Any]]]:
    from dashboard.pages import comparison, overview, rankings, trends
    from dashboard.pages import unit as unit_page

    combos = [(period, "ytd"), (period, "month"), (prev, "quarter")]
    return {
        "总览 overview": [lambda p=p, w=w: overview._overview(region, w, p) for p, w in combos],
        "排名 rankings (indicator)": [
            lambda p=p, w=w, i=i: rankings.rankings_view(region, w, p, i)
            for p, w in combos
            for i in ("abnormal_withdrawal_rate", "case_completion_rate")
        ],
        "排名 rankings (composite)": [
            lambda p=p, w=w: rankings.rankings_view(region, w, p, "composite") for p, w in combos
        ],
        "对比 comparison (scores)": [
            lambda p=p, w=w: comparison.comparison_view(region, w, p, "score", []) for p, w in combos
        ],
        "对比 comparison (relative)": [
            lambda p=p, w=w: comparison.comparison_view(region, w, p, "relative", []) for p, w in combos
        ],
        "趋势 trends": [
            lambda p=p, i=i: trends.trends_view(region, p, i, [])
            for p, _ in combos[:2]
            for i in ("case_completion_rate",)
        ],
        "区详情 unit": [lambda p=p, w=w: unit_page.unit_view(unit, w, p) for p, w in combos],
    }


def time_callbacks(
    url: str, region: str, period: str, prev: str, unit: str, repeat: int, catalogue_dir: Path | None = None
) -> list[dict[str, Any]]:
    from application import service
    from dashboard.app import create_app
    from foundation.settings import Settings

    # The app factory installs the settings' catalogue folder (None: the built-in one).
    app = create_app(url, Settings(catalogue_dir=catalogue_dir, region=region))
    service.clear_cache()
    rows = []
    with app.server.app_context():
        for name, calls in callback_cases(region, period, prev, unit).items():
            cold, warm = [], []
            for i in range(repeat):
                for call in calls:
                    start = time.perf_counter()
                    _encode(call())
                    (cold if i == 0 else warm).append((time.perf_counter() - start) * 1000)
            rows.append(
                {
                    "callback": name,
                    "cold_max_ms": max(cold),
                    "warm_p50_ms": statistics.median(warm),
                    "warm_p95_ms": p95(warm),
                    "n": len(warm),
                }
            )
            print(
                f"  {name:28s} cold max {max(cold):7.0f} ms   warm p50 {statistics.median(warm):6.1f}  p95 {p95(warm):6.1f} ms",
                flush=True,
            )
    return rows


# --- browser ---------------------------------------------------------------------------------------

# Every page of the app (dashboard/app.py PAGE_MODULES), the account that opens it, and what must be
# on screen for it to count as interactive (each entry a CSS selector group; all must match).
PAGES: list[tuple[str, str, str, list[str]]] = [
    ("总览", "/", "analyst", ["#ov-cards .ov-card", "#ov-top li", "#ov-missing h5"]),
    ("排名", "/rankings", "analyst", ["#rk-graph .js-plotly-plot .bars path", "#rk-grid .ag-row"]),
    ("对比", "/comparison", "analyst", ["#cmp-heatmap .js-plotly-plot .hm"]),
    (
        "趋势",
        "/trends",
        "analyst",
        ["#tr-monthly .js-plotly-plot .scatterlayer .trace", "#tr-ytd .js-plotly-plot .scatterlayer .trace"],
    ),
    (
        "区详情",
        "/unit/{unit}",
        "analyst",
        [
            "#unit-scorecard table",
            "#unit-sparks .js-plotly-plot .scatterlayer .trace, #unit-sparks .spark img",
            "#unit-submissions table",
        ],
    ),
    ("上传", "/upload", "analyst", ["#up-upload"]),
    ("报送情况", "/status", "analyst", ["#st-grid table", "#st-detail table"]),
    ("任务督办", "/tasks", "analyst", ["#tk-table table"]),
    ("管理", "/manage", "analyst", ["#mg-history"]),
    ("审计日志", "/audit", "admin", ["#au-table table"]),
]

# Injected before any script of each page (CDP Page.addScriptToEvaluateOnNewDocument): counts the
# callback requests in flight (Dash's renderer uses fetch), records each one's round trip, and on
# every animation frame notes since when the page has been ready — its selectors all present, no
# callback in flight, nothing marked loading.
_PROBE_JS = r"""
(function () {
  var b = window.__bench = {inflight: 0, calls: [], readySince: null, selectors: null, seen: {}, lastEnd: 0};
  var origFetch = window.fetch;
  window.fetch = function (input, init) {
    var url = typeof input === 'string' ? input : (input && input.url) || '';
    if (url.indexOf('_dash-update-component') < 0) { return origFetch.apply(this, arguments); }
    var t0 = performance.now(), out = '';
    try { out = JSON.parse((init && init.body) || '{}').output || ''; } catch (e) {}
    b.inflight++; b.readySince = null;
    return origFetch.apply(this, arguments).then(function (r) {
      return r.clone().text().then(function (body) {
        b.inflight--; b.lastEnd = performance.now();
        b.calls.push({output: out, ms: performance.now() - t0, status: r.status, bytes: body.length});
        return r;
      });
    }, function (e) { b.inflight--; throw e; });
  };
  function tick() {
    var sels = b.selectors, ok = false, loading = document.querySelector('[data-dash-is-loading="true"]');
    if (loading) { b.loadingLast = [performance.now(), loading.id || loading.className]; }
    if (sels) {
      ok = b.inflight === 0 && !document.querySelector('[data-dash-is-loading="true"]');
      for (var i = 0; i < sels.length; i++) {
        var found = !!document.querySelector(sels[i]);
        if (found && !(sels[i] in b.seen)) { b.seen[sels[i]] = performance.now(); }
        ok = ok && found;
      }
    }
    if (!ok) { b.readySince = null; } else if (b.readySince === null) { b.readySince = performance.now(); }
    requestAnimationFrame(tick);
  }
  requestAnimationFrame(tick);
})();
"""
STABLE_MS = 500  # ready must hold this long (a callback starting later resets it)


class Served:
    """``ipdash serve`` (gunicorn, as operators run it) of the source tree ``tree`` on a copy of the
    database, and a headless Chromium per account, signed in through the real form."""

    def __init__(self, label: str, tree: Path, db: Path, folder: Path, accounts: dict[str, str]) -> None:
        import os
        import socket
        import subprocess

        self.label, self.folder, self.accounts = label, folder, accounts
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.base = f"http://127.0.0.1:{self.port}"
        env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
        env.update(PYTHONPATH=str(tree), IPDASH_ERROR_LOG=str(folder / f"{label}-errors.log"))
        self.log = (folder / f"{label}-server.log").open("w")
        command = [sys.executable, "-m", "ipdash.cli", "serve", "--db", f"sqlite:///{db}"]
        command += ["--port", str(self.port), "--workers", "2", "--threads", "4"]
        self.process = subprocess.Popen(command, cwd=tree, env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.drivers: dict[str, Any] = {}
        self._wait_until_answering()

    def _wait_until_answering(self) -> None:
        import urllib.request

        end = time.time() + 60
        while time.time() < end:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.label}: server exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base + "/login", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError(f"{self.label}: server did not answer in 60 s")

    def driver(self, role: str) -> Any:
        if role not in self.drivers:
            from selenium import webdriver
            from selenium.webdriver.chrome.options import Options

            options = Options()
            profile = self.folder / f"chrome-{self.label}-{role}"
            for arg in (
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--window-size=1400,1000",
            ):
                options.add_argument(arg)
            driver = webdriver.Chrome(options=options)
            driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _PROBE_JS})
            driver.get(self.base + "/login")
            driver.find_element("css selector", "#username").send_keys(self.accounts[role])
            driver.find_element("css selector", "#password").send_keys(BENCH_PASSWORD)
            driver.find_element("css selector", "#login-submit").click()
            end = time.time() + 30
            while "/login" in driver.current_url and time.time() < end:
                time.sleep(0.05)
            if "/login" in driver.current_url:
                raise RuntimeError(f"{self.label}: {role} could not sign in")
            self.drivers[role] = driver
        return self.drivers[role]

    def open(self, role: str, url: str, selectors: list[str]) -> dict[str, Any]:
        """Load ``url`` in full; ms from navigation start until ready (and still ready STABLE_MS later)."""
        driver = self.driver(role)
        driver.get(self.base + url)
        driver.execute_script("window.__bench.selectors = arguments[0];", selectors)
        end = time.time() + 30
        while time.time() < end:
            state = driver.execute_script(
                "var b = window.__bench; return [b.readySince, performance.now(), b.calls];"
            )
            if state[0] is not None and state[1] - state[0] >= STABLE_MS:
                resources = driver.execute_script(
                    "return performance.getEntriesByType('resource').map(function (e) {"
                    " return [e.name, e.transferSize || 0]; });"
                )
                return {
                    "ms": float(state[0]),
                    "calls": state[2],
                    "requests": len(resources) + 1,
                    "kb": sum(size for _, size in resources) / 1024,
                }
            time.sleep(0.05)
        missing = driver.execute_script(
            "return arguments[0].filter(function (s) { return !document.querySelector(s); });", selectors
        )
        raise RuntimeError(f"{self.label} {url}: not ready in 30 s (missing {missing}, {driver.current_url})")

    def close(self) -> None:
        for driver in self.drivers.values():
            driver.quit()
        self.process.terminate()
        self.process.wait(20)
        self.log.close()


BENCH_PASSWORD = "bench-password-13"


def add_accounts(db: Path) -> dict[str, str]:
    """An analyst (every page but the audit log) and an admin (the audit log), made the way
    ``ipdash user add`` makes them."""
    from sqlalchemy import text
    from sqlmodel import Session

    from application.accounts import add_user
    from store.db import open_engine

    accounts = {"analyst": "bench_analyst", "admin": "bench_admin"}
    engine = open_engine(f"sqlite:///{db}")
    with Session(engine) as session:
        for role, name in accounts.items():
            add_user(
                session=session, username=name, role=role, unit=None, password=BENCH_PASSWORD, actor="bench"
            )
        session.commit()
    with engine.connect() as conn:  # fold the WAL into the file: the servers get plain copies
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return accounts


def time_pages(
    db: Path, trees: dict[str, Path], folder: Path, query: str, unit: str, repeat: int, warmup: int = 2
) -> dict[str, dict[str, Any]]:
    """Each page ``repeat`` times per tree, trees alternated load by load, after ``warmup`` rounds
    (plotly.js and the bundles in the browser cache, both gunicorn workers' caches filled)."""
    accounts = add_accounts(db)
    served: dict[str, Served] = {}
    results: dict[str, dict[str, Any]] = {label: {"pages": {}, "calls": {}} for label in trees}
    try:
        for label, tree in trees.items():
            copy = folder / f"{label}.db"
            shutil.copy(db, copy)
            served[label] = Served(label, tree, copy, folder, accounts)
        for round_no in range(1 - warmup, repeat + 1):
            for name, path, role, selectors in PAGES:
                for label, server in served.items():
                    sep = "&" if "?" in path else ""
                    url = path.format(unit=unit) + (query if not sep else sep + query.lstrip("?"))
                    got = server.open(role, url, selectors)
                    if round_no <= 0:
                        continue
                    page = results[label]["pages"].setdefault(name, {"ms": [], "requests": [], "kb": []})
                    page["ms"].append(got["ms"])
                    page["requests"].append(got["requests"])
                    page["kb"].append(got["kb"])
                    for call in got["calls"]:
                        key = call["output"] if len(call["output"]) <= 70 else call["output"][:67] + "…"
                        results[label]["calls"].setdefault(key, []).append(call["ms"])
            if round_no > 0:
                print(f"  round {round_no}/{repeat} done", flush=True)
    finally:
        for server in served.values():
            server.close()
    return results


def report_pages(results: dict[str, dict[str, Any]]) -> None:
    labels = list(results)
    print("\nPages: ms from navigation start to interactive (median / max), requests, KB transferred")
    head = f"  {'page':8s}" + "".join(f" | {label:>22s}" for label in labels)
    if len(labels) == 2:
        head += " | ratio"
    print(head)
    for name, *_ in PAGES:
        line = f"  {name:8s}"
        medians = []
        for label in labels:
            page = results[label]["pages"][name]
            med = statistics.median(page["ms"])
            medians.append(med)
            line += f" | {med:6.0f} / {max(page['ms']):5.0f} ms {statistics.median(page['requests']):3.0f}r {statistics.median(page['kb']):4.0f}K"
        if len(labels) == 2:
            line += f" | {medians[1] / medians[0]:5.2f}×"
        print(line)
    for label in labels:
        print(f"\nCallbacks as the browser saw them ({label}): round trip ms over all warm page loads")
        for key, values in sorted(results[label]["calls"].items(), key=lambda kv: -p95(kv[1])):
            print(
                f"  {key:72s} n {len(values):3d}  p50 {statistics.median(values):6.1f}  p95 {p95(values):6.1f}"
            )


# --- data ------------------------------------------------------------------------------------------


def build_sample(folder: Path) -> Path:
    from sqlalchemy import text

    from sample_data.build import load_sample, write_sample_files
    from store.db import open_engine

    write_sample_files(folder / "sample")
    db = folder / "sample.db"
    engine = open_engine(f"sqlite:///{db}")
    load_sample(engine, folder=folder / "sample")
    with engine.connect() as conn:  # fold the WAL into the file so a plain copy is complete
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return db


def write_national_catalogue(folder: Path, units: int) -> Path:
    """A catalogue folder (``IPDASH_CATALOGUE_DIR``) holding the ``national`` region's ``units``
    units (``n0000`` …); measures, indicators and scheme are the built-in ones."""
    target = folder / "catalogue"
    target.mkdir(parents=True, exist_ok=True)
    with (target / "units_national.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "admin_code", "name_zh", "short_zh", "name_en", "kind", "parent"])
        for i in range(units):
            w.writerow([f"n{i:04d}", "", f"单位{i:04d}", f"{i:04d}", f"Unit {i}", "county", "national"])
    (target / "regions.csv").write_text("region,name_zh,benchmark_zh\nnational,全国,全国平均水平\n", "utf-8")
    return target


def fill_national_store(url: str, units: int, months: int, *, progress: bool = False) -> list[str]:
    """``units`` synthetic units × the last ``months`` months of 2021–2023 written straight through
    the store's ``save_submission``, one on-time layout-B submission a month; the months written."""
    from sqlmodel import Session

    from sample_data.generator import generate_values, month_range
    from store import repo
    from store.db import open_engine

    codes = [f"n{i:04d}" for i in range(units)]
    span = month_range("2021-01", "2023-12")[-months:]
    engine = open_engine(url)
    start = time.time()
    values = generate_values(codes, span, seed=7)
    for period, frame in values.groupby("period", sort=True):
        wide = frame.pivot(index="unit", columns="measure", values="value")
        records = [
            repo.RecordToSave(unit, str(period), {m: float(v) for m, v in row.items() if v == v})
            for unit, row in wide.iterrows()
        ]
        when = datetime(int(str(period)[:4]), 12, 31, tzinfo=UTC)
        if len(str(period)) == 7:
            y, m = map(int, str(period).split("-"))
            when = datetime(y + (m == 12), 1 if m == 12 else m + 1, 5, tzinfo=UTC)
        with Session(engine) as session:
            repo.save_submission(
                session=session,
                records=records,
                file_name=f"bench_{period}.xlsx",
                sha256=hashlib.sha256(str(period).encode()).hexdigest(),
                layout="B",
                submitted_by="bench",
                submitted_at=when,
            )
            session.commit()
        if progress:
            print(f"    {period}: {len(records)} units ({time.time() - start:.0f} s)", flush=True)
    engine.dispose()
    print(f"  national store: {units} units × {len(span)} months in {time.time() - start:.0f} s", flush=True)
    return span


def build_national(folder: Path, units: int, months: int) -> tuple[str, str, str, Path]:
    """A SQLite store of ``units`` synthetic units (region "national") × ``months`` months.

    The units are a catalogue folder of their own (``units_national.csv`` + ``regions.csv``),
    installed in this process as ``IPDASH_CATALOGUE_DIR`` would install it at a deployment; a
    subprocess would get ``IPDASH_CATALOGUE_DIR=<folder>/catalogue`` and ``IPDASH_REGION=national``."""
    from foundation.catalogue import install_catalogue

    data_dir = write_national_catalogue(folder, units)
    install_catalogue(data_dir, region="national")  # before the store syncs the catalogue's units
    url = f"sqlite:///{folder / 'national.db'}"
    span = fill_national_store(url, units, months)
    return url, span[-1], span[-4], data_dir


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="a SQLite file with the sample loaded (copied; default: build one)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--page-repeat", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=2, help="page rounds before timing (default 2)")
    parser.add_argument(
        "--baseline",
        type=Path,
        help="another source tree (e.g. `git archive <commit> | tar -x -C DIR`) served and timed "
        "alternately with this one",
    )
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument("--no-inprocess", action="store_true", help="skip the in-process callback timing")
    parser.add_argument(
        "--national", action="store_true", help="also build and time the national-scale store"
    )
    parser.add_argument("--units", type=int, default=2850)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ipdash-bench-"))
    try:
        if args.db:
            db = folder / "sample.db"
            shutil.copy(args.db.removeprefix("sqlite:///"), db)
        else:
            db = build_sample(folder)
        url = f"sqlite:///{db}"
        if not args.no_inprocess:
            print(f"Sample ({url}): callbacks, server side")
            time_callbacks(url, "shanghai", "2023-12", "2023-09", "jingan", args.repeat)
        if not args.no_browser:
            trees = {"this": ROOT}
            if args.baseline:
                trees = {"baseline": args.baseline.resolve(), "this": ROOT}
            print(f"Sample: every page in headless Chromium, served by ipdash serve ({', '.join(trees)})")
            results = time_pages(
                db,
                trees,
                folder,
                "?region=shanghai&window=ytd&period=2023-12",
                "jingan",
                args.page_repeat,
                args.warmup,
            )
            report_pages(results)
        if args.national:
            print("National scale: building the store …")
            nat_url, last, prev, catalogue_dir = build_national(folder, args.units, args.months)
            print(f"National ({args.units} units): callbacks, server side")
            time_callbacks(nat_url, "national", last, prev, "n0000", max(3, args.repeat // 3), catalogue_dir)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
