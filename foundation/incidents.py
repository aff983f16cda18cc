"""Internal errors ("系统内部错误") are bugs: each is logged once with its traceback under an id, and
the message the user sees repeats that id, so a bug report can be matched to the log line.

Bad input is never an incident: it is an ``Issue`` with a Chinese message naming file, sheet and
cell. The CLI sends incidents to a file (``IPDASH_ERROR_LOG``, default ``ipdash-errors.log``) so that
no traceback reaches the terminal; the web server logs them where the server logs (stderr under
gunicorn or ``ipdash serve``).
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger("ipdash.incident")


def new_incident_id() -> str:
    """``E20261202-3fa9c1``: the UTC day (to find the log) and 24 random bits."""
    return f"E{datetime.now(UTC):%Y%m%d}-{secrets.token_hex(3)}"


def record_incident(what: str, exc: BaseException) -> str:
    """Log ``exc`` with its traceback under a new id; returns the id for the user's message."""
    incident = new_incident_id()
    log.error("internal error %s: %s", incident, what, exc_info=(type(exc), exc, exc.__traceback__))
    return incident


def log_incidents_to(path: str | Path) -> logging.Handler:
    """Send incidents to ``path`` (appending) and nowhere else, until ``stop_logging(handler)``."""
    handler = logging.FileHandler(Path(path).resolve(), encoding="utf-8", delay=True)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log.addHandler(handler)
    log.propagate = False
    return handler


def stop_logging(handler: logging.Handler) -> None:
    """Undo ``log_incidents_to`` (a command run in-process leaves no handler behind)."""
    log.removeHandler(handler)
    handler.close()
    log.propagate = not log.handlers
