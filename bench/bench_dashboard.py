"""Benchmark: the dashboard's callbacks (server side) and page interactivity (headless Chromium).

Server side: each page's callback body — the service call, the figure builders and the JSON
encoding Dash does on the way out — timed in-process, ``--repeat`` times over a few filter
combinations; the first call per combination is "cold" (the service's cache empty), the rest
"warm". HTTP overhead (~1–2 ms on localhost) is not included.

Browser: each page opened in headless Chromium on the real server (after one warm-up load, so
plotly.js is in the browser cache), timed from navigation start until its first figure or table
is drawn and no callback is pending.

    .venv/bin/python bench/bench_dashboard.py                 # sample data (built into a temp dir)
    .venv/bin/python bench/bench_dashboard.py --db sqlite:////path/ipdash.db
    .venv/bin/python bench/bench_dashboard.py --national      # + 2,850 units × 36 months (slow to build)
    .venv/bin/python bench/bench_dashboard.py --no-browser

Goals (issue 4): p95 < 150 ms per callback on the sample, < 500 ms on the national store; every
page interactive in < 2 s.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import shutil
import statistics
import sys
import tempfile
import threading
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

PAGES = [
    ("overview", "/", "#ov-cards .ov-card"),
    ("rankings", "/rankings", "#rk-graph .js-plotly-plot .bars path"),
    ("comparison", "/comparison", "#cmp-heatmap .js-plotly-plot .hm"),
    ("trends", "/trends", "#tr-monthly .js-plotly-plot .scatterlayer .trace"),
    ("unit", "/unit/{unit}", "#unit-scorecard table"),
    ("upload", "/upload", "#up-upload"),
]


def time_pages(url: str, query: str, unit: str, repeat: int) -> list[dict[str, Any]]:
    import logging

    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from werkzeug.serving import make_server

    from dashboard.app import create_app

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request drowns the report
    app = create_app(url)
    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    profile = tempfile.mkdtemp(prefix="ipdash-bench-chrome-")
    options = Options()
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
    ready_js = (
        "return !!document.querySelector(arguments[0]) && "
        "document.querySelectorAll('[data-dash-is-loading=true]').length === 0;"
    )
    rows = []
    try:
        for name, path, selector in PAGES:
            target = base + path.format(unit=unit) + query
            times = []
            for i in range(repeat + 1):  # the first load warms the browser cache (plotly.js)
                driver.get(target)
                end = time.time() + 30
                while time.time() < end and not driver.execute_script(ready_js, selector):
                    time.sleep(0.01)
                elapsed = driver.execute_script("return performance.now();")
                if i > 0:
                    times.append(float(elapsed))
            rows.append({"page": name, "median_ms": statistics.median(times), "max_ms": max(times)})
            print(
                f"  {name:12s} interactive in median {statistics.median(times):6.0f} ms, max {max(times):6.0f} ms",
                flush=True,
            )
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)
    return rows


# --- data ------------------------------------------------------------------------------------------


def build_sample(folder: Path) -> str:
    from sample_data.build import load_sample, write_sample_files
    from store.db import open_engine

    write_sample_files(folder / "sample")
    url = f"sqlite:///{folder / 'sample.db'}"
    engine = open_engine(url)
    load_sample(engine, folder=folder / "sample")
    engine.dispose()
    return url


def build_national(folder: Path, units: int, months: int) -> tuple[str, str, str, Path]:
    """A store of ``units`` synthetic units (region "national") × ``months`` months, written
    straight through the store's save_submission, one submission per month (on time).

    The units are a catalogue folder of their own (``units_national.csv`` + ``regions.csv``; the
    measures, indicators and scheme are the built-in ones), installed in this process as
    ``IPDASH_CATALOGUE_DIR`` would install it at a deployment; a subprocess would get
    ``IPDASH_CATALOGUE_DIR=<folder>/catalogue`` and ``IPDASH_REGION=national``."""
    from foundation.catalogue import install_catalogue
    from sample_data.generator import generate_values, month_range
    from store import repo
    from store.db import open_engine

    data_dir = folder / "catalogue"
    data_dir.mkdir()
    codes = [f"n{i:04d}" for i in range(units)]
    with (data_dir / "units_national.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "admin_code", "name_zh", "short_zh", "name_en", "kind", "parent"])
        for i, code in enumerate(codes):
            w.writerow([code, "", f"单位{i:04d}", f"{i:04d}", f"Unit {i}", "county", "national"])
    (data_dir / "regions.csv").write_text(
        "region,name_zh,benchmark_zh\nnational,全国,全国平均水平\n", "utf-8"
    )
    install_catalogue(data_dir, region="national")  # before the store syncs the catalogue's units

    span = month_range("2021-01", "2023-12")[-months:]
    url = f"sqlite:///{folder / 'national.db'}"
    engine = open_engine(url)
    from sqlmodel import Session

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
    engine.dispose()
    print(f"  national store: {units} units × {len(span)} months in {time.time() - start:.0f} s", flush=True)
    return url, span[-1], span[-4], data_dir


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", help="an existing database with the sample loaded (default: build one)")
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--page-repeat", type=int, default=5)
    parser.add_argument("--no-browser", action="store_true")
    parser.add_argument(
        "--national", action="store_true", help="also build and time the national-scale store"
    )
    parser.add_argument("--units", type=int, default=2850)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="ipdash-bench-"))
    try:
        url = args.db or build_sample(folder)
        print(f"Sample ({url}): callbacks, server side")
        time_callbacks(url, "shanghai", "2023-12", "2023-09", "jingan", args.repeat)
        if not args.no_browser:
            print("Sample: pages in headless Chromium (warm browser cache)")
            time_pages(url, "?region=shanghai&window=ytd&period=2023-12", "jingan", args.page_repeat)
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
