"""Benchmark: reading and checking a catalogue folder, which every command and server start does
(issue 13, ``IPDASH_CATALOGUE_DIR``).

    .venv/bin/python bench/bench_catalogue.py --repeat 15

Two folders: the built-in one (33 units, 35 measures, 17 indicators, 52 plan tasks) and a
national one (2,850 units in ``units_national.csv``, the rest built in). Each is read with
``load_catalogue`` (every check, every problem collected) and, as the baseline in the same run,
with the reading the project had before issue 13 (``csv.DictReader`` straight into the registry,
no check; copied below, plan tasks included for the built-in folder), alternated, medians.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from foundation.catalogue import (  # noqa: E402
    BUILT_IN_DIR,
    Catalogue,
    Indicator,
    Measure,
    Unit,
    load_catalogue,
    parse_formula,
)


def unchecked(folder: Path) -> Catalogue:
    """The reading every command start did before issue 13 (``default_catalogue`` of commit
    e5c1a95: units, measures, indicators; the plan tasks were read later, when a command needed
    them), from ``folder``."""

    def rows(name: str) -> list[dict[str, str]]:
        path = folder / name if (folder / name).exists() else BUILT_IN_DIR / name
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    cat = Catalogue()
    for path in sorted(folder.glob("units_*.csv")):
        for r in rows(path.name):
            cat.register_unit(
                Unit(
                    r["code"],
                    r["admin_code"],
                    r["name_zh"],
                    r["short_zh"],
                    r["name_en"],
                    r["kind"],
                    r["parent"],
                )
            )
    for r in rows("measures.csv"):
        cat.register_measure(
            Measure(
                r["code"], r["name_zh"], r["name_en"], r["category"], r["kind"],  # type: ignore[arg-type]
                r["unit"], r["dtype"], float(r["max"]) if r["max"] else None, r["plan_ref"],  # type: ignore[arg-type]
            )
        )  # fmt: skip
    for r in rows("indicators.csv"):
        cat.register_indicator(
            Indicator(
                r["code"], r["name_zh"], r["name_en"], parse_formula(r["numerator"]),
                parse_formula(r["denominator"]), r["direction"], r["display_unit"], r["plan_ref"],  # type: ignore[arg-type]
                r["numerator"], r["denominator"],
            )
        )  # fmt: skip
    return cat


def national_folder(parent: Path, units: int) -> Path:
    folder = parent / "national"
    folder.mkdir()
    with (folder / "units_national.csv").open("w", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["code", "admin_code", "name_zh", "short_zh", "name_en", "kind", "parent"])
        for i in range(units):
            w.writerow(
                [f"n{i:04d}", f"{100000 + i}", f"单位{i:04d}", f"{i:04d}", f"Unit {i}", "county", "national"]
            )
    return folder


def cold(kind: str, folder: Path) -> float:
    """The first read in a fresh process (nothing cached: what a command start pays), in ms."""
    import subprocess

    code = (
        "import sys, time; sys.path.insert(0, 'bench'); import bench_catalogue as b; "
        "from foundation.i18n import messages; messages(); "  # the CLI has the messages already
        f"s = time.perf_counter(); b.{kind}(b.Path({str(folder)!r})); print((time.perf_counter() - s) * 1000)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    return float(out.stdout)


def timed(fn, folder: Path) -> float:  # noqa: ANN001
    start = time.perf_counter()
    fn(folder)
    return (time.perf_counter() - start) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--units", type=int, default=2850)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="ipdash-bench-catalogue-"))
    try:
        folders = {
            "built-in": BUILT_IN_DIR,
            f"national ({args.units} units)": national_folder(tmp, args.units),
        }
        load_catalogue(BUILT_IN_DIR)  # imports and i18n loaded once, outside the timings
        for name, folder in folders.items():
            checked, plain = [], []
            for _ in range(args.repeat):  # alternated, so both see the same machine
                checked.append(timed(load_catalogue, folder))
                plain.append(timed(unchecked, folder))
            c, p = statistics.median(checked), statistics.median(plain)
            print(
                f"{name:28s} warm: load_catalogue {c:7.1f} ms   unchecked (before) {p:7.1f} ms   ×{c / p:.1f}"
            )
            checked, plain = [], []
            for _ in range(max(3, args.repeat // 3)):
                checked.append(cold("load_catalogue", folder))
                plain.append(cold("unchecked", folder))
            c, p = statistics.median(checked), statistics.median(plain)
            print(
                f"{name:28s} cold: load_catalogue {c:7.1f} ms   unchecked (before) {p:7.1f} ms   ×{c / p:.1f}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
