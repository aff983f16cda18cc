"""``ipdash export | status | lock | unlock``: the assessment workbook, the submission tracker and
period locks.

- ``ipdash export --period YYYY-MM [--window ytd] [--region R] [--scheme FILE] [--as-of TS]
  [--unit CODE] [--by NAME] -o FILE.xlsx``: the assessment workbook (or, with ``--unit``, one
  unit's scorecard). ``--as-of`` is ISO 8601; without a zone it is Beijing time; a bare date means
  the end of that day (see ``application.assessment.parse_as_of``).
- ``ipdash status --period YYYY-MM [--window ytd] [--as-of TS] [--format table|json|csv]``: every
  unit × month of the window: on time, late, missing (overdue or not yet due), revisions, open
  warnings, locks. Units with nothing for the latest due month come first.
- ``ipdash lock --period P [P …] [--by NAME]`` / ``ipdash unlock --period P [P …]``: P is a month
  ``YYYY-MM`` or a year ``YYYY`` (the annual measures' period); ``ipdash lock`` without
  ``--period`` lists the locks.

Exit codes: 0 done, 1 the job ran into a problem (bad scheme, file not writable), 2 bad usage.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import re
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from foundation.calendar import WINDOWS, due_text, local_minutes, window_months
from foundation.i18n import t
from foundation.settings import get_settings
from ipdash.commands.common import SchemeRefused, add_db_option, month_period, open_engine_for, scheme_option

if TYPE_CHECKING:  # pandas and the tracker are imported by the handlers: `ipdash --help` starts without
    import pandas as pd

_LOCK_PERIOD = re.compile(r"^\d{4}(-(0[1-9]|1[0-2]))?$")


def status_columns() -> list[str]:
    """The tracker's columns with the unit's name after its code (csv/json of ``ipdash status``)."""
    from application.tracker import TRACKER_COLUMNS

    return ["unit", "unit_name", *(c for c in TRACKER_COLUMNS if c != "unit")]


def lock_period_arg(value: str) -> str:
    if not _LOCK_PERIOD.match(value):
        raise argparse.ArgumentTypeError(t("lock.bad_period", value=value))
    return value


def register(sub: argparse._SubParsersAction) -> None:
    from foundation.catalogue import default_catalogue

    regions = default_catalogue().regions()
    default_region = get_settings().region

    p = sub.add_parser("export", help="导出年度绩效考核工作簿（或 --unit 单位得分卡）")
    p.add_argument("--period", required=True, type=month_period, metavar="YYYY-MM", help="截止月份")
    p.add_argument("--window", choices=WINDOWS, default="ytd", help="统计窗口（默认 ytd 年初至今）")
    p.add_argument("--region", choices=regions, default=default_region, help="地区（默认取设置）")
    p.add_argument(
        "--scheme",
        metavar="FILE",
        default=None,
        help="考核方案 CSV（默认：管理页选定的默认方案，未选定时为内置方案）",
    )
    p.add_argument(
        "--as-of",
        metavar="TIMESTAMP",
        default=None,
        help="按该时刻的报送版本重新生成（ISO 8601，如 2024-01-15T18:00:00+08:00；不带时区按北京时间）",
    )
    p.add_argument("--unit", metavar="CODE", default=None, help="只导出该单位的得分卡")
    p.add_argument("--by", metavar="NAME", default=None, help="生成人（默认当前系统用户）")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    add_db_option(p)
    p.set_defaults(handler=_export)

    p = sub.add_parser("status", help="报送情况：各单位各月是否按时报送、修订次数、警告、锁定")
    p.add_argument("--period", required=True, type=month_period, metavar="YYYY-MM", help="截止月份")
    p.add_argument("--window", choices=WINDOWS, default="ytd", help="列出的月份范围（默认 ytd 年初至今）")
    p.add_argument("--region", choices=regions, default=default_region, help="地区（默认取设置）")
    p.add_argument("--as-of", metavar="TIMESTAMP", default=None, help="按该时刻的情况显示（ISO 8601）")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="输出格式")
    add_db_option(p)
    p.set_defaults(handler=_status)

    p = sub.add_parser(
        "lock", help="锁定报告期用于考核：锁定后拒收该期报送；不带 --period 时列出已锁定的报告期"
    )
    p.add_argument("--period", nargs="+", type=lock_period_arg, metavar="YYYY-MM|YYYY", default=None)
    p.add_argument("--by", metavar="NAME", default=None, help="锁定人（默认当前系统用户）")
    p.add_argument("--reason", default=None, help="锁定原因（记入锁定历史与审计日志）")
    add_db_option(p)
    p.set_defaults(handler=_lock)

    p = sub.add_parser("unlock", help="解锁报告期，恢复接收报送")
    p.add_argument("--period", nargs="+", required=True, type=lock_period_arg, metavar="YYYY-MM|YYYY")
    p.add_argument("--reason", default=None, help="解锁原因（记入锁定历史与审计日志）")
    add_db_option(p)
    p.set_defaults(handler=_unlock)


def _error(message: str) -> None:
    print(t("cli.error", message=message), file=sys.stderr)


def _local(stamp: Any) -> str:
    """An aware timestamp in the settings' local time (Beijing); '' for NaT/None."""
    return local_minutes(stamp, get_settings().timezone) or ""


# --- lock / unlock --------------------------------------------------------------------------------


def _lock(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application import submissions as repo
    from application.review import record_cli_lock
    from application.submissions import default_user

    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            if not args.period:
                locks = repo.locked_periods(session=session)
                if not locks:
                    print(t("lock.none"))
                    return 0
                print(t("lock.list_header"))
                for period, lock in sorted(locks.items()):
                    print(t("lock.list_row", period=period, by=lock.locked_by, at=_local(lock.locked_at)))
                return 0
            by = args.by or default_user()
            existing = repo.locked_periods(session=session, periods=args.period)
            for period in dict.fromkeys(args.period):
                if period in existing:
                    lock = existing[period]
                    print(t("lock.already", period=period, at=_local(lock.locked_at), by=lock.locked_by))
                    continue
                repo.lock_period(session=session, period=period, by=by)
                record_cli_lock(
                    session=session,
                    period=period,
                    action="lock",
                    by=by,
                    reason=args.reason or t("review.cli_reason"),
                )
                print(t("lock.done", period=period, by=by))
            session.commit()
    finally:
        engine.dispose()
    return 0


def _unlock(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application import submissions as repo
    from application.review import record_cli_lock
    from application.submissions import default_user

    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            for period in dict.fromkeys(args.period):
                if repo.unlock_period(session=session, period=period):
                    record_cli_lock(
                        session=session,
                        period=period,
                        action="unlock",
                        by=default_user(),
                        reason=args.reason or t("review.cli_reason"),
                    )
                    print(t("lock.undone", period=period))
                else:
                    print(t("lock.not_locked", period=period))
            session.commit()
    finally:
        engine.dispose()
    return 0


# --- status ---------------------------------------------------------------------------------------


def status_text(
    table: pd.DataFrame,
    *,
    names: dict[str, str],
    region: str,
    period: str,
    months: list[str],
    now: datetime,
    locks: dict[str, Any],
    latest_due: str | None,
) -> str:
    import pandas as pd

    from application.tracker import detail_header, state_label, state_mark, unit_summary
    from foundation.catalogue import default_catalogue
    from ipdash.commands.indicators import render_table

    parts = [
        t(
            "tracker.title",
            region=default_catalogue().region_name(region),
            first=months[0],
            last=months[-1],
            now=_local(pd.Timestamp(now)),
        )
    ]
    if latest_due:
        missing = table[(table["period"] == latest_due) & (table["state"] == "missing")]
        parts.append(
            t(
                "tracker.latest_due",
                period=latest_due,
                due=_due_text(latest_due),
                missing=missing["unit"].nunique(),
            )
        )
    else:
        parts.append(t("tracker.no_due"))
    parts.append(t("tracker.locks", periods="、".join(sorted(locks))) if locks else t("tracker.no_locks"))
    parts.append(t("tracker.legend"))
    parts.append("")

    units = list(dict.fromkeys(table["unit"]))
    header = [t("tracker.grid_unit")] + [m[5:] + ("🔒" if m in locks else "") for m in months]
    cells = {(r["unit"], r["period"]): state_mark(r) for r in table.to_dict("records")}
    body = [[names.get(u, u)] + [cells[(u, m)] for m in months] for u in units]
    parts.append(render_table(header, body, [False] + [False] * len(months)))

    summary = unit_summary(table)
    parts.append("")
    parts.append(
        t(
            "tracker.summary",
            on_time=int(summary["on_time"].sum()),
            late=int(summary["late"].sum()),
            overdue=int(summary["overdue"].sum()),
            not_due=int(summary["not_due"].sum()),
        )
    )

    detail = table[table["period"] == period]
    lock_note = t("tracker.detail_locked") if period in locks else ""
    parts += ["", t("tracker.detail_title", period=period, due=_due_text(period), lock=lock_note)]
    header = detail_header()
    body = []
    for r in detail.to_dict("records"):
        body.append(
            [
                names.get(r["unit"], r["unit"]),
                state_label(r["state"], r["overdue"]),
                _local(r["first_received_at"]) or t("na"),
                _local(r["last_received_at"]) or t("na"),
                f"{r['days_late']:.1f}" if r["state"] == "late" else "",
                str(r["revisions"]),
                str(r["open_warnings"]),
                r["current_file"],
            ]
        )
    parts.append(render_table(header, body, [False, False, False, False, True, True, True, False]))
    for r in detail.to_dict("records"):
        if r["warning_messages"]:
            parts += ["", t("tracker.unit_warnings", unit=names.get(r["unit"], r["unit"]), period=period)]
            parts += [f"  {m}" for m in r["warning_messages"]]
    return "\n".join(parts) + "\n"


def _due_text(period: str) -> str:
    return due_text(period, get_settings().due_day)


def _status(args: argparse.Namespace) -> int:
    import pandas as pd
    from sqlmodel import Session

    from application import service
    from application.assessment import AsOfError, parse_as_of
    from application.tracker import status_records
    from foundation.catalogue import default_catalogue

    try:
        as_of = parse_as_of(args.as_of, tz=get_settings().timezone) if args.as_of else None
    except AsOfError as exc:
        _error(str(exc))
        return 2
    now = as_of or datetime.now(UTC)
    months = window_months(args.period, args.window)
    cat = default_catalogue()
    names = {u.code: u.short_zh or u.name_zh for u in cat.units_of(args.region)}
    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            table, locks, latest = service.submission_status(
                session=session,
                region=args.region,
                months=months,
                now=now,
                as_of=as_of,
                settings=get_settings(),
            )
    finally:
        engine.dispose()
    records = status_records(table, names, tz=get_settings().timezone)
    if args.format == "json":
        out = {
            "region": args.region,
            "period": args.period,
            "months": months,
            "now": pd.Timestamp(now).tz_convert(get_settings().timezone).isoformat(),
            "latest_due_month": latest,
            "locked": sorted(locks),
            "rows": records,
        }
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    elif args.format == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        columns = status_columns()
        writer.writerow(columns)
        for rec in records:
            row = []
            for c in columns:
                v = rec[c]
                if isinstance(v, bool):
                    v = "true" if v else "false"
                elif isinstance(v, list):
                    v = " | ".join(v)
                row.append("" if v is None else v)
            writer.writerow(row)
        sys.stdout.write(buffer.getvalue())
    else:
        sys.stdout.write(
            status_text(
                table,
                names=names,
                region=args.region,
                period=args.period,
                months=months,
                now=now,
                locks=locks,
                latest_due=latest,
            )
        )
    return 0


# --- export ---------------------------------------------------------------------------------------


def _export(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.assessment import AsOfError, export_assessment, parse_as_of
    from foundation.catalogue import default_catalogue

    cat = default_catalogue()
    try:
        as_of = parse_as_of(args.as_of, tz=get_settings().timezone) if args.as_of else None
    except AsOfError as exc:
        _error(str(exc))
        return 2
    if args.unit is not None:
        unit = cat.units.get(args.unit)
        if unit is None:
            _error(t("cli.unknown_unit", value=args.unit))
            return 2
        if unit.region != args.region:
            _error(t("export.not_in_region", unit=unit.name_zh, region=cat.region_name(args.region)))
            return 2
    try:
        scheme = scheme_option(args.scheme)
    except SchemeRefused:
        return 1
    out = Path(args.output)
    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                summary = export_assessment(
                    out,
                    session=session,
                    region=args.region,
                    period=args.period,
                    window=args.window,
                    scheme=scheme,
                    as_of=as_of,
                    unit=args.unit,
                    generated_by=args.by,
                    catalogue=cat,
                    settings=get_settings(),
                )
            except OSError as exc:
                _error(t("export.cannot_write", path=out, reason=exc.strerror or exc.__class__.__name__))
                return 1
    finally:
        engine.dispose()
    if summary.n_values == 0:
        # Written all the same (it shows the scope was empty), but never silently: exit 1.
        _error(t("export.no_data", path=out, period=args.period, as_of=summary.as_of_text))
        return 1
    if args.unit:
        print(
            t(
                "export.written_unit",
                unit=cat.units[args.unit].name_zh,
                path=out,
                scheme=summary.scheme_name,
                as_of=summary.as_of_text,
            )
        )
    else:
        print(
            t(
                "export.written",
                path=out,
                units=summary.n_units,
                scheme=summary.scheme_name,
                as_of=summary.as_of_text,
            )
        )
    return 0
