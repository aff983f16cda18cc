"""Benchmark: load the 408 layout-A returns of 2022–2023 into a fresh SQLite database.

Compares the project's loader (python-calamine, label search, bulk Core inserts, one
transaction per file, every validation rule and cross-period check) with a naive baseline in
the same process: pandas.read_excel with openpyxl, and one ORM object per value added through
the session. Timing runs alternate the two (medians of ``--repeat``); peak Python memory is
measured in separate runs under tracemalloc, which slows code down.

    .venv/bin/python bench/bench_load.py            # uses sample_data/returns
    .venv/bin/python bench/bench_load.py --repeat 5
    .venv/bin/python bench/bench_load.py --naive-only --db sqlite:///naive.db   # one naive run, no timing

``--naive-only`` is the naive loader as a process of its own: ``bench/bench_load_process.py``
times it as a whole process (start-up included) beside ``ipdash load``. It imports only what the
naive loader uses (pandas, openpyxl, SQLModel, the catalogue and the store's tables).
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pandas as pd
from sqlmodel import Session, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from foundation.catalogue import default_catalogue  # noqa: E402
from store.db import open_engine  # noqa: E402
from store.models import MeasureValue, Revision, Submission  # noqa: E402


def expand_paths(paths: list[Path]) -> list[Path]:
    from etl.load import expand_paths as expand

    return expand(paths)


def optimized(files: list[Path], url: str) -> int:
    from etl.load import load_paths

    engine = open_engine(url)
    n = sum(r.status == "accepted" for r in load_paths(files, engine=engine, submitted_by="bench"))
    engine.dispose()
    return n


def naive(files: list[Path], url: str) -> int:
    """What a first version would do: pandas + openpyxl, find the table, one ORM object per value."""
    cat = default_catalogue()
    names = {u.name_zh: u.code for u in cat.units.values()}
    engine = open_engine(url)
    n = 0
    for path in files:
        sheets = pd.read_excel(path, sheet_name=None, header=None, engine="openpyxl")
        grid = sheets["月报"]
        unit = period = None
        for row in grid.itertuples(index=False):
            cells = [c for c in row if isinstance(c, str) or pd.notna(c)]
            for i, c in enumerate(cells[:-1]):
                if c == "填报单位":
                    unit = names[str(cells[i + 1])]
                elif c == "报告期":
                    period = str(cells[i + 1])[:7]
        header = grid.index[grid.eq("指标代码").any(axis=1)][0]
        code_col = grid.columns[grid.loc[header].eq("指标代码")][0]
        val_col = grid.columns[grid.loc[header].eq("本月数")][0]
        with Session(engine) as session:
            sub = Submission(file_name=path.name, sha256="-", submitted_by="naive", layout="A")
            session.add(sub)
            session.flush()
            rev = Revision(
                unit_code=unit,
                period=period,
                revision_no=1,
                content_sha="-",
                created_by="naive",
                submission_id=sub.id,
            )
            session.add(rev)
            session.flush()
            for _, row in grid.loc[header + 1 :].iterrows():
                code = row[code_col]
                if isinstance(code, str) and code in cat.measures:
                    v = row[val_col]
                    session.add(
                        MeasureValue(
                            revision_id=rev.id, measure_code=code, value=float(v) if pd.notna(v) else 0.0
                        )
                    )
            session.commit()
        n += 1
    engine.dispose()
    return n


def _value_count(url: str) -> int:
    engine = open_engine(url)
    with Session(engine) as s:
        n = len(s.exec(select(MeasureValue.revision_id)).all())
    engine.dispose()
    return n


def _timed(fn: Callable[[list[Path], str], int], files: list[Path], tmp: Path, tag: str) -> tuple[float, str]:
    url = f"sqlite:///{tmp / f'{tag}_{time.monotonic_ns()}.db'}"
    gc.collect()
    t0 = time.perf_counter()
    n = fn(files, url)
    elapsed = time.perf_counter() - t0
    assert n == len(files), f"{tag}: loaded {n} of {len(files)}"
    return elapsed, url


def _peak(fn: Callable[[list[Path], str], int], files: list[Path], tmp: Path, tag: str) -> float:
    gc.collect()
    tracemalloc.start()
    fn(files, f"sqlite:///{tmp / f'{tag}_mem.db'}")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", type=Path, default=ROOT / "sample_data" / "returns")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument(
        "--naive-only", action="store_true", help="run the naive loader once into --db, no timing"
    )
    ap.add_argument("--db", help="with --naive-only: the database URL to fill (a fresh file)")
    args = ap.parse_args()
    if args.naive_only:
        # What a first version would glob: every .xlsx under the folder, sorted.
        files = sorted(p for p in args.folder.rglob("*.xlsx") if not p.name.startswith("~$"))
        n = naive(files, args.db)
        print(f"naive: {n} files")
        return
    files = expand_paths([args.folder])
    print(f"{len(files)} files from {args.folder}")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        fast, slow = [], []
        for _ in range(args.repeat):
            t, url_fast = _timed(optimized, files, tmp, "fast")
            fast.append(t)
            t, url_slow = _timed(naive, files, tmp, "naive")
            slow.append(t)
        assert _value_count(url_fast) == _value_count(url_slow), "the two loaders stored different data"
        mem_fast = _peak(optimized, files, tmp, "fast")
        mem_slow = _peak(naive, files, tmp, "naive")
    mf, ms = statistics.median(fast), statistics.median(slow)
    print(f"{'loader':<28}{'median s':>10}{'files/s':>10}{'peak MiB':>10}")
    print(f"{'ipdash load (calamine)':<28}{mf:>10.2f}{len(files) / mf:>10.1f}{mem_fast:>10.1f}")
    print(f"{'naive (openpyxl + ORM)':<28}{ms:>10.2f}{len(files) / ms:>10.1f}{mem_slow:>10.1f}")
    print(
        f"speed-up: {ms / mf:.1f}x   (runs: fast {[round(x, 2) for x in fast]}, naive {[round(x, 2) for x in slow]})"
    )


if __name__ == "__main__":
    main()
