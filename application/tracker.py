"""The submission tracker (报送情况): for every unit and month, did a return arrive, when, on
time or late, how many revisions, which warnings are open, and is the period locked.

Pure: DataFrames in (``store.tracking.revision_log``), DataFrames out; the CLI ``ipdash status``
and the dashboard page 报送情况 render the same table.

Rules (DOMAIN.md "timeliness_rate"; the indicator engine applies the same deadline):
- The return for month M is due by day ``due_day`` of M+1, 24:00 local time (Asia/Shanghai by
  default): it is late from 00:00 of the next day on (``due_limit``).
- ``on_time``: the first accepted revision arrived before that limit; ``late``: after it.
- ``missing``: nothing arrived (by ``now``); ``overdue`` is True once the limit has passed, so
  "missing, not yet due" and "missing, overdue" are told apart.
- ``revisions``: how many revisions the unit and month has (restores included); ``revised`` when
  more than one. ``open_warnings``: the warnings stored with the submission of the *current*
  revision that concern this unit and month (what the analyst still has to look at).
- Arrivals after ``now`` are ignored, so the table can be rebuilt as it stood at any moment.
- Order: units with nothing for the latest month already due come first (they are the ones to
  chase), then units with any overdue month, then the catalogue's order.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from foundation.calendar import as_utc as _utc
from foundation.calendar import due_limit, latest_due_month, local_iso
from foundation.i18n import t

STATES = ("on_time", "late", "missing")

TRACKER_COLUMNS = [
    "unit",
    "period",
    "state",
    "overdue",
    "due_limit",
    "first_received_at",
    "last_received_at",
    "days_late",
    "revisions",
    "revised",
    "open_warnings",
    "warning_messages",
    "current_file",
    "current_by",
    "locked",
]


def tracker_table(
    log: pd.DataFrame,
    *,
    units: Sequence[str],
    months: Sequence[str],
    now: datetime,
    due_day: int = 10,
    tz: str = "Asia/Shanghai",
    locked: Iterable[str] = (),
) -> pd.DataFrame:
    """One row per (unit, month) of ``units`` × ``months``, in tracker order (see module doc).

    ``log``: ``store.tracking.revision_log`` (unit, period, revision_no, submitted_at,
    created_by, file_name, is_current, warnings …). Timestamps in the result are aware UTC.
    """
    at = _utc(now)
    locked_set = set(locked)
    wanted = log[log["unit"].isin(list(units)) & log["period"].isin(list(months))]
    received = pd.to_datetime(wanted["submitted_at"], utc=True)
    wanted = wanted.assign(_received=received)[received <= at].reset_index(drop=True)
    # Each (unit, month)'s figures in one pass over the groups (a loop of per-group pandas
    # calls cost ~0.2 s for a city's year).
    arrived: dict[tuple[str, str], tuple[Any, Any, int, Any]] = {}
    if not wanted.empty:
        groups = wanted.groupby(["unit", "period"], sort=False)
        first, last, count = groups["_received"].min(), groups["_received"].max(), groups.size()
        # Current as of ``now``: the highest revision number that had arrived by then.
        current = wanted.loc[groups["revision_no"].idxmax().to_numpy()]
        for key, f, la, n, cur in zip(
            first.index,
            first,
            last.reindex(first.index),
            count.reindex(first.index),
            current.to_dict("records"),
            strict=True,
        ):
            arrived[key] = (f, la, int(n), cur)
    limits = {month: due_limit(month, due_day=due_day, tz=tz) for month in months}

    rows = []
    for unit in units:
        for month in months:
            limit = limits[month]
            found = arrived.get((unit, month))
            row: dict[str, object] = {
                "unit": unit,
                "period": month,
                "due_limit": limit,
                "locked": month in locked_set,
            }
            if found is None:
                row.update(
                    state="missing",
                    overdue=bool(limit <= at),
                    first_received_at=pd.NaT,
                    last_received_at=pd.NaT,
                    days_late=float("nan"),
                    revisions=0,
                    revised=False,
                    open_warnings=0,
                    warning_messages=[],
                    current_file="",
                    current_by="",
                )
            else:
                first_at, last_at, n, current_row = found
                warnings = list(current_row["warnings"] or [])
                late = bool(first_at >= limit)
                row.update(
                    state="late" if late else "on_time",
                    overdue=False,
                    first_received_at=first_at,
                    last_received_at=last_at,
                    days_late=(first_at - limit) / pd.Timedelta(days=1) if late else 0.0,
                    revisions=n,
                    revised=n > 1,
                    open_warnings=len(warnings),
                    warning_messages=[str(w.get("message", "")) for w in warnings],
                    current_file=str(current_row["file_name"]),
                    current_by=str(current_row["created_by"]),
                )
            rows.append(row)
    table = pd.DataFrame(rows, columns=TRACKER_COLUMNS)
    if table.empty:
        return table
    for column in ("first_received_at", "last_received_at", "due_limit"):
        table[column] = pd.to_datetime(table[column], utc=True)
    table["revisions"] = table["revisions"].astype(int)
    table["open_warnings"] = table["open_warnings"].astype(int)
    table["days_late"] = table["days_late"].astype(float)
    return order_units(
        table, units=units, latest_due=latest_due_month(months, now=at, due_day=due_day, tz=tz)
    )


def order_units(table: pd.DataFrame, *, units: Sequence[str], latest_due: str | None) -> pd.DataFrame:
    """Units to chase first: nothing for ``latest_due``, then any overdue month; then catalogue order."""
    missing_latest = set(
        table.loc[(table["period"] == latest_due) & (table["state"] == "missing"), "unit"]
        if latest_due
        else []
    )
    overdue_count = table[table["overdue"]].groupby("unit").size()
    position = {u: i for i, u in enumerate(units)}
    key = {u: (0 if u in missing_latest else 1, -int(overdue_count.get(u, 0)), position[u]) for u in units}
    order = sorted(units, key=key.__getitem__)
    rank = {u: i for i, u in enumerate(order)}
    return (
        table.assign(_order=table["unit"].map(rank))
        .sort_values(["_order", "period"], kind="stable")
        .drop(columns="_order")
        .reset_index(drop=True)
    )


def unit_summary(table: pd.DataFrame) -> pd.DataFrame:
    """Per unit (tracker order kept): months on time, late, overdue, not yet due; revisions; warnings."""
    if table.empty:
        return pd.DataFrame(
            columns=["unit", "on_time", "late", "overdue", "not_due", "revisions", "open_warnings"]
        )
    missing = table["state"] == "missing"
    marks = pd.DataFrame(
        {
            "unit": table["unit"],
            "on_time": table["state"] == "on_time",
            "late": table["state"] == "late",
            "overdue": table["overdue"].astype(bool),
            "not_due": missing & ~table["overdue"].astype(bool),
            "revisions": table["revisions"],
            "open_warnings": table["open_warnings"],
        }
    )
    return marks.groupby("unit", sort=False).sum().astype(int).reset_index()


# --- how the tracker reads, in ``ipdash status`` and on 报送情况 alike --------------------------------


def state_label(state: str, overdue: bool) -> str:
    if state == "missing":
        return t("tracker.state.overdue") if overdue else t("tracker.state.not_due")
    return t(f"tracker.state.{state}")


def state_mark(row: dict[str, Any]) -> str:
    """One grid cell: ✓ / 迟 / ✗ / ·, the revision count when revised, ! when warnings are open."""
    if row["state"] == "missing":
        mark = t("tracker.mark.overdue") if row["overdue"] else t("tracker.mark.not_due")
    else:
        mark = t(f"tracker.mark.{row['state']}")
    if row["revisions"] > 1:
        mark = t("tracker.mark.revised", mark=mark, n=row["revisions"])
    if row["open_warnings"]:
        mark += t("tracker.mark.warning")
    return mark


def detail_header() -> list[str]:
    """Column titles of one month's detail, in ``ipdash status`` and on 报送情况 alike."""
    keys = ("unit", "state", "received", "last", "late_days", "revisions", "warnings", "file")
    return [t(f"tracker.col.{k}") for k in keys]


def status_records(table: pd.DataFrame, names: dict[str, str], *, tz: str) -> list[dict[str, Any]]:
    """The machine rows of ``ipdash status`` (times ISO 8601 in ``tz``, None when none)."""
    records = []
    for row in table.to_dict("records"):
        records.append(
            {
                "unit": row["unit"],
                "unit_name": names.get(row["unit"], row["unit"]),
                "period": row["period"],
                "state": row["state"],
                "overdue": bool(row["overdue"]),
                "due_limit": local_iso(row["due_limit"], tz),
                "first_received_at": local_iso(row["first_received_at"], tz),
                "last_received_at": local_iso(row["last_received_at"], tz),
                "days_late": None if pd.isna(row["days_late"]) else float(row["days_late"]),
                "revisions": int(row["revisions"]),
                "revised": bool(row["revised"]),
                "open_warnings": int(row["open_warnings"]),
                "warning_messages": list(row["warning_messages"]),
                "current_file": row["current_file"],
                "current_by": row["current_by"],
                "locked": bool(row["locked"]),
            }
        )
    return records
