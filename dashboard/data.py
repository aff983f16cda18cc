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
from functools import lru_cache
from typing import Any, TypeVar

import flask
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from application import service
from etl.load import LoadResult, check_file, load_file
from etl.records import ParsedFile
from foundation.cache import LruCache
from foundation.settings import get_settings
from indicators.scoring import ScoreResult
from indicators.windows import Window, shift_month
from store.db import make_engine
from store.models import Revision, Unit

CONFIG_KEY = "IPDASH_DATABASE_URL"
T = TypeVar("T")


def database_url() -> str:
    """The URL the running app was created with (Flask config), else the settings' default."""
    if flask.has_app_context():
        url = flask.current_app.config.get(CONFIG_KEY)
        if url:
            return str(url)
    return get_settings().database_url


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    # Built lazily, at the first request of each process: safe with gunicorn's forking workers.
    return make_engine(url)


@contextmanager
def session_scope(url: str | None = None) -> Iterator[Session]:
    with Session(engine_for(url or database_url())) as session:
        yield session


# --- a small cache for the store lookups, keyed on the data version --------------------------------

_cache: LruCache[Any] = LruCache(256)


def _cached(session: Session, key: tuple, compute: Callable[[], T]) -> T:
    return _cache.get_or_compute((database_url(), service.data_version(session=session), *key), compute)


# --- what the pages ask for ----------------------------------------------------------------------


def indicator_table(*, region: str, period: str, window: Window) -> pd.DataFrame:
    with session_scope() as session:
        return service.indicator_table(session=session, region=region, period=period, window=window)


def score_table(*, region: str, period: str, window: Window) -> ScoreResult:
    with session_scope() as session:
        return service.score_table(session=session, region=region, period=period, window=window)


def available_months(region: str) -> list[str]:
    """Months (YYYY-MM) for which any unit of ``region`` has a current return, newest first."""
    with session_scope() as session:

        def compute() -> list[str]:
            stmt = (
                select(Revision.period)
                .distinct()
                .join(Unit, Unit.code == Revision.unit_code)
                .where(Unit.region == region, Revision.is_current, func.length(Revision.period) == 7)
            )
            return sorted((row[0] for row in session.connection().execute(stmt)), reverse=True)

        return list(_cached(session, ("months", region), compute))


def latest_month(region: str) -> str | None:
    months = available_months(region)
    return months[0] if months else None


def reported_units(region: str, period: str) -> set[str]:
    """Units of ``region`` with a current return for ``period``."""
    with session_scope() as session:

        def compute() -> frozenset[str]:
            stmt = (
                select(Revision.unit_code)
                .join(Unit, Unit.code == Revision.unit_code)
                .where(Unit.region == region, Revision.is_current, Revision.period == period)
            )
            return frozenset(row[0] for row in session.connection().execute(stmt))

        return set(_cached(session, ("reported", region, period), compute))


def monthly_tables(*, region: str, end: str, window: Window, months: int) -> pd.DataFrame:
    """The service's full indicator table for each of the ``months`` windows ending at ``end``
    and the months before it, stacked with a ``period`` column. Whole tables, not one
    indicator, so every trend and sparkline reuses the same results; the stack itself is cached
    too (one version check instead of one per month)."""
    ends = [shift_month(end, -i) for i in range(months - 1, -1, -1)]
    with session_scope() as session:

        def compute() -> pd.DataFrame:
            frames = [
                service.indicator_table(session=session, region=region, period=month, window=window)[
                    ["unit", "indicator", "value"]
                ].assign(period=month)
                for month in ends
            ]
            return pd.concat(frames, ignore_index=True)[["indicator", "unit", "period", "value"]]

        return _cached(session, ("monthly", region, end, window, months), compute).copy()


def trend(*, region: str, indicator: str, end: str, window: Window, months: int) -> pd.DataFrame:
    """``unit, period, value`` of one indicator for every unit and the city, month by month.

    Only that indicator is computed for each month (a national region's 24 months × 2 windows
    of every indicator would take seconds after each upload); the service caches each month."""
    ends = [shift_month(end, -i) for i in range(months - 1, -1, -1)]
    with session_scope() as session:

        def compute() -> pd.DataFrame:
            frames = [
                service.indicator_table(
                    session=session, region=region, period=month, window=window, indicators=[indicator]
                )[["unit", "value"]].assign(period=month)
                for month in ends
            ]
            return pd.concat(frames, ignore_index=True)[["unit", "period", "value"]]

        return _cached(session, ("trend", region, indicator, end, window, months), compute).copy()


def unit_revisions(unit: str) -> pd.DataFrame:
    """Every stored revision of ``unit`` with its submission and warnings, newest first."""
    from store.tracking import revision_log

    with session_scope() as session:
        log = revision_log(session=session, units=[unit])
    return log.sort_values(["period", "revision_no"], ascending=False, kind="stable").reset_index(drop=True)


def check_upload(content: bytes, *, file_name: str, as_unit: str | None, region: str) -> ParsedFile:
    """Validate without writing (the preview)."""
    with session_scope() as session:
        return check_file(content, session=session, file_name=file_name, as_unit=as_unit, region=region)


def load_upload(
    content: bytes, *, file_name: str, submitted_by: str, as_unit: str | None, region: str
) -> LoadResult:
    """Validate again and save; one transaction per file, committed only when accepted."""
    with session_scope() as session:
        try:
            result = load_file(
                content,
                session=session,
                file_name=file_name,
                submitted_by=submitted_by,
                as_unit=as_unit,
                region=region,
            )
        except Exception:
            session.rollback()
            raise
        if result.status == "accepted":
            session.commit()
        else:
            session.rollback()
        return result


def warm_up(region: str) -> None:
    """Compute what a Monday-morning visit asks first — the latest month's indicators and scores,
    and the trends — so the first leader to open the dashboard does not wait for the region-wide
    read (seconds at national scale). Called in a background thread by ``serve``."""
    from dashboard.pages.trends import clean_indicator, months_back

    period = latest_month(region)
    if period is None:
        return
    score_table(region=region, period=period, window="ytd")
    n = months_back(region, period)
    for window in ("month", "ytd"):
        trend(region=region, indicator=clean_indicator(None), end=period, window=window, months=n)  # type: ignore[arg-type]
