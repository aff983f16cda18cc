"""Per-unit targets (unit × indicator × year), edited by analysts in the browser's 管理 page: in a
grid, or by uploading an Excel sheet. Both go through ``check_rows``: every problem is named
with its place (sheet and cell for a file, row and column for the grid) and nothing is written
while any problem remains. Every save is audited."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlmodel import Session

from application import audit
from application.access import Account, allowed
from foundation.catalogue import Catalogue
from foundation.i18n import t
from store import queries, repo

# Header labels a sheet may use, → column.
HEADERS = {
    "单位代码": "unit",
    "单位": "unit",
    "unit": "unit",
    "年度": "year",
    "年份": "year",
    "year": "year",
    "指标代码": "indicator",
    "指标": "indicator",
    "indicator": "indicator",
    "目标值": "target",
    "目标": "target",
    "target": "target",
}
COLUMNS = ("unit", "year", "indicator", "target")


@dataclass(frozen=True)
class TargetProblem:
    where: str  # 目标!D5, or 第3行 目标值
    message: str


def targets_of(*, session: Session, region: str, year: int) -> pd.DataFrame:
    frame = queries.unit_targets(session=session, region=region)
    return frame[frame["year"] == year].reset_index(drop=True)


def _number(value: Any) -> float | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = float(str(value).replace(",", "").strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def check_rows(
    rows: list[dict[str, Any]], *, places: list[dict[str, str]], catalogue: Catalogue, region: str
) -> tuple[pd.DataFrame, list[TargetProblem]]:
    """Rows (unit, year, indicator, target) → a clean frame, or every problem with its place.
    ``places[i][column]`` says where row i's column is (a cell reference or a grid position)."""
    units = {u.code for u in catalogue.units_of(region)}
    problems: list[TargetProblem] = []
    clean = []
    seen: dict[tuple[str, int, str], str] = {}
    for row, place in zip(rows, places, strict=True):
        unit = str(row.get("unit") or "").strip()
        indicator = str(row.get("indicator") or "").strip()
        year_number = _number(row.get("year"))
        target = _number(row.get("target"))
        ok = True
        if unit not in units:
            problems.append(
                TargetProblem(
                    place["unit"], t("targets.bad_unit", value=unit, region=catalogue.region_name(region))
                )
            )
            ok = False
        if indicator not in catalogue.indicators:
            problems.append(TargetProblem(place["indicator"], t("targets.bad_indicator", value=indicator)))
            ok = False
        if year_number is None or year_number != int(year_number) or not 2000 <= year_number <= 2100:
            problems.append(TargetProblem(place["year"], t("targets.bad_year", value=row.get("year"))))
            ok = False
        if target is None:
            problems.append(
                TargetProblem(place["target"], t("targets.not_a_number", value=row.get("target")))
            )
            ok = False
        elif target < 0:
            problems.append(TargetProblem(place["target"], t("targets.negative", value=row.get("target"))))
            ok = False
        elif ok and catalogue.indicators[indicator].is_ratio and target > 1:
            problems.append(
                TargetProblem(place["target"], t("targets.rate_above_one", value=row.get("target")))
            )
            ok = False
        if ok:
            key = (unit, int(year_number or 0), indicator)
            if key in seen:
                problems.append(TargetProblem(place["unit"], t("targets.duplicate", first=seen[key])))
                continue
            seen[key] = place["unit"]
            clean.append(
                {
                    "unit": unit,
                    "year": int(year_number or 0),
                    "indicator": indicator,
                    "target": float(target or 0),
                }
            )
    return pd.DataFrame(clean, columns=list(COLUMNS)), problems


def read_sheet(
    content: bytes, *, file_name: str, catalogue: Catalogue, region: str
) -> tuple[pd.DataFrame, list[TargetProblem]]:
    """The first sheet of an uploaded workbook: a header row (单位代码, 年度, 指标代码, 目标值)
    and one target per row. The bytes pass the same safety gate as a return first."""
    from python_calamine import CalamineWorkbook

    from etl.cells import a1
    from etl.safety import load_source

    gate = load_source(content, file_name=file_name)
    if not gate.ok:
        return pd.DataFrame(columns=list(COLUMNS)), [TargetProblem(file_name, i.message) for i in gate.issues]
    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        sheet_name = book.sheet_names[0]
        grid = book.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except Exception:
        return pd.DataFrame(columns=list(COLUMNS)), [
            TargetProblem(file_name, t("targets.unreadable", file=file_name))
        ]
    header_row = next((r for r, row in enumerate(grid) if any(str(c).strip() in HEADERS for c in row)), None)
    if header_row is None:
        return pd.DataFrame(columns=list(COLUMNS)), [
            TargetProblem(f"{file_name} {sheet_name}", t("targets.no_header"))
        ]
    columns: dict[str, int] = {}
    for c, label in enumerate(grid[header_row]):
        key = HEADERS.get(str(label).strip())
        if key and key not in columns:
            columns[key] = c
    missing = [k for k in COLUMNS if k not in columns]
    if missing:
        where = f"{sheet_name}!{a1(header_row, 0)}"
        return pd.DataFrame(columns=list(COLUMNS)), [
            TargetProblem(where, t("targets.missing_columns", columns="、".join(missing)))
        ]
    rows, places = [], []
    for r in range(header_row + 1, len(grid)):
        line = grid[r]
        cells = {k: (line[c] if c < len(line) else "") for k, c in columns.items()}
        if all(v in ("", None) for v in cells.values()):
            continue
        rows.append(cells)
        places.append({k: f"{sheet_name}!{a1(r, c)}" for k, c in columns.items()})
    return check_rows(rows, places=places, catalogue=catalogue, region=region)


def save(*, session: Session, account: Account, targets: pd.DataFrame, source: str, address: str = "") -> int:
    """Write checked targets (upsert); audited. The caller commits."""
    if not allowed(account, "manage"):
        raise PermissionError("manage")
    n = repo.replace_targets(session=session, targets=targets)
    audit.record(
        "targets",
        session=session,
        username=account.username,
        address=address,
        detail={"source": source, "rows": n, "years": sorted({int(y) for y in targets["year"]})},
    )
    return n
