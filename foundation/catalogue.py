"""The catalogue: one registry of units, measures and indicators.

The CSV files in ``foundation/catalogue_data/`` (copied from the spec) are the single source of truth.
They are registered through the same functions a later measure or indicator would use
(``Catalogue.register_measure`` / ``register_indicator``), and the template, validation,
indicator engine, dashboard dropdowns, exports and docs all read this registry.

Pure Python: no database, no Dash. Reading the package's own CSVs happens once, in
``default_catalogue()``.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

DATA_DIR = Path(__file__).with_name("catalogue_data")

MeasureKind = Literal["flow", "stock", "annual"]
Direction = Literal["higher", "lower"]
WindowFunc = Literal["sum", "end", "year", "count"]


# The row of the region as a whole (pooled city value, benchmark) beside the units' rows, in the
# engine's output, the exports and the dashboard. Not a unit code of any catalogue.
CITY = "city"


@dataclass(frozen=True)
class Unit:
    code: str
    admin_code: str
    name_zh: str
    short_zh: str
    name_en: str
    kind: str
    region: str

    @property
    def aliases(self) -> tuple[str, ...]:
        return tuple(a for a in (self.code, self.admin_code, self.name_zh, self.short_zh, self.name_en) if a)


@dataclass(frozen=True)
class Measure:
    code: str
    name_zh: str
    name_en: str
    category: str
    kind: MeasureKind
    unit: str
    dtype: Literal["int", "decimal"]
    max: float | None
    plan_ref: str

    @property
    def monthly(self) -> bool:
        return self.kind in ("flow", "stock")


@dataclass(frozen=True)
class Term:
    """One ``func(measure)`` in an indicator formula; ``sum(a)+sum(b)`` is two terms."""

    func: WindowFunc
    measure: str


@dataclass(frozen=True)
class Indicator:
    code: str
    name_zh: str
    name_en: str
    numerator: tuple[Term, ...]
    denominator: tuple[Term, ...]  # empty: a level indicator (value = numerator)
    direction: Direction
    display_unit: str
    plan_ref: str
    numerator_text: str = ""
    denominator_text: str = ""

    @property
    def is_ratio(self) -> bool:
        return bool(self.denominator)

    @property
    def is_rate(self) -> bool:
        return self.display_unit == "%"

    @property
    def is_score(self) -> bool:
        return self.display_unit == "分"

    @property
    def kind(self) -> Literal["rate", "days", "score", "level"]:
        """How comparisons treat it: differences for rates, days and scores; relative for levels."""
        if self.display_unit == "%":
            return "rate"
        if self.display_unit == "天":
            return "days"
        if self.display_unit == "分":
            return "score"
        return "level"

    @property
    def measures(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for term in self.numerator + self.denominator:
            if term.func != "count":
                seen.setdefault(term.measure, None)
        return tuple(seen)

    @property
    def from_submissions(self) -> bool:
        """Computed from submission records, not measure values (timeliness_rate)."""
        return any(term.func == "count" for term in self.numerator + self.denominator)


_TERM = re.compile(r"^(sum|end|year|count)\((.+)\)$")


def parse_formula(text: str) -> tuple[Term, ...]:
    """``sum(a)+end(b)`` → (Term(sum, a), Term(end, b)); empty text → ()."""
    text = text.strip()
    if not text:
        return ()
    terms = []
    for part in text.split("+"):
        match = _TERM.match(part.strip())
        if not match:
            raise ValueError(f"cannot parse indicator term {part!r} in {text!r}")
        terms.append(Term(match.group(1), match.group(2).strip()))  # type: ignore[arg-type]
    return tuple(terms)


_SPACES = re.compile(r"\s+")


def normalise_label(text: object) -> str:
    """Trim and fold full-width characters (NFKC) and all kinds of spaces; for matching labels."""
    if text is None:
        return ""
    return _normalise_text(text if isinstance(text, str) else str(text))


@lru_cache(maxsize=8192)
def _normalise_text(text: str) -> str:
    # Cached: the same labels recur in every return of a batch (the load benchmark reads 408).
    return _SPACES.sub("", unicodedata.normalize("NFKC", text))


@dataclass
class Catalogue:
    units: dict[str, Unit] = field(default_factory=dict)
    measures: dict[str, Measure] = field(default_factory=dict)
    indicators: dict[str, Indicator] = field(default_factory=dict)
    # label → entry lookups, built on first use and dropped when something is registered
    _indexes: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False, compare=False)

    # -- registration: built-ins go through the same door as anything added later
    def register_unit(self, unit: Unit) -> None:
        if unit.code in self.units:
            raise ValueError(f"unit {unit.code} registered twice")
        self.units[unit.code] = unit
        self._indexes.clear()

    def register_measure(self, measure: Measure) -> None:
        if measure.code in self.measures:
            raise ValueError(f"measure {measure.code} registered twice")
        self.measures[measure.code] = measure
        self._indexes.clear()

    def register_indicator(self, indicator: Indicator) -> None:
        if indicator.code in self.indicators:
            raise ValueError(f"indicator {indicator.code} registered twice")
        for term in indicator.numerator + indicator.denominator:
            if term.func != "count" and term.measure not in self.measures:
                raise ValueError(f"indicator {indicator.code} uses unknown measure {term.measure}")
        self.indicators[indicator.code] = indicator

    # -- queries
    def regions(self) -> list[str]:
        return sorted({u.region for u in self.units.values()})

    def units_of(self, region: str) -> list[Unit]:
        return [u for u in self.units.values() if u.region == region]

    def monthly_measures(self) -> list[Measure]:
        return [m for m in self.measures.values() if m.monthly]

    def annual_measures(self) -> list[Measure]:
        return [m for m in self.measures.values() if m.kind == "annual"]

    def measure_by_label(self, label: object) -> Measure | None:
        """A measure by its code or Chinese name (normalised)."""
        return self._measure_index().get(normalise_label(label).lower())

    def _measure_index(self) -> dict[str, Measure]:
        index = self._indexes.get("measure")
        if index is None:
            index = {}
            for m in self.measures.values():
                index[normalise_label(m.code).lower()] = m
                index[normalise_label(m.name_zh).lower()] = m
            self._indexes["measure"] = index
        return index

    def unit_index(self, region: str | None = None) -> dict[str, Unit]:
        """Normalised alias (code, admin code, names) → unit."""
        key = f"unit:{region or ''}"
        index = self._indexes.get(key)
        if index is None:
            index = {}
            for u in self.units.values():
                if region and u.region != region:
                    continue
                for alias in u.aliases:
                    index[normalise_label(alias).lower()] = u
            self._indexes[key] = index
        return index


def _read_csv(name: str) -> list[dict[str, str]]:
    with (DATA_DIR / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def units_from_rows(rows: Iterable[dict[str, str]]) -> list[Unit]:
    return [
        Unit(r["code"], r["admin_code"], r["name_zh"], r["short_zh"], r["name_en"], r["kind"], r["parent"])
        for r in rows
    ]


def measures_from_rows(rows: Iterable[dict[str, str]]) -> list[Measure]:
    return [
        Measure(
            code=r["code"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            category=r["category"],
            kind=r["kind"],  # type: ignore[arg-type]
            unit=r["unit"],
            dtype=r["dtype"],  # type: ignore[arg-type]
            max=float(r["max"]) if r["max"] else None,
            plan_ref=r["plan_ref"],
        )
        for r in rows
    ]


def indicators_from_rows(rows: Iterable[dict[str, str]]) -> list[Indicator]:
    return [
        Indicator(
            code=r["code"],
            name_zh=r["name_zh"],
            name_en=r["name_en"],
            numerator=parse_formula(r["numerator"]),
            denominator=parse_formula(r["denominator"]),
            direction=r["direction"],  # type: ignore[arg-type]
            display_unit=r["display_unit"],
            plan_ref=r["plan_ref"],
            numerator_text=r["numerator"],
            denominator_text=r["denominator"],
        )
        for r in rows
    ]


@lru_cache(maxsize=1)
def default_catalogue() -> Catalogue:
    """The shipped catalogue: both regions' units, every measure and indicator."""
    cat = Catalogue()
    for name in sorted(DATA_DIR.glob("units_*.csv")):
        for unit in units_from_rows(_read_csv(name.name)):
            cat.register_unit(unit)
    for measure in measures_from_rows(_read_csv("measures.csv")):
        cat.register_measure(measure)
    for indicator in indicators_from_rows(_read_csv("indicators.csv")):
        cat.register_indicator(indicator)
    return cat


def default_scheme_path() -> Path:
    return DATA_DIR / "scheme_default.csv"
