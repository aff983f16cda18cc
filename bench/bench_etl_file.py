"""Benchmark: parse one layout-A return and write one blank template, per file.

Replaces two timing assertions that used to live in the test suite (a busy machine made them
fail). Medians of ``--repeat`` rounds of ``--runs`` calls each, beside python-calamine's bare
read of the same bytes (the floor any reader of ours sits on).

    .venv/bin/python bench/bench_etl_file.py --repeat 7 --runs 50
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from python_calamine import CalamineWorkbook  # noqa: E402

from etl.readers import read_file  # noqa: E402
from etl.writers import write_return  # noqa: E402
from foundation.catalogue import default_catalogue  # noqa: E402


def per_call_ms(fn: Callable[[], object], runs: int, repeat: int) -> float:
    fn()  # warm caches (catalogue, i18n)
    rounds = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(runs):
            fn()
        rounds.append((time.perf_counter() - start) / runs * 1000)
    return statistics.median(rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    catalogue = default_catalogue()
    unit = catalogue.units["jingan"]
    values = {m.code: 3 for m in catalogue.monthly_measures()}
    buf = io.BytesIO()
    write_return(buf, unit=unit, period="2023-06", catalogue=catalogue, values=values)
    data = buf.getvalue()
    today = date(2024, 1, 1)

    bare = per_call_ms(
        lambda: CalamineWorkbook.from_filelike(io.BytesIO(data)).get_sheet_by_name("月报").to_python(),
        args.runs,
        args.repeat,
    )
    parse = per_call_ms(lambda: read_file(data, file_name="r.xlsx", today=today), args.runs, args.repeat)
    write = per_call_ms(
        lambda: write_return(io.BytesIO(), unit=unit, period="2023-06", catalogue=catalogue, values=values),
        max(args.runs // 5, 1),
        args.repeat,
    )
    print(f"python-calamine bare read of the 月报 sheet: {bare:.2f} ms per return (floor)")
    print(
        f"read_file (gate, labels, every rule):        {parse:.2f} ms per return ({parse / bare:.1f}x the floor)"
    )
    print(f"write_return (locked template):              {write:.2f} ms per return")


if __name__ == "__main__":
    main()
