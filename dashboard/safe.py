"""Never a traceback to a user: callbacks and layouts catch their errors, log them with the
traceback for the administrator, and show a Chinese message instead."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import dash_bootstrap_components as dbc
import flask
from dash.exceptions import PreventUpdate

from foundation.i18n import t
from foundation.incidents import record_incident

log = logging.getLogger("dashboard")
T = TypeVar("T")


def alert(message: str, color: str = "danger") -> dbc.Alert:
    return dbc.Alert(message, color=color, className="my-2")


def internal_error(what: str, exc: BaseException) -> str:
    """Log a bug with its traceback under a new id; the Chinese message that repeats the id.
    The request is marked so the response cache never keeps an answer showing an error."""
    if flask.has_request_context():
        flask.g.ipdash_failed = True  # dashboard.response_cache.FAILED_FLAG
    return t("dash.error.internal", incident=record_incident(what, exc))


def run_guarded(compute: Callable[[], T], on_error: Callable[[str], T]) -> T:
    """``compute()``, or ``on_error(message)`` when it fails (PreventUpdate passes through)."""
    try:
        return compute()
    except PreventUpdate:
        raise
    except Exception as exc:
        return on_error(internal_error("dashboard callback", exc))


def safe_layout(func: Callable[..., Any]) -> Callable[..., Any]:
    """A page layout that shows an alert instead of failing."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            return alert(internal_error(f"layout {func.__module__}", exc))

    return wrapper
