"""Thin data access for the dashboard: one engine per database URL, one Session per callback.

Figures come from ``application.service`` (which caches on a data-version token); the few plain
store lookups the screens need (which months have data, who reported, a unit's submissions) are
small SELECTs here, cached on the same token. Nothing per user is kept in process memory: the
caches hold only results any user would get for the same arguments, so several gunicorn
workers can serve the app.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import flask
import pandas as pd
from sqlmodel import Session

from application import service, submissions
from application.submissions import LoadResult
from etl.records import ParsedFile
from foundation.cache import LruCache
from foundation.calendar import Window, month_index, shift_month
from foundation.catalogue import default_catalogue
from foundation.settings import Settings, get_settings
from indicators.scoring import ScoreResult

CONFIG_KEY = "IPDASH_DATABASE_URL"
SETTINGS_KEY = "IPDASH_SETTINGS"
T = TypeVar("T")
# Trends and sparklines draw up to two years.
MAX_MONTHS = 24


def settings() -> Settings:
    """The settings the running app was created with (the app factory reads the environment once
    and keeps them in the Flask config); outside an app, the process's settings."""
    if flask.has_app_context():
        configured = flask.current_app.config.get(SETTINGS_KEY)
        if configured is not None:
            return configured
    return get_settings()


def database_url() -> str:
    """The URL the running app was created with (Flask config), else the settings' default."""
    if flask.has_app_context():
        url = flask.current_app.config.get(CONFIG_KEY)
        if url:
            return str(url)
    return settings().database_url


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    with submissions.session_scope(url or database_url()) as session:
        yield session


# --- a small cache for the store lookups, keyed on the data version --------------------------------

_cache: LruCache[Any] = LruCache(256)


def _cached(session: Session, key: tuple, compute: Callable[[], T]) -> T:
    return _cache.get_or_compute((database_url(), service.data_version(session=session), *key), compute)


# --- what the pages ask for ----------------------------------------------------------------------


def indicator_table(*, region: str, period: str, window: Window) -> pd.DataFrame:
    with session_scope() as session:
        return service.indicator_table(
            session=session, region=region, period=period, window=window, settings=settings()
        )


def score_table(*, region: str, period: str, window: Window) -> ScoreResult:
    with session_scope() as session:
        return service.score_table(
            session=session, region=region, period=period, window=window, settings=settings()
        )


def available_months(region: str) -> list[str]:
    """Months (YYYY-MM) for which any unit of ``region`` has a current return, newest first."""
    with session_scope() as session:
        return service.available_months(session=session, region=region)


def latest_month(region: str) -> str | None:
    months = available_months(region)
    return months[0] if months else None


def reported_units(region: str, period: str) -> set[str]:
    """Units of ``region`` with a current return for ``period``."""
    with session_scope() as session:
        return service.reported_units(session=session, region=region, period=period)


def monthly_tables(*, region: str, end: str, window: Window, months: int) -> pd.DataFrame:
    """The service's full indicator table for each of the ``months`` windows ending at ``end``
    and the months before it, stacked with a ``period`` column. Whole tables, not one
    indicator, so every trend and sparkline reuses the same results; the stack itself is cached
    too (one version check instead of one per month)."""
    ends = [shift_month(end, -i) for i in range(months - 1, -1, -1)]
    with session_scope() as session:

        def compute() -> pd.DataFrame:
            frames = [
                service.indicator_table(
                    session=session, region=region, period=month, window=window, settings=settings()
                )[["unit", "indicator", "value"]].assign(period=month)
                for month in ends
            ]
            return pd.concat(frames, ignore_index=True)[["indicator", "unit", "period", "value"]]

        return _cached(session, ("monthly", region, end, window, months), compute).copy()


def trend(*, region: str, indicator: str, end: str, window: Window, months: int) -> pd.DataFrame:
    """``unit, period, value, incomplete`` of one indicator for every unit and the city, month by
    month (``incomplete``: the window misses a month of the unit, as the engine flags it).

    Only that indicator is computed, for all the months in one pass (``service.indicator_series``:
    a national region's 24 months × 2 windows took seconds as 48 separate tables)."""
    ends = [shift_month(end, -i) for i in range(months - 1, -1, -1)]
    with session_scope() as session:
        series = service.indicator_series(
            session=session,
            region=region,
            periods=ends,
            window=window,
            indicators=[indicator],
            settings=settings(),
        )
    return series[["unit", "period", "value", "incomplete"]]


def unit_revisions(unit: str) -> pd.DataFrame:
    """Every stored revision of ``unit`` with its submission and warnings, newest first."""
    with session_scope() as session:
        return submissions.unit_revisions(session=session, unit=unit)


def check_upload(content: bytes, *, file_name: str, as_unit: str | None, region: str) -> ParsedFile:
    """Validate without writing (the preview)."""
    return submissions.check_upload(
        content, url=database_url(), file_name=file_name, as_unit=as_unit, region=region, settings=settings()
    )


def load_upload(
    content: bytes,
    *,
    file_name: str,
    submitted_by: str,
    as_unit: str | None,
    region: str,
    username: str = "",
    address: str = "",
) -> LoadResult:
    """Validate again and save; one transaction per file, committed only when accepted."""
    return submissions.load_upload(
        content,
        url=database_url(),
        file_name=file_name,
        submitted_by=submitted_by,
        as_unit=as_unit,
        region=region,
        settings=settings(),
        username=username,
        address=address,
    )


def clean_indicator(value: str | None) -> str:
    """``value`` when it is a known indicator, else the catalogue's first (the default view)."""
    cat = default_catalogue()
    return value if value in cat.indicators else next(iter(cat.indicators))


def months_back(region: str, period: str) -> int:
    """How many months a trend draws: up to two years, not before the first month with data."""
    months = available_months(region)
    if not months:
        return 1
    span = month_index(period) - month_index(months[-1]) + 1
    return max(1, min(MAX_MONTHS, span))


def warm_up(region: str) -> None:
    """Compute what a Monday-morning visit asks first — the latest month's indicators and scores,
    and the trends — so the first leader to open the dashboard does not wait for the region-wide
    read (seconds at national scale). Called in a background thread by ``serve``."""
    period = latest_month(region)
    if period is None:
        return
    score_table(region=region, period=period, window="ytd")
    n = months_back(region, period)
    for window in ("month", "ytd"):
        trend(region=region, indicator=clean_indicator(None), end=period, window=window, months=n)
