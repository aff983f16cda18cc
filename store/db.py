"""Engines and schema upgrades. Only entry points (CLI, server start-up) call these."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlmodel import Session, create_engine

if TYPE_CHECKING:  # Alembic is imported when a schema is checked or migrated
    from alembic.config import Config

_HERE = Path(__file__).parent
SQLITE_BUSY_SECONDS = 60.0
_MIGRATION_LOCK_KEY = 0x1D_DA54_0001  # pg_advisory_lock key of schema upgrades


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (the edge that calls this read it from its settings)."""
    if url.startswith("sqlite"):
        # Writers queue on SQLite's single write lock (see repo.lock_unit_periods): wait up to
        # SQLITE_BUSY_SECONDS for it rather than pysqlite's 5 s default.
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_SECONDS})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001 - DB-API objects
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        return engine
    return create_engine(url, pool_pre_ping=True)


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_HERE / "migrations"))
    cfg.set_main_option("sqlalchemy.url", engine.url.render_as_string(hide_password=False))
    cfg.attributes["engine"] = engine
    return cfg


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def upgrade(engine: Engine) -> None:
    """Apply every pending migration, then sync the catalogue (units, measures).

    Many processes may start on a brand-new database at once (17 uploads, several gunicorn
    workers): one of them migrates while the others wait on a lock, then find the schema at
    head. PostgreSQL: a session advisory lock; SQLite: an exclusive file lock beside the file.
    """
    from alembic import command

    from store.catalogue_sync import sync_catalogue

    with _migration_lock(engine):
        if current_revision(engine) != head_revision(engine):
            command.upgrade(alembic_config(engine), "head")
        with Session(engine) as session:
            sync_catalogue(session=session)
            session.commit()


@contextmanager
def _migration_lock(engine: Engine) -> Iterator[None]:
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.exec_driver_sql(f"SELECT pg_advisory_lock({_MIGRATION_LOCK_KEY})")
            conn.commit()
            try:
                yield
            finally:
                conn.exec_driver_sql(f"SELECT pg_advisory_unlock({_MIGRATION_LOCK_KEY})")
                conn.commit()
        return
    database = engine.url.database if engine.dialect.name == "sqlite" else None
    if not database or database == ":memory:" or database.startswith("file:"):
        yield
        return
    import fcntl

    lock_path = Path(database).with_name(Path(database).name + ".migrate-lock")
    with open(lock_path, "a+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def open_engine(url: str) -> Engine:
    """An engine whose schema is at head: what every command but ``db upgrade`` uses."""
    engine = make_engine(url)
    upgrade(engine)
    return engine


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    with Session(engine) as session:
        yield session
