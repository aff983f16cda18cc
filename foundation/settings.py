"""One settings object, read from the environment (``IPDASH_…``) and validated at load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPDASH_", extra="ignore", frozen=True)

    # The default is a SQLite file in the working directory: the README's first command
    # builds it from sample_data/. PostgreSQL: postgresql+psycopg://user@host:5432/db
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'ipdash.db'}")
    # A return for month M is due by this day of month M+1, 24:00 in `timezone` (DOMAIN.md).
    due_day: int = Field(default=10, ge=1, le=28)
    timezone: str = "Asia/Shanghai"
    region: str = "shanghai"
    # Rates whose denominator is above 0 and below this are flagged (DOMAIN.md small_denominator).
    small_denominator: int = Field(default=5, ge=1)
    # Files over this are refused before they are opened (DOMAIN.md: over 10 MB).
    max_file_bytes: int = 10 * 1024 * 1024
    # A workbook whose parts expand past this, uncompressed, is refused (zip bombs).
    max_expanded_bytes: int = 200 * 1024 * 1024
    # A stock moving by more than this fraction month on month is a warning.
    stock_jump_ratio: float = 0.5
    language: str = "zh_CN"


# The built-in defaults, never read from the environment. Code below the edges takes settings as an
# argument and falls back to these when a caller (a test, a library user) passes none; the edges —
# the CLI, the app factory, the WSGI entry — read the environment once with ``get_settings()`` and
# pass the result down (``tests/test_layers.py`` keeps ``get_settings`` at the edges).
BUILT_IN: Settings = Settings.model_construct()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from ``IPDASH_…`` variables: call at the edges only."""
    return Settings()
