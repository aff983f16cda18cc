"""Accounts for tests: one per role (a clerk of 静安 and one of 浦东), created through the same
application functions as ``ipdash user add``, and a Flask test client signed in as one of them
(through the real sign-in form, CSRF token included)."""

from __future__ import annotations

import re
from typing import Any

PASSWORD = "correct-horse-42"
ACCOUNTS = {
    "admin1": ("admin", None),
    "analyst1": ("analyst", None),
    "leader1": ("leader", None),
    "clerk_jingan": ("clerk", "jingan"),
    "clerk_pudong": ("clerk", "pudong"),
}


def make_accounts(url: str) -> None:
    from sqlmodel import Session

    from application.accounts import add_user, get_user
    from store.db import open_engine

    engine = open_engine(url)
    with Session(engine) as session:
        for name, (role, unit) in ACCOUNTS.items():
            if get_user(session=session, username=name) is None:
                add_user(
                    session=session, username=name, role=role, unit=unit, password=PASSWORD, actor="test"
                )
        session.commit()
    engine.dispose()


def form_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the sign-in form carries a CSRF token"
    return found.group(1)


def sign_in(client: Any, username: str, password: str = PASSWORD, *, next_path: str = "/") -> Any:
    """POST the sign-in form as a browser would (same origin, with the form's token)."""
    page = client.get("/login?next=" + next_path)
    token = form_token(page.get_data(as_text=True))
    return client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": token, "next": next_path},
        headers={"Origin": "http://localhost"},
    )


def csrf_headers(client: Any) -> dict[str, str]:
    """What Dash's renderer sends with a callback: the ``_csrf_token`` cookie as X-CSRFToken."""
    client.get("/")  # a page sets the cookie for the current session (as in the browser)
    cookie = client.get_cookie("_csrf_token")
    return {"X-CSRFToken": cookie.value if cookie else "", "Origin": "http://localhost"}
