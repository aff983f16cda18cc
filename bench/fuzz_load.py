"""Fuzz the loader with N seeded hostile inputs (``sample_data/fuzz.py``) and check the contract.

    .venv/bin/python bench/fuzz_load.py --n 10000 [--seed 10] [--chunk 500] [--db URL] [--keep DIR]

1. Writes N inputs (mutation kinds in turn), loads them chunk by chunk with real
   ``ipdash load --json`` processes into a fresh database (SQLite file unless --db), checks per input:
   exit 0/1, valid JSON, status, Chinese errors naming file and cell, no 系统内部错误, no file holding
   a wrong value accepted; then that the database holds exactly the values of the accepted files.
2. Reads every input once more in this process (``etl.readers.read_file``: where a hostile file
   costs) timing each and tracing its Python allocations (tracemalloc peak; the gate inflates and
   parses in Python, so that is where a bomb would show; calamine only ever sees checked parts),
   and reports the slowest and the largest-memory inputs, with the process's peak RSS.
Exit 0 when the contract holds for every input, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import tracemalloc
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=10)
    parser.add_argument("--chunk", type=int, default=500)
    parser.add_argument("--db", default=None, help="database URL (default: a new SQLite file)")
    parser.add_argument("--keep", default=None, help="write the inputs here and keep them")
    args = parser.parse_args()

    from sqlmodel import Session

    from etl.readers import read_file
    from sample_data.fuzz import check_contract, expected_store, make_inputs
    from store import queries
    from store.db import make_engine

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ipdash-fuzz-"))
    db_url = args.db or f"sqlite:///{work / 'fuzz.db'}"
    started = time.perf_counter()
    cases = make_inputs(work / "inputs", args.n, seed=args.seed)
    print(
        f"{len(cases)} inputs written to {work / 'inputs'} in {time.perf_counter() - started:.0f} s (seed {args.seed})"
    )

    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    env["IPDASH_ERROR_LOG"] = str(work / "errors.log")
    results: list[dict] = []
    problems: dict[str, list[str]] = {}
    started = time.perf_counter()
    for start in range(0, len(cases), args.chunk):
        chunk = cases[start : start + args.chunk]
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "ipdash.cli",
                "load",
                "--json",
                "--db",
                db_url,
                *[str(c.path) for c in chunk],
            ],
            capture_output=True,
            text=True,
            env=env,
            cwd=work,
        )
        where = f"chunk {start // args.chunk}"
        if out.returncode not in (0, 1) or "Traceback" in out.stderr:
            problems[where] = [f"exit {out.returncode}: {out.stderr[-500:]}"]
            return report(cases, results, problems, [], [])
        try:
            chunk_results = json.loads(out.stdout)
        except json.JSONDecodeError as exc:
            problems[where] = [f"invalid JSON: {exc}"]
            return report(cases, results, problems, [], [])
        rejected = any(r["status"] == "rejected" for r in chunk_results)
        if out.returncode != (1 if rejected else 0):
            problems[where] = [f"exit {out.returncode} with rejected={rejected}"]
        results.extend(chunk_results)
    print(
        f"loaded in {time.perf_counter() - started:.0f} s through {-(-len(cases) // args.chunk)} ipdash load processes"
    )
    for case, result in zip(cases, results, strict=True):
        if result["file"] != case.path.name:
            problems[case.path.name] = [f"result for {result['file']}"]
        elif found := check_contract(result, case):
            problems[case.path.name] = found

    engine = make_engine(db_url)
    with Session(engine) as session:
        frame = queries.current_values(session=session)
    engine.dispose()
    stored: dict[tuple[str, str], dict[str, float]] = {}
    for unit, period, measure, value in frame[["unit", "period", "measure", "value"]].itertuples(index=False):
        stored.setdefault((unit, period), {})[measure] = float(value)
    expected = expected_store(cases, results)
    if stored != expected:
        wrong = sorted(k for k in set(stored) | set(expected) if stored.get(k) != expected.get(k))
        problems["database"] = [f"{len(wrong)} unit-months differ from the accepted files, e.g. {wrong[:5]}"]

    timings: list[tuple[float, str]] = []
    memory: list[tuple[int, str]] = []
    tracemalloc.start()
    for case in cases:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        t0 = time.perf_counter()
        read_file(case.path)
        timings.append((time.perf_counter() - t0, case.path.name))
        memory.append((tracemalloc.get_traced_memory()[1] - base, case.path.name))
    tracemalloc.stop()
    return report(cases, results, problems, timings, memory)


def report(cases, results, problems, timings, memory) -> int:  # noqa: ANN001
    counts = Counter((c.mutation, r["status"]) for c, r in zip(cases, results, strict=False))
    statuses = Counter(r["status"] for r in results)
    print(f"\ninputs {len(results)}: " + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))
    print(f"{'mutation':24} {'accepted':>9} {'unchanged':>9} {'rejected':>9}")
    for mutation in dict.fromkeys(c.mutation for c in cases):
        row = [counts[(mutation, s)] for s in ("accepted", "unchanged", "rejected")]
        print(f"{mutation:24} {row[0]:>9} {row[1]:>9} {row[2]:>9}")
    if timings:
        timings.sort(reverse=True)
        ordered = sorted(t for t, _ in timings)
        print(f"\nread_file per input: median {ordered[len(ordered) // 2] * 1000:.1f} ms; slowest:")
        for seconds, name in timings[:5]:
            print(f"  {seconds * 1000:8.1f} ms  {name}")
        memory.sort(reverse=True)
        print("largest Python allocation peak (tracemalloc) per input:")
        for peak, name in memory[:5]:
            print(f"  {peak / 2**20:8.1f} MiB  {name}")
        with open("/proc/self/status") as fh:
            hwm = next(line for line in fh if line.startswith("VmHWM")).split()[1]
        print(f"this process's peak RSS over all inputs: {int(hwm) / 1024:.0f} MiB")
    print(f"\ncontract violations: {sum(len(p) for p in problems.values())}")
    for name, found in list(problems.items())[:20]:
        for problem in found:
            print(f"  {name}: {problem}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
