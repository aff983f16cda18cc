"""``ipdash explain`` and ``ipdash briefing``: why a rank moved, and the monthly 通报.

- ``ipdash explain --unit CODE --period YYYY-MM [--window ytd] [--region R] [--scheme FILE]
  [--format table|json]``: the unit's composite change against the previous comparable window
  (环比) split into each indicator's contribution (largest first; they add up to the change), and
  the units that overtook it or that it overtook. json carries full precision.
- ``ipdash briefing --period YYYY-MM [--window ytd] [--region R] [--scheme FILE] [--as-of TS]
  [--by NAME] -o FILE.docx``: the 通报 (see ``application.briefing``).

Exit codes: 0 done, 1 the job ran into a problem (bad scheme, no previous window, not writable),
2 bad usage.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from foundation.calendar import WINDOWS, chinese_month
from foundation.i18n import t
from foundation.settings import get_settings
from ipdash.commands.common import SchemeRefused, add_db_option, month_period, open_engine_for, scheme_option


def register(sub: argparse._SubParsersAction) -> None:
    from foundation.catalogue import default_catalogue

    regions = default_catalogue().regions()
    default_region = get_settings().region

    p = sub.add_parser("explain", help="排名变动原因：综合得分变化按指标分解，以及超越/被超越的单位")
    p.add_argument("--unit", required=True, metavar="CODE", help="单位代码")
    p.add_argument("--period", required=True, type=month_period, metavar="YYYY-MM", help="截止月份")
    p.add_argument("--window", choices=WINDOWS, default="ytd", help="统计窗口（默认 ytd 年初至今）")
    p.add_argument("--region", choices=regions, default=default_region, help="地区（默认取设置）")
    p.add_argument("--scheme", metavar="FILE", default=None, help="考核方案 CSV（默认内置方案）")
    p.add_argument("--format", choices=("table", "json"), default="table", help="输出格式")
    add_db_option(p)
    p.set_defaults(handler=_explain)

    p = sub.add_parser("briefing", help="生成知识产权行政保护工作通报（Word .docx）")
    p.add_argument("--period", required=True, type=month_period, metavar="YYYY-MM", help="截止月份")
    p.add_argument("--window", choices=WINDOWS, default="ytd", help="统计窗口（默认 ytd 年初至今）")
    p.add_argument("--region", choices=regions, default=default_region, help="地区（默认取设置）")
    p.add_argument("--scheme", metavar="FILE", default=None, help="考核方案 CSV（默认内置方案）")
    p.add_argument(
        "--as-of",
        metavar="TIMESTAMP",
        default=None,
        help="按该时刻的报送版本生成（ISO 8601；不带时区按北京时间）",
    )
    p.add_argument("--by", metavar="NAME", default=None, help="生成人（默认当前系统用户）")
    p.add_argument("-o", "--output", required=True, metavar="FILE.docx")
    add_db_option(p)
    p.set_defaults(handler=_briefing)


def _error(message: str) -> None:
    print(t("cli.error", message=message), file=sys.stderr)


def _explain(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.explain import (
        contribution_header,
        contribution_rows,
        explanation_records,
        overtaking_lines,
        previous_period,
        rank_explanation,
        summary_line,
    )
    from foundation.catalogue import default_catalogue
    from ipdash.commands.indicators import render_table

    cat = default_catalogue()
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
    previous = previous_period(args.period, args.window)
    window_label = t(f"window.{args.window}")
    if previous is None:
        _error(t("explain.no_previous", period=args.period, window=window_label))
        return 1
    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            explanation = rank_explanation(
                session=session,
                region=args.region,
                unit=args.unit,
                period=args.period,
                window=args.window,
                scheme=scheme,
                catalogue=cat,
                settings=get_settings(),
            )
    finally:
        engine.dispose()
    assert explanation is not None  # a previous window exists
    if args.format == "json":
        record = explanation_records(explanation, period=args.period, previous=previous)
        sys.stdout.write(json.dumps(record, ensure_ascii=False) + "\n")
        return 0
    if explanation.composite_now is None or explanation.composite_before is None:
        _error(t("explain.no_composite", unit=unit.name_zh, period=args.period))
        return 1
    lines = [
        t(
            "explain.title",
            unit=unit.name_zh,
            window=window_label,
            period=chinese_month(args.period),
            previous=chinese_month(previous),
        ),
        summary_line(explanation),
        "",
        render_table(contribution_header(), contribution_rows(explanation, cat), [False] + [True] * 7),
        "",
        *overtaking_lines(explanation, cat),
        t("explain.note"),
    ]
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _briefing(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application.assessment import AsOfError, format_as_of, parse_as_of
    from application.briefing import write_briefing
    from foundation.catalogue import default_catalogue

    try:
        as_of = parse_as_of(args.as_of, tz=get_settings().timezone) if args.as_of else None
    except AsOfError as exc:
        _error(str(exc))
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
                data = write_briefing(
                    out,
                    session=session,
                    region=args.region,
                    period=args.period,
                    window=args.window,
                    scheme=scheme,
                    as_of=as_of,
                    generated_by=args.by,
                    catalogue=default_catalogue(),
                    settings=get_settings(),
                )
            except OSError as exc:
                _error(t("briefing.cannot_write", path=out, reason=exc.strerror or exc.__class__.__name__))
                return 1
    finally:
        engine.dispose()
    print(
        t(
            "briefing.written",
            path=out,
            units=len(data.assessment.units),
            scheme=data.assessment.scheme.name,
            as_of=format_as_of(data.assessment.as_of, tz=get_settings().timezone),
        )
    )
    return 0
