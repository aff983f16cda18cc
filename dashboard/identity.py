"""Who is acting: the signed-in account (``dashboard.auth``), never a value the client sends.
An uploader or the author of an export is recorded as 显示名（用户名）."""

from __future__ import annotations

from application.access import Account

ANONYMOUS = "anonymous"


def signed_in() -> Account | None:
    from dashboard.auth import account

    return account()


def current_user() -> str:
    """The signed-in account's label (the gate lets no anonymous request reach a callback)."""
    who = signed_in()
    return who.label if who is not None else ANONYMOUS
