"""How numbers read, on every face: the command line, the dashboard and every export.

One form for each (machine outputs — csv, json — keep full precision; only display rounds):

| what | shown | Excel number format |
|---|---|---|
| rate (0.873) | 87.3% | 0.0% |
| days | 95.5天 | 0.0 |
| score (满意度) | 81.25分 | 0.00 |
| count / level | 1,234件 (one decimal when not whole) | #,##0 |
| composite score, points, weights | 81.25 | 0.00 |
| coverage | 83% | 0% in text, 0.0% in Excel |
| change of a rate | +3.2个百分点 | +0.0% (Excel shows points as %) |
| change of days / a score | +1.5天 / +0.50分 | +0.0 / +0.00 |
| change of a count or level | +5.1% (relative) | +0.0% |
| not applicable / missing | — | empty cell |

A change that rounds to zero shows as 0 without a sign (never "-0.0").
"""

from __future__ import annotations

import math
from typing import Any

from foundation.catalogue import Catalogue, Indicator
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


def format_value(value: Any, indicator: Indicator | None, extra_digits: int = 0) -> str:
    """87.3% for rates, 95.5天 for days, 81.25分 for scores, 1,234件 for levels; — for NA.
    ``indicator`` None: a composite score (two decimals). ``extra_digits``: that many more decimals
    (see ``distinct_values``)."""
    if is_na(value):
        return t("na")
    x = float(value)
    e = extra_digits
    if indicator is None:
        return f"{x:.{2 + e}f}"
    if indicator.kind == "rate":
        return f"{x * 100:.{1 + e}f}%"
    if indicator.kind == "days":
        return f"{x:.{1 + e}f}{indicator.display_unit}"
    if indicator.kind == "score":
        return f"{x:.{2 + e}f}{indicator.display_unit}"
    digits = 0 if float(x).is_integer() and not e else 1 + e
    return f"{x:,.{digits}f}{indicator.display_unit}"


def distinct_values(value: Any, other: Any, indicator: Indicator | None) -> tuple[str, str]:
    """``value`` and ``other`` as ``format_value`` shows them, with as many more decimals as it
    takes to see a difference when rounding hides one (73.1% | 73.1% → 73.14% | 73.08%); equal
    values and NA read as usual. At most 6 more decimals."""
    a, b = format_value(value, indicator), format_value(other, indicator)
    if is_na(value) or is_na(other) or a != b or float(value) == float(other):
        return a, b
    for extra in range(1, 7):
        a, b = format_value(value, indicator, extra), format_value(other, indicator, extra)
        if a != b:
            break
    return a, b


def benchmark_label(region: str) -> str:
    """The benchmark's name for ``region``: 全市平均水平 for a city, 全省平均水平 for a province
    (the catalogue folder's ``regions.csv``, else ``benchmark.<region>`` in the i18n files; a
    region with neither reads 平均水平)."""
    from foundation.catalogue import default_catalogue

    return default_catalogue().benchmark_name(region)


def format_score(value: Any) -> str:
    """A composite score, a per-indicator score or an applied weight: two decimals; — for NA."""
    if is_na(value):
        return t("na")
    return f"{float(value):.2f}"


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


# --- the same forms as Excel number formats (the assessment workbook) ------------------------------

FMT_RATE = "0.0%"
FMT_ONE = "0.0"
FMT_TWO = "0.00"
FMT_COUNT = "#,##0"
FMT_COUNT_DEC = "#,##0.00"
FMT_MEAN = "#,##0.0"
FMT_INT = "0"
FMT_CHANGE_PCT = "+0.0%;-0.0%;0.0%"
FMT_CHANGE_ONE = "+0.0;-0.0;0.0"
FMT_CHANGE_TWO = "+0.00;-0.00;0.00"
FMT_CHANGE_MEAN = "+#,##0.0;-#,##0.0;0.0"
FMT_TIME = "yyyy-mm-dd hh:mm:ss"


def excel_value_format(ind: Indicator, catalogue: Catalogue) -> str:
    if ind.kind == "rate":
        return FMT_RATE
    if ind.kind == "days":
        return FMT_ONE
    if ind.kind == "score":
        return FMT_TWO
    return excel_measure_format(ind, catalogue)


def excel_measure_format(ind: Indicator, catalogue: Catalogue) -> str:
    """Numerator/denominator: counts of whole things unless a measure read is a decimal one."""
    decimal = any(catalogue.measures[m].dtype == "decimal" for m in ind.measures)
    return FMT_COUNT_DEC if decimal else FMT_COUNT


def excel_mean_format(ind: Indicator, catalogue: Catalogue) -> str:
    return FMT_MEAN if ind.kind == "level" else excel_value_format(ind, catalogue)


def excel_change_format(ind: Indicator) -> str:
    if ind.kind in ("rate", "level"):
        return FMT_CHANGE_PCT
    if ind.kind == "score":
        return FMT_CHANGE_TWO
    return FMT_CHANGE_ONE


def excel_diff_format(ind: Indicator) -> str:
    if ind.kind == "rate":
        return FMT_CHANGE_PCT
    if ind.kind == "level":
        return FMT_CHANGE_MEAN
    return FMT_CHANGE_TWO if ind.kind == "score" else FMT_CHANGE_ONE
