"""区详情 Unit page (/unit/<code>): one unit's scorecard (each indicator against the city and its
target, with its score and rank), sparklines of the last months against the city, and its
submissions with their warnings.

The first view (the filters of the URL) is drawn with the layout itself, so the page needs no
callback to show it; a change of filter redraws it through ``update`` (``components.view_gate``).
The sparklines are small SVG pictures drawn on the server (``figures.sparkline_svg``), each with
its latest values written out under it and month by month in its tooltip."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update

from application.display import benchmark_label, distinct_values, flag, format_value, is_na
from application.plan_targets import above_targets, meets_above
from dashboard import components as cp
from dashboard import data, guard, ids
from dashboard import review as review_ui
from dashboard.figures import SPARK_HEIGHT, SPARK_WIDTH, sparkline_svg, svg_data_uri
from dashboard.pages import tasks as tasks_page
from dashboard.safe import alert, run_guarded, safe_layout
from foundation.calendar import month_index
from foundation.catalogue import CITY, default_catalogue
from foundation.i18n import t

SPARK_MONTHS = 12
MAX_SUBMISSIONS = 36


@safe_layout
def layout(code: str | None = None, **query: Any) -> html.Div:
    cat = default_catalogue()
    unit = cat.units.get(code or "")
    if unit is None:
        return alert(t("dash.unit.unknown", code=code or ""), color="warning")
    region, window, period = cp.opening_filters(query)
    shown = cp.view_key(region, window, period)
    if shown is None or period is None:  # no data in the region yet: the shell says so
        heading, scorecard, sparks, submissions, alert_box, explain = "", "", "", "", None, ""
    else:
        heading, scorecard, sparks, submissions, alert_box, explain = _guarded_view(unit.code, window, period)
    return html.Div(
        [
            dcc.Store(id=ids.UNIT_CODE, data=unit.code),
            *cp.view_stores(ids.UNIT_VIEW_SHOWN, ids.UNIT_VIEW_WANTED, shown),
            cp.page_title(
                unit.name_zh,
                html.Div(
                    cp.dropdown(
                        id=ids.UNIT_SELECT,
                        options=[{"label": u.name_zh, "value": u.code} for u in cat.units_of(unit.region)],
                        value=unit.code,
                        clearable=False,
                    ),
                    className="unit-select",
                ),
            ),
            html.Div(heading, id=ids.UNIT_HEADING, className="text-muted mb-2"),
            html.Div(alert_box, id=ids.UNIT_ALERT),
            html.H4(t("dash.unit.scorecard")),
            dcc.Loading(html.Div(scorecard, id=ids.UNIT_SCORECARD), delay_show=300),
            html.Div(explain, id=ids.UNIT_EXPLAIN, className="mt-3"),
            html.H4(t("dash.unit.sparklines"), className="mt-3"),
            html.Div(sparks, id=ids.UNIT_SPARKS),
            review_ui.own_section(unit.code, period),
            html.H4(t("dash.unit.submissions"), className="mt-3"),
            html.Div(submissions, id=ids.UNIT_SUBMISSIONS),
            html.H4(t("tasks.page.unit_title"), className="mt-3"),
            html.Div(tasks_page.unit_tasks(unit.code), id="unit-tasks"),
        ]
    )


def _guarded_view(code: str, window: str, period: str) -> tuple:
    return run_guarded(
        lambda: unit_view(code, window, period),
        lambda msg: ("", "", "", "", alert(msg), ""),
    )


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path_template="/unit/<code>",
        name=t("dash.nav.unit"),
        title=t("dash.title.unit"),
        order=4,
        layout=layout,
        permission="view",
        unit_scoped=True,
    )
    review_ui.register_own(app)

    @guard.callback(
        app,
        "view",
        Output(ids.PAGES_LOCATION, "pathname"),
        Output(ids.PAGES_LOCATION, "search"),
        Input(ids.UNIT_SELECT, "value"),
        State(ids.UNIT_CODE, "data"),
        State(ids.URL_WRITE, "search"),
        prevent_initial_call=True,
    )
    def switch_unit(code: str | None, current: str | None, search: str | None):  # noqa: ANN202
        if not code or code == current:
            return no_update, no_update
        return dash.get_relative_path(f"/unit/{code}"), search or ""

    cp.view_gate(app, ids.UNIT_VIEW_SHOWN, ids.UNIT_VIEW_WANTED)

    @guard.callback(
        app,
        "view",
        Output(ids.UNIT_HEADING, "children"),
        Output(ids.UNIT_SCORECARD, "children"),
        Output(ids.UNIT_SPARKS, "children"),
        Output(ids.UNIT_SUBMISSIONS, "children"),
        Output(ids.UNIT_ALERT, "children"),
        Output(ids.UNIT_EXPLAIN, "children"),
        Output(ids.UNIT_VIEW_SHOWN, "data"),
        Input(ids.UNIT_VIEW_WANTED, "data"),
        State(ids.UNIT_CODE, "data"),
        prevent_initial_call=True,  # the layout drew the first view
        scope=guard.unit_arg(ids.UNIT_CODE + ".data"),
        cache=True,
    )
    def update(wanted, code):  # noqa: ANN001, ANN202
        wanted = wanted or {}
        _region, window, period = cp.require_filters(
            wanted.get("region"), wanted.get("window"), wanted.get("period")
        )
        return (*_guarded_view(code, window, period), cp.view_key(_region, window, period))


def unit_view(code: str, window: str, period: str) -> tuple:
    cat = default_catalogue()
    unit = cat.units[code]
    region = unit.region  # the unit's own region, whatever the filter says
    table = data.indicator_table(region=region, period=period, window=window)  # type: ignore[arg-type]
    score = data.score_table(region=region, period=period, window=window)  # type: ignore[arg-type]
    comp = score.composite.set_index("unit")
    heading = t(
        "dash.rank.subtitle", region=cp.region_name(region), window=t(f"window.{window}"), period=period
    )
    if code in comp.index and not is_na(comp.at[code, "composite"]):
        heading += "　" + t(
            "dash.unit.composite",
            score=format_value(comp.at[code, "composite"], None),
            rank=int(comp.at[code, "rank"]),
            n=int(comp["composite"].notna().sum()),
        )
    scorecard = _scorecard(table, score.detail, code, region)

    months = data.available_months(region)
    n = 1 if not months else max(1, min(SPARK_MONTHS, month_index(period) - month_index(months[-1]) + 1))
    series = data.monthly_tables(region=region, end=period, window="month", months=n)
    series = series[series["unit"].isin([code, CITY])]
    sparks = sparklines(series, unit=code, unit_label=unit.short_zh)
    explain = _explanation(code, region, window, period)
    return heading, scorecard, sparks, _submissions(data.unit_revisions(code)), None, explain


def sparklines(series: pd.DataFrame, *, unit: str, unit_label: str) -> Any:
    """Each indicator's months (``series``: indicator, unit, period, value) for the unit and the
    city as a small picture, with both latest values under it and every month in its tooltip."""
    if series.empty:
        return html.P(t("dash.empty.no_values"), className="text-muted")
    periods = sorted(series["period"].unique())
    values = series.set_index(["indicator", "unit", "period"])["value"].to_dict()
    city_label = t("unit.city")
    first, last = periods[0], periods[-1]
    cells = []
    for ind in default_catalogue().indicators.values():
        mine = [values.get((ind.code, unit, p)) for p in periods]
        city = [values.get((ind.code, CITY, p)) for p in periods]
        mine = [None if is_na(v) else float(v) for v in mine]
        city = [None if is_na(v) else float(v) for v in city]
        unit_now, city_now = format_value(mine[-1], ind), format_value(city[-1], ind)
        months = [
            t(
                "dash.unit.spark_month",
                period=p,
                unit=unit_label,
                unit_value=format_value(u, ind),
                city=city_label,
                city_value=format_value(c, ind),
            )
            for p, u, c in zip(periods, mine, city, strict=True)
        ]
        alt = t(
            "dash.unit.spark_alt",
            indicator=ind.name_zh,
            first=first,
            last=last,
            unit=unit_label,
            unit_value=unit_now,
            city=city_label,
            city_value=city_now,
        )
        cells.append(
            html.Figure(
                [
                    html.Figcaption(ind.name_zh, className="spark-name"),
                    html.Img(
                        src=svg_data_uri(sparkline_svg({"unit": mine, "city": city})),
                        alt=alt,
                        title="\n".join(months),
                        width=SPARK_WIDTH,
                        height=SPARK_HEIGHT,
                    ),
                    html.Div(
                        [
                            html.Span(f"{unit_label} {unit_now}", className="spark-unit"),
                            html.Span(f"{city_label} {city_now}", className="spark-city"),
                        ],
                        className="spark-last",
                    ),
                ],
                className="spark",
                **{"data-indicator": ind.code},  # type: ignore[arg-type]  # a data-* attribute
            )
        )
    return html.Div(
        [
            html.Div(t("dash.unit.spark_span", first=first, last=last), className="small text-muted"),
            html.Div(cells, className="sparks"),
        ]
    )


def _explanation(code: str, region: str, window: str, period: str) -> Any:
    """Why the rank moved since the previous comparable window (the figures of ``ipdash explain``)."""
    from application.explain import (
        contribution_header,
        contribution_rows,
        overtaking_lines,
        previous_period,
        rank_explanation,
        summary_line,
    )

    previous = previous_period(period, window)  # type: ignore[arg-type]
    if previous is None:
        return html.P(t("dash.unit.explain_none"), className="text-muted small")
    with data.session_scope() as session:
        e = rank_explanation(
            session=session,
            region=region,
            unit=code,
            period=period,
            window=window,  # type: ignore[arg-type]
            settings=data.settings(),
        )
    title = html.H4(t("explain.unit_page_title", previous=previous))
    if e is None or e.composite_now is None or e.composite_before is None:
        return html.Div([title, html.P(t("dash.unit.explain_no_score"), className="text-muted small")])
    return html.Div(
        [
            title,
            html.P(summary_line(e)),
            cp.table(contribution_header(), contribution_rows(e), class_name="explain"),
            html.Ul([html.Li(line) for line in overtaking_lines(e)], className="small mb-1"),
            html.P(t("explain.note"), className="small text-muted"),
        ]
    )


def _scorecard(table: pd.DataFrame, detail: pd.DataFrame, code: str, region: str) -> Any:
    cat = default_catalogue()
    # Plain dicts: row-by-row .loc on a DataFrame cost more than the rest of the page.
    mine = table[table["unit"] == code].set_index("indicator").to_dict("index")
    bench = table[table["unit"] == CITY].set_index("indicator")["benchmark"].to_dict()
    scored = detail[detail["unit"] == code].set_index("indicator")[["target", "score"]].to_dict("index")
    header = [
        t("dash.col.indicator"),
        t("dash.col.value"),
        t("dash.col.benchmark", benchmark=benchmark_label(region)),
        t("dash.col.meets"),
        t("dash.col.target"),
        t("dash.col.score"),
        t("dash.col.rank"),
        t("dash.col.flags"),
    ]
    above = above_targets(code, catalogue=cat)
    label = benchmark_label(region)
    rows = []
    for c, ind in cat.indicators.items():
        if c not in mine:
            continue
        r = mine[c]
        meets = r["meets_benchmark"]
        badge_text = t("dash.meets.yes") if flag(meets) else t("dash.meets.no")
        good = flag(meets)
        if c in above:  # the plan asks for "above": equality does not meet it
            strictly = meets_above(r["value"], bench.get(c), ind.direction)
            meets = pd.NA if strictly is None else strictly
            good = bool(strictly)
            badge_text = t("dash.meets.above_yes") if strictly else t("dash.meets.above_no")
        badge = (
            ""
            if is_na(meets)
            else html.Span(
                badge_text, className="badge " + ("text-bg-success" if good else "text-bg-warning")
            )
        )
        target = scored[c]["target"] if c in scored else None
        points = scored[c]["score"] if c in scored else None
        flags = []
        if flag(r["small_denominator"]):
            flags.append(t("dash.flag.small_denominator"))
        if flag(r["incomplete"]):
            flags.append(t("dash.flag.incomplete"))
        # when rounding hides the difference from the benchmark, more digits show it
        value_text, bench_text = distinct_values(r["value"], bench.get(c), ind)
        target_text = format_value(target, ind) if c in scored else ""
        if c in above:
            target_text = t("dash.unit.target_above", benchmark=label, task=above[c])
        rows.append(
            [
                ind.name_zh,
                value_text,
                bench_text,
                badge,
                target_text,
                format_value(points, None) if c in scored else "",
                "" if is_na(r["rank"]) else str(int(r["rank"])),
                "、".join(flags),
            ]
        )
    return cp.table(header, rows, class_name="scorecard")


def _submissions(log: pd.DataFrame) -> Any:
    if log.empty:
        return html.P(t("dash.unit.no_submissions"), className="text-muted")
    tz = data.settings().timezone
    rows = []
    for r in log.head(MAX_SUBMISSIONS).itertuples(index=False):
        warnings = list(r.warnings or [])
        warn_cell: Any = t("dash.unit.no_warnings")
        if warnings:
            warn_cell = html.Details(
                [
                    html.Summary(t("dash.unit.n_warnings", n=len(warnings))),
                    html.Ul([html.Li(w.get("message", "")) for w in warnings], className="small mb-0"),
                ]
            )
        rows.append(
            [
                r.period,
                t("dash.unit.revision", no=int(r.revision_no))
                + ("" if not r.is_current else " " + t("dash.unit.current")),
                pd.Timestamp(r.submitted_at).tz_convert(tz).strftime("%Y-%m-%d %H:%M"),
                r.created_by,
                r.file_name,
                warn_cell,
            ]
        )
    header = [
        t("dash.col.period"),
        t("dash.col.revision"),
        t("dash.col.submitted_at"),
        t("dash.col.submitted_by"),
        t("dash.col.file"),
        t("dash.col.warnings"),
    ]
    return dbc.Card(dbc.CardBody(cp.table(header, rows, class_name="submissions")))
