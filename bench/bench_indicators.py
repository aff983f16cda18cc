"""Benchmark: the indicator engine and the composite ranking at national and Shanghai scale.

National scale: 2,850 county-level units × 36 months × every measure (≈3.5 M value rows, made in
memory by ``sample_data.generator.generate_values``, seeded) plus one arrival per unit and month.
Shanghai scale: the 17 units × 24 months. Times ``compute_indicators`` (ytd window, with 同比 and
环比) and ``score_units`` (default scheme) — medians over ``--repeat`` runs — and peak Python
memory of one run of each under tracemalloc (a separate run: tracemalloc slows code down).

    .venv/bin/python bench/bench_indicators.py
    .venv/bin/python bench/bench_indicators.py --repeat 9 --units 2850 --months 36

Goals (issue 3): national < 1 s for the indicators and < 2 s for the scoring (read as: indicators
+ scoring); Shanghai < 50 ms.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from foundation.catalogue import default_catalogue  # noqa: E402
from indicators.engine import compute_indicators  # noqa: E402
from indicators.scoring import default_scheme, score_units  # noqa: E402
from sample_data.generator import generate_values, month_range  # noqa: E402


def synthetic_arrivals(units: list[str], months: list[str], seed: int = 7) -> pd.DataFrame:
    """One first arrival per unit and month: mostly by the 10th of M+1, about 8 % late, 1 % never."""
    rng = np.random.default_rng(seed)
    n = len(units) * len(months)
    starts = pd.to_datetime([f"{m}-01" for m in months]) + pd.DateOffset(months=1)
    base = np.tile(starts.to_numpy(dtype="datetime64[ns]"), len(units))
    late = rng.random(n) < 0.08
    day = np.where(late, rng.integers(10, 20, n), rng.integers(0, 10, n))
    stamps = base + day.astype("timedelta64[D]") + rng.integers(0, 86_400, n).astype("timedelta64[s]")
    frame = pd.DataFrame(
        {
            "unit": np.repeat(np.asarray(units, dtype=object), len(months)),
            "period": np.tile(np.asarray(months, dtype=object), len(units)),
            "first_received_at": pd.to_datetime(stamps).tz_localize("Asia/Shanghai").tz_convert("UTC"),
        }
    )
    return frame[rng.random(n) >= 0.01]


def median_seconds(func: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def peak_mib(func: Callable[[], object]) -> float:
    gc.collect()
    tracemalloc.start()
    try:
        func()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def run_case(name: str, units: list[str], months: list[str], repeat: int) -> dict[str, object]:
    cat = default_catalogue()
    scheme = default_scheme(cat)
    t0 = time.perf_counter()
    values = generate_values(units, months, seed=20230315)
    arrivals = synthetic_arrivals(units, months)
    build = time.perf_counter() - t0
    period = months[-1]
    now = datetime(int(period[:4]) + 1, 1, 1, tzinfo=UTC)

    def indicators() -> pd.DataFrame:
        return compute_indicators(
            values, catalogue=cat, units=units, period=period, window="ytd", arrivals=arrivals, now=now
        )

    frame = indicators()
    targets = pd.DataFrame(
        {"unit": units, "year": int(period[:4]), "indicator": "aid_workstations", "target": 3.0}
    )

    def scoring() -> object:
        return score_units(frame, scheme, targets=targets)

    def both() -> object:
        return score_units(indicators(), scheme, targets=targets)

    return {
        "case": name,
        "units": len(units),
        "months": len(months),
        "value_rows": len(values),
        "build_s": build,
        "indicators_ms": median_seconds(indicators, repeat) * 1000,
        "scoring_ms": median_seconds(scoring, repeat) * 1000,
        "total_ms": median_seconds(both, repeat) * 1000,
        "indicators_peak_mib": peak_mib(indicators),
        "scoring_peak_mib": peak_mib(scoring),
        "output_rows": len(frame),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--units", type=int, default=2850)
    parser.add_argument("--months", type=int, default=36)
    args = parser.parse_args(argv)

    shanghai = [u.code for u in default_catalogue().units_of("shanghai")]
    national = [f"c{i:04d}" for i in range(args.units)]
    cases = [
        run_case("shanghai", shanghai, month_range("2022-01", "2023-12"), args.repeat),
        run_case("national", national, month_range("2021-01", "2023-12")[-args.months :], args.repeat),
    ]
    header = (
        f"{'case':<9} {'units':>6} {'months':>6} {'value rows':>11} {'indicators':>11} "
        f"{'scoring':>9} {'ind+score':>10} {'peak ind':>9} {'peak score':>10}"
    )
    print(
        f"compute_indicators(window='ytd', with 同比/环比) and score_units(default scheme); median of {args.repeat}"
    )
    print(header)
    print("-" * len(header))
    for c in cases:
        print(
            f"{c['case']:<9} {c['units']:>6} {c['months']:>6} {c['value_rows']:>11,} "
            f"{c['indicators_ms']:>9.1f}ms {c['scoring_ms']:>7.1f}ms {c['total_ms']:>8.1f}ms "
            f"{c['indicators_peak_mib']:>6.1f}MiB {c['scoring_peak_mib']:>7.1f}MiB"
        )
    print("(value rows generated in memory by sample_data.generator.generate_values; peak = tracemalloc)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
