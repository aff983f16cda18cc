"""Issue 10: the project's own seeded fuzzer (``sample_data/fuzz.py``), a few hundred inputs per
database through one real ``ipdash load --json`` process. The contract for every input: exit 0 or 1,
valid JSON, status accepted/unchanged/rejected, every rejection with a Chinese error naming the file
(and the cell, where it has one), never 系统内部错误, no file holding a wrong value accepted; and the
database afterwards holds exactly the values of the accepted files. 10,000 inputs: bench/fuzz_load.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from sqlmodel import Session

from sample_data.fuzz import MUTATIONS, check_contract, expected_store, make_inputs
from store import queries
from store.db import make_engine

PER_MUTATION = 10


def stored_values(db_url: str) -> dict[tuple[str, str], dict[str, float]]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            frame = queries.current_values(session=session)
    finally:
        engine.dispose()
    out: dict[tuple[str, str], dict[str, float]] = {}
    for unit, period, measure, value in frame[["unit", "period", "measure", "value"]].itertuples(index=False):
        out.setdefault((unit, period), {})[measure] = float(value)
    return out


def test_fuzz_contract_on_a_few_hundred_inputs(db_url: str, tmp_path: Path) -> None:
    cases = make_inputs(tmp_path / "inputs", PER_MUTATION * len(MUTATIONS), seed=10)
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    out = subprocess.run(
        [sys.executable, "-m", "ipdash.cli", "load", "--json", "--db", db_url, str(tmp_path / "inputs")],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=900,
    )
    assert out.returncode in (0, 1), out.stderr
    assert "Traceback" not in out.stderr and "系统内部错误" not in out.stdout + out.stderr
    results = json.loads(out.stdout)
    assert [r["file"] for r in results] == [c.path.name for c in cases]
    assert out.returncode == (1 if any(r["status"] == "rejected" for r in results) else 0)

    problems = {c.path.name: p for c, r in zip(cases, results, strict=True) if (p := check_contract(r, c))}
    assert problems == {}

    expected = expected_store(cases, results)
    assert stored_values(db_url) == expected
    # every kind of mutation was tried, and both outcomes occur (the fuzzer is not vacuous)
    outcomes = Counter((c.mutation, r["status"]) for c, r in zip(cases, results, strict=True))
    assert {m for m, _ in outcomes} == set(MUTATIONS)
    assert outcomes[("none", "accepted")] + outcomes[("none", "unchanged")] == PER_MUTATION
    assert outcomes[("error_cell", "rejected")] == PER_MUTATION
    assert len(expected) > 50
