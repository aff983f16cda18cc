"""The application layer: the one place that reads the store and runs the indicator engine.

The CLI, the dashboard and the exports call these functions; they never query the store and call
``indicators/`` themselves, so every screen and file shows the same figures.

Cache: results are kept in-process (LRU, ``CACHE_SIZE`` entries, thread-safe) under a key made of
the database URL, a cheap data-version token (the highest ``revision`` id — revisions are
append-only — plus count and sum of ``unit_target``: any accepted upload, restore or target
change alters it), the arguments, the
settings the engine reads and — when no ``as_of`` is given — today's date in the settings' time
zone (returns become due at local midnight, which changes ``timeliness_rate``). A dashboard
callback repeating a query therefore costs one tiny SQL query. Callers get a copy and may modify
it. ``clear_cache()`` empties it (tests, or after editing data outside the application).
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlmodel import Session, col

from application.snapshots import Snapshot, SnapshotStore, decode, encode, snapshot_key
from foundation.cache import LruCache
from foundation.calendar import Window, periods_needed
from foundation.catalogue import Catalogue, default_catalogue
from foundation.i18n import t
from foundation.settings import BUILT_IN, Settings
from indicators.engine import DenseArrivals, DenseValues, compute_indicators, compute_series
from indicators.scoring import Scheme, ScoreResult, score_units
from store import queries
from store.models import Revision, Unit

CACHE_SIZE = 64
# Region-wide value frames (all periods; categorical columns) shared by every window's
# computation: the national store is 3.5 M rows, read once per data version instead of once per
# window (the dashboard's trends ask for 48 windows).
VALUES_CACHE_SIZE = 8  # value and arrival frames of a few regions / as-of times

_cache: LruCache[Any] = LruCache(CACHE_SIZE)
_lock = threading.Lock()  # guards _live
T = TypeVar("T")


_values_cache: LruCache[pd.DataFrame] = LruCache(VALUES_CACHE_SIZE)


def clear_cache() -> None:
    _cache.clear()
    _values_cache.clear()
    with _lock:
        _live.clear()


def _shared_frame(key: tuple, compute: Callable[[], pd.DataFrame]) -> pd.DataFrame:
    """A region-wide frame from the small cache, computed on a miss; shared, not copied."""
    return _values_cache.get_or_compute(key, compute)


# The current (not as-of) values and arrivals of each region, kept live: when revisions were
# added since the frames were read, only the unit-months those revisions touch are read again and
# swapped in (every change of a current value is a new revision with a higher id: uploads and
# restores alike). After an upload on the national store that is milliseconds, not a 3.5 M-row read.
# The indicator views compute from the dense arrays (engine.DenseValues/DenseArrivals): a refresh
# rewrites the changed months' arrays; the long frames are patched only when someone asks for them.
_live: dict[tuple[str, str], _Live] = {}


class _Patched:
    """A long frame (unit and period columns) given as ``base`` with the rows of the unit-months
    ``pairs`` replaced by ``fresh``; built (``frame()``) only when first asked for, then kept."""

    def __init__(
        self,
        base: pd.DataFrame,
        pairs: frozenset[tuple[str, str]] = frozenset(),
        fresh: pd.DataFrame | None = None,
        *,
        categorical: bool = False,
    ) -> None:
        self._base, self._pairs, self._fresh, self._categorical = base, pairs, fresh, categorical
        self._frame: pd.DataFrame | None = base if fresh is None else None
        self._lock = threading.Lock()

    def frame(self) -> pd.DataFrame:
        with self._lock:
            if self._frame is None:
                assert self._fresh is not None
                base, pairs, fresh = self._base, set(self._pairs), self._fresh
                if self._categorical:
                    self._frame = _replace_rows(base, ~_in_pairs(base["unit"], base["period"], pairs), fresh)
                else:
                    units, periods = sorted({u for u, _ in pairs}), sorted({p for _, p in pairs})
                    kept = base[~_pairs_mask(base, pairs, units, periods)]
                    self._frame = pd.concat([kept, fresh], ignore_index=True)
                self._pairs, self._fresh = frozenset(), None
            return self._frame

    def patched(self, pairs: set[tuple[str, str]], fresh: pd.DataFrame) -> _Patched:
        """This frame with the rows of ``pairs`` replaced by ``fresh`` (both applied lazily)."""
        with self._lock:
            built, base, old_pairs, old_fresh = self._frame, self._base, self._pairs, self._fresh
        if built is not None:
            return _Patched(built, frozenset(pairs), fresh, categorical=self._categorical)
        assert old_fresh is not None
        units, periods = sorted({u for u, _ in pairs}), sorted({p for _, p in pairs})
        older = old_fresh[~_pairs_mask(old_fresh, pairs, units, periods)]
        merged = pd.concat([older, fresh], ignore_index=True) if len(older) else fresh
        return _Patched(base, old_pairs | pairs, merged, categorical=self._categorical)


class _Live:
    """The current values and arrivals of one region as of revision ``last_id``: the long frames
    and their dense arrays (``engine.DenseValues``/``DenseArrivals``, what the indicator views
    compute from).

    Each is built when first asked for. A refresh after an upload writes the changed unit-months
    into copies of the changed months' arrays (milliseconds) and only notes them for the frames
    (the values frame, 3.5 M rows at national scale, is rebuilt only if something asks for it: a
    snapshot, ``region_values``). Never modified once shared: a refresh makes a new one."""

    def __init__(
        self,
        last_id: int,
        values: _Patched,
        arrivals: _Patched,
        dense: tuple[DenseValues, DenseArrivals] | None = None,
    ) -> None:
        self.last_id = last_id
        self._values, self._arrivals, self._dense = values, arrivals, dense
        self._lock = threading.Lock()

    def values(self) -> pd.DataFrame:
        return self._values.frame()

    def arrivals(self) -> pd.DataFrame:
        return self._arrivals.frame()

    def dense(self) -> tuple[DenseValues, DenseArrivals]:
        with self._lock:
            dense = self._dense
        if dense is None:
            dense = DenseValues.from_frame(self.values()), DenseArrivals.from_frame(self.arrivals())
            with self._lock:
                self._dense = dense
        return dense

    def refreshed(
        self,
        last_id: int,
        pairs: set[tuple[str, str]],
        fresh: pd.DataFrame,
        fresh_arrivals: pd.DataFrame,
    ) -> _Live:
        """This region after revisions up to ``last_id``, which replaced the rows of ``pairs``
        (unit, period) by ``fresh`` and their arrivals by ``fresh_arrivals`` (str columns)."""
        with self._lock:
            dense = self._dense
        new_dense = None
        if dense is not None:
            values, arrivals = dense[0].replaced(pairs, fresh), dense[1].replaced(pairs, fresh_arrivals)
            new_dense = (values, arrivals) if values is not None and arrivals is not None else None
        return _Live(
            last_id,
            self._values.patched(pairs, fresh),
            self._arrivals.patched(pairs, fresh_arrivals),
            new_dense,
        )

    @classmethod
    def read(cls, last_id: int, values: pd.DataFrame, arrivals: pd.DataFrame) -> _Live:
        return cls(last_id, _Patched(values, categorical=True), _Patched(arrivals))


def _last_revision_id(session: Session) -> int:
    # max() of the primary key is an index look-up; a count(*) would scan the table on every call.
    return int(session.connection().execute(select(func.max(Revision.id))).scalar() or 0)


def _live_region(session: Session, region: str) -> _Live:
    key = (_database_key(session), region)
    max_id = _last_revision_id(session)
    with _lock:
        cached = _live.get(key)
    if cached is not None and cached.last_id == max_id:
        return cached
    if cached is None:  # a new process: start from a snapshot of this database, when there is one
        cached = _from_snapshot(session, region, max_id)
        if cached is not None and cached.last_id == max_id:
            with _lock:
                _live[key] = cached
            return cached
    if cached is not None and max_id > cached.last_id:
        live = _refresh(session, region, max_id, cached)
        if max_id - _snapshot_ids.get(key, cached.last_id) >= SNAPSHOT_LAG:
            _save_snapshot(session, region, max_id, live.values(), live.arrivals())
    else:  # first read, or the database was replaced (ids went back): read it all
        values = queries.current_values(session=session, region=region, categorical=True)
        arrivals = queries.arrivals(session=session, region=region)
        _save_snapshot(session, region, max_id, values, arrivals)
        live = _Live.read(max_id, values, arrivals)
    with _lock:
        _live[key] = live
    return live


# --- snapshots of the live frames (application.snapshots) -------------------------------------------
# Off unless an edge calls use_snapshots() (the dashboard's factory, with IPDASH_SNAPSHOT_DIR). A
# snapshot is rewritten after a full read and when it lags SNAPSHOT_LAG revisions behind.
SNAPSHOT_LAG = 500
_snapshots: SnapshotStore | None = None
_snapshot_ids: dict[tuple[str, str], int] = {}


def use_snapshots(store: SnapshotStore | None) -> None:
    """Where this process keeps and finds snapshots of the live frames (None: nowhere)."""
    global _snapshots
    _snapshots = store
    _snapshot_ids.clear()


def _revision_marker(session: Session, revision_id: int) -> str | None:
    """The creation time of revision ``revision_id``: with the id, what tells this database's
    history from another's (revisions are append-only, so it never changes)."""
    if revision_id == 0:
        return ""
    found = (
        session.connection()
        .execute(select(col(Revision.created_at)).where(col(Revision.id) == revision_id))
        .scalar()
    )
    return None if found is None else pd.Timestamp(found).isoformat()


def _units_digest(session: Session, region: str) -> str:
    codes = sorted(
        c for (c,) in session.connection().execute(select(col(Unit.code)).where(col(Unit.region) == region))
    )
    return hashlib.sha256("\n".join(codes).encode()).hexdigest()


def _from_snapshot(session: Session, region: str, max_id: int) -> _Live | None:
    store = _snapshots
    if store is None:
        return None
    data = store.get(snapshot_key(_database_key(session), region))
    found = decode(data) if data is not None else None
    if (
        found is None
        or found.last_id > max_id
        or found.marker != _revision_marker(session, found.last_id)
        or found.units != _units_digest(session, region)
    ):
        return None  # none, or of another database or catalogue: a full read
    _snapshot_ids[(_database_key(session), region)] = found.last_id
    return _Live.read(found.last_id, found.values, found.arrivals)


def _save_snapshot(
    session: Session, region: str, last_id: int, values: pd.DataFrame, arrivals: pd.DataFrame
) -> None:
    store = _snapshots
    marker = _revision_marker(session, last_id) if store is not None else None
    if store is None or marker is None:
        return
    snapshot = Snapshot(last_id, marker, _units_digest(session, region), values, arrivals)
    try:
        store.set(snapshot_key(_database_key(session), region), encode(snapshot))
    except OSError:  # a snapshot is a shortcut; failing to write one changes no figure
        logging.getLogger(__name__).warning("could not write a snapshot of %s", region, exc_info=True)
        return
    _snapshot_ids[(_database_key(session), region)] = last_id


def _refresh(session: Session, region: str, last_id: int, live: _Live) -> _Live:
    """``live`` with the unit-months revised after its revision read again."""
    since = live.last_id
    pairs = queries.revised_pairs(session=session, region=region, since_revision=since)
    units = sorted({u for u, _ in pairs})
    periods = sorted({p for _, p in pairs})
    fresh = queries.current_values(session=session, region=region, since_revision=since)
    fresh = fresh[_pairs_mask(fresh, pairs, units, periods)]
    new_arrivals = queries.arrivals(session=session, region=region, units=units, periods=periods)
    new_arrivals = new_arrivals[_pairs_mask(new_arrivals, pairs, units, periods)]
    return live.refreshed(last_id, pairs, fresh, new_arrivals)


def _pairs_mask(
    frame: pd.DataFrame, pairs: set[tuple[str, str]], units: list[str], periods: list[str]
) -> np.ndarray:
    """Rows of ``frame`` (str unit and period columns) whose (unit, period) is in ``pairs``: the
    few candidate rows found with vectorised look-ups first, then checked pair by pair."""
    mask = np.zeros(len(frame), dtype=bool)
    candidates = np.flatnonzero((frame["unit"].isin(units) & frame["period"].isin(periods)).to_numpy())
    if len(candidates):
        unit_col, period_col = frame["unit"].to_numpy(), frame["period"].to_numpy()
        mask[candidates] = [(unit_col[i], period_col[i]) in pairs for i in candidates]
    return mask


def _in_pairs(unit: pd.Series, period: pd.Series, pairs: set[tuple[str, str]]) -> np.ndarray:
    """Rows whose (unit, period) is in ``pairs``, on the categorical codes (no strings built)."""
    ucats, pcats = unit.cat.categories, period.cat.categories
    wanted = [ucats.get_loc(u) * len(pcats) + pcats.get_loc(p) for u, p in pairs if u in ucats and p in pcats]
    codes = unit.cat.codes.to_numpy(dtype=np.int64) * len(pcats) + period.cat.codes.to_numpy(dtype=np.int64)
    return np.isin(codes, wanted)


def _replace_rows(old: pd.DataFrame, keep: np.ndarray, new: pd.DataFrame) -> pd.DataFrame:
    """The rows of ``old`` (categorical columns) where ``keep``, then ``new`` (str columns), staying
    categorical: built from the integer codes, one pass per column, no intermediate frames."""
    parts: dict[str, Any] = {}
    for column in ("unit", "period", "measure"):
        cats = old[column].cat.categories
        extra = pd.Index(new[column].unique()).difference(cats)
        categories = cats.append(extra) if len(extra) else cats
        codes = np.concatenate(
            [old[column].cat.codes.to_numpy()[keep], categories.get_indexer(new[column])]
        ).astype(np.int64)
        parts[column] = pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(categories))
    parts["value"] = np.concatenate([old["value"].to_numpy()[keep], new["value"].to_numpy(dtype=np.float64)])
    return pd.DataFrame(parts)


def region_values(*, session: Session, region: str, as_of: datetime | None = None) -> pd.DataFrame:
    """Every current value of ``region`` (or as current at ``as_of``), categorical columns.

    Read-only for callers: it is shared, not copied (slicing it makes new frames anyway).
    """
    as_of = _as_of_utc(as_of)
    if as_of is None:
        return _live_region(session, region).values()
    key = ("values", _database_key(session), data_version(session=session), region, as_of)
    return _shared_frame(
        key, lambda: queries.current_values(session=session, region=region, as_of=as_of, categorical=True)
    )


def region_arrivals(*, session: Session, region: str, as_of: datetime | None = None) -> pd.DataFrame:
    """First arrival of each unit-month of ``region`` (for timeliness)."""
    as_of = _as_of_utc(as_of)
    if as_of is None:
        return _live_region(session, region).arrivals()

    def compute() -> pd.DataFrame:
        frame = queries.arrivals(session=session, region=region)
        return frame[frame["first_received_at"] <= pd.Timestamp(as_of)]

    return _shared_frame(
        ("arrivals", _database_key(session), data_version(session=session), region, as_of), compute
    )


def _cached(key: tuple, compute: Callable[[], T], copy: Callable[[T], T]) -> T:
    return copy(_cache.get_or_compute(key, compute))


def data_version(*, session: Session) -> tuple:
    """A token that changes whenever revisions or unit targets change.

    Revisions are append-only (a restore is a new revision too), so the highest revision id
    changes with every change of a current value; targets are a small table, counted and summed
    whole, plus the last target save in the audit log (an upsert may keep count and sum).
    """
    from application.versions import targets_token

    return (_last_revision_id(session), *targets_token(session))


def _database_key(session: Session) -> str:
    bind = session.get_bind()
    return bind.url.render_as_string(hide_password=True)  # type: ignore[union-attr]


def region_units(region: str, catalogue: Catalogue | None = None) -> list[str]:
    """Unit codes of ``region`` in catalogue order; ValueError for an unknown region."""
    cat = catalogue or default_catalogue()
    units = [u.code for u in cat.units_of(region)]
    if not units:
        raise ValueError(t("cli.unknown_region", value=region))
    return units


def _as_of_utc(as_of: datetime | None) -> datetime | None:
    if as_of is None:
        return None
    return as_of.replace(tzinfo=UTC) if as_of.tzinfo is None else as_of.astimezone(UTC)


def _common_key(
    session: Session, region: str, period: str, window: str, as_of: datetime | None, settings: Settings
) -> tuple:
    today = None if as_of is not None else pd.Timestamp.now(tz=settings.timezone).date().isoformat()
    return (
        _database_key(session),
        data_version(session=session),
        region,
        period,
        window,
        as_of.isoformat() if as_of else None,
        today,
        settings.due_day,
        settings.timezone,
        settings.small_denominator,
    )


def indicator_table(
    *,
    session: Session,
    region: str,
    period: str,
    window: Window = "ytd",
    as_of: datetime | None = None,
    catalogue: Catalogue | None = None,
    indicators: Sequence[str] | None = None,
    settings: Settings = BUILT_IN,
) -> pd.DataFrame:
    """Every indicator for every unit of ``region`` plus the ``city`` row (engine output columns).

    Reads exactly the months (and years) the current, 同比 and 环比 windows need, as current now or
    at ``as_of`` (then arrivals after ``as_of`` are ignored and "now" is ``as_of``).
    """
    cat = catalogue or default_catalogue()
    as_of = _as_of_utc(as_of)
    key = (
        "indicators",
        *_common_key(session, region, period, window, as_of, settings),
        id(cat) if catalogue is not None else None,
        tuple(indicators) if indicators is not None else None,
    )

    def compute() -> pd.DataFrame:
        units = region_units(region, cat)
        values: pd.DataFrame | DenseValues
        arrivals: pd.DataFrame | DenseArrivals
        if as_of is None:  # the region's dense arrays: the engine slices what it needs
            values, arrivals = _live_region(session, region).dense()
        else:
            everything = region_values(session=session, region=region, as_of=as_of)
            keep = everything["period"].isin(periods_needed(period, window))
            if indicators is not None:
                # Only the measures those indicators read: a trend of one indicator over a national
                # region then hands the engine thousands of rows per month, not millions.
                wanted = {m for code in indicators for m in cat.indicators[code].measures}
                keep &= everything["measure"].isin(sorted(wanted))
            values = everything[keep]
            arrivals = region_arrivals(session=session, region=region, as_of=as_of)
        return compute_indicators(
            values,
            catalogue=cat,
            units=units,
            period=period,
            window=window,
            arrivals=arrivals,
            due_day=settings.due_day,
            tz=settings.timezone,
            small_denominator=settings.small_denominator,
            indicators=indicators,
            now=as_of or datetime.now(UTC),
        )

    return _cached(key, compute, lambda frame: frame.copy())


def indicator_series(
    *,
    session: Session,
    region: str,
    periods: Sequence[str],
    window: Window,
    indicators: Sequence[str],
    catalogue: Catalogue | None = None,
    settings: Settings = BUILT_IN,
) -> pd.DataFrame:
    """A trend: ``value``, ``coverage`` and ``incomplete`` of ``indicators`` for every unit of
    ``region`` and the city over ``window`` ending at each of ``periods`` (current values) —
    per period what ``indicator_table`` gives, computed in one pass (``engine.compute_series``):
    the 48 windows of a national trend read the region's frames once, not 48 times."""
    cat = catalogue or default_catalogue()
    key = (
        "series",
        *_common_key(session, region, ",".join(periods), window, None, settings),
        id(cat) if catalogue is not None else None,
        tuple(indicators),
    )

    def compute() -> pd.DataFrame:
        values, arrivals = _live_region(session, region).dense()
        return compute_series(
            values,
            catalogue=cat,
            units=region_units(region, cat),
            periods=periods,
            window=window,
            indicators=indicators,
            arrivals=arrivals,
            due_day=settings.due_day,
            tz=settings.timezone,
            now=datetime.now(UTC),
        )

    return _cached(key, compute, lambda frame: frame.copy())


def score_table(
    *,
    session: Session,
    region: str,
    period: str,
    window: Window = "ytd",
    scheme: Scheme | None = None,
    as_of: datetime | None = None,
    catalogue: Catalogue | None = None,
    settings: Settings = BUILT_IN,
) -> ScoreResult:
    """The composite score and rank of every unit of ``region`` under ``scheme`` (default: the
    analysts' chosen default scheme, else the shipped one — ``application.schemes``)."""
    from application.schemes import current_scheme

    cat = catalogue or default_catalogue()
    scheme = scheme or current_scheme(session=session, catalogue=cat)
    as_of = _as_of_utc(as_of)
    key = (
        "score",
        *_common_key(session, region, period, window, as_of, settings),
        id(cat) if catalogue is not None else None,
        scheme,
    )

    def compute() -> ScoreResult:
        frame = indicator_table(
            session=session,
            region=region,
            period=period,
            window=window,
            as_of=as_of,
            catalogue=catalogue,
            settings=settings,
        )
        targets = queries.unit_targets(session=session, region=region)
        return score_units(frame, scheme, targets=targets, year=int(period[:4]))

    def copy(result: ScoreResult) -> ScoreResult:
        return ScoreResult(result.composite.copy(), result.detail.copy(), result.scheme)

    return _cached(key, compute, copy)


def available_months(*, session: Session, region: str) -> list[str]:
    """Months (YYYY-MM) with a current return of any unit of ``region``, newest first."""
    key = ("months", _database_key(session), data_version(session=session), region)
    return _cached(key, lambda: queries.months_with_data(session=session, region=region), list)


def reported_units(*, session: Session, region: str, period: str) -> set[str]:
    """Units of ``region`` with a current return for ``period``."""
    key = ("reported", _database_key(session), data_version(session=session), region, period)
    return _cached(key, lambda: queries.units_reported(session=session, region=region, period=period), set)


def raw_values(
    *,
    session: Session,
    region: str,
    periods: Sequence[str] | None = None,
    units: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> pd.DataFrame:
    """The raw values (unit, period, measure, value) behind a document's figures, as current at ``as_of``."""
    return queries.current_values(session=session, region=region, periods=periods, units=units, as_of=as_of)


def revision_log(
    *, session: Session, region: str, periods: Sequence[str] | None = None, units: Sequence[str] | None = None
) -> pd.DataFrame:
    """Every revision of those unit-periods with its submission (a document's 修订记录)."""
    from store.tracking import revision_log as log

    return log(session=session, region=region, periods=periods, units=units)


def data_cutoff(*, session: Session, as_of: datetime | None = None) -> datetime | None:
    """The latest submission an output is based on (exports name it beside the scheme)."""
    return queries.latest_submission_time(session=session, as_of=as_of)


def submission_status(
    *,
    session: Session,
    region: str,
    months: Sequence[str],
    now: datetime | None = None,
    as_of: datetime | None = None,
    catalogue: Catalogue | None = None,
    settings: Settings = BUILT_IN,
) -> tuple[pd.DataFrame, dict, str | None]:
    """The submission tracker for ``months`` of ``region``: (tracker table, locks, latest due
    month), as things stood at ``as_of`` (default: now). ``ipdash status`` and 报送情况 both ask here."""
    from application.tracker import tracker_table
    from foundation.calendar import latest_due_month
    from store import repo
    from store.tracking import revision_log

    at = now or as_of or datetime.now(UTC)
    log = revision_log(session=session, region=region, periods=list(months), as_of=as_of)
    locks = repo.locked_periods(session=session)
    table = tracker_table(
        log,
        units=region_units(region, catalogue),
        months=list(months),
        now=at,
        due_day=settings.due_day,
        tz=settings.timezone,
        locked=locks,
    )
    return (
        table,
        locks,
        latest_due_month(list(months), now=at, due_day=settings.due_day, tz=settings.timezone),
    )
