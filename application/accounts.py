"""Accounts: creating and changing them, checking a password, the lock-out, and the server's
shared secret key.

Passwords are hashed with Argon2id (argon2-cffi's ``PasswordHasher`` defaults) and never logged
or stored in clear. A clerk (区县) has exactly one unit, the other roles none. Every change is
audited by the caller's ``actor``.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from application import audit
from application.access import Account, Role
from foundation.catalogue import default_catalogue
from foundation.i18n import t
from store.models import AppSecret, UserAccount, utcnow

MIN_PASSWORD = 10
_USERNAME = re.compile(r"^[A-Za-z0-9_.-]{2,40}$")
_hasher = PasswordHasher()
# A hash to verify against when the user does not exist, so a wrong user name costs as much
# time as a wrong password (the answer must not tell which was wrong).
_DUMMY_HASH = _hasher.hash("not-a-password-" + secrets.token_hex(8))


class AccountError(ValueError):
    """A request about accounts that cannot be done; the message is for the user (Chinese)."""


def _account(row: UserAccount) -> Account:
    return Account(
        id=int(row.id or 0),
        username=row.username,
        display_name=row.display_name,
        role=Role(row.role),
        unit=row.unit_code,
        active=row.active,
        auth_stamp=row.auth_stamp,
    )


def check_password_rules(password: str, *, username: str = "") -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(t("user.password_short", n=MIN_PASSWORD))
    if username and password.lower() == username.lower():
        raise AccountError(t("user.password_is_name"))
    if len(set(password)) < 4:
        raise AccountError(t("user.password_simple"))


def _check_role_unit(role: str, unit: str | None) -> tuple[Role, str | None]:
    try:
        r = Role(role)
    except ValueError:
        raise AccountError(t("user.bad_role", role=role, roles="、".join(x.value for x in Role))) from None
    if r == Role.CLERK:
        if not unit:
            raise AccountError(t("user.clerk_needs_unit"))
        if unit not in default_catalogue().units:
            raise AccountError(t("cli.unknown_unit", value=unit))
        return r, unit
    if unit:
        raise AccountError(t("user.unit_only_clerk", role=r.value))
    return r, None


def _row(session: Session, username: str) -> UserAccount:
    row = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    if row is None:
        raise AccountError(t("user.not_found", username=username))
    return row


def add_user(
    *,
    session: Session,
    username: str,
    role: str,
    password: str,
    unit: str | None = None,
    display_name: str | None = None,
    actor: str = "",
) -> Account:
    if not _USERNAME.match(username):
        raise AccountError(t("user.bad_username", username=username))
    r, unit = _check_role_unit(role, unit)
    check_password_rules(password, username=username)
    if session.exec(select(UserAccount).where(UserAccount.username == username)).first():
        raise AccountError(t("user.exists", username=username))
    row = UserAccount(
        username=username,
        display_name=(display_name or username)[:40],
        role=r.value,
        unit_code=unit,
        password_hash=_hasher.hash(password),
        auth_stamp=secrets.token_hex(8),
    )
    session.add(row)
    session.flush()
    audit.record(
        "user",
        session=session,
        username=actor,
        detail={"action": "add", "user": username, "role": r.value, "unit": unit},
    )
    return _account(row)


def list_users(*, session: Session) -> list[Account]:
    return [_account(r) for r in session.exec(select(UserAccount).order_by(UserAccount.username))]


def get_user(*, session: Session, username: str) -> Account | None:
    row = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    return _account(row) if row else None


def load_session_user(*, session: Session, session_id: str) -> Account | None:
    """The account a session cookie names (``id:stamp``), if it still matches and is active."""
    user_id, _, stamp = session_id.partition(":")
    if not user_id.isdigit():
        return None
    row = session.get(UserAccount, int(user_id))
    if row is None or not row.active or not secrets.compare_digest(row.auth_stamp, stamp):
        return None
    return _account(row)


def _touch(row: UserAccount) -> None:
    row.auth_stamp = secrets.token_hex(8)
    row.updated_at = utcnow()


def set_password(*, session: Session, username: str, password: str, actor: str = "") -> None:
    row = _row(session, username)
    check_password_rules(password, username=username)
    row.password_hash = _hasher.hash(password)
    _touch(row)
    audit.record("user", session=session, username=actor, detail={"action": "set_password", "user": username})


def set_role(
    *, session: Session, username: str, role: str, unit: str | None = None, actor: str = ""
) -> Account:
    row = _row(session, username)
    r, unit = _check_role_unit(role, unit)
    row.role, row.unit_code = r.value, unit
    _touch(row)
    audit.record(
        "user",
        session=session,
        username=actor,
        detail={"action": "set_role", "user": username, "role": r.value, "unit": unit},
    )
    return _account(row)


def set_active(*, session: Session, username: str, active: bool, actor: str = "") -> None:
    row = _row(session, username)
    row.active = active
    _touch(row)
    audit.record(
        "user",
        session=session,
        username=actor,
        detail={"action": "enable" if active else "disable", "user": username},
    )


def has_admin(*, session: Session) -> bool:
    stmt = select(UserAccount).where(UserAccount.role == Role.ADMIN.value, UserAccount.active)
    return session.exec(stmt).first() is not None


# --- signing in ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignIn:
    """The outcome of a sign-in attempt: ``account`` when it succeeded; ``locked`` when too many
    failures refused it before the password was even checked."""

    account: Account | None
    locked: bool = False


def authenticate(
    *,
    session: Session,
    username: str,
    password: str,
    address: str,
    max_failures: int,
    window: timedelta,
) -> SignIn:
    """Check a password; audit the attempt (the caller commits). Refused without checking the
    password while this user name or this address has ``max_failures`` failures in ``window``."""
    username = username.strip()[:40]
    if (
        audit.recent_failures(session=session, username=username, address=address, window=window)
        >= max_failures
    ):
        audit.record("login_locked", session=session, username=username, address=address, outcome="refused")
        return SignIn(None, locked=True)
    row = session.exec(select(UserAccount).where(UserAccount.username == username)).first()
    ok = False
    try:
        ok = _hasher.verify(row.password_hash if row else _DUMMY_HASH, password) and row is not None
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or row is None or not row.active:
        audit.record("login_failed", session=session, username=username, address=address, outcome="refused")
        return SignIn(None)
    if _hasher.check_needs_rehash(row.password_hash):
        row.password_hash = _hasher.hash(password)
    audit.record("login", session=session, username=username, address=address)
    return SignIn(_account(row))


# --- the shared secret key -----------------------------------------------------------------------

SESSION_KEY = "session_key"


def shared_secret(engine: Engine, name: str = SESSION_KEY) -> str:
    """The secret ``name``, generated on first use and stored, so every worker process and every
    restart signs with the same key. Two workers racing at start-up: the second insert fails
    on the primary key and that worker reads the first one's key."""
    with Session(engine) as session:
        row = session.get(AppSecret, name)
        if row is not None:
            return row.value
        session.add(AppSecret(name=name, value=secrets.token_urlsafe(48)))
        try:
            session.commit()
        except IntegrityError:
            session.rollback()
    with Session(engine) as session:
        row = session.get(AppSecret, name)
        assert row is not None
        return row.value


DEMO_ACCOUNTS = (
    ("demo_admin", "admin", None, "演示管理员"),
    ("demo_analyst", "analyst", None, "演示分析员"),
    ("demo_leader", "leader", None, "演示领导"),
    ("demo_jingan", "clerk", "jingan", "静安填报员"),
)


def ensure_demo_accounts(*, session: Session, actor: str = "demo") -> list[tuple[Account, str]]:
    """One account per role (the clerk for 静安), each with a new random password: created
    when missing, else its password replaced. Returns (account, password) to print once."""
    out = []
    for username, role, unit, name in DEMO_ACCOUNTS:
        password = new_password()
        if get_user(session=session, username=username) is None:
            acct = add_user(
                session=session,
                username=username,
                role=role,
                unit=unit,
                display_name=name,
                password=password,
                actor=actor,
            )
        else:
            set_password(session=session, username=username, password=password, actor=actor)
            acct = set_role(session=session, username=username, role=role, unit=unit, actor=actor)
        out.append((acct, password))
    return out


def new_password() -> str:
    """A random password that meets the rules (for the demo accounts)."""
    return secrets.token_urlsafe(12)
