"""Submissions, revisions, locks and the database itself, for the faces.

The dashboard and the command line never import ``store`` (or ``etl.load``, which writes to it):
they open the database, load files, list and restore revisions, lock periods and read raw values
through here. One transaction per file: the functions that write take ``*, session`` and leave the
commit to the caller, except ``load_upload`` / ``load_paths``, which commit each accepted file.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from etl import load as _load
from etl.batch import ReadAhead
from etl.load import LoadResult, ReceivedAt
from etl.records import ParsedFile
from foundation.catalogue import Catalogue
from foundation.settings import BUILT_IN, Settings
from store import db, repo

if TYPE_CHECKING:
    import pandas as pd

# --- the database ----------------------------------------------------------------------------------


def open_database(url: str) -> Engine:
    """An engine whose schema is at head (migrated first when needed): what commands use."""
    return db.open_engine(url)


def upgrade_database(url: str) -> Engine:
    """Bring the schema of ``url`` to head (``ipdash db upgrade``); returns the engine."""
    engine = db.make_engine(url)
    db.upgrade(engine)
    return engine


@lru_cache(maxsize=8)
def engine_for(url: str) -> Engine:
    """One engine per URL and process, built lazily at first use (safe with forking workers)."""
    return db.make_engine(url)


@contextmanager
def session_scope(url: str) -> Iterator[Session]:
    with Session(engine_for(url)) as session:
        yield session


def data_version(*, session: Session) -> tuple[int, int]:
    """(submissions, revisions) counts: (0, 0) means an empty database."""
    return repo.data_version(session=session)


# --- loading files ---------------------------------------------------------------------------------

expand_paths = _load.expand_paths
default_user = _load.default_user


def load_paths(
    paths: Iterable[Path],
    *,
    engine: Engine,
    submitted_by: str | None = None,
    as_unit: str | None = None,
    received_at: ReceivedAt = None,
    catalogue: Catalogue | None = None,
    region: str | None = None,
    settings: Settings = BUILT_IN,
    jobs: int | None = 1,
    reads: ReadAhead | None = None,
) -> Iterator[LoadResult]:
    """Each file in its own transaction, committed when accepted; one result per file, in order.
    ``jobs``/``reads``: files read ahead in worker processes (``etl.batch``), same results."""
    return _load.load_paths(
        paths,
        engine=engine,
        submitted_by=submitted_by,
        as_unit=as_unit,
        received_at=received_at,
        catalogue=catalogue,
        region=region,
        settings=settings,
        jobs=jobs,
        reads=reads,
    )


def check_upload(
    content: bytes,
    *,
    url: str,
    file_name: str,
    as_unit: str | None,
    region: str,
    settings: Settings = BUILT_IN,
) -> ParsedFile:
    """Validate without writing (the upload page's preview)."""
    with session_scope(url) as session:
        return _load.check_file(
            content, session=session, file_name=file_name, as_unit=as_unit, region=region, settings=settings
        )


def load_upload(
    content: bytes,
    *,
    url: str,
    file_name: str,
    submitted_by: str,
    as_unit: str | None,
    region: str,
    settings: Settings = BUILT_IN,
    username: str = "",
    address: str = "",
) -> LoadResult:
    """Validate again and save; one transaction per file, committed only when accepted. The
    audit row (who, from where, file, SHA-256, units, periods, result) commits with the data,
    or alone when the file is refused."""
    import hashlib

    from application import audit

    with session_scope(url) as session:
        try:
            result = _load.load_file(
                content,
                session=session,
                file_name=file_name,
                submitted_by=submitted_by,
                as_unit=as_unit,
                region=region,
                settings=settings,
            )
        except Exception:
            session.rollback()
            raise
        if result.status != "accepted":
            session.rollback()
        audit.record(
            "upload",
            session=session,
            username=username,
            address=address,
            outcome=result.status,
            detail={
                "file": file_name,
                "sha256": hashlib.sha256(content).hexdigest(),
                "units": result.units,
                "periods": result.periods,
                "as_unit": as_unit,
                "revisions": [list(r) for r in result.new_revisions],
                "tasks": [list(r) for r in result.tasks],  # a task ledger: task, new version
                "errors": [e.message for e in result.errors][:20],
            },
        )
        session.commit()
        return result


# --- revisions and locks ---------------------------------------------------------------------------


def list_revisions(*, session: Session, unit: str, period: str) -> list[dict[str, Any]]:
    return repo.list_revisions(session=session, unit=unit, period=period)


def restore_revision(*, session: Session, unit: str, period: str, revision_no: int, by: str) -> Any:
    """Make revision ``revision_no`` current again by writing a copy (None: no such revision)."""
    return repo.restore_revision(session=session, unit=unit, period=period, revision_no=revision_no, by=by)


def unit_revisions(*, session: Session, unit: str) -> pd.DataFrame:
    """Every stored revision of ``unit`` with its submission and warnings, newest first."""
    from store import tracking

    log = tracking.revision_log(session=session, units=[unit])
    return log.sort_values(["period", "revision_no"], ascending=False, kind="stable").reset_index(drop=True)


def locked_periods(*, session: Session, periods: Iterable[str] | None = None) -> dict[str, Any]:
    return repo.locked_periods(session=session, periods=periods)


def lock_period(*, session: Session, period: str, by: str) -> bool:
    return repo.lock_period(session=session, period=period, by=by)


def unlock_period(*, session: Session, period: str) -> bool:
    return repo.unlock_period(session=session, period=period)


# --- raw values ------------------------------------------------------------------------------------


def raw_values(
    *, session: Session, region: str | None = None, periods: list[str] | None = None
) -> pd.DataFrame:
    """Current values (unit, period, measure, value): the raw-data export and the demo's summary."""
    from store import queries

    return queries.current_values(session=session, region=region, periods=periods)
