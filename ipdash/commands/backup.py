"""``ipdash backup -o FILE``: a consistent copy of the SQLite database, safe while the server runs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from foundation.i18n import t
from ipdash.commands.common import add_db_option


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("backup", help="备份 SQLite 数据库（服务运行中亦可；PostgreSQL 请用 pg_dump）")
    add_db_option(p)
    p.add_argument("-o", "--output", required=True, metavar="FILE.db")
    p.set_defaults(handler=_backup)


def _backup(args: argparse.Namespace) -> int:
    from application.backup import BackupError, backup_database
    from etl.issues import size_text
    from ipdash.commands.common import database_url

    url = database_url(args)
    out = Path(args.output)
    try:
        size = backup_database(url, out)
    except BackupError as exc:
        print(t("cli.error", message=t(f"backup.{exc.kind}", detail=exc.detail, path=out)), file=sys.stderr)
        return 2 if exc.kind in ("not_sqlite", "no_file", "same_file") else 1
    print(t("backup.done", path=out, size=size_text(size)))
    return 0
