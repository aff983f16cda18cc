"""Write the sample files (synthetic, NOT official statistics) and load them into a database.

``write_sample_files`` writes, under ``out``:
- ``returns/YYYY-MM/<unit>_YYYY-MM.xlsx``: one layout-A return per unit and month;
- ``ledger_satisfaction.xlsx``: the satisfaction scores, a layout-B ledger with annual sheets;
- ``targets.csv``: per-unit workstation targets per year;
- ``uploads/``: returns to try on the upload page (a correction, a new month, a bad file).
"""

from __future__ import annotations

from datetime import date, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

import pandas as pd

from foundation.catalogue import Catalogue, default_catalogue
from sample_data.generator import generate_values, month_range, receipt_dates, workstation_targets

SAMPLE_DIR = Path(__file__).parent
START, END = "2022-01", "2023-12"


def write_sample_files(
    out: Path = SAMPLE_DIR,
    *,
    region: str = "shanghai",
    start: str = START,
    end: str = END,
    seed: int = 20230315,
    catalogue: Catalogue | None = None,
) -> dict[str, int]:
    from etl.writers import write_ledger, write_return

    cat = catalogue or default_catalogue()
    units = cat.units_of(region)
    codes = [u.code for u in units]
    months = month_range(start, end)
    values = generate_values(codes, months, seed=seed)
    receipts = receipt_dates(codes, months)
    monthly = values[values["period"].str.len() == 7]
    by_key = {
        k: dict(zip(g["measure"], g["value"], strict=True)) for k, g in monthly.groupby(["unit", "period"])
    }
    n = 0
    for month in months:
        folder = out / "returns" / month
        folder.mkdir(parents=True, exist_ok=True)
        for unit in units:
            meta = {
                "填报人": "张三",
                "联系电话": "021-12345678",
                "填报日期": receipts[(unit.code, month)].isoformat(),
            }
            write_return(
                folder / f"{unit.code}_{month}.xlsx",
                unit=unit,
                period=month,
                catalogue=cat,
                values=by_key[(unit.code, month)],
                meta=meta,
            )
            n += 1
    annual = values[values["period"].str.len() == 4]
    write_ledger(out / "ledger_satisfaction.xlsx", annual, catalogue=cat, units=units)
    years = sorted({int(m[:4]) for m in months})
    workstation_targets(codes, years, values).to_csv(out / "targets.csv", index=False)
    _write_uploads(out / "uploads", units=units, values=by_key, months=months, catalogue=cat)
    return {"returns": n, "units": len(units), "months": len(months)}


def _write_uploads(folder: Path, *, units, values, months, catalogue: Catalogue) -> None:  # noqa: ANN001
    """Files to try uploading: a corrected return, next month's return, and a return with errors."""
    from etl.writers import write_return

    folder.mkdir(parents=True, exist_ok=True)
    jingan = next(u for u in units if u.code == "jingan")
    last = months[-1]
    corrected = dict(values[("jingan", last)])
    corrected["abnormal_patent_withdrawn"] = corrected["abnormal_patent_notified"]  # every one withdrawn
    write_return(
        folder / f"jingan_{last}_更正.xlsx", unit=jingan, period=last, catalogue=catalogue, values=corrected
    )
    y, m = map(int, last.split("-"))
    nxt = f"{y + 1}-01" if m == 12 else f"{y}-{m + 1:02d}"
    write_return(
        folder / f"jingan_{nxt}.xlsx",
        unit=jingan,
        period=nxt,
        catalogue=catalogue,
        values=dict(values[("jingan", last)]),
    )
    bad = {k: v for k, v in values[("jingan", last)].items()}
    bad["adjudication_closed"] = -3
    bad["trainees"] = 12.5
    write_return(
        folder / f"jingan_{last}_有错误.xlsx", unit=jingan, period=last, catalogue=catalogue, values=bad
    )


def received_from_meta(parsed, tz: str = "Asia/Shanghai") -> datetime | None:  # noqa: ANN001 - ParsedFile
    """The arrival time of a sample return: its 填报日期 at 15:00 local time (None: now)."""
    raw = (parsed.meta or {}).get("填报日期", "")
    try:
        day = date.fromisoformat(str(raw)[:10])
    except ValueError:
        return None
    return datetime.combine(day, time(15, 0), tzinfo=ZoneInfo(tz))


def load_sample(
    engine,  # noqa: ANN001 - sqlalchemy Engine
    *,
    folder: Path = SAMPLE_DIR,
    by: str = "sample",
    jobs: int | None = 1,
) -> dict[str, int]:
    """Load the sample returns, the satisfaction ledger and the targets into ``engine``'s store.
    ``jobs``: processes reading the files (None: every core, as ``ipdash demo`` does; see etl/batch.py)."""
    from sqlmodel import Session

    from etl.load import expand_paths, load_paths
    from store.repo import replace_targets

    files = expand_paths([folder / "returns"]) + [folder / "ledger_satisfaction.xlsx"]
    counts = {"accepted": 0, "unchanged": 0, "rejected": 0}
    for result in load_paths(
        files, engine=engine, submitted_by=by, received_at=received_from_meta, jobs=jobs
    ):
        counts[result.status] += 1
    with Session(engine) as session:
        replace_targets(session=session, targets=pd.read_csv(folder / "targets.csv"))
        session.commit()
    return counts
