"""Windows: the months an indicator is computed over, ending at a month (DOMAIN.md "Periods and windows").

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
from typing import Literal, get_args

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
