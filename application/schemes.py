"""Scoring schemes kept in the database (issue 9): analysts upload a scheme (the same CSV as
``foundation/catalogue_data/scheme_default.csv``), see every problem named before anything is
kept, keep every version (named by the first 12 hex digits of its SHA-256, as exports print it),
and choose the default. Until a default is chosen the shipped scheme is used, so the figures do
not change by installing this. Versions and choices are only ever added; every change is audited.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from application import audit
from application.access import Account, allowed
from foundation.catalogue import Catalogue
from indicators.scoring import Scheme, SchemeError, default_scheme, parse_scheme
from store.models import SchemeChoice, ScoringScheme

SHIPPED = "shipped"  # the version name of the built-in scheme in the choice list


@dataclass(frozen=True)
class SchemeVersion:
    version: str
    name: str
    by: str
    at: datetime | None
    is_default: bool


def check(text: str, *, catalogue: Catalogue, name: str) -> tuple[Scheme | None, list[str]]:
    """The parsed scheme, or every problem (Chinese, each naming its line and indicator)."""
    try:
        return parse_scheme(text, catalogue=catalogue, name=name, source=name), []
    except SchemeError as exc:
        problems = exc.args[0] if exc.args and isinstance(exc.args[0], list) else [str(exc)]
        return None, [str(p) for p in problems]


def upload(
    *, session: Session, account: Account, text: str, name: str, catalogue: Catalogue, address: str = ""
) -> tuple[Scheme | None, list[str]]:
    """Keep a new version when the scheme has no problem (an identical text is the same version
    and is not stored twice). Nothing is written when there is any problem. Caller commits."""
    if not allowed(account, "manage"):
        raise PermissionError("manage")
    scheme, problems = check(text, catalogue=catalogue, name=name)
    if scheme is None:
        return None, problems
    known = session.exec(select(ScoringScheme).where(ScoringScheme.version == scheme.version)).first()
    if known is None:
        session.add(ScoringScheme(name=name[:120], version=scheme.version, text=text, by=account.label))
        audit.record(
            "scheme",
            session=session,
            username=account.username,
            address=address,
            detail={"action": "upload", "name": name, "version": scheme.version},
        )
    return scheme, []


def _choice(session: Session) -> SchemeChoice | None:
    return session.exec(select(SchemeChoice).order_by(col(SchemeChoice.id).desc())).first()


def default_version(*, session: Session) -> str:
    chosen = _choice(session)
    return chosen.version if chosen is not None else SHIPPED


def versions(*, session: Session, catalogue: Catalogue) -> list[SchemeVersion]:
    """The shipped scheme first, then every uploaded version, newest first."""
    current = default_version(session=session)
    shipped = default_scheme(catalogue)
    out = [SchemeVersion(SHIPPED, f"{shipped.name}（{shipped.version}）", "", None, current == SHIPPED)]
    for row in session.exec(select(ScoringScheme).order_by(col(ScoringScheme.id).desc())):
        out.append(SchemeVersion(row.version, row.name, row.by, row.at, current == row.version))
    return out


def choose_default(*, session: Session, account: Account, version: str, address: str = "") -> None:
    if not allowed(account, "manage"):
        raise PermissionError("manage")
    if (
        version != SHIPPED
        and session.exec(select(ScoringScheme).where(ScoringScheme.version == version)).first() is None
    ):
        raise ValueError(version)
    session.add(SchemeChoice(version=version, by=account.label))
    audit.record(
        "scheme",
        session=session,
        username=account.username,
        address=address,
        detail={"action": "choose_default", "version": version},
    )


def current_scheme(*, session: Session, catalogue: Catalogue) -> Scheme:
    """The scheme every face scores with when none is asked for: the chosen default, else the
    shipped one."""
    version = default_version(session=session)
    if version == SHIPPED:
        return default_scheme(catalogue)
    row = session.exec(select(ScoringScheme).where(ScoringScheme.version == version)).first()
    if row is None:
        return default_scheme(catalogue)
    return parse_scheme(row.text, catalogue=catalogue, name=row.name, source=row.name)
