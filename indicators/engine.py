"""The indicator engine: current measure values in, one row per (unit, indicator) out.

Pure: DataFrames and the catalogue in, a DataFrame out; no database, no files, no Dash.

How it works (vectorised, no per-unit Python loops): the long ``values`` frame is scattered once
into a dense cube ``[unit, month, measure]`` (NaN = not reported) covering every month the
current, 同比 and 环比 windows need; each window is then a slice of that cube. Flows are summed
over the slice, stocks take the latest reported month of the slice, annual measures the window
year's value. Everything after that works on ``[indicator, unit]`` arrays.

NA conventions of the output:
- float columns (``value``, ``numerator``, ``denominator``, ``coverage``, ``city_*``,
  ``benchmark``, ``diff_benchmark``, ``yoy``, ``pop``, ``prev_*``) use ``NaN`` for NA;
- ``rank`` is ``Int64`` and ``meets_benchmark``, ``small_denominator``, ``incomplete`` are
  ``boolean`` (pandas nullable types), with ``pd.NA`` for NA.

Decisions where DOMAIN.md is silent (also in docs/indicators.md):
- The pooled city ratio sums the numerators and denominators of the units whose ratio has a value
  (denominator > 0). A unit whose ratio is NA is "not applicable" and changes nothing, so adding a
  unit with zero denominators changes no one's value and the pooled rate stays between the units'.
- Coverage of an indicator counts the months in which the unit reported every monthly measure the
  indicator reads (with complete returns: the months reported). ``timeliness_rate`` counts the
  months whose return is due (or already received).
- ``timeliness_rate``: a return not yet due at ``now`` is left out of the denominator unless it has
  already arrived (then it is on time). Arrivals after ``now`` are ignored. Months before the
  earliest return any of the units ever sent are before collection began and are not counted
  (so 同比 in the first year is NA, not "everyone late"); ``arrivals`` should therefore hold the
  whole history. Without ``arrivals`` the indicator is NA with coverage 0.
- ``meets_benchmark`` compares with a relative tolerance of 1e-12, so that a value equal to the
  benchmark but summed in another order still "meets" (equality meets).
- ``small_denominator`` applies to every ratio (rates, days); it is False for level indicators and
  NA where the denominator is NA.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import pandas as pd

from foundation.calendar import (
    Window,
    comparison_ends,
    due_limit,
    month_from_index,
    month_index,
    window_bounds,
    window_year,
)
from foundation.catalogue import CITY, Catalogue, Indicator, Term

OUTPUT_COLUMNS = [
    "unit",
    "indicator",
    "period",
    "window",
    "value",
    "numerator",
    "denominator",
    "coverage",
    "months_reported",
    "months_in_window",
    "city_value",
    "city_mean",
    "city_median",
    "benchmark",
    "diff_benchmark",
    "meets_benchmark",
    "rank",
    "yoy",
    "pop",
    "prev_year_value",
    "prev_window_value",
    "small_denominator",
    "incomplete",
    "direction",
    "kind",
]

# meets_benchmark: equality meets, also when the same sum was added up in another order.
MEETS_RTOL = 1e-12


@dataclass
class _WindowResult:
    """``[indicator, unit]`` arrays of one window (current, 同比 or 环比)."""

    numerator: np.ndarray
    denominator: np.ndarray
    value: np.ndarray
    months_reported: np.ndarray  # int
    months_in_window: np.ndarray  # int, per indicator
    city_numerator: np.ndarray  # per indicator
    city_denominator: np.ndarray
    city_value: np.ndarray


def _codes(column: pd.Series, categories: Sequence[str]) -> np.ndarray:
    """Position of each entry of ``column`` in ``categories``; -1 where absent.

    A lookup in a hash table of the few categories is several times faster than factorising the
    column (the national benchmark's 3.5 M rows: ~40 ms a column).
    """
    return np.asarray(pd.Index(list(categories), dtype=object).get_indexer(column))


def _cubes(
    values: pd.DataFrame,
    units: Sequence[str],
    months: Sequence[str],
    monthly: Sequence[str],
    years: Sequence[str],
    annual: Sequence[str],
) -> tuple[np.ndarray, np.ndarray]:
    """Dense ``[unit, month, monthly measure]`` and ``[unit, year, annual measure]`` arrays of the
    values; NaN where nothing was reported. Each column of ``values`` is looked up once."""
    month_cube = np.full((len(units), len(months), len(monthly)), np.nan)
    year_cube = np.full((len(units), len(years), len(annual)), np.nan)
    if values.empty:
        return month_cube, year_cube
    u = _codes(values["unit"], units)
    p = _codes(values["period"], [*months, *years])
    k = _codes(values["measure"], [*monthly, *annual])
    v = values["value"].to_numpy(dtype=float, na_value=np.nan)
    keep = (u >= 0) & (p >= 0) & (k >= 0)
    n_months, n_monthly = len(months), len(monthly)
    in_months, of_monthly = p < n_months, k < n_monthly
    pick = keep & in_months & of_monthly  # a monthly measure in a month
    month_cube[u[pick], p[pick], k[pick]] = v[pick]
    pick = keep & ~in_months & ~of_monthly  # an annual measure in a year
    year_cube[u[pick], p[pick] - n_months, k[pick] - n_monthly] = v[pick]
    return month_cube, year_cube


@dataclass(frozen=True)
class DenseValues:
    """Every value of a long ``values`` frame as dense ``[unit, measure]`` arrays, one per month
    (``by_month``) and one per year (``by_year``; NaN = not reported), for a caller that computes
    many times over the same values and changes a few unit-months between computations
    (``application.service`` keeps one per region: after an upload it copies the one or two
    arrays of the changed months and writes the new values into them, instead of scattering 2.4 M
    rows again). ``compute_indicators`` and ``compute_series`` accept one in place of the frame
    and give the same result. Never modified once built: ``replaced`` makes a new one that shares
    the unchanged arrays."""

    units: pd.Index
    months: pd.Index  # 'YYYY-MM', sorted
    years: pd.Index  # 'YYYY', sorted
    measures: pd.Index
    by_month: tuple[np.ndarray, ...]
    by_year: tuple[np.ndarray, ...]

    @classmethod
    def from_frame(cls, values: pd.DataFrame) -> DenseValues:
        """The arrays of ``values`` (columns unit, period, measure, value; one row per unit, period
        and measure), over the units, periods and measures that occur in it."""
        labels = {c: pd.Index(_labels(values[c]), dtype=object) for c in ("unit", "period", "measure")}
        periods = labels["period"]
        is_month = np.array([len(p) == 7 for p in periods], dtype=bool)
        units, measures = labels["unit"].sort_values(), labels["measure"].sort_values()
        months, years = periods[is_month].sort_values(), periods[~is_month].sort_values()
        month_cube = np.full((len(months), len(units), len(measures)), np.nan)
        year_cube = np.full((len(years), len(units), len(measures)), np.nan)
        u, k = _codes(values["unit"], units), _codes(values["measure"], measures)
        m, y = _codes(values["period"], months), _codes(values["period"], years)
        v = values["value"].to_numpy(dtype=float, na_value=np.nan)
        pick = (u >= 0) & (k >= 0) & (m >= 0)
        month_cube[m[pick], u[pick], k[pick]] = v[pick]
        pick = (u >= 0) & (k >= 0) & (y >= 0)
        year_cube[y[pick], u[pick], k[pick]] = v[pick]
        return cls(units, months, years, measures, tuple(month_cube), tuple(year_cube))

    def replaced(self, pairs: set[tuple[str, str]], fresh: pd.DataFrame) -> DenseValues | None:
        """A copy in which the unit-months (or unit-years) ``pairs`` hold exactly the rows of
        ``fresh`` (rows of those pairs only; nothing where it has none); a month or year not yet on
        the arrays gets its array. None when a unit or measure is not on the arrays' axes (the
        caller builds them again from the whole frame)."""
        if not all(u in self.units for u, _ in pairs):
            return None
        u, k = _codes(fresh["unit"], self.units), _codes(fresh["measure"], self.measures)
        if (u < 0).any() or (k < 0).any():
            return None
        labels = {p for _, p in pairs}
        months, by_month = self._with(self.months, self.by_month, {p for p in labels if len(p) == 7})
        years, by_year = self._with(self.years, self.by_year, {p for p in labels if len(p) != 7})
        period = fresh["period"].to_numpy(dtype=object)
        v = fresh["value"].to_numpy(dtype=float, na_value=np.nan)
        for label in sorted(labels):
            slabs, axis = (by_month, months) if len(label) == 7 else (by_year, years)
            slab = slabs[axis.get_loc(label)].copy()
            slab[[self.units.get_loc(unit) for unit, p in pairs if p == label], :] = np.nan
            rows = period == label
            slab[u[rows], k[rows]] = v[rows]
            slabs[axis.get_loc(label)] = slab
        return DenseValues(self.units, months, years, self.measures, tuple(by_month), tuple(by_year))

    def _with(
        self, axis: pd.Index, slabs: tuple[np.ndarray, ...], labels: set[str]
    ) -> tuple[pd.Index, list[np.ndarray]]:
        """``axis`` and its arrays with an empty (NaN) array for each of ``labels`` not on it."""
        new = sorted(label for label in labels if label not in axis)
        if not new:
            return axis, list(slabs)
        merged = axis.append(pd.Index(new, dtype=object)).sort_values()
        old = dict(zip(axis, slabs, strict=True))
        blank = np.full((len(self.units), len(self.measures)), np.nan)
        return merged, [old[label] if label in old else blank for label in merged]

    def cubes(
        self,
        units: Sequence[str],
        months: Sequence[str],
        monthly: Sequence[str],
        years: Sequence[str],
        annual: Sequence[str],
    ) -> tuple[np.ndarray, np.ndarray]:
        """What ``_cubes`` gives for a frame of these values (there, a measure both monthly and
        annual is looked up as monthly, so its annual values are left out: the same here)."""
        annual = [m if m not in monthly else "" for m in annual]
        return (
            self._cube(self.by_month, self.months, units, months, monthly),
            self._cube(self.by_year, self.years, units, years, annual),
        )

    def _cube(
        self,
        slabs: tuple[np.ndarray, ...],
        axis: pd.Index,
        units: Sequence[str],
        periods: Sequence[str],
        measures: Sequence[str],
    ) -> np.ndarray:
        """``[unit, period, measure]`` at these labels (NaN where a label is not on its axis)."""
        out = np.full((len(units), len(periods), len(measures)), np.nan)
        u = np.asarray(self.units.get_indexer(pd.Index(list(units), dtype=object)))
        k = np.asarray(self.measures.get_indexer(pd.Index(list(measures), dtype=object)))
        p = np.asarray(axis.get_indexer(pd.Index(list(periods), dtype=object)))
        have_u, have_k = np.flatnonzero(u >= 0), np.flatnonzero(k >= 0)
        if not len(have_u) or not len(have_k):
            return out
        rows, cols = np.ix_(have_u, have_k)
        src_rows, src_cols = np.ix_(u[have_u], k[have_k])
        for j in np.flatnonzero(p >= 0):
            out[rows, j, cols] = slabs[p[j]][src_rows, src_cols]
        return out


def _labels(column: pd.Series) -> list[str]:
    """The distinct entries of ``column`` (a categorical's used categories without a pass over
    its rows' strings)."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = np.unique(column.cat.codes.to_numpy())
        return [str(c) for c in column.cat.categories[codes[codes >= 0]]]
    return [str(c) for c in pd.unique(column.dropna())]


def _window_sum_end(cube: np.ndarray, first: int, last: int) -> tuple[np.ndarray, np.ndarray]:
    """``[unit, measure]`` sums (flows) and latest reported values (stocks) over months first..last."""
    part = cube[:, first : last + 1, :]
    present = ~np.isnan(part)
    count = present.sum(axis=1)
    sums = np.where(count > 0, np.nansum(part, axis=1), np.nan)
    # Latest reported month of the slice: the window's end, or the latest reported before it.
    last_pos = part.shape[1] - 1 - present[:, ::-1, :].argmax(axis=1)
    ends = np.take_along_axis(part, last_pos[:, None, :], axis=1)[:, 0, :]
    ends = np.where(count > 0, ends, np.nan)
    return sums, ends


def _due_limits(periods: Sequence[str], due_day: int, tz: str) -> np.ndarray:
    """First instant (UTC, datetime64[ns]) after each month's return is due.

    The return for month M is due by ``due_day`` of M+1, 24:00 local time: on time means it
    arrived strictly before 00:00 of the next day.
    """
    limits = [due_limit(period, due_day=due_day, tz=tz).tz_localize(None) for period in periods]
    return np.array(limits, dtype="datetime64[ns]")


@dataclass(frozen=True)
class DenseArrivals:
    """An ``arrivals`` frame as one ``[unit, month]`` array of first arrivals (datetime64[ns], UTC,
    NaT where none), kept beside ``DenseValues`` by the service; the engine accepts it in place of
    the frame and gives the same result. Never modified once built (``replaced`` copies)."""

    units: pd.Index
    months: pd.Index  # 'YYYY-MM', sorted
    received: np.ndarray

    @classmethod
    def from_frame(cls, arrivals: pd.DataFrame) -> DenseArrivals:
        units = pd.Index(_labels(arrivals["unit"]), dtype=object).sort_values()
        months = pd.Index([p for p in _labels(arrivals["period"]) if len(p) == 7], dtype=object).sort_values()
        received = np.full((len(units), len(months)), np.datetime64("NaT"), dtype="datetime64[ns]")
        dense = cls(units, months, received)
        dense._scatter(received, arrivals)
        return dense

    def _scatter(self, received: np.ndarray, arrivals: pd.DataFrame) -> None:
        if arrivals.empty:
            return
        u, p = _codes(arrivals["unit"], self.units), _codes(arrivals["period"], self.months)
        stamps = _utc_stamps(arrivals)
        keep = (u >= 0) & (p >= 0) & ~np.isnat(stamps)
        received[u[keep], p[keep]] = stamps[keep]

    def replaced(self, pairs: set[tuple[str, str]], fresh: pd.DataFrame) -> DenseArrivals | None:
        """A copy in which the unit-months ``pairs`` hold exactly the arrivals of ``fresh`` (a month
        not yet on the array gets its column); None when a unit is not on it (the caller builds it
        again)."""
        monthly = [(u, p) for u, p in pairs if len(p) == 7]
        if not all(u in self.units for u, _ in monthly) or (_codes(fresh["unit"], self.units) < 0).any():
            return None
        months = self.months
        new = sorted({p for _, p in monthly if p not in months})
        if new:
            months = months.append(pd.Index(new, dtype=object)).sort_values()
        received = np.full((len(self.units), len(months)), np.datetime64("NaT"), dtype="datetime64[ns]")
        received[:, months.get_indexer(self.months)] = self.received
        for unit, period in monthly:
            received[self.units.get_loc(unit), months.get_loc(period)] = np.datetime64("NaT")
        widened = DenseArrivals(self.units, months, received)
        widened._scatter(received, fresh)
        return widened

    def matrix(self, units: Sequence[str], months: Sequence[str]) -> np.ndarray:
        """``[unit, month]`` at these labels (NaT where a label is not on its axis)."""
        out = np.full((len(units), len(months)), np.datetime64("NaT"), dtype="datetime64[ns]")
        u = np.asarray(self.units.get_indexer(pd.Index(list(units), dtype=object)))
        p = np.asarray(self.months.get_indexer(pd.Index(list(months), dtype=object)))
        have_u, have_p = np.flatnonzero(u >= 0), np.flatnonzero(p >= 0)
        if len(have_u) and len(have_p):
            out[np.ix_(have_u, have_p)] = self.received[np.ix_(u[have_u], p[have_p])]
        return out


def _utc_stamps(arrivals: pd.DataFrame) -> np.ndarray:
    received = pd.to_datetime(arrivals["first_received_at"], utc=True)
    return received.dt.tz_convert("UTC").dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")


def _now64(now: pd.Timestamp) -> np.datetime64:
    return np.datetime64(now.tz_convert("UTC").tz_localize(None).as_unit("ns"))


def _arrival_matrix(
    arrivals: pd.DataFrame | DenseArrivals, units: Sequence[str], periods: Sequence[str], now: np.datetime64
) -> np.ndarray:
    """``[unit, month]`` first arrival (datetime64[ns] UTC, NaT where none by ``now``)."""
    if isinstance(arrivals, DenseArrivals):
        matrix = arrivals.matrix(units, periods)
        matrix[matrix > now] = np.datetime64("NaT")
        return matrix
    matrix = np.full((len(units), len(periods)), np.datetime64("NaT"), dtype="datetime64[ns]")
    if arrivals.empty:
        return matrix
    u = _codes(arrivals["unit"], units)
    p = _codes(arrivals["period"], periods)
    stamps = _utc_stamps(arrivals)
    keep = (u >= 0) & (p >= 0) & ~np.isnat(stamps) & (stamps <= now)
    matrix[u[keep], p[keep]] = stamps[keep]
    return matrix


def _first_collected_month(
    arrivals: pd.DataFrame | DenseArrivals | None, units: Sequence[str], now: pd.Timestamp
) -> int | None:
    """Month index of the earliest monthly return any of ``units`` sent by ``now``; None if none."""
    if isinstance(arrivals, DenseArrivals):
        found = np.asarray(arrivals.units.get_indexer(pd.Index(list(units), dtype=object)))
        rows = arrivals.received[found[found >= 0]]
        sent = (~np.isnat(rows) & (rows <= _now64(now))).any(axis=0)
        return month_index(arrivals.months[int(np.argmax(sent))]) if sent.any() else None
    if arrivals is None or arrivals.empty:
        return None
    received = pd.to_datetime(arrivals["first_received_at"], utc=True)
    ours = arrivals[arrivals["unit"].isin(list(units)) & (received <= now)]
    monthly = ours["period"][ours["period"].astype(str).str.len() == 7]
    return month_index(str(monthly.min())) if not monthly.empty else None


def _nan_stat(func, array: np.ndarray, axis: int) -> np.ndarray:  # noqa: ANN001
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows give NaN, as wanted
        return np.asarray(func(array, axis=axis), dtype=float)


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """numerator / denominator where the denominator is above 0; NaN (NA) otherwise."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def _change(current: np.ndarray, previous: np.ndarray, relative: np.ndarray) -> np.ndarray:
    """Difference, or (x − p)/p where ``relative`` (counts and levels); NaN when either is NA or p = 0."""
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(previous != 0, (current - previous) / previous, np.nan)
    return np.where(relative, rel, current - previous)


def _checked_arguments(
    units: Sequence[str], indicators: Sequence[str] | None, catalogue: Catalogue
) -> tuple[list[str], list[Indicator]]:
    """``units`` as a list and the ``Indicator`` of each code asked for (default: all), or
    ValueError for the pooled row among the units, a repeated unit or an unknown indicator."""
    units = list(units)
    if CITY in units:
        raise ValueError(f"{CITY!r} is the pooled row, not a unit code")
    if len(set(units)) != len(units):
        raise ValueError("units must be unique")
    codes = list(indicators) if indicators is not None else list(catalogue.indicators)
    unknown = [c for c in codes if c not in catalogue.indicators]
    if unknown:
        raise ValueError(f"unknown indicators: {', '.join(unknown)}")
    return units, [catalogue.indicators[c] for c in codes]


def compute_indicators(
    values: pd.DataFrame | DenseValues,
    *,
    catalogue: Catalogue,
    units: Sequence[str],
    period: str,
    window: Window = "ytd",
    arrivals: pd.DataFrame | DenseArrivals | None = None,
    due_day: int = 10,
    tz: str = "Asia/Shanghai",
    small_denominator: int = 5,
    indicators: Sequence[str] | None = None,
    now: datetime | None = None,
) -> pd.DataFrame:
    """Every indicator for every unit of ``units`` and the city, over ``window`` ending at ``period``.

    ``values``: columns unit, period ('YYYY-MM', or 'YYYY' for annual measures), measure, value —
    one row per unit, period and measure (the current revision's values), or a ``DenseValues`` of
    them. ``arrivals``: columns unit, period, first_received_at (aware) for ``timeliness_rate``, or
    a ``DenseArrivals`` of them. ``now`` (default: the
    current time) decides which returns are due. Returns one row per (indicator, unit) in
    ``units`` order followed by the ``city`` row, with the columns of ``OUTPUT_COLUMNS``.
    """
    units, inds = _checked_arguments(units, indicators, catalogue)
    now_ts = pd.Timestamp(now if now is not None else datetime.now(UTC))
    if now_ts.tzinfo is None:
        now_ts = now_ts.tz_localize("UTC")  # a naive "now" is read as UTC

    ends = {label: end for label, end in comparison_ends(period, window).items() if end is not None}
    bounds = {
        label: (month_index(first), month_index(last))
        for label, (first, last) in ((lb, window_bounds(e, window)) for lb, e in ends.items())
    }
    prepared = _prepare(
        values,
        inds,
        units,
        lo=min(first for first, _ in bounds.values()),
        hi=max(last for _, last in bounds.values()),
        years=sorted({window_year(e) for e in ends.values()}),
        arrivals=arrivals,
        now_ts=now_ts,
        due_day=due_day,
        tz=tz,
    )
    results = {
        label: _window(prepared, first_abs, last_abs, window_year(ends[label]))
        for label, (first_abs, last_abs) in bounds.items()
    }
    return _assemble(inds, units, period, window, results, small_denominator)


@dataclass
class _Prepared:
    """What every window of one computation slices: the cubes over months ``lo``..``hi`` (absolute
    month indexes) and, for indicators counted from submissions, the on-time and counted months."""

    inds: list[Indicator]
    n_units: int
    lo: int
    years: list[str]
    monthly: list[str]
    annual: list[str]
    month_cube: np.ndarray
    year_cube: np.ndarray
    month_present: np.ndarray
    year_present: np.ndarray
    has_arrivals: bool
    on_time: np.ndarray | None
    counted: np.ndarray | None


def _prepare(
    values: pd.DataFrame | DenseValues,
    inds: list[Indicator],
    units: list[str],
    *,
    lo: int,
    hi: int,
    years: list[str],
    arrivals: pd.DataFrame | DenseArrivals | None,
    now_ts: pd.Timestamp,
    due_day: int,
    tz: str,
) -> _Prepared:
    now64 = np.datetime64(now_ts.tz_convert("UTC").tz_localize(None).as_unit("ns"))
    months = [month_from_index(i) for i in range(lo, hi + 1)]
    monthly = list(
        dict.fromkeys(
            t.measure for i in inds for t in i.numerator + i.denominator if t.func in ("sum", "end")
        )
    )
    annual = list(
        dict.fromkeys(t.measure for i in inds for t in i.numerator + i.denominator if t.func == "year")
    )
    if isinstance(values, DenseValues):
        month_cube, year_cube = values.cubes(units, months, monthly, years, annual)
    else:
        month_cube, year_cube = _cubes(values, units, months, monthly, years, annual)
    on_time = counted = None
    if any(i.from_submissions for i in inds):
        limits = _due_limits(months, due_day, tz)
        if arrivals is not None:
            received = _arrival_matrix(arrivals, units, months, now64)
        else:
            received = np.full((len(units), len(months)), np.datetime64("NaT"), dtype="datetime64[ns]")
        has_arrived = ~np.isnat(received)
        on_time = has_arrived & (received < limits[None, :])
        counted = (limits[None, :] <= now64) | has_arrived
        # Months before the region's first return ever are before collection began: not counted.
        first_collected = _first_collected_month(arrivals, units, now_ts)
        if first_collected is None:
            counted[:] = False
        elif first_collected > lo:
            counted[:, : min(first_collected - lo, len(months))] = False
    return _Prepared(
        inds,
        len(units),
        lo,
        years,
        monthly,
        annual,
        month_cube,
        year_cube,
        ~np.isnan(month_cube),
        ~np.isnan(year_cube),
        arrivals is not None,
        on_time,
        counted,
    )


def _window(prep: _Prepared, first_abs: int, last_abs: int, year: str) -> _WindowResult:
    """Every indicator of ``prep`` over months ``first_abs``..``last_abs`` (absolute indexes)."""
    inds, n_units, monthly, annual = prep.inds, prep.n_units, prep.monthly, prep.annual
    first, last = first_abs - prep.lo, last_abs - prep.lo
    sums, lasts = _window_sum_end(prep.month_cube, first, last)
    year_pos = prep.years.index(year)
    annual_values = prep.year_cube[:, year_pos, :]
    num = np.full((len(inds), n_units), np.nan)
    den = np.full((len(inds), n_units), np.nan)
    rep = np.zeros((len(inds), n_units), dtype=np.int64)
    miw = np.zeros(len(inds), dtype=np.int64)
    for row, ind in enumerate(inds):
        if ind.from_submissions:
            if prep.has_arrivals:
                assert prep.on_time is not None and prep.counted is not None
                num[row] = prep.on_time[:, first : last + 1].sum(axis=1)
                den[row] = prep.counted[:, first : last + 1].sum(axis=1)
                rep[row] = prep.counted[:, first : last + 1].sum(axis=1)
            miw[row] = last - first + 1
            continue

        aggregates = {"sum": (sums, monthly), "end": (lasts, monthly), "year": (annual_values, annual)}
        num[row] = _term_total(ind.numerator, aggregates, n_units)
        if ind.is_ratio:
            den[row] = _term_total(ind.denominator, aggregates, n_units)
        used_monthly = [monthly.index(m) for m in _measures_of(ind, ("sum", "end"))]
        used_annual = [annual.index(m) for m in _measures_of(ind, ("year",))]
        if used_monthly:
            reported = prep.month_present[:, first : last + 1, :][:, :, used_monthly].all(axis=2)
            rep[row] = reported.sum(axis=1)
            miw[row] = last - first + 1
        else:  # annual: coverage 1 or 0
            rep[row] = prep.year_present[:, year_pos, :][:, used_annual].all(axis=1)
            miw[row] = 1
    return _finish_window(inds, num, den, rep, miw)


def compute_series(
    values: pd.DataFrame | DenseValues,
    *,
    catalogue: Catalogue,
    units: Sequence[str],
    periods: Sequence[str],
    window: Window = "ytd",
    indicators: Sequence[str] | None = None,
    arrivals: pd.DataFrame | DenseArrivals | None = None,
    due_day: int = 10,
    tz: str = "Asia/Shanghai",
    now: datetime | None = None,
) -> pd.DataFrame:
    """The value and coverage of indicators over ``window`` ending at each of ``periods`` (a
    trend): columns ``unit, indicator, period, value, coverage, incomplete``, one row per period,
    indicator and unit in ``units`` order followed by the ``city`` row — for each period exactly
    the ``value``, ``coverage`` and ``incomplete`` that ``compute_indicators`` gives for that
    period (the same cube, window slices and pooling), but the values are scattered into the cube
    and the arrivals read once for all periods instead of once per period."""
    units, inds = _checked_arguments(units, indicators, catalogue)
    periods = list(periods)
    columns = ["unit", "indicator", "period", "value", "coverage", "incomplete"]
    if not periods:
        return pd.DataFrame({c: [] for c in columns})
    now_ts = pd.Timestamp(now if now is not None else datetime.now(UTC))
    if now_ts.tzinfo is None:
        now_ts = now_ts.tz_localize("UTC")
    bounds = [(month_index(a), month_index(b)) for a, b in (window_bounds(p, window) for p in periods)]
    prepared = _prepare(
        values,
        inds,
        units,
        lo=min(a for a, _ in bounds),
        hi=max(b for _, b in bounds),
        years=sorted({window_year(p) for p in periods}),
        arrivals=arrivals,
        now_ts=now_ts,
        due_day=due_day,
        tz=tz,
    )
    n_units = len(units)
    parts = []
    for period, (first_abs, last_abs) in zip(periods, bounds, strict=True):
        cur = _window(prepared, first_abs, last_abs, window_year(period))
        value = np.concatenate([cur.value, cur.city_value[:, None]], axis=1)
        reported = np.concatenate([cur.months_reported, cur.months_reported.sum(axis=1)[:, None]], axis=1)
        in_window = np.concatenate(
            [
                np.repeat(cur.months_in_window[:, None], n_units, axis=1),
                (cur.months_in_window * n_units)[:, None],
            ],
            axis=1,
        )
        with np.errstate(divide="ignore", invalid="ignore"):
            coverage = np.where(in_window > 0, reported / in_window, np.nan)
        parts.append((period, value.reshape(-1), coverage.reshape(-1)))
    n = len(inds) * (n_units + 1)
    coverage = np.concatenate([c for _, _, c in parts])
    return pd.DataFrame(
        {
            "unit": np.tile(np.array([*units, CITY], dtype=object), len(inds) * len(parts)),
            "indicator": np.tile(
                np.repeat(np.array([ind.code for ind in inds], dtype=object), n_units + 1), len(parts)
            ),
            "period": np.repeat(np.array([p for p, _, _ in parts], dtype=object), n),
            "value": np.concatenate([v for _, v, _ in parts]),
            "coverage": coverage,
            "incomplete": pd.arrays.BooleanArray(coverage < 1, np.isnan(coverage)),
        }
    )


def _term_total(
    terms: tuple[Term, ...], aggregates: dict[str, tuple[np.ndarray, list[str]]], n_units: int
) -> np.ndarray:
    """Σ of ``func(measure)`` terms per unit; NaN when any term is NA."""
    total = np.zeros(n_units)
    for term in terms:
        array, measures = aggregates[term.func]
        total = total + array[:, measures.index(term.measure)]
    return total


def _measures_of(ind: Indicator, funcs: tuple[str, ...]) -> list[str]:
    return list(dict.fromkeys(t.measure for t in ind.numerator + ind.denominator if t.func in funcs))


def _finish_window(
    inds: list[Indicator], num: np.ndarray, den: np.ndarray, rep: np.ndarray, miw: np.ndarray
) -> _WindowResult:
    is_ratio = np.array([i.is_ratio for i in inds])[:, None]
    is_score = np.array([i.is_score for i in inds])
    value = np.where(is_ratio, _ratio(num, den), num)
    has_value = ~np.isnan(value)
    # Pooled over the units where the ratio applies: the city as one unit.
    pooled_num = np.where(has_value, num, 0.0).sum(axis=1)
    pooled_den = np.where(has_value, den, 0.0).sum(axis=1)
    any_value = has_value.any(axis=1)
    level_sum = np.where(has_value, value, 0.0).sum(axis=1)
    level_mean = _nan_stat(np.nanmean, value, axis=1)
    ratio_rows = is_ratio[:, 0]
    city_value = np.where(
        ratio_rows, _ratio(pooled_num, pooled_den), np.where(is_score, level_mean, level_sum)
    )
    city_value = np.where(any_value, city_value, np.nan)
    city_num = np.where(ratio_rows, np.where(any_value, pooled_num, np.nan), city_value)
    city_den = np.where(ratio_rows & any_value, pooled_den, np.nan)
    return _WindowResult(
        num, np.where(is_ratio, den, np.nan), value, rep, miw, city_num, city_den, city_value
    )


def _assemble(
    inds: list[Indicator],
    units: list[str],
    period: str,
    window: Window,
    results: dict[str, _WindowResult],
    small_denominator: int,
) -> pd.DataFrame:
    cur = results["current"]
    n_ind, n_units = cur.value.shape
    is_ratio = np.array([i.is_ratio for i in inds])
    higher = np.array([i.direction == "higher" for i in inds])
    relative = np.array([i.kind == "level" for i in inds])[:, None]

    city_mean = _nan_stat(np.nanmean, cur.value, axis=1)
    city_median = _nan_stat(np.nanmedian, cur.value, axis=1)
    benchmark = np.where(is_ratio, cur.city_value, city_mean)

    # [indicator, unit + city] arrays; the city is the last column.
    def with_city(unit_part: np.ndarray, city_part: np.ndarray) -> np.ndarray:
        return np.concatenate([unit_part, city_part[:, None]], axis=1)

    value = with_city(cur.value, cur.city_value)
    numerator = with_city(cur.numerator, cur.city_numerator)
    denominator = with_city(cur.denominator, cur.city_denominator)
    months_reported = with_city(cur.months_reported, cur.months_reported.sum(axis=1))
    months_in_window = with_city(
        np.repeat(cur.months_in_window[:, None], n_units, axis=1), cur.months_in_window * n_units
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        coverage = np.where(months_in_window > 0, months_reported / months_in_window, np.nan)

    bench = benchmark[:, None]
    diff = cur.value - bench
    close = np.isclose(cur.value, bench, rtol=MEETS_RTOL, atol=0.0)
    meets = np.where(higher[:, None], cur.value >= bench, cur.value <= bench) | close
    meets_na = np.isnan(cur.value) | np.isnan(bench)
    diff = with_city(diff, np.full(n_ind, np.nan))
    meets_na = with_city(meets_na, np.ones(n_ind, dtype=bool))
    meets = with_city(meets, np.zeros(n_ind, dtype=bool))

    # Competition ranking (1, 2, 2, 4) on the exact value, best first.
    key = np.where(higher[:, None], -cur.value, cur.value)
    ranks = pd.DataFrame(key).rank(axis=1, method="min", ascending=True).to_numpy()
    ranks = with_city(ranks, np.full(n_ind, np.nan))

    def comparison(label: str) -> tuple[np.ndarray, np.ndarray]:
        previous = results.get(label)
        if previous is None:
            prev = np.full((n_ind, n_units + 1), np.nan)
        else:
            prev = with_city(previous.value, previous.city_value)
        return _change(value, prev, np.broadcast_to(relative, value.shape)), prev

    yoy, prev_year = comparison("yoy")
    pop, prev_window = comparison("pop")

    den_small = (denominator > 0) & (denominator < small_denominator)
    small_na = is_ratio[:, None] & np.isnan(denominator)
    small = np.where(is_ratio[:, None], den_small, False)

    n_rows = n_ind * (n_units + 1)

    def flat(array: np.ndarray) -> np.ndarray:
        return np.asarray(array).reshape(n_rows)

    def per_indicator(items: list) -> np.ndarray:
        return np.repeat(np.array(items, dtype=object), n_units + 1)

    def nullable_bool(data: np.ndarray, na: np.ndarray) -> pd.arrays.BooleanArray:
        return pd.arrays.BooleanArray(flat(data).astype(bool), flat(na).astype(bool))

    def broadcast(per_ind: np.ndarray) -> np.ndarray:
        return np.repeat(per_ind, n_units + 1)

    rank_flat = flat(ranks)
    frame = pd.DataFrame(
        {
            "unit": np.tile(np.array([*units, CITY], dtype=object), n_ind),
            "indicator": per_indicator([i.code for i in inds]),
            "period": period,
            "window": window,
            "value": flat(value),
            "numerator": flat(numerator),
            "denominator": flat(denominator),
            "coverage": flat(coverage),
            "months_reported": flat(months_reported).astype(np.int64),
            "months_in_window": flat(months_in_window).astype(np.int64),
            "city_value": broadcast(cur.city_value),
            "city_mean": broadcast(city_mean),
            "city_median": broadcast(city_median),
            "benchmark": broadcast(benchmark),
            "diff_benchmark": flat(diff),
            "meets_benchmark": nullable_bool(meets, meets_na),
            "rank": pd.arrays.IntegerArray(
                np.where(np.isnan(rank_flat), 0, rank_flat).astype(np.int64), np.isnan(rank_flat)
            ),
            "yoy": flat(yoy),
            "pop": flat(pop),
            "prev_year_value": flat(prev_year),
            "prev_window_value": flat(prev_window),
            "small_denominator": nullable_bool(small, small_na),
            "incomplete": nullable_bool(flat(coverage) < 1, np.isnan(flat(coverage))),
            "direction": per_indicator([i.direction for i in inds]),
            "kind": per_indicator([i.kind for i in inds]),
        }
    )
    return frame[OUTPUT_COLUMNS]
