"""A consistent copy of a SQLite database while the server runs (SQLite's online backup API).

The copy is taken in one step (``pages=-1``): it reads every page inside a single read transaction,
so it is the database as of one moment even while uploads commit (WAL mode: writers go on, they
are not blocked). It is written beside the target and renamed into place, so a failed or
interrupted backup never leaves a half-written file under the target's name.
PostgreSQL has pg_dump / pg_restore for this (README, "Backups").
"""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from sqlalchemy.engine import make_url


class BackupError(Exception):
    """Why no backup was made (a Chinese message is chosen by the caller from ``kind``)."""

    def __init__(self, kind: str, detail: str = "") -> None:
        super().__init__(kind, detail)
        self.kind = kind
        self.detail = detail


def sqlite_path(url: str) -> Path:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        raise BackupError("not_sqlite", parsed.get_backend_name())
    if not parsed.database or parsed.database == ":memory:":
        raise BackupError("no_file")
    path = Path(parsed.database)
    if not path.exists():
        raise BackupError("missing", str(path))
    return path


def backup_sqlite(url: str, target: Path) -> int:
    """Copy the SQLite database at ``url`` to ``target``; returns the copy's size in bytes."""
    source_path = sqlite_path(url)
    target = Path(target)
    if target.resolve() == source_path.resolve():
        raise BackupError("same_file", str(target))
    partial = target.with_name(f".{target.name}.partial-{os.getpid()}")
    source = sqlite3.connect(f"file:{source_path}?mode=ro", uri=True, timeout=60)
    try:
        partial.unlink(missing_ok=True)
        copy = sqlite3.connect(partial)
        try:
            source.backup(copy, pages=-1)
            copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
            check = copy.execute("PRAGMA integrity_check").fetchone()[0]
            if check != "ok":
                raise BackupError("damaged", check)
        finally:
            copy.close()
        partial.replace(target)
    except sqlite3.Error as exc:
        raise BackupError("failed", f"{exc.__class__.__name__}: {exc}") from exc
    finally:
        source.close()
        partial.unlink(missing_ok=True)
    return target.stat().st_size
