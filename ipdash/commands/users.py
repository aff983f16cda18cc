"""``ipdash user add|list|disable|enable|set-password|set-role`` and ``ipdash audit``.

Passwords are read from standard input (``--password-stdin``), never from the command line
(which other users of the machine can see in the process list) and never printed. Every change
is written to the audit log with the operating-system user as the actor (``cli:<name>``).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from foundation.i18n import t
from ipdash.commands.common import add_db_option, open_engine_for


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="账号管理：创建、列出、停用、改密码、改角色")
    users = p.add_subparsers(dest="user_command", required=True)

    a = users.add_parser("add", help="创建账号（密码从标准输入读取）")
    a.add_argument("username")
    a.add_argument("--role", required=True, choices=["admin", "analyst", "leader", "clerk"])
    a.add_argument("--unit", default=None, metavar="CODE", help="区县填报员（clerk）所属单位代码")
    a.add_argument("--name", default=None, metavar="显示名")
    a.add_argument("--password-stdin", action="store_true", required=True, help="从标准输入读取密码")
    add_db_option(a)
    a.set_defaults(handler=_add)

    ls = users.add_parser("list", help="列出账号")
    ls.add_argument("--format", choices=["table", "json"], default="table")
    add_db_option(ls)
    ls.set_defaults(handler=_list)

    for name, active, help_text in (
        ("disable", False, "停用账号（会话立即失效）"),
        ("enable", True, "重新启用账号"),
    ):
        d = users.add_parser(name, help=help_text)
        d.add_argument("username")
        add_db_option(d)
        d.set_defaults(handler=_set_active, active=active)

    sp = users.add_parser("set-password", help="设置新密码（从标准输入读取）")
    sp.add_argument("username")
    sp.add_argument("--password-stdin", action="store_true", required=True)
    add_db_option(sp)
    sp.set_defaults(handler=_set_password)

    sr = users.add_parser("set-role", help="修改角色（clerk 需 --unit）")
    sr.add_argument("username")
    sr.add_argument("--role", required=True, choices=["admin", "analyst", "leader", "clerk"])
    sr.add_argument("--unit", default=None, metavar="CODE")
    add_db_option(sr)
    sr.set_defaults(handler=_set_role)

    au = sub.add_parser("audit", help="审计日志")
    au.add_argument("--since", default=None, metavar="YYYY-MM-DD", help="从这一天（北京时间）起")
    au.add_argument("--user", default=None, metavar="USERNAME")
    au.add_argument("--kind", default=None, help="事件类型，如 login_failed、upload、refused")
    au.add_argument("--format", choices=["table", "json", "csv"], default="table")
    add_db_option(au)
    au.set_defaults(handler=_audit)


def actor() -> str:
    import getpass

    try:
        return f"cli:{getpass.getuser()}"[:40]
    except Exception:  # no user name in this environment
        return "cli"


def _read_password() -> str:
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def _run(args: argparse.Namespace, action) -> int:  # noqa: ANN001
    from sqlmodel import Session

    from application.accounts import AccountError

    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            try:
                message = action(session)
            except AccountError as exc:
                session.rollback()
                print(t("cli.error", message=str(exc)), file=sys.stderr)
                return 2
            session.commit()
        print(message)
        return 0
    finally:
        engine.dispose()


def _unit_text(unit: str | None) -> str:
    return f"，{unit}" if unit else ""


def _add(args: argparse.Namespace) -> int:
    from application.accounts import add_user

    password = _read_password()
    if not password:
        print(t("cli.error", message=t("user.password_stdin_empty")), file=sys.stderr)
        return 2

    def action(session) -> str:  # noqa: ANN001
        add_user(
            session=session,
            username=args.username,
            role=args.role,
            unit=args.unit,
            display_name=args.name,
            password=password,
            actor=actor(),
        )
        return t("user.added", username=args.username, role=args.role, unit=_unit_text(args.unit))

    return _run(args, action)


def _set_password(args: argparse.Namespace) -> int:
    from application.accounts import set_password

    password = _read_password()
    if not password:
        print(t("cli.error", message=t("user.password_stdin_empty")), file=sys.stderr)
        return 2

    def action(session) -> str:  # noqa: ANN001
        set_password(session=session, username=args.username, password=password, actor=actor())
        return t("user.password_set", username=args.username)

    return _run(args, action)


def _set_role(args: argparse.Namespace) -> int:
    from application.accounts import set_role

    def action(session) -> str:  # noqa: ANN001
        set_role(session=session, username=args.username, role=args.role, unit=args.unit, actor=actor())
        return t("user.updated", username=args.username)

    return _run(args, action)


def _set_active(args: argparse.Namespace) -> int:
    from application.accounts import set_active

    def action(session) -> str:  # noqa: ANN001
        set_active(session=session, username=args.username, active=args.active, actor=actor())
        return t("user.enabled" if args.active else "user.disabled", username=args.username)

    return _run(args, action)


def _list(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.accounts import list_users

    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            users = list_users(session=session)
    finally:
        engine.dispose()
    rows = [
        {
            "username": u.username,
            "display_name": u.display_name,
            "role": u.role.value,
            "unit": u.unit,
            "active": u.active,
        }
        for u in users
    ]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print(t("user.none"))
        return 0
    header = [t(f"user.col.{c}") for c in ("username", "name", "role", "unit", "active")]
    print("\t".join(header))
    for r in rows:
        state = t("user.active") if r["active"] else t("user.inactive")
        print(
            "\t".join(
                [str(r["username"]), str(r["display_name"]), str(r["role"]), str(r["unit"] or ""), state]
            )
        )
    return 0


def parse_since(value: str | None, timezone: str) -> datetime | None:
    """``YYYY-MM-DD`` as the start of that day in ``timezone``, in UTC."""
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d")
    except ValueError:
        raise argparse.ArgumentTypeError(t("audit.bad_date", value=value)) from None
    return day.replace(tzinfo=ZoneInfo(timezone)).astimezone(UTC)


def _audit(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application import audit
    from foundation.settings import get_settings

    tz = get_settings().timezone
    try:
        since = parse_since(args.since, tz)
    except argparse.ArgumentTypeError as exc:
        print(t("cli.error", message=str(exc)), file=sys.stderr)
        return 2
    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            found = audit.events(session=session, since=since, username=args.user, kind=args.kind)
    finally:
        engine.dispose()
    rows = [e.as_dict() for e in found]
    if args.format == "json":
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    columns = ["at", "username", "address", "kind", "outcome", "detail"]
    if args.format == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        for r in rows:
            writer.writerow([*(r[c] for c in columns[:-1]), json.dumps(r["detail"], ensure_ascii=False)])
        sys.stdout.write(out.getvalue())
        return 0
    if not rows:
        print(t("audit.none"))
        return 0
    print("\t".join(t(f"audit.col.{c.replace('username', 'user')}") for c in columns))
    for e in found:
        local = e.at.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M:%S")
        detail = json.dumps(e.detail, ensure_ascii=False)
        print("\t".join([local, e.username, e.address, e.kind, e.outcome, detail]))
    return 0
