"""How numbers are shown: rates as percentages, days and scores as numbers, NA as —.

Machine outputs keep full precision; only display rounds (DOMAIN.md). Changes follow the
indicator's kind: a difference for rates (in percentage points), days and scores, a relative
change for counts and levels.
"""

from __future__ import annotations

import math
from typing import Any

from foundation.catalogue import Indicator
from foundation.i18n import t


def is_na(value: Any) -> bool:
    if value is None:
        return True
    try:
        return bool(math.isnan(float(value)))
    except (TypeError, ValueError):
        return True  # pd.NA and anything not a number


def flag(value: Any) -> bool:
    """A nullable boolean from the service (``pd.NA``, numpy or Python bool) as a plain bool."""
    return not is_na(value) and bool(value)


def format_value(value: Any, indicator: Indicator | None) -> str:
    """87.3% for rates, 95.5天 for days, 81.25分 for scores, 1,234件 for levels; — for NA.
    ``indicator`` None: a composite score (two decimals)."""
    if is_na(value):
        return t("na")
    x = float(value)
    if indicator is None:
        return f"{x:.2f}"
    if indicator.kind == "rate":
        return f"{x * 100:.1f}%"
    if indicator.kind == "days":
        return f"{x:.1f}{indicator.display_unit}"
    if indicator.kind == "score":
        return f"{x:.2f}{indicator.display_unit}"
    digits = 0 if float(x).is_integer() else 1
    return f"{x:,.{digits}f}{indicator.display_unit}"


def format_number(value: Any, digits: int = 0) -> str:
    """A plain number (numerators, denominators) with thousands separators; — for NA."""
    if is_na(value):
        return t("na")
    x = float(value)
    if digits == 0 and not x.is_integer():
        digits = 2
    return f"{x:,.{digits}f}"


def _shown_change(change: float, indicator: Indicator) -> float:
    """The change as displayed (percentage points or percent ×100, days, score points), rounded
    the way it is shown, so a change that shows as 0 is treated as no change (never "-0.0")."""
    if indicator.kind == "score":
        shown = round(change, 2)
    elif indicator.kind == "days":
        shown = round(change, 1)
    else:  # rates in percentage points, levels in percent
        shown = round(change * 100, 1)
    return shown + 0.0  # folds -0.0 into 0.0


def format_change(change: Any, indicator: Indicator) -> str:
    """同比/环比 as shown: +3.2个百分点 for rates, +1.5天, +0.50分, +5.1% for levels."""
    if is_na(change):
        return t("na")
    shown = _shown_change(float(change), indicator)
    sign = "+" if shown > 0 else ""  # a negative number brings its own minus sign
    if indicator.kind == "rate":
        return t("dash.fmt.pp", value=f"{sign}{shown:.1f}")
    if indicator.kind == "days":
        return f"{sign}{shown:.1f}{indicator.display_unit}"
    if indicator.kind == "score":
        return f"{sign}{shown:.2f}{indicator.display_unit}"
    return f"{sign}{shown:.1f}%"


def change_is_good(change: Any, indicator: Indicator) -> bool | None:
    """Whether a change is an improvement, given the indicator's direction; None for NA or for a
    change too small to show."""
    if is_na(change):
        return None
    shown = _shown_change(float(change), indicator)
    if shown == 0:
        return None
    return (shown > 0) if indicator.direction == "higher" else (shown < 0)


def format_coverage(value: Any) -> str:
    if is_na(value):
        return t("na")
    return f"{float(value) * 100:.0f}%"


def d3_format(indicator: Indicator | None) -> str:
    """The d3-format specifier Plotly axes and hover use for this indicator's values."""
    if indicator is None:
        return ".2f"
    if indicator.kind == "rate":
        return ".1%"
    if indicator.kind in ("days",):
        return ".1f"
    if indicator.kind == "score":
        return ".2f"
    return ",.0f"
