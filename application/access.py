"""Who may do what: the one table of roles and permissions (issue 9). The dashboard's gate, its
navigation and the access-matrix test all read it; nothing else decides.

| permission        | admin | analyst | leader | clerk (unit U)                  |
|-------------------|-------|---------|--------|---------------------------------|
| view              | ✓     | ✓       | ✓      | ✓ (总览 排名 对比 趋势, 报送情况 own row) |
| view_other_units  | ✓     | ✓       | ✓      | ✗ (区详情 of U only)             |
| upload            | ✗     | ✓       | ✗      | ✓ (files of U only)             |
| review            | ✗     | ✓       | ✗      | ✗                               |
| explain           | ✗     | ✗       | ✗      | ✓ (warnings of U's own return)   |
| manage            | ✗     | ✓       | ✗      | ✗ (locks, targets, schemes)     |
| export            | ✓     | ✓       | ✓      | ✓ (the scorecard of U only)      |
| administer        | ✓     | ✗       | ✗      | ✗ (users, audit log)            |
| report_task       | ✗     | ✓       | ✗      | ✓ (tasks U owns: progress, evidence) |

Plan tasks (issue 11): every role sees the 任务督办 page; a clerk sees only the tasks its unit owns
(``application.tasks.may_see_task``) and their evidence; analysts create, edit and close tasks
(``manage``).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    LEADER = "leader"
    CLERK = "clerk"


PERMISSIONS: dict[str, frozenset[Role]] = {
    "view": frozenset(Role),
    "view_other_units": frozenset({Role.ADMIN, Role.ANALYST, Role.LEADER}),
    "upload": frozenset({Role.ANALYST, Role.CLERK}),
    "review": frozenset({Role.ANALYST}),
    "explain": frozenset({Role.CLERK}),  # a district explains the warnings of its own return
    "manage": frozenset({Role.ANALYST}),
    "export": frozenset(Role),
    "administer": frozenset({Role.ADMIN}),
    "report_task": frozenset({Role.ANALYST, Role.CLERK}),
}


@dataclass(frozen=True)
class Account:
    """A signed-in person, as the web layer and the CLI see them (no password hash)."""

    id: int
    username: str
    display_name: str
    role: Role
    unit: str | None
    active: bool
    auth_stamp: str

    # Flask-Login's user protocol (duck-typed; nothing here imports Flask).
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        # The stamp changes with the password, role or state: an old session stops matching.
        return f"{self.id}:{self.auth_stamp}"

    @property
    def label(self) -> str:
        """How an uploader or an actor is recorded: 显示名（用户名）."""
        return f"{self.display_name}（{self.username}）"[:80]


def allowed(account: Account | None, permission: str) -> bool:
    if account is None or not account.active:
        return False
    return account.role in PERMISSIONS[permission]


def may_see_unit(account: Account | None, unit: str | None) -> bool:
    """A unit's detail, submissions, uploaders, warnings and history: every role but a clerk,
    who sees only their own unit."""
    if not allowed(account, "view"):
        return False
    assert account is not None
    if allowed(account, "view_other_units"):
        return True
    return unit is not None and unit == account.unit


def upload_unit(account: Account) -> str | None:
    """The unit every file of this upload must belong to: a clerk's own unit, whatever the
    client sends; None (any unit) for an analyst."""
    return account.unit if account.role == Role.CLERK else None


def export_unit_allowed(account: Account | None, unit: str | None) -> bool:
    """The assessment workbook: the whole region for every role but a clerk, whose export is
    the scorecard of their own unit only."""
    if not allowed(account, "export"):
        return False
    assert account is not None
    if account.role == Role.CLERK:
        return bool(unit) and unit == account.unit
    return True
