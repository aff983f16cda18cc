"""Cell-value rules of DOMAIN.md ("Cell values", "Periods"): pure functions, no workbook.

A cell arrives from python-calamine as int/float/str/bool/date/datetime/time/timedelta, or ''
for an empty cell. People type numbers as text, with full-width digits (１２，３４５．６),
thousands separators and any kind of space; `—`, `-`, `/`, `无` and empty mean 0.
"""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from enum import Enum
from functools import lru_cache

from etl.records import Reason
from foundation import calendar
from foundation.catalogue import Measure

# Written by people to mean "nothing this month" (after NFKC folding: － becomes -).
BLANK_TOKENS = frozenset({"", "-", "--", "—", "——", "–", "―", "/", "无", "無"})

# Plain digits, or digits grouped by thousands with commas; an optional decimal part.
# ASCII digits only: by the time these run, full-width digits have been folded and every other
# digit (superscripts ², circled ①, Arabic-Indic ٣, mathematical 𝟐) has been refused.
_PLAIN = re.compile(r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)$")
_GROUPED = re.compile(r"^[+-]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]*)?$")
_SPACES = re.compile(r"\s+")

# No measure has a value anywhere near this; above it a float no longer holds every whole number
# (2**53 ≈ 9.0e15), so a larger value is refused as above the maximum even without a `max`.
VALUE_CEILING = 1e15

# Tolerance for float noise (0.1 + 0.2): values are compared after scaling to cents.
_EPS = 1e-6


class CellKind(Enum):
    NUMBER = "number"
    BLANK = "blank"  # empty or a blank token: reads as 0, listed in a warning
    EMPTY = "empty"  # the cell is truly empty (also BLANK; kept apart for formula checks)
    BAD = "bad"  # not a number


@dataclass(frozen=True)
class CellNumber:
    kind: CellKind
    value: float = 0.0
    text: str = ""  # the value as found, for messages

    @property
    def is_blank(self) -> bool:
        return self.kind in (CellKind.BLANK, CellKind.EMPTY)


def cell_text(raw: object) -> str:
    """A cell value as a person would read it (for messages and labels)."""
    if raw is None:
        return ""
    if isinstance(raw, bool):
        return "TRUE" if raw else "FALSE"
    if isinstance(raw, float):
        if math.isfinite(raw) and raw == int(raw) and abs(raw) < 1e15:
            return str(int(raw))
        return repr(raw)
    if isinstance(raw, datetime):
        return raw.date().isoformat() if raw.time() == time() else raw.isoformat(sep=" ")
    if isinstance(raw, date | time):
        return raw.isoformat()
    return str(raw).strip()


def _foreign_digit(char: str) -> bool:
    """A digit that is neither ASCII nor full-width (０-９): ², ₂, ①, ٣, 𝟐…"""
    return (
        not ("0" <= char <= "9" or "\uff10" <= char <= "\uff19") and unicodedata.digit(char, None) is not None
    )


def fold(text: str) -> str:
    """Full-width to ASCII (NFKC) and every kind of space removed (U+3000, NBSP, tabs)."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


def parse_number(raw: object) -> CellNumber:
    """Read a cell as a number; never raises."""
    if raw is None or (isinstance(raw, str) and raw == ""):
        return CellNumber(CellKind.EMPTY, 0.0, "")
    # bool is an int subclass: a TRUE cell is not a count.
    if isinstance(raw, bool):
        return CellNumber(CellKind.BAD, 0.0, cell_text(raw))
    if isinstance(raw, int | float):
        value = float(raw)
        if not math.isfinite(value):
            return CellNumber(CellKind.BAD, 0.0, cell_text(raw))
        return CellNumber(CellKind.NUMBER, value, cell_text(raw))
    if not isinstance(raw, str):  # dates, times, durations are not counts
        return CellNumber(CellKind.BAD, 0.0, cell_text(raw))
    text = raw.strip()
    if any(_foreign_digit(char) for char in text):
        # NFKC folds ²³ to 23 and ① to 1: compatibility digits only look like numbers.
        return CellNumber(CellKind.BAD, 0.0, text)
    folded = fold(raw)
    if folded in BLANK_TOKENS:
        return CellNumber(CellKind.BLANK if folded else CellKind.EMPTY, 0.0, text)
    if _PLAIN.match(folded) or _GROUPED.match(folded):
        return CellNumber(CellKind.NUMBER, float(folded.replace(",", "")), text)
    return CellNumber(CellKind.BAD, 0.0, text)


def value_problem(value: float, measure: Measure) -> Reason | None:
    """Which rule a number breaks for this measure, if any (first one wins)."""
    if value < 0:
        return Reason.NEGATIVE
    # 400 typed digits read as inf; 1e308 * 100 is inf too: both are above any maximum, and
    # checking here first keeps round() below away from infinities.
    if not math.isfinite(value) or value > ceiling(measure) + _EPS:
        return Reason.ABOVE_MAX
    if measure.dtype == "int":
        if abs(value - round(value)) > _EPS:
            return Reason.NOT_WHOLE
    elif abs(value * 100 - round(value * 100)) > _EPS * max(1.0, abs(value)):
        return Reason.TOO_MANY_DECIMALS
    return None


def ceiling(measure: Measure) -> float:
    """The largest value a measure accepts: its `max`, else ``VALUE_CEILING``."""
    return measure.max if measure.max is not None else VALUE_CEILING


def clean_value(value: float, measure: Measure) -> float:
    """Strip float noise so that a stored value compares equal to what was typed."""
    if measure.dtype == "int":
        return float(round(value))
    return round(value, 2)


# -- periods -----------------------------------------------------------------------------------

# 2023-06, 2023/6, 2023.06, 2023年6月, 2023年06月份, 2023-06-30, 2023年6月30日
_MONTH = re.compile(r"^(\d{4})[-/.年](\d{1,2})(?:月份?|月)?(?:[-/.]?(\d{1,2})日?)?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})$")  # 202306
_YEAR = re.compile(r"^(\d{4})年?(?:度)?$")  # 2023, 2023年, 2023年度

_MIN_YEAR = 1990


def _month_period(year: int, month: int) -> str | None:
    if _MIN_YEAR <= year <= 2999 and 1 <= month <= 12:
        return f"{year:04d}-{month:02d}"
    return None


def parse_period(raw: object) -> str | None:
    """A monthly period 'YYYY-MM' from a cell (date, number 202306, or text); None if not one."""
    if isinstance(raw, datetime | date):
        return _month_period(raw.year, raw.month)
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if isinstance(raw, float) and not math.isfinite(raw):
            return None
        if float(raw) == int(raw):
            raw = str(int(raw))
        else:
            # 2023.06 typed into Excel is the number 2023.06; 2023.1 shows as "2023.1" and is
            # read as January, which is what the cell displays.
            raw = repr(float(raw))
    if not isinstance(raw, str):
        return None
    text = fold(raw)
    match = _MONTH.match(text)
    if match:
        day = match.group(3)
        if day is not None and not 1 <= int(day) <= 31:
            return None
        return _month_period(int(match.group(1)), int(match.group(2)))
    match = _COMPACT.match(text)
    if match:
        return _month_period(int(match.group(1)), int(match.group(2)))
    return None


def parse_year(raw: object) -> str | None:
    """An annual period 'YYYY' ('2023', '2023年', 2023); None if not one."""
    if isinstance(raw, bool):
        return None
    if isinstance(raw, int | float):
        if isinstance(raw, float) and (not math.isfinite(raw) or raw != int(raw)):
            return None
        raw = str(int(raw))
    if not isinstance(raw, str):
        return None
    match = _YEAR.match(fold(raw))
    if match and _MIN_YEAR <= int(match.group(1)) <= 2999:
        return match.group(1)
    return None


def parse_date_text(raw: object) -> str:
    """A date cell or date-like text as ISO 'YYYY-MM-DD'; other text unchanged (for meta)."""
    if isinstance(raw, datetime):
        return raw.date().isoformat()
    if isinstance(raw, date):
        return raw.isoformat()
    text = cell_text(raw)
    match = _MONTH.match(fold(text))
    if match and match.group(3):
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3))).isoformat()
        except ValueError:
            return text
    return text


def previous_month(period: str) -> str:
    return calendar.previous_month(period)


# -- cell references ---------------------------------------------------------------------------


@lru_cache(maxsize=1024)
def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA (cached: a few columns, every cell of every file)."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    """0-based row/column → 'E12'."""
    return f"{column_letter(col)}{row + 1}"
