"""``ipdash indicators`` and ``ipdash score``: the indicator table and the assessment ranking.

Machine formats (csv, json) carry full precision and are a contract other tools rely on:

- ``indicators``: columns ``MACHINE_COLUMNS``, one row per unit and indicator plus ``city`` rows;
  rates as fractions; NA empty in csv, null in json; booleans true/false.
- ``score``: json is a list of ``{unit, composite, rank, indicators: {code: {value, score,
  weight}}}`` (weight as applied after re-spreading; null score where NA), in rank order; csv has
  one row per unit and indicator: ``unit, composite, rank, indicator, value, method, score, weight``.

``table`` is for people: Chinese headers, rates as 87.3%, days one decimal, NA as —.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
import unicodedata
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from application.display import format_change, format_coverage, format_number, format_score, format_value
from foundation.calendar import WINDOWS
from foundation.i18n import messages, t
from foundation.settings import get_settings
from ipdash.commands.common import SchemeRefused, add_db_option, month_period, open_engine_for, scheme_option

if TYPE_CHECKING:  # pandas is imported by the handlers: `ipdash --help` starts without it
    import pandas as pd

MACHINE_COLUMNS = [
    "unit",
    "indicator",
    "value",
    "numerator",
    "denominator",
    "coverage",
    "city_value",
    "meets_benchmark",
    "rank",
    "yoy",
    "pop",
    "small_denominator",
]
SCORE_CSV_COLUMNS = ["unit", "composite", "rank", "indicator", "value", "method", "score", "weight"]


def register(sub: argparse._SubParsersAction) -> None:
    from foundation.catalogue import default_catalogue

    regions = default_catalogue().regions()
    default_region = get_settings().region

    def common(p: argparse.ArgumentParser) -> None:
        p.add_argument("--period", required=True, type=month_period, help="截止月份 YYYY-MM")
        p.add_argument("--window", choices=WINDOWS, default="ytd", help="统计窗口（默认 ytd 年初至今）")
        p.add_argument("--region", choices=regions, default=default_region, help="地区（默认取设置）")
        p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="输出格式")
        add_db_option(p)

    ind = sub.add_parser("indicators", help="计算各单位及全市的全部指标")
    common(ind)
    ind.set_defaults(handler=_indicators)

    score = sub.add_parser("score", help="按考核方案计算综合得分与排名")
    common(score)
    score.add_argument(
        "--scheme",
        metavar="FILE",
        default=None,
        help="考核方案 CSV（默认：管理页选定的默认方案，未选定时为内置方案）",
    )
    score.set_defaults(handler=_score)


# --- machine formats -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """A JSON-ready Python value: None for NA, bool, int or full-precision float."""
    import pandas as pd

    if value is None or value is pd.NA:
        return None
    if isinstance(value, bool):
        return value
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _csv_cell(value: Any) -> str:
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    return str(value)


def _write_csv(rows: Sequence[dict[str, Any]], columns: Sequence[str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_csv_cell(row[c]) for c in columns])
    return buffer.getvalue()


def indicators_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """The machine rows of ``ipdash indicators`` (plain Python values, None for NA)."""
    return [
        {c: _plain(v) for c, v in zip(MACHINE_COLUMNS, row, strict=True)}
        for row in frame[MACHINE_COLUMNS].itertuples(index=False, name=None)
    ]


def score_records(result: Any) -> list[dict[str, Any]]:
    """The json rows of ``ipdash score``, in rank order."""
    detail = result.detail
    records = []
    for unit, composite, rank in result.composite[["unit", "composite", "rank"]].itertuples(index=False):
        mine = detail[detail["unit"] == unit]
        records.append(
            {
                "unit": unit,
                "composite": _plain(composite),
                "rank": _plain(rank),
                "indicators": {
                    code: {"value": _plain(value), "score": _plain(score), "weight": _plain(weight)}
                    for code, value, score, weight in mine[
                        ["indicator", "value", "score", "applied_weight"]
                    ].itertuples(index=False)
                },
            }
        )
    return records


# --- the table for people ------------------------------------------------------------------------


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * (width - _width(text))
    return gap + text if right else text + gap


def render_table(header: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> str:
    widths = [max(_width(x) for x in col) for col in zip(header, *rows, strict=False)]
    lines = ["  ".join(_pad(h, w, r) for h, w, r in zip(header, widths, right, strict=True)).rstrip()]
    lines.append("  ".join("-" * w for w in widths))
    for row in rows:
        lines.append("  ".join(_pad(c, w, r) for c, w, r in zip(row, widths, right, strict=True)).rstrip())
    return "\n".join(lines)


def _count(value: Any) -> str:
    return format_number(_plain(value))


def _yes_no(value: Any) -> str:
    value = _plain(value)
    return t("na") if value is None else t("ind.yes") if value else t("ind.no")


def _unit_names(region: str) -> dict[str, str]:
    from foundation.catalogue import CITY, default_catalogue

    names = {u.code: u.short_zh or u.name_zh for u in default_catalogue().units_of(region)}
    names[CITY] = t("unit.city")
    return names


def indicators_table_text(frame: pd.DataFrame, *, region: str, period: str, window: str) -> str:
    from foundation.catalogue import default_catalogue

    cat = default_catalogue()
    names = _unit_names(region)
    parts = [t("ind.title", region=cat.region_name(region), window=t(f"window.{window}"), period=period)]
    header = [
        t("ind.col.unit"),
        t("ind.col.value"),
        t("ind.col.numerator"),
        t("ind.col.denominator"),
        t("ind.col.coverage"),
        t("ind.col.benchmark"),
        t("ind.col.meets"),
        t("ind.col.rank"),
        t("ind.col.yoy"),
        t("ind.col.pop"),
        t("ind.col.notes"),
    ]
    right = [False, True, True, True, True, True, False, True, True, True, False]
    for code, rows in frame.groupby("indicator", sort=False):
        ind = cat.indicators[str(code)]
        parts.append("")
        parts.append(
            t(
                "ind.section",
                name=ind.name_zh,
                code=ind.code,
                unit=ind.display_unit,
                direction=t(f"direction.{ind.direction}"),
            )
        )
        body = []
        for r in rows.itertuples(index=False):
            notes = []
            if _plain(r.small_denominator):
                notes.append(t("ind.note.small"))
            if _plain(r.incomplete):
                notes.append(t("ind.note.incomplete"))
            body.append(
                [
                    names.get(r.unit, r.unit),
                    format_value(r.value, ind),
                    _count(r.numerator) if ind.is_ratio else format_value(r.numerator, ind),
                    _count(r.denominator),
                    format_coverage(r.coverage),
                    format_value(r.benchmark, ind),
                    _yes_no(r.meets_benchmark),
                    t("na") if _plain(r.rank) is None else str(r.rank),
                    format_change(r.yoy, ind),
                    format_change(r.pop, ind),
                    "、".join(notes),
                ]
            )
        parts.append(render_table(header, body, right))
        first = rows.iloc[0]
        parts.append(
            t(
                "ind.mean_median",
                mean=format_value(first["city_mean"], ind),
                median=format_value(first["city_median"], ind),
            )
        )
    parts.append("")
    parts.append(t("ind.footer"))
    return "\n".join(parts) + "\n"


def score_table_text(result: Any, *, region: str, period: str, window: str) -> str:
    from foundation.catalogue import default_catalogue

    cat = default_catalogue()
    names = _unit_names(region)
    scheme = result.scheme
    parts = [
        t(
            "score.title",
            region=cat.region_name(region),
            window=t(f"window.{window}"),
            period=period,
            scheme=scheme.name,
            version=scheme.version,
        ),
        "",
    ]
    rows = []
    for r in result.composite.itertuples(index=False):
        note = _respread_note(list(r.na_indicators), cat) if r.respread else ""
        composite = _plain(r.composite)
        rows.append(
            [
                t("na") if _plain(r.rank) is None else str(r.rank),
                names.get(r.unit, r.unit),
                format_score(composite),
                note,
            ]
        )
    header = [t("score.col.rank"), t("score.col.unit"), t("score.col.composite"), t("score.col.respread")]
    parts.append(render_table(header, rows, [True, False, True, False]))
    parts += ["", t("score.detail_title")]
    order = {u: i for i, u in enumerate(result.composite["unit"])}
    detail = result.detail.assign(_order=result.detail["unit"].map(order)).sort_values(
        "_order", kind="stable"
    )
    body = []
    for r in detail.itertuples(index=False):
        ind = cat.indicators[r.indicator]
        score, weight = _plain(r.score), _plain(r.applied_weight)
        body.append(
            [
                names.get(r.unit, r.unit),
                ind.name_zh,
                format_value(r.value, ind),
                messages().get(f"score.method.{r.method}", r.method),
                format_score(score),
                format_score(weight),
            ]
        )
    header = [
        t("score.col.unit"),
        t("score.col.indicator"),
        t("score.col.value"),
        t("score.col.method"),
        t("score.col.score"),
        t("score.col.weight"),
    ]
    parts.append(render_table(header, body, [False, False, True, False, True, True]))
    return "\n".join(parts) + "\n"


def _respread_note(codes: list[str], cat: Any) -> str:
    if len(codes) > 3:
        return t("score.respread_many", count=len(codes))
    return t("score.respread_note", indicators="、".join(cat.indicators[c].name_zh for c in codes))


# --- handlers ------------------------------------------------------------------------------------


def _indicators(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application import service

    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            frame = service.indicator_table(
                session=session,
                region=args.region,
                period=args.period,
                window=args.window,
                settings=get_settings(),
            )
    finally:
        engine.dispose()
    if args.format == "csv":
        sys.stdout.write(_write_csv(indicators_records(frame), MACHINE_COLUMNS))
    elif args.format == "json":
        sys.stdout.write(json.dumps(indicators_records(frame), ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(
            indicators_table_text(frame, region=args.region, period=args.period, window=args.window)
        )
    return 0


def _score(args: argparse.Namespace) -> int:
    from sqlmodel import Session

    from application import service

    try:
        scheme = scheme_option(args.scheme)
    except SchemeRefused:
        return 1
    engine = open_engine_for(args)
    try:
        with Session(engine) as session:
            result = service.score_table(
                session=session,
                region=args.region,
                period=args.period,
                window=args.window,
                scheme=scheme,
                settings=get_settings(),
            )
    finally:
        engine.dispose()
    if args.format == "json":
        sys.stdout.write(json.dumps(score_records(result), ensure_ascii=False) + "\n")
    elif args.format == "csv":
        rank_of = result.composite.set_index("unit")
        rows = [
            {
                "unit": r.unit,
                "composite": rank_of.at[r.unit, "composite"],
                "rank": rank_of.at[r.unit, "rank"],
                "indicator": r.indicator,
                "value": r.value,
                "method": r.method,
                "score": r.score,
                "weight": r.applied_weight,
            }
            for r in result.detail.itertuples(index=False)
        ]
        order = {u: i for i, u in enumerate(result.composite["unit"])}
        rows.sort(key=lambda row: order[row["unit"]])
        sys.stdout.write(_write_csv(rows, SCORE_CSV_COLUMNS))
    else:
        sys.stdout.write(score_table_text(result, region=args.region, period=args.period, window=args.window))
    return 0
