"""``ipdash tasks status | template``: the plan-task ledger (督查督办).

- ``ipdash tasks status [--as-of YYYY-MM-DD] [--unit CODE] [--region R] [--format table|json|csv]``:
  every open task with its state and colour on the date (default today, Beijing time), red
  first. An earlier date uses only what was known by the end of that day. JSON: a list of
  objects with exactly the keys of ``application.tasks.STATUS_KEYS``.
- ``ipdash tasks template [--unit CODE] -o FILE.xlsx``: the tasks as a layout-C ledger to fill
  in, with the current progress where the store has it.

Exit codes: 0 done, 1 the file could not be written, 2 bad usage.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from datetime import date
from pathlib import Path

from foundation.i18n import t
from ipdash.commands.common import add_db_option, open_engine_for


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(t("tasks.bad_date", value=value)) from exc


def register(sub: argparse._SubParsersAction) -> None:
    from foundation.catalogue import default_catalogue

    cat = default_catalogue()
    p = sub.add_parser("tasks", help="督查督办：规划任务的进展状态与任务台账")
    tsub = p.add_subparsers(dest="tasks_command", required=True)
    s = tsub.add_parser("status", help="各项任务在某日的状态（红、黄、绿）")
    s.add_argument("--as-of", type=_day, default=None, metavar="YYYY-MM-DD", help="日期（默认北京时间今天）")
    s.add_argument("--unit", choices=sorted(cat.units), default=None, metavar="CODE", help="只列该单位的任务")
    s.add_argument("--region", choices=cat.regions(), default=None, help="地区（默认取设置）")
    s.add_argument("--format", choices=["table", "json", "csv"], default="table")
    add_db_option(s)
    s.set_defaults(handler=_status)
    tp = tsub.add_parser("template", help="导出任务台账（可填写后用 ipdash load 载入）")
    tp.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    tp.add_argument(
        "--unit", choices=sorted(cat.units), default=None, metavar="CODE", help="只含该单位的任务"
    )
    tp.add_argument("--region", choices=cat.regions(), default=None, help="地区（默认取设置）")
    add_db_option(tp)
    tp.set_defaults(handler=_template)


def _status(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.tasks import STATUS_KEYS, task_statuses
    from foundation.calendar import today
    from foundation.settings import get_settings

    settings = get_settings()
    as_of = args.as_of or today(settings.timezone)
    with Session(open_engine_for(args)) as session:
        rows = task_statuses(
            session=session, as_of=as_of, unit=args.unit, region=args.region or settings.region
        )
    if args.format == "json":
        sys.stdout.write(json.dumps([r.as_json() for r in rows], ensure_ascii=False, indent=1) + "\n")
        return 0
    if args.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(STATUS_KEYS)
        for r in rows:
            values = r.as_json()
            values["owners"] = "、".join(r.owners)
            values["units"] = ";".join(r.units)
            writer.writerow([values[k] if values[k] is not None else "" for k in STATUS_KEYS])
        sys.stdout.write(buffer.getvalue())
        return 0
    print(t("tasks.table_header", as_of=as_of.isoformat(), n=len(rows)))
    for r in rows:
        print(
            t(
                "tasks.table_row",
                mark=t(f"tasks.colour.{r.colour}"),
                task=r.task,
                state=t(f"tasks.state.{r.state}"),
                overdue=t("tasks.days_overdue", n=r.days_overdue) if r.days_overdue else "",
                deadline=r.deadline_text or r.deadline,
                lead=r.lead,
                title=r.title,
            )
        )
    return 0


def _template(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.tasks import write_template
    from foundation.calendar import today
    from foundation.settings import get_settings

    settings = get_settings()
    target = Path(args.output)
    with Session(open_engine_for(args)) as session:
        try:
            n = write_template(
                target,
                session=session,
                as_of=today(settings.timezone),
                unit=args.unit,
                region=args.region or settings.region,
            )
        except OSError as exc:
            print(t("tasks.write_failed", file=str(target), error=exc.__class__.__name__), file=sys.stderr)
            return 1
    print(t("tasks.template_written", file=str(target), n=n))
    return 0
