"""Who is uploading. Pluggable: an intranet's reverse proxy that authenticates people sets a
trusted header (``X-Remote-User``); without one, the name typed on the upload page; else
"anonymous". The proxy must set (and strip from clients) the header: the app trusts it as is.
"""

from __future__ import annotations

import flask

TRUSTED_HEADER = "X-Remote-User"
ANONYMOUS = "anonymous"
MAX_LENGTH = 80  # Submission.submitted_by


def header_user() -> str | None:
    if not flask.has_request_context():
        return None
    value = (flask.request.headers.get(TRUSTED_HEADER) or "").strip()
    return value[:MAX_LENGTH] or None


def current_user(typed: str | None = None) -> str:
    """The header's user, else the typed name, else ``anonymous``."""
    return header_user() or ((typed or "").strip()[:MAX_LENGTH] or ANONYMOUS)
