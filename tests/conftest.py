"""Shared fixtures: real databases (SQLite file and PostgreSQL), each test run on its own database.

PostgreSQL: ``IPDASH_TEST_PG_URL`` (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``)
is the server to use; each test that asks for it gets a database of its own, created and dropped
around it, so runs never meet. Where no server answers, those tests are skipped with the reason.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

PG_ADMIN_URL = os.environ.get("IPDASH_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Variables that configure the test run itself, not the product: kept.
TEST_RUN_VARIABLES = {
    "IPDASH_TEST_PG_URL",
    "IPDASH_TEST_REDIS_URL",
    "IPDASH_SCREENSHOT_DIR",
    "IPDASH_TEST_HOME",
}


@pytest.fixture(autouse=True)
def isolated_settings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every test starts from the built-in settings: an ``IPDASH_…`` variable in the shell that
    runs the tests (a different due day, region or database) must not change any result. Tests
    that need a setting set it themselves (monkeypatch.setenv); subprocesses inherit the cleaned
    environment. The built-in catalogue is installed again after each test, so a test that
    installs a catalogue folder (``install_catalogue``) changes no other test's units."""
    from foundation.catalogue import install_catalogue
    from foundation.settings import get_settings

    for name in list(os.environ):
        if name.startswith("IPDASH_") and name not in TEST_RUN_VARIABLES:
            monkeypatch.delenv(name)
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()
    install_catalogue(None)


_pg_reason: str | None = None


def _pg_unreachable() -> str | None:
    """None when PostgreSQL answers, else why not (checked once per run)."""
    global _pg_reason
    if _pg_reason is None:
        try:
            eng = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with eng.connect() as conn:
                conn.execute(text("select 1"))
            eng.dispose()
            _pg_reason = ""
        except Exception as exc:  # any failure to connect means: skip with the reason
            _pg_reason = f"PostgreSQL at {PG_ADMIN_URL} not reachable: {exc.__class__.__name__}: {exc}"[:300]
    return _pg_reason or None


@pytest.fixture
def pg_url() -> Iterator[str]:
    """URL of a fresh, empty PostgreSQL database, dropped after the test."""
    reason = _pg_unreachable()
    if reason:
        pytest.skip(reason)
    name = f"ipdash_t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'ipdash.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs twice: on a SQLite file and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'ipdash.db'}"
    return request.getfixturevalue("pg_url")


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    """An engine on a fresh database, migrated to head (through Alembic, as the CLI does)."""
    from store.db import open_engine

    eng = open_engine(db_url)
    try:
        yield eng
    finally:
        eng.dispose()


def pytest_setup_options():  # noqa: ANN201 - dash[testing] hook: Chrome options for dash_duo
    """Browser tests (dash_duo): a throwaway profile and no background traffic — the machines
    and the intranets this serves have no internet, and Chromium must not write to the home."""
    import tempfile

    from selenium.webdriver.chrome.options import Options

    options = Options()
    for arg in (
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
        "--no-default-browser-check",
        f"--user-data-dir={tempfile.mkdtemp(prefix='ipdash-chrome-')}",
        "--window-size=1400,1000",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    return options
