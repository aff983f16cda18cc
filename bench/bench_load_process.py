"""Benchmark: ``ipdash load`` of the sample returns as a whole process, start-up included, against
the naive loader of ``bench/bench_load.py`` run as a process in the same run; and ``ipdash --help``.

Each round runs, one after the other in alternating order, ``ipdash load FOLDER --db <fresh file>``
(every usable core, the default), ``ipdash load --jobs 1`` (read in the one process) and
``python bench/bench_load.py --naive-only --db <fresh file>`` (pandas + openpyxl + one ORM object
per value), each into a new SQLite file, and measures wall-clock time and the CPU time of the
process and its children. Medians of ``--repeat`` rounds; the ratio is naive / ipdash load. Then
``ipdash --help``, ``ipdash load --help`` and ``python -c pass`` (the interpreter's own start-up),
``--help-runs`` times each, alternating. The load average is printed before and after: on a
shared machine compare the ratios (the median ratio within a round too), not absolute figures.

    .venv/bin/python bench/bench_load_process.py                  # 5 rounds, 10 --help runs
    .venv/bin/python bench/bench_load_process.py --repeat 7 --help-runs 10
"""

from __future__ import annotations

import argparse
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def _ipdash() -> list[str]:
    script = BIN / "ipdash"
    return [str(script)] if script.exists() else [sys.executable, "-m", "ipdash.cli"]


def _run(cmd: Sequence[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds of the process and its children, the completed process)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(list(cmd), capture_output=True, text=True, cwd=ROOT, env=_env())
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    env["IPDASH_ERROR_LOG"] = os.devnull
    return env


def _values(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM measure_value").fetchone()[0])


def _load(label: str, cmd: list[str], db: Path) -> tuple[float, float]:
    wall, cpu, done = _run(cmd)
    if done.returncode != 0:
        sys.exit(f"{label} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return wall, cpu


def _fmt(xs: list[float]) -> str:
    return "[" + ", ".join(f"{x:.2f}" for x in xs) + "]"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--folder", type=Path, default=ROOT / "sample_data" / "returns")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--help-runs", type=int, default=10)
    args = ap.parse_args()
    ipdash = _ipdash()
    n_files = sum(1 for _ in args.folder.rglob("*.xlsx"))
    print(f"{n_files} files from {args.folder}; {os.cpu_count()} CPUs; load average {os.getloadavg()}")
    print(f"ipdash: {' '.join(ipdash)}")

    series: dict[str, list[tuple[float, float]]] = {
        "ipdash load": [],
        "ipdash load --jobs 1": [],
        "naive": [],
    }
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for i in range(args.repeat):
            order = list(series)
            if i % 2:
                order.reverse()
            for name in order:
                db = tmp / f"{name.replace(' ', '_')}_{i}.db"
                if name == "naive":
                    cmd = [sys.executable, str(ROOT / "bench" / "bench_load.py"), "--naive-only"]
                    cmd += ["--folder", str(args.folder), "--db", f"sqlite:///{db}"]
                else:
                    cmd = [*ipdash, "load", str(args.folder), "--db", f"sqlite:///{db}"]
                    cmd += ["--jobs", "1"] if "--jobs 1" in name else []
                series[name].append(_load(name, cmd, db))
                counts[name] = _values(db)
    if len(set(counts.values())) != 1:
        sys.exit(f"the loaders stored different numbers of values: {counts}")

    med = {name: statistics.median(w for w, _ in runs) for name, runs in series.items()}
    print(f"\n{'whole process':<24}{'median s':>10}{'CPU s':>8}   runs (wall s)")
    for name, runs in series.items():
        cpu = statistics.median(c for _, c in runs)
        print(f"{name:<24}{med[name]:>10.2f}{cpu:>8.2f}   {_fmt([w for w, _ in runs])}")
    print(
        f"naive / ipdash load: {med['naive'] / med['ipdash load']:.1f}x"
        f"   (naive / --jobs 1: {med['naive'] / med['ipdash load --jobs 1']:.1f}x;"
        f" {counts['naive']} values stored by each)"
    )
    # Each round's runs follow one another: on a machine whose load changes during the run, the
    # ratio within a round is the fairer comparison.
    paired = [n / f for (n, _), (f, _) in zip(series["naive"], series["ipdash load"], strict=True)]
    print(f"ratio within each round: {_fmt(paired)}, median {statistics.median(paired):.1f}x")

    helps: dict[str, list[float]] = {"ipdash --help": [], "ipdash load --help": [], "python -c pass": []}
    commands = {
        "ipdash --help": [*ipdash, "--help"],
        "ipdash load --help": [*ipdash, "load", "--help"],
        "python -c pass": [sys.executable, "-c", "pass"],
    }
    for _ in range(args.help_runs):
        for name, cmd in commands.items():
            wall, _cpu, done = _run(cmd)
            if done.returncode != 0:
                sys.exit(f"{name} failed: {done.stderr[-2000:]}")
            helps[name].append(wall)
    print(f"\n{'start-up':<24}{'median s':>10}   runs")
    for name, runs in helps.items():
        print(f"{name:<24}{statistics.median(runs):>10.3f}   {_fmt(runs)}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
