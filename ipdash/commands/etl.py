"""``ipdash load | template | history | restore | export-raw``: files in and out of the store."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from foundation.catalogue import default_catalogue
from foundation.i18n import t
from ipdash.commands.common import add_db_option, month_period, open_engine_for, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("load", help="载入区级月报或全市汇总台账（文件或文件夹）")
    add_db_option(p)
    p.add_argument("--as-unit", metavar="CODE", help="以该单位身份上传：文件属于其他单位时拒收")
    p.add_argument("--by", metavar="NAME", help="报送人（默认当前系统用户）")
    p.add_argument("--json", action="store_true", help="以 JSON 输出结果")
    p.add_argument(
        "--jobs",
        type=positive_int,
        default=None,
        metavar="N",
        help="读取文件的进程数（默认：全部可用 CPU 核；1：逐个读取）",
    )
    p.add_argument("paths", nargs="+", metavar="PATH")
    p.set_defaults(handler=_load)

    p = sub.add_parser("template", help="生成某单位某月的空白月报模板")
    p.add_argument("--unit", required=True, metavar="CODE")
    p.add_argument("--period", required=True, type=month_period, metavar="YYYY-MM")
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    p.set_defaults(handler=_template)

    p = sub.add_parser("history", help="列出某单位某月的修订记录")
    add_db_option(p)
    p.add_argument("--unit", required=True, metavar="CODE")
    p.add_argument("--period", required=True, metavar="YYYY-MM")
    p.set_defaults(handler=_history)

    p = sub.add_parser("restore", help="将某单位某月恢复为指定修订版本")
    add_db_option(p)
    p.add_argument("--unit", required=True, metavar="CODE")
    p.add_argument("--period", required=True, metavar="YYYY-MM")
    p.add_argument("--revision", required=True, type=int, metavar="N")
    p.add_argument("--by", metavar="NAME")
    p.set_defaults(handler=_restore)

    p = sub.add_parser("export-raw", help="按全市汇总台账格式导出某年的当前数据")
    add_db_option(p)
    p.add_argument("--year", required=True, type=int, metavar="YYYY")
    p.add_argument("--region", default=None)
    p.add_argument("-o", "--output", required=True, metavar="FILE.xlsx")
    p.set_defaults(handler=_export_raw)


def _unit_or_exit(code: str) -> str | None:
    unit = default_catalogue().units.get(code)
    if unit is None:
        print(t("cli.error", message=t("cli.unknown_unit", value=code)), file=sys.stderr)
        return None
    return unit.code


def _load(args: argparse.Namespace) -> int:
    # Reading starts first, in worker processes forked before the database stack is imported
    # (etl.batch: reading is pure); the files are then checked against the store and written here,
    # one transaction each, in file order — the same results as reading them one by one.
    from etl.batch import ReadAhead, expand_paths
    from foundation.settings import get_settings

    if args.as_unit and _unit_or_exit(args.as_unit) is None:
        return 2
    settings = get_settings()
    files = expand_paths(args.paths)
    with ReadAhead(files, jobs=args.jobs, as_unit=args.as_unit, settings=settings) as reads:
        from application.submissions import load_paths

        engine = open_engine_for(args)
        results_iter = load_paths(
            files, engine=engine, submitted_by=args.by, as_unit=args.as_unit, settings=settings, reads=reads
        )
        return _report(results_iter, n_files=len(files), as_json=args.json)


def _report(results_iter: Iterable[Any], *, n_files: int, as_json: bool) -> int:
    """Print each file's result as it comes (a progress bar on a terminal); the exit code."""
    show_bar = not as_json and sys.stderr.isatty() and n_files > 1
    results = []
    counts = {"accepted": 0, "unchanged": 0, "rejected": 0}
    if show_bar:
        from tqdm import tqdm

        bar = tqdm(total=n_files, desc=t("load.progress"), unit="file", file=sys.stderr)
        write: Callable[[str], None] = bar.write
    else:
        bar, write = None, print
    for result in results_iter:
        counts[result.status] += 1
        if bar is not None:
            bar.update(1)
        if as_json:
            results.append(result.to_dict())
            continue
        line = t(
            "load.line",
            status=t(f"status.{result.status}"),
            code=result.status,  # the English word too: scripts grep for accepted/unchanged/rejected
            file=result.file,
            unit=result.unit or "—",
            periods=",".join(result.periods) or "—",
            n_errors=len(result.errors),
            n_warnings=len(result.warnings),
        )
        write(line)
        for issue in result.errors:
            write(f"    {issue.message}")
        if result.tasks or result.tasks_unchanged:  # a task ledger (layout C)
            changed = "、".join(f"{task}（第{no}版）" for task, no in result.tasks) or "—"
            text = t("load.tasks_line", changed=changed, n_unchanged=len(result.tasks_unchanged))
            write(f"    {text}")
    if bar is not None:
        bar.close()
    if as_json:
        json.dump(results, sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        print(t("load.summary", n=n_files, **counts))
    return 1 if counts["rejected"] else 0


def _template(args: argparse.Namespace) -> int:
    from etl.writers import write_return
    from foundation.settings import get_settings

    code = _unit_or_exit(args.unit)
    if code is None:
        return 2
    cat = default_catalogue()
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_return(out, unit=cat.units[code], period=args.period, catalogue=cat, due_day=get_settings().due_day)
    print(t("template.written", unit=cat.units[code].name_zh, period=args.period, path=out))
    return 0


def _history(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.submissions import list_revisions

    if _unit_or_exit(args.unit) is None:
        return 2
    with Session(open_engine_for(args)) as session:
        revs = list_revisions(session=session, unit=args.unit, period=args.period)
    if not revs:
        print(t("history.none", unit=args.unit, period=args.period))
        return 0
    print(t("history.header", unit=args.unit, period=args.period))
    for r in revs:
        restored = t("history.restored", no=r["restored_from"]) if r["restored_from"] else ""
        print(
            t(
                "history.row",
                mark="*" if r["is_current"] else " ",
                no=r["revision_no"],
                at=r["created_at"].strftime("%Y-%m-%d %H:%M:%S UTC"),
                by=r["created_by"],
                file=r["file_name"],
                restored=restored,
                n_warnings=len(r["warnings"]),
            )
        )
    return 0


def _restore(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.submissions import default_user, list_revisions, restore_revision

    if _unit_or_exit(args.unit) is None:
        return 2
    with Session(open_engine_for(args)) as session:
        outcome = restore_revision(
            session=session,
            unit=args.unit,
            period=args.period,
            revision_no=args.revision,
            by=args.by or default_user(),
        )
        if outcome is None:
            print(
                t(
                    "cli.error",
                    message=t("restore.missing", unit=args.unit, period=args.period, no=args.revision),
                )
            )
            return 1
        if outcome.status == "unchanged":
            print(t("restore.unchanged", unit=args.unit, period=args.period, no=args.revision))
            return 0
        session.commit()
        new_no = list_revisions(session=session, unit=args.unit, period=args.period)[-1]["revision_no"]
    print(t("restore.done", unit=args.unit, period=args.period, no=args.revision, new_no=new_no))
    return 0


def _export_raw(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.submissions import raw_values
    from etl.writers import write_ledger
    from foundation.settings import get_settings

    cat = default_catalogue()
    region = args.region or get_settings().region
    periods = [f"{args.year:04d}-{m:02d}" for m in range(1, 13)] + [f"{args.year:04d}"]
    with Session(open_engine_for(args)) as session:
        values = raw_values(session=session, region=region, periods=periods)
    out = Path(args.output)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_ledger(out, values, catalogue=cat, units=cat.units_of(region))
    n_sheets = values["period"].nunique()
    n_rows = values[["unit", "period"]].drop_duplicates().shape[0]
    print(t("export_raw.written", year=args.year, sheets=n_sheets, rows=n_rows, path=out))
    return 0
