"""``ipdash db upgrade``: create or upgrade the schema through the Alembic migrations."""

from __future__ import annotations

import argparse

from foundation.i18n import t
from ipdash.commands.common import add_db_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="数据库结构管理 (Alembic 迁移)")
    dbsub = p.add_subparsers(dest="db_command", required=True)
    up = dbsub.add_parser("upgrade", help="应用全部待执行的迁移")
    add_db_option(up)
    up.set_defaults(handler=_upgrade)


def _upgrade(args: argparse.Namespace) -> int:
    from application.submissions import upgrade_database
    from ipdash.commands.common import database_url

    engine = upgrade_database(database_url(args))
    print(t("cli.db_upgraded", url=engine.url.render_as_string(hide_password=True)))
    return 0
