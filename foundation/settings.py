"""One settings object, read from the environment (``IPDASH_…``) and validated at load."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IPDASH_", extra="ignore", frozen=True)

    # The default is a SQLite file in the working directory: the README's first command
    # builds it from sample_data/. PostgreSQL: postgresql+psycopg://user@host:5432/db
    database_url: str = Field(default_factory=lambda: f"sqlite:///{Path.cwd() / 'ipdash.db'}")
    # A return for month M is due by this day of month M+1, 24:00 in `timezone` (DOMAIN.md).
    due_day: int = Field(default=10, ge=1, le=28)
    timezone: str = "Asia/Shanghai"
    # The region commands and pages show unless told otherwise: one of the catalogue's regions.
    region: str = "shanghai"
    # A deployment's own catalogue folder (units_<region>.csv, and any of measures.csv,
    # indicators.csv, scheme_default.csv, plans.csv + tasks_*.csv, regions.csv); unset: the
    # built-in one. Read and checked at start by the edges (foundation.catalogue.install_catalogue).
    catalogue_dir: Path | None = None
    # Rates whose denominator is above 0 and below this are flagged (DOMAIN.md small_denominator).
    small_denominator: int = Field(default=5, ge=1)
    # Files over this are refused before they are opened (DOMAIN.md: over 10 MB).
    max_file_bytes: int = 10 * 1024 * 1024
    # A workbook whose parts expand past this, uncompressed, is refused (zip bombs).
    max_expanded_bytes: int = 200 * 1024 * 1024
    # A stock moving by more than this fraction month on month is a warning.
    stock_jump_ratio: float = 0.5
    language: str = "zh_CN"
    # Where the command line logs internal errors (with traceback and id; foundation/incidents.py).
    error_log: Path = Path("ipdash-errors.log")

    # --- sign-in and web hygiene (issue 9) ---
    # The key that signs session cookies. Empty: generated once and kept in the database, so
    # every gunicorn worker (and a restart) uses the same one.
    secret_key: str = ""
    # Served over HTTPS (by the proxy in front): session cookies get the Secure flag.
    https: bool = False
    # A session unused for this long ends (minutes).
    idle_minutes: int = Field(default=30, ge=1)
    # This many failed sign-ins for one user name, or from one address, within the window lock
    # further attempts out until the oldest failure leaves the window.
    login_max_failures: int = Field(default=5, ge=1)
    login_window_minutes: int = Field(default=15, ge=1)
    # The request-size limit lets this many files at the size limit through in one upload (a
    # larger drop is refused with 413; returns are usually a few kB, so many fit).
    max_files_at_once: int = Field(default=3, ge=1)
    # Single sign-on behind an authenticating proxy: off unless BOTH are set. The header names
    # the user (who must exist); it is believed only from these addresses (comma-separated).
    sso_header: str = ""
    sso_proxies: str = ""

    # --- many users, many workers, many hosts (issue 13) ---
    # The response cache of the read-only views (dashboard/response_cache.py): on by default;
    # "off" turns it off (the benchmark's baseline, or to rule it out when looking for a fault).
    response_cache: bool = True
    # Where cached responses live. Empty: in each worker process (nothing to install), at most
    # ``response_cache_mb`` per worker. ``redis://host:6379/0``: one Redis shared by every worker
    # of every host, so what one computed another need not compute again.
    cache_url: str = ""
    # How long an entry lives in Redis (an entry is never served for another data version, so
    # this only bounds memory): one day.
    cache_ttl_seconds: int = Field(default=86400, ge=1)
    response_cache_mb: int = Field(default=64, ge=1)

    # --- national scale (issue 13) ---
    # A folder where each process keeps a snapshot of each region's current values (NumPy
    # arrays, rewritten after a full read): a new server process loads it and reads only what
    # changed since, instead of reading the whole region (seconds at 2,850 units). Unset: none.
    snapshot_dir: Path | None = None

    @field_validator("catalogue_dir", "snapshot_dir", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        # IPDASH_CATALOGUE_DIR= (empty) means the built-in catalogue, not the working directory;
        # IPDASH_SNAPSHOT_DIR= (empty) means no snapshots.
        return None if isinstance(value, str) and not value.strip() else value

    def max_request_bytes(self) -> int:
        """The largest request the server reads: the files allowed at once, each at the size
        limit and base64-encoded in Dash's JSON (4/3), plus 1 MiB for the rest of the request."""
        return -(-self.max_file_bytes * 4 // 3) * self.max_files_at_once + 1024 * 1024

    def sso_proxy_addresses(self) -> frozenset[str]:
        return frozenset(a.strip() for a in self.sso_proxies.split(",") if a.strip())


# The built-in defaults, never read from the environment. Code below the edges takes settings as an
# argument and falls back to these when a caller (a test, a library user) passes none; the edges —
# the CLI, the app factory, the WSGI entry — read the environment once with ``get_settings()`` and
# pass the result down (``tests/test_layers.py`` keeps ``get_settings`` at the edges).
BUILT_IN: Settings = Settings.model_construct()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The settings of this process, read from ``IPDASH_…`` variables: call at the edges only."""
    return Settings()
