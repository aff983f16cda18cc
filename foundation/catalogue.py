"""The catalogue: one registry of units, measures, indicators and plan tasks.

The CSV files of a catalogue folder are the single source of truth: the built-in one,
``foundation/catalogue_data/`` (copied from the spec), or a deployment's own folder named by
``IPDASH_CATALOGUE_DIR``. They are registered through the same functions a later measure or
indicator would use (``Catalogue.register_measure`` / ``register_indicator``), and the template,
validation, indicator engine, dashboard dropdowns, exports and docs all read this registry.

A deployment's folder (decisions, also in the README):

- ``units_<region>.csv`` must be there, at least one: they are the catalogue's only units and
  regions (a built-in region the folder does not have is gone).
- ``measures.csv``, ``indicators.csv`` and ``scheme_default.csv`` missing from the folder are taken
  from the built-in set, each on its own.
- ``plans.csv`` and ``tasks_*.csv`` (the plan tasks) are one set: when the folder has any of them
  it has all of its plan tasks (a task's plan must be in its ``plans.csv``); when it has none, the
  built-in plans whose region is one of the folder's regions are taken, with their tasks (a folder
  without Shanghai has no plan tasks).
- ``regions.csv`` (optional, ``region,name_zh,benchmark_zh``) names a region and its benchmark
  (全国平均水平); a region without a row is named by the i18n files (``region.<code>``), else by
  its code.

``load_catalogue(folder)`` reads and checks everything and raises ``CatalogueError`` naming every
problem (file, line, column, what is wrong, in Chinese), not only the first. The edges (the CLI
entry, the dashboard's app factory, the server) call ``install_catalogue(settings.catalogue_dir)``
once at start; from then on ``default_catalogue()`` (and ``default_scheme_path()``, the plan tasks)
answer from that folder everywhere in the process. Workers forked by gunicorn inherit it; a worker
installing the same folder again gets the catalogue already installed (nothing is read twice).

Pure Python: no database, no Dash.
"""

from __future__ import annotations

import csv
import io
import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from foundation.i18n import messages, t
from foundation.tasks import TaskCatalogue, read_task_files

# The shipped catalogue. Nothing patches this: a deployment names its own folder
# (IPDASH_CATALOGUE_DIR) and the edges install it (``install_catalogue``).
BUILT_IN_DIR = Path(__file__).with_name("catalogue_data")

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
    # Where it was read from (None: built in code, e.g. a test's), and the file actually used for
    # each catalogue file name (a deployment's own, or the built-in one it fell back to).
    folder: Path | None = None
    files: dict[str, Path] = field(default_factory=dict)
    # regions.csv: a region's Chinese name and its benchmark's name
    region_names: dict[str, str] = field(default_factory=dict)
    benchmark_names: dict[str, str] = field(default_factory=dict)
    # the plan tasks (foundation/tasks.py), read and checked with the rest
    tasks: TaskCatalogue | None = field(default=None, repr=False, compare=False)
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

    def region_name(self, region: str) -> str:
        """上海市 / 全国: regions.csv, else the i18n files, else the code (regions are data)."""
        return self.region_names.get(region) or messages().get(f"region.{region}", region)

    def benchmark_name(self, region: str) -> str:
        """全市平均水平 / 全省平均水平 / 平均水平: what the region's pooled value is called."""
        return (
            self.benchmark_names.get(region)
            or messages().get(f"benchmark.{region}")
            or t("benchmark.default")
        )

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


# --- reading and checking a catalogue folder --------------------------------------------------------

UNIT_COLUMNS = ("code", "admin_code", "name_zh", "short_zh", "name_en", "kind", "parent")
MEASURE_COLUMNS = ("code", "name_zh", "name_en", "category", "kind", "unit", "dtype", "max", "plan_ref")
INDICATOR_COLUMNS = (
    "code", "name_zh", "name_en", "numerator", "denominator", "direction", "display_unit", "plan_ref",
)  # fmt: skip
SCHEME_COLUMNS = ("indicator", "weight", "method", "target", "floor", "ceiling", "bands")
PLAN_COLUMNS = ("plan", "doc_no", "title", "issued", "region")
TASK_COLUMNS = ("task", "plan", "clause", "title", "text", "lead", "owners", "deadline", "indicators")
RECURRING_COLUMNS = ("task", "plan", "clause", "title", "text", "lead", "owners", "month_day", "indicators")
REGION_COLUMNS = ("region", "name_zh", "benchmark_zh")

UNIT_KINDS = ("district", "county", "city", "special_area", "province")
MEASURE_KINDS = ("flow", "stock", "annual")
DTYPES = ("int", "decimal")
DIRECTIONS = ("higher", "lower")
# Files a folder may hold besides units_<region>.csv and tasks_<plan>.csv.
SINGLE_FILES = ("measures.csv", "indicators.csv", "scheme_default.csv", "plans.csv", "regions.csv")
# Taken from the built-in set when the folder lacks them (plans and tasks: see the docstring).
FALLBACK_FILES = ("measures.csv", "indicators.csv", "scheme_default.csv")

_CODE = re.compile(r"^[A-Za-z0-9_-]+$")


@dataclass(frozen=True)
class CatalogueProblem:
    """One problem of a catalogue folder: the file (as shown), its line and column where known."""

    file: str
    line: int | None
    column: str | None
    message: str  # Chinese, what is wrong

    def __str__(self) -> str:
        if self.line is not None and self.column is not None:
            where = t("catalogue.at_cell", file=self.file, line=self.line, column=self.column)
        elif self.line is not None:
            where = t("catalogue.at_line", file=self.file, line=self.line)
        elif self.column is not None:
            where = t("catalogue.at_column", file=self.file, column=self.column)
        else:
            where = t("catalogue.at_file", file=self.file)
        return t("catalogue.problem", where=where, message=self.message)


class CatalogueError(Exception):
    """A catalogue folder that cannot be used; ``problems`` names every problem found."""

    def __init__(self, folder: Path | str, problems: Sequence[CatalogueProblem]) -> None:
        self.folder = Path(folder)
        self.problems: list[CatalogueProblem] = list(problems)
        super().__init__(self.text())

    def text(self) -> str:
        """The heading and one line per problem (what the CLI prints)."""
        head = t("catalogue.error", folder=self.folder, count=len(self.problems))
        return "\n".join([head, *(f"  - {p}" for p in self.problems)])


Row = tuple[int, dict[str, str]]  # (line where the record starts, column → stripped value)


class _Reader:
    """Reads a folder's CSV files, collecting every problem instead of stopping at the first."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.builtin = folder.resolve() == BUILT_IN_DIR.resolve()
        self.problems: list[CatalogueProblem] = []
        # What could not be read whole ("units", "measures", "indicators"), and codes whose rows
        # had a problem: a reference to them is not reported again as unknown (one mistake, one
        # problem — not a cascade of "unknown measure" lines after an unreadable measures.csv).
        self.incomplete: set[str] = set()
        self.rejected: dict[str, set[str]] = {"units": set(), "measures": set(), "indicators": set()}

    def doubtful(self, kind: str, code: str) -> bool:
        """Whether ``code`` may be a ``kind`` the folder meant but that was not registered."""
        return kind in self.incomplete or code in self.rejected[kind]

    def label(self, path: Path) -> str:
        if path.parent == BUILT_IN_DIR and not self.builtin:
            return t("catalogue.builtin_file", name=path.name)
        return path.name

    def problem(self, file: str, line: int | None, column: str | None, message: str) -> None:
        self.problems.append(CatalogueProblem(file, line, column, message))

    def read(
        self, path: Path, columns: Sequence[str], *, alternatives: Sequence[Sequence[str]] = ()
    ) -> list[Row] | None:
        """The rows of ``path`` (blank lines skipped), or None when its header or encoding is so
        wrong that its rows cannot be checked. ``alternatives``: other exact headers accepted."""
        label = self.label(path)
        try:
            data = path.read_bytes()
        except OSError as exc:
            self.problem(label, None, None, t("catalogue.unreadable", reason=exc.strerror or exc))
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problem(label, data[: exc.start].count(b"\n") + 1, None, t("catalogue.not_utf8"))
            return None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            header = [h.strip() for h in next(reader, [])]
            if not any(header):
                self.problem(label, None, None, t("catalogue.empty_file"))
                return None
            for candidate in alternatives:
                if set(candidate) <= set(header):
                    columns = candidate
            usable = self._check_header(label, header, columns)
            rows: list[Row] = []
            end = reader.line_num
            for record in reader:
                start, end = end + 1, reader.line_num
                if not any(v.strip() for v in record):
                    continue
                if len(record) > len(header):
                    extra = "，".join(v for v in record[len(header) :] if v.strip()) or "“”"
                    self.problem(label, start, None, t("catalogue.extra_values", values=extra))
                elif len(record) < len(header):
                    self.problem(label, start, None, t("catalogue.missing_values"))
                rows.append(
                    (start, {h: (record[i].strip() if i < len(record) else "") for i, h in enumerate(header)})
                )
        except csv.Error as exc:
            self.problem(label, reader.line_num, None, t("catalogue.unreadable", reason=exc))
            return None
        return rows if usable else None

    def _check_header(self, label: str, header: list[str], columns: Sequence[str]) -> bool:
        usable = True
        seen: set[str] = set()
        for name in header:
            if name in seen:
                self.problem(label, 1, name, t("catalogue.duplicate_column"))
                usable = False
            seen.add(name)
        for name in columns:
            if name not in seen:
                self.problem(label, 1, name, t("catalogue.missing_column"))
                usable = False
        for name in header:
            if name not in columns:
                self.problem(label, 1, name or "“”", t("catalogue.extra_column", expected=",".join(columns)))
        return usable


Where = tuple[str, int]  # (file as shown, line): formatted only when a problem names it


def _at(where: Where) -> str:
    return t("catalogue.at_line", file=where[0], line=where[1])


def _check_code(r: _Reader, file: str, line: int, column: str, value: str, seen: dict[str, Where]) -> bool:
    """A code that is there, well-formed and new; ``seen`` maps codes to where they were first."""
    if not value:
        r.problem(file, line, column, t("catalogue.required"))
    elif not _CODE.match(value):
        r.problem(file, line, column, t("catalogue.bad_code", value=value))
    elif value in seen:
        r.problem(file, line, column, t("catalogue.duplicate_code", value=value, first=_at(seen[value])))
    else:
        seen[value] = (file, line)
        return True
    return False


def _choice(r: _Reader, file: str, line: int, column: str, value: str, allowed: Sequence[str]) -> bool:
    if value in allowed:
        return True
    r.problem(file, line, column, t("catalogue.bad_choice", value=value, allowed="、".join(allowed)))
    return False


def _required(r: _Reader, file: str, line: int, row: dict[str, str], *columns: str) -> None:
    for column in columns:
        if not row[column]:
            r.problem(file, line, column, t("catalogue.required"))


def _read_units(r: _Reader, cat: Catalogue, paths: Sequence[Path]) -> None:
    seen: dict[str, Where] = {}
    for path in paths:
        file = r.label(path)
        region = path.stem[len("units_") :]
        if not _CODE.match(region):
            r.problem(file, None, None, t("catalogue.bad_region_name", region=region))
            r.incomplete.add("units")
            continue
        rows = r.read(path, UNIT_COLUMNS)
        if rows is None:
            r.incomplete.add("units")
            continue
        if not rows:
            r.problem(file, None, None, t("catalogue.no_rows"))
        labels: dict[str, tuple[str, Where]] = {}  # normalised alias → (unit code, where first)
        for line, row in rows:
            code = row["code"]
            ok = _check_code(r, file, line, "code", code, seen)
            if ok and code == CITY:
                r.problem(file, line, "code", t("catalogue.reserved_code", value=code))
                ok = False
            _required(r, file, line, row, "name_zh")
            if row["admin_code"] and not (row["admin_code"].isascii() and row["admin_code"].isdigit()):
                r.problem(file, line, "admin_code", t("catalogue.bad_admin_code", value=row["admin_code"]))
            _choice(r, file, line, "kind", row["kind"], UNIT_KINDS)
            if row["parent"] != region:
                r.problem(
                    file, line, "parent", t("catalogue.parent_not_region", value=row["parent"], region=region)
                )
            # A return names its unit by any of these (etl/units.py): two units of one region
            # sharing one would make its 填报单位 ambiguous.
            for column in ("code", "admin_code", "name_zh", "short_zh", "name_en"):
                key = normalise_label(row[column]).lower()
                if not key:
                    continue
                other = labels.get(key)
                if other is not None and other[0] != code:
                    message = t(
                        "catalogue.duplicate_label", value=row[column], other=other[0], first=_at(other[1])
                    )
                    r.problem(file, line, column, message)
                else:
                    labels.setdefault(key, (code, (file, line)))
            if not ok and code:
                r.rejected["units"].add(code)
            if ok:
                cat.register_unit(
                    Unit(
                        code,
                        row["admin_code"],
                        row["name_zh"],
                        row["short_zh"],
                        row["name_en"],
                        row["kind"],
                        region,
                    )
                )


def _read_measures(r: _Reader, cat: Catalogue, path: Path) -> None:
    rows = r.read(path, MEASURE_COLUMNS)
    if rows is None:
        r.incomplete.add("measures")
        return
    file = r.label(path)
    if not rows:
        r.problem(file, None, None, t("catalogue.no_rows"))
    seen: dict[str, Where] = {}
    labels: dict[str, tuple[str, Where]] = {}
    for line, row in rows:
        ok = _check_code(r, file, line, "code", row["code"], seen)
        _required(r, file, line, row, "name_zh")
        for column in ("code", "name_zh"):  # a return names a measure by either (measure_by_label)
            key = normalise_label(row[column]).lower()
            other = labels.get(key)
            if key and other is not None and other[0] != row["code"]:
                message = t(
                    "catalogue.duplicate_measure_label",
                    value=row[column],
                    other=other[0],
                    first=_at(other[1]),
                )
                r.problem(file, line, column, message)
            elif key:
                labels.setdefault(key, (row["code"], (file, line)))
        ok &= _choice(r, file, line, "kind", row["kind"], MEASURE_KINDS)
        ok &= _choice(r, file, line, "dtype", row["dtype"], DTYPES)
        maximum: float | None = None
        if row["max"]:
            try:
                maximum = float(row["max"])
            except ValueError:
                maximum = -1.0
            if not math.isfinite(maximum) or maximum < 0:
                r.problem(file, line, "max", t("catalogue.bad_max", value=row["max"]))
                ok = False
        if not ok and row["code"]:
            r.rejected["measures"].add(row["code"])
        if ok:
            cat.register_measure(
                Measure(
                    code=row["code"],
                    name_zh=row["name_zh"],
                    name_en=row["name_en"],
                    category=row["category"],
                    kind=row["kind"],  # type: ignore[arg-type]  # checked above
                    unit=row["unit"],
                    dtype=row["dtype"],  # type: ignore[arg-type]
                    max=maximum,
                    plan_ref=row["plan_ref"],
                )
            )


def _read_indicators(r: _Reader, cat: Catalogue, path: Path) -> None:
    rows = r.read(path, INDICATOR_COLUMNS)
    if rows is None:
        r.incomplete.add("indicators")
        return
    file = r.label(path)
    if not rows:
        r.problem(file, None, None, t("catalogue.no_rows"))
    seen: dict[str, Where] = {}
    for line, row in rows:
        ok = _check_code(r, file, line, "code", row["code"], seen)
        _required(r, file, line, row, "name_zh", "numerator", "display_unit")
        ok &= bool(row["numerator"] and row["display_unit"])
        ok &= _choice(r, file, line, "direction", row["direction"], DIRECTIONS)
        formulas: dict[str, tuple[Term, ...]] = {}
        for column in ("numerator", "denominator"):
            try:
                formulas[column] = parse_formula(row[column])
            except ValueError:
                r.problem(file, line, column, t("catalogue.bad_formula", value=row[column]))
                ok = False
                continue
            for term in formulas[column]:
                if term.func != "count" and term.measure not in cat.measures:
                    if not r.doubtful("measures", term.measure):
                        r.problem(file, line, column, t("catalogue.unknown_measure", value=term.measure))
                    ok = False
        if not ok and row["code"]:
            r.rejected["indicators"].add(row["code"])
        if ok:
            cat.register_indicator(
                Indicator(
                    code=row["code"],
                    name_zh=row["name_zh"],
                    name_en=row["name_en"],
                    numerator=formulas["numerator"],
                    denominator=formulas["denominator"],
                    direction=row["direction"],  # type: ignore[arg-type]  # checked above
                    display_unit=row["display_unit"],
                    plan_ref=row["plan_ref"],
                    numerator_text=row["numerator"],
                    denominator_text=row["denominator"],
                )
            )


def _read_scheme(r: _Reader, cat: Catalogue, path: Path) -> None:
    """What a catalogue can check of its default scheme; the method's own rules (bands in order,
    weights adding up to 100…) are checked by the scheme reader (indicators/scoring.py) at use."""
    rows = r.read(path, SCHEME_COLUMNS)
    if rows is None:
        return
    file = r.label(path)
    if not rows:
        r.problem(file, None, None, t("catalogue.no_rows"))
    seen: dict[str, Where] = {}
    for line, row in rows:
        code = row["indicator"]
        if not code:
            r.problem(file, line, "indicator", t("catalogue.required"))
        elif code not in cat.indicators:
            if not r.doubtful("indicators", code):
                r.problem(file, line, "indicator", t("catalogue.unknown_indicator", value=code))
        elif code in seen:
            r.problem(
                file, line, "indicator", t("catalogue.duplicate_indicator", value=code, first=_at(seen[code]))
            )
        else:
            seen[code] = (file, line)
        try:
            weight = float(row["weight"])
        except ValueError:
            weight = math.nan
        if not (math.isfinite(weight) and weight > 0):
            r.problem(file, line, "weight", t("catalogue.bad_weight", value=row["weight"]))
        _required(r, file, line, row, "method")


def _read_regions(r: _Reader, cat: Catalogue, path: Path) -> None:
    rows = r.read(path, REGION_COLUMNS)
    if rows is None:
        return
    file = r.label(path)
    regions = set(cat.regions())
    seen: dict[str, Where] = {}
    for line, row in rows:
        if not _check_code(r, file, line, "region", row["region"], seen):
            continue
        if row["region"] not in regions:
            r.problem(file, line, "region", t("catalogue.region_without_units", value=row["region"]))
        _required(r, file, line, row, "name_zh")
        cat.region_names[row["region"]] = row["name_zh"]
        if row["benchmark_zh"]:
            cat.benchmark_names[row["region"]] = row["benchmark_zh"]


def _read(folder: Path) -> tuple[Catalogue, list[CatalogueProblem]]:
    """The catalogue of ``folder`` as far as it could be read, and every problem found."""
    r = _Reader(folder)
    cat = Catalogue(folder=folder)
    shown = str(folder)
    if not folder.exists():
        r.problem(shown, None, None, t("catalogue.no_folder"))
        return cat, r.problems
    if not folder.is_dir():
        r.problem(shown, None, None, t("catalogue.not_a_folder"))
        return cat, r.problems
    unit_files = sorted(folder.glob("units_*.csv"))
    task_files = sorted(folder.glob("tasks_*.csv"))
    for path in sorted(folder.glob("*.csv")):
        if path not in unit_files and path not in task_files and path.name not in SINGLE_FILES:
            known = "units_<地区>.csv、tasks_<计划>.csv、" + "、".join(SINGLE_FILES)
            r.problem(path.name, None, None, t("catalogue.unknown_file", known=known))
    if not unit_files:
        r.problem(shown, None, None, t("catalogue.no_units_file"))
    for name in FALLBACK_FILES:
        cat.files[name] = folder / name if (folder / name).is_file() else BUILT_IN_DIR / name
    own_tasks = bool(task_files) or (folder / "plans.csv").is_file()
    plans_file = (folder if own_tasks else BUILT_IN_DIR) / "plans.csv"
    if not own_tasks:
        task_files = sorted(BUILT_IN_DIR.glob("tasks_*.csv"))
    cat.files["plans.csv"] = plans_file
    for path in task_files:
        cat.files[path.name] = path
    for path in unit_files:
        cat.files[path.name] = path

    _read_units(r, cat, unit_files)
    _read_measures(r, cat, cat.files["measures.csv"])
    _read_indicators(r, cat, cat.files["indicators.csv"])
    _read_scheme(r, cat, cat.files["scheme_default.csv"])
    if (folder / "regions.csv").is_file():
        cat.files["regions.csv"] = folder / "regions.csv"
        _read_regions(r, cat, folder / "regions.csv")

    plan_rows = r.read(plans_file, PLAN_COLUMNS) if plans_file.is_file() else []
    task_tables = []
    for path in task_files:
        rows = r.read(path, TASK_COLUMNS, alternatives=(RECURRING_COLUMNS,))
        if rows is not None:
            task_tables.append((r.label(path), rows))
    cat.tasks = read_task_files(
        (r.label(plans_file), plan_rows or []),
        task_tables,
        catalogue=cat,
        built_in=None if r.builtin else builtin_catalogue,
        only_catalogue_regions=not own_tasks,
        report=r.problem,
        doubtful=r.doubtful,
    )
    return cat, r.problems


def load_catalogue(folder: Path) -> Catalogue:
    """Read and check every file of a catalogue folder (see the module docstring for which files
    it needs); ``CatalogueError`` names every problem found, not only the first."""
    cat, problems = _read(Path(folder))
    if problems:
        raise CatalogueError(folder, problems)
    return cat


@lru_cache(maxsize=1)
def builtin_catalogue() -> Catalogue:
    """The shipped catalogue (``foundation/catalogue_data/``): both regions' units, every measure,
    indicator and plan task."""
    return load_catalogue(BUILT_IN_DIR)


class _Installed:
    """The catalogue this process uses (None: the built-in one) and the folder it came from."""

    catalogue: Catalogue | None = None
    folder: Path | None = None
    lock = threading.Lock()


def install_catalogue(folder: Path | None, *, region: str | None = None) -> Catalogue:
    """Make ``folder``'s catalogue the one ``default_catalogue()`` returns in this process (None:
    the built-in one). Called by the edges with ``settings.catalogue_dir`` (and ``region`` =
    ``settings.region``, which must be one of its regions). Installing the folder already
    installed returns the same catalogue without reading it again (a forked worker, a second app);
    a folder with any problem raises ``CatalogueError`` and leaves the installed one in place."""
    with _Installed.lock:
        key = None if folder is None else Path(folder).resolve()
        problems: list[CatalogueProblem] = []
        if key is None:
            cat = builtin_catalogue()
        elif key == _Installed.folder and _Installed.catalogue is not None:
            cat = _Installed.catalogue
        else:
            cat, problems = _read(Path(folder))  # type: ignore[arg-type]  # not None here
        regions = cat.regions()
        if region is not None and regions and region not in regions:
            message = t("catalogue.region_setting", value=region, allowed="、".join(regions))
            problems = [*problems, CatalogueProblem("IPDASH_REGION", None, None, message)]
        if problems:
            raise CatalogueError(folder if folder is not None else BUILT_IN_DIR, problems)
        _Installed.catalogue = None if key is None else cat
        _Installed.folder = key
        return cat


def installed_folder() -> Path | None:
    """The folder installed by ``install_catalogue`` (None: the built-in catalogue)."""
    return _Installed.folder


def default_catalogue() -> Catalogue:
    """The catalogue of this process: the installed folder's, else the built-in one."""
    installed = _Installed.catalogue
    return installed if installed is not None else builtin_catalogue()


def default_task_catalogue() -> TaskCatalogue:
    """The plan tasks of the installed catalogue."""
    tasks = default_catalogue().tasks
    return tasks if tasks is not None else TaskCatalogue()


def default_scheme_path() -> Path:
    """The default scoring scheme of the installed catalogue (its folder's or the built-in one)."""
    return default_catalogue().files.get("scheme_default.csv", BUILT_IN_DIR / "scheme_default.csv")
