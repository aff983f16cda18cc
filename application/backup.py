"""Backups for the faces: the SQLite online backup (``store.backup``) behind one function."""

from __future__ import annotations

from pathlib import Path

from store.backup import BackupError, backup_sqlite

__all__ = ["BackupError", "backup_database"]


def backup_database(url: str, target: str | Path) -> int:
    """A consistent copy of the SQLite database at ``url`` in ``target``; its size in bytes.
    Raises ``BackupError`` (``kind``: not_sqlite, no_file, missing, same_file, damaged, failed)."""
    return backup_sqlite(url, Path(target))
