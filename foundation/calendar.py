"""The calendar: periods, windows, due dates and Beijing time — the one copy of each rule.

Periods are months ``YYYY-MM`` (annual measures: a year ``YYYY``). Windows are the months an
indicator is computed over, ending at a month (DOMAIN.md "Periods and windows"):

- ``month``: [M]
- ``quarter``: first month of M's quarter .. M (quarter to date)
- ``ytd``: January .. M
- ``year``: January .. December of M's year (months after M are simply not reported yet)
- ``rolling12``: M−11 .. M

同比 compares with the same window ending 12 months earlier; 环比 with the previous window of the
same kind (``previous_window_end``). Annual measures take the year of the window's end month M.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

if TYPE_CHECKING:  # pandas is imported by the functions that need it: `ipdash load` and
    import pandas as pd  # `ipdash --help` start without it (issue 13)

# The time zone the plans and deadlines are written in (the settings' default ``timezone``).
BEIJING = "Asia/Shanghai"

Window = Literal["month", "quarter", "ytd", "year", "rolling12"]
WINDOWS: tuple[Window, ...] = get_args(Window)

_MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


def parse_month(period: str) -> tuple[int, int]:
    """``"2024-03"`` → (2024, 3); anything else is a ValueError."""
    match = _MONTH.match(period)
    if not match:
        raise ValueError(f"period must be YYYY-MM, got {period!r}")
    return int(match.group(1)), int(match.group(2))


def month_index(period: str) -> int:
    """Months since year 0: consecutive months have consecutive indexes."""
    year, month = parse_month(period)
    return year * 12 + month - 1


def month_from_index(index: int) -> str:
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def shift_month(period: str, months: int) -> str:
    """``shift_month("2024-01", -1)`` → ``"2023-12"``."""
    return month_from_index(month_index(period) + months)


def previous_month(period: str) -> str:
    """``"2024-01"`` → ``"2023-12"``."""
    return shift_month(period, -1)


def next_month(year: int, month: int) -> tuple[int, int]:
    """The (year, month) after ``year``-``month``."""
    return (year + 1, 1) if month == 12 else (year, month + 1)


def year_of(period: str) -> int:
    """The calendar year of a month ``YYYY-MM`` or a year ``YYYY``."""
    return int(period[:4])


def months_of_year_to(period: str) -> list[str]:
    """January .. ``period`` of its year (the ``ytd`` window's months)."""
    return window_months(period, "ytd")


def chinese_month(period: str) -> str:
    """``"2023-06"`` → ``"2023年6月"``; a year ``"2023"`` → ``"2023年"``."""
    if len(period) == 4:
        return f"{int(period)}年"
    year, month = parse_month(period)
    return f"{year}年{month}月"


# --- due dates -------------------------------------------------------------------------------------
# The return for month M is due by ``due_day`` of month M+1, 24:00 local time (DOMAIN.md): it is late
# from 00:00 of the next day. The indicator engine (timeliness_rate), the tracker and the template's
# instructions all take the deadline from here.


def due_date(period: str, due_day: int) -> date:
    """The last day on which the return for ``period`` is on time."""
    year, month = next_month(*parse_month(period))
    return date(year, month, due_day)


def due_limit(period: str, *, due_day: int = 10, tz: str = BEIJING) -> pd.Timestamp:
    """First instant (aware UTC) at which the return for ``period`` (YYYY-MM) is late:
    00:00 local time of the day after ``due_day`` of the next month."""
    import pandas as pd

    local = (pd.Timestamp(due_date(period, due_day)) + pd.Timedelta(days=1)).tz_localize(tz)
    return local.tz_convert("UTC")


def due_text(period: str, due_day: int) -> str:
    """'2023-07-10 24:00': the deadline of month ``period``'s return, as people say it."""
    return f"{due_date(period, due_day).isoformat()} 24:00"


def as_utc(moment: datetime | pd.Timestamp) -> pd.Timestamp:
    """An aware UTC timestamp; a naive moment is read as UTC (as the engine reads its ``now``)."""
    import pandas as pd

    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def latest_due_month(
    months: Sequence[str], *, now: datetime, due_day: int = 10, tz: str = BEIJING
) -> str | None:
    """The latest of ``months`` whose return was already due at ``now``; None if none was."""
    at = as_utc(now)
    due = [m for m in months if due_limit(m, due_day=due_day, tz=tz) <= at]
    return max(due) if due else None


# --- local time ------------------------------------------------------------------------------------


def today(tz: str = BEIJING) -> date:
    """Today's date where the users are (not the server's zone)."""
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):  # a zone pandas knows another way ("+08:00"…)
        import pandas as pd

        return datetime.now(pd.Timestamp.now(tz=tz).tzinfo).date()
    return datetime.now(zone).date()


def current_month(tz: str = BEIJING, *, on: date | None = None) -> str:
    """The month ``YYYY-MM`` of ``on`` (default: today in ``tz``)."""
    day = on or today(tz)
    return f"{day.year:04d}-{day.month:02d}"


def local_minutes(stamp: Any, tz: str = BEIJING) -> str | None:
    """'2023-07-08 15:00' in ``tz`` (a naive stamp is UTC); None for a missing stamp."""
    import pandas as pd

    if stamp is None or (not isinstance(stamp, str) and pd.isna(stamp)):
        return None
    return as_utc(stamp).tz_convert(tz).strftime("%Y-%m-%d %H:%M")


def local_iso(stamp: Any, tz: str = BEIJING) -> str | None:
    """ISO 8601 in ``tz`` with its offset; None for a missing stamp."""
    import pandas as pd

    if stamp is None or (not isinstance(stamp, str) and pd.isna(stamp)):
        return None
    return as_utc(stamp).tz_convert(tz).isoformat()


def window_bounds(period: str, window: Window) -> tuple[str, str]:
    """First and last month of the window ending at ``period``."""
    year, month = parse_month(period)
    if window == "month":
        return period, period
    if window == "quarter":
        return f"{year:04d}-{(month - 1) // 3 * 3 + 1:02d}", period
    if window == "ytd":
        return f"{year:04d}-01", period
    if window == "year":
        return f"{year:04d}-01", f"{year:04d}-12"
    if window == "rolling12":
        return shift_month(period, -11), period
    raise ValueError(f"unknown window {window!r}; expected one of {', '.join(WINDOWS)}")


def window_months(period: str, window: Window) -> list[str]:
    """The months (YYYY-MM) of the window ending at ``period``, oldest first."""
    first, last = window_bounds(period, window)
    return [month_from_index(i) for i in range(month_index(first), month_index(last) + 1)]


def previous_window_end(period: str, window: Window) -> str | None:
    """End month of the 环比 window, or None where there is none (ytd in January)."""
    year, month = parse_month(period)
    if window in ("month", "rolling12"):
        return shift_month(period, -1)
    if window == "quarter":
        return shift_month(f"{year:04d}-{(month - 1) // 3 * 3 + 1:02d}", -1)
    if window == "year":
        return f"{year - 1:04d}-12"
    if window == "ytd":
        return None if month == 1 else shift_month(period, -1)
    raise ValueError(f"unknown window {window!r}; expected one of {', '.join(WINDOWS)}")


def year_ago_end(period: str) -> str:
    """End month of the 同比 window: the same window ending 12 months earlier."""
    return shift_month(period, -12)


def window_year(period: str) -> str:
    """The year whose annual values a window ending at ``period`` takes."""
    return f"{parse_month(period)[0]:04d}"


def comparison_ends(period: str, window: Window) -> dict[str, str | None]:
    """End months of the current, year-ago (同比) and previous (环比) windows."""
    return {"current": period, "yoy": year_ago_end(period), "pop": previous_window_end(period, window)}


def periods_needed(period: str, window: Window) -> list[str]:
    """Every month and year the current, 同比 and 环比 windows read: what a caller fetches."""
    months: set[str] = set()
    years: set[str] = set()
    for end in comparison_ends(period, window).values():
        if end is None:
            continue
        months.update(window_months(end, window))
        years.add(window_year(end))
    return sorted(months) + sorted(years)
