"""Issue 10, defects 3 and 4: 17 real processes at once, on SQLite and PostgreSQL.

- 17 uploads of the same unit and month: each becomes a revision (numbers 1..n, no gap, in the
  order the writers got the lock) or is `unchanged`; none is refused for the collision.
- 17 loads of 17 different units into a brand-new database: the schema is migrated once and
  every load succeeds.
Every upload is accounted for: its process's JSON, its submission row and its stored values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text
from sqlmodel import Session, select
from test_cli_etl import CAT, make, values_for

from store.db import head_revision, make_engine
from store.models import MeasureValue, Revision, Submission

N = 17
IPDASH = [sys.executable, "-m", "ipdash.cli"]


def run_all(db_url: str, files: list[Path]) -> list[dict]:
    """Start one `ipdash load --json` process per file, all at once; each must exit 0 with JSON."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    procs = [
        subprocess.Popen(
            [*IPDASH, "load", "--json", "--db", db_url, str(f)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for f in files
    ]
    results = []
    for proc, f in zip(procs, files, strict=True):
        out, err = proc.communicate(timeout=600)
        assert proc.returncode == 0, (f.name, out, err)
        assert "系统内部错误" not in out + err
        (result,) = json.loads(out)
        assert result["file"] == f.name
        results.append(result)
    return results


def stored(db_url: str) -> tuple[list[Revision], dict[int, str], dict[int, dict[str, float]]]:
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            revisions = list(s.exec(select(Revision).order_by(Revision.revision_no)).all())  # type: ignore[arg-type]
            names = {sub.id: sub.file_name for sub in s.exec(select(Submission)).all()}
            values: dict[int, dict[str, float]] = {}
            for v in s.exec(select(MeasureValue)).all():
                values.setdefault(v.revision_id, {})[v.measure_code] = v.value
    finally:
        engine.dispose()
    return revisions, names, values  # type: ignore[return-value]


def test_17_uploads_of_one_unit_month_at_once(db_url: str, tmp_path: Path) -> None:
    from store.db import open_engine

    open_engine(db_url).dispose()  # an existing database: the race here is on revision numbers
    # 15 different contents, and 2 files repeating the content of the first under other names
    files = [make(tmp_path, "jingan", "2023-06", seed=i, name=f"jingan_{i:02d}.xlsx") for i in range(1, 16)]
    files += [make(tmp_path, "jingan", "2023-06", seed=1, name=f"jingan_copy{i}.xlsx") for i in (1, 2)]
    results = run_all(db_url, files)

    statuses = [r["status"] for r in results]
    assert set(statuses) <= {"accepted", "unchanged"}
    accepted = [r for r in results if r["status"] == "accepted"]
    # the 15 distinct contents are always new; a copy is unchanged only if seed 1 was current then
    assert len(accepted) >= 15
    numbers = sorted(rev["revision"] for r in accepted for rev in r["revisions"])
    assert numbers == list(range(1, len(accepted) + 1))

    revisions, names, values = stored(db_url)
    assert [r.revision_no for r in revisions] == numbers
    assert [r.is_current for r in revisions] == [False] * (len(numbers) - 1) + [True]
    # arrival order: a higher revision number was created no earlier than a lower one
    created = [r.created_at for r in revisions]
    assert created == sorted(created)
    by_file = {r["file"]: r for r in accepted}
    assert sorted(names[r.submission_id] for r in revisions) == sorted(by_file)
    for rev in revisions:  # each accepted file's own values, whole, in its own revision
        name = names[rev.submission_id]
        seed = 1 if "copy" in name else int(name[7:9])
        expected = {code: float(v) for code, v in values_for(seed).items() if code in CAT.measures}
        assert values[rev.id] == expected
        assert by_file[name]["revisions"] == [
            {"unit": "jingan", "period": "2023-06", "revision": rev.revision_no}
        ]


def test_17_loads_into_a_brand_new_database(db_url: str, tmp_path: Path) -> None:
    units = [u.code for u in CAT.units_of("shanghai")]
    assert len(units) >= N
    files = [make(tmp_path, unit, "2023-06", seed=3) for unit in units[:N]]
    results = run_all(db_url, files)
    assert [r["status"] for r in results] == ["accepted"] * N

    revisions, names, _ = stored(db_url)
    assert sorted((r.unit_code, r.revision_no) for r in revisions) == sorted((u, 1) for u in units[:N])
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            versions = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        assert versions == [head_revision(engine)]
    finally:
        engine.dispose()
