"""Options and helpers shared by commands."""

from __future__ import annotations

import argparse
import re

from foundation.i18n import t

_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def add_db_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--db", metavar="URL", default=None, help="数据库 URL（默认 IPDASH_DATABASE_URL 或 ./ipdash.db）"
    )


def month_period(value: str) -> str:
    """argparse type for ``YYYY-MM``."""
    if not _PERIOD.match(value):
        raise argparse.ArgumentTypeError(t("cli.bad_period", value=value))
    return value


def positive_int(value: str) -> int:
    """argparse type for a whole number ≥ 1 (``--workers``, ``--jobs``…)."""
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(t("cli.not_positive", value=value))
    return number


def database_url(args: argparse.Namespace) -> str:
    """``--db``, else the settings' database URL (``IPDASH_DATABASE_URL``, else ./ipdash.db)."""
    from foundation.settings import get_settings

    return getattr(args, "db", None) or get_settings().database_url


def open_engine_for(args: argparse.Namespace):  # noqa: ANN201 - sqlalchemy Engine
    from application.submissions import open_database

    return open_database(database_url(args))


class SchemeRefused(Exception):
    """A ``--scheme`` file with problems; they have been printed, the command exits 1."""


def scheme_option(path: str | None):  # noqa: ANN201 - indicators.scoring.Scheme | None
    """The scheme of a ``--scheme FILE`` option (None without one). A file with problems prints
    every problem to stderr and raises ``SchemeRefused`` — one wording for every command."""
    import sys

    from foundation.catalogue import default_catalogue
    from indicators.scoring import SchemeError, load_scheme

    if not path:
        return None
    try:
        return load_scheme(path, catalogue=default_catalogue())
    except SchemeError as exc:
        print(t("score.scheme_error"), file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}", file=sys.stderr)
        raise SchemeRefused from exc
