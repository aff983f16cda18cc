"""总览 Overview: the window's city figures as cards (each with its change on the previous
window and on a year ago), the units that have not reported the month, and the top and bottom
units on the composite score."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, dcc, html

from application.display import change_is_good, format_change, format_coverage, format_value, is_na
from dashboard import components as cp
from dashboard import data, guard, ids
from dashboard.filters import build_query
from dashboard.pages import tasks as tasks_page
from dashboard.safe import alert, run_guarded, safe_layout
from foundation.catalogue import CITY, Indicator
from foundation.i18n import t

TOP_N = 3


@safe_layout
def layout(**query: Any) -> html.Div:
    """Drawn with the view of its URL (no callback needed to show it; ``components.view_gate``)."""
    region, window, period = cp.opening_filters(query)
    shown = cp.view_key(region, window, period)
    heading: Any = None
    cards: Any = None
    missing: Any = None
    top: Any = None
    bottom: Any = None
    alert_box: Any = None
    if shown is not None and period is not None:
        heading, cards, missing, top, bottom, alert_box = _guarded_view(region, window, period)
    return html.Div(
        [
            *cp.view_stores(ids.OV_VIEW_SHOWN, ids.OV_VIEW_WANTED, shown),
            cp.page_title(
                t("dash.nav.overview"), html.Span(heading, id=ids.OV_HEADING, className="text-muted")
            ),
            html.Div(alert_box, id=ids.OV_ALERT),
            dcc.Link(tasks_page.region_counts(), href="/tasks", id="ov-tasks"),
            dcc.Loading(html.Div(cards, id=ids.OV_CARDS, className="ov-cards"), delay_show=300),
            dbc.Row(
                [
                    dbc.Col(dbc.Card(dbc.CardBody(missing, id=ids.OV_MISSING)), md=4),
                    dbc.Col(dbc.Card(dbc.CardBody(top, id=ids.OV_TOP)), md=4),
                    dbc.Col(dbc.Card(dbc.CardBody(bottom, id=ids.OV_BOTTOM)), md=4),
                ],
                className="g-3 mt-1",
            ),
        ]
    )


def _guarded_view(region: str, window: str, period: str) -> tuple:
    return run_guarded(
        lambda: _overview(region, window, period),
        lambda msg: ("", [], "", "", "", alert(msg)),
    )


def _change_line(label: str, change: Any, ind: Indicator) -> html.Div:
    good = change_is_good(change, ind)
    cls = "chg-good" if good is True else ("chg-bad" if good is False else "chg-flat")
    return html.Div(
        [html.Span(label + " "), html.Span(format_change(change, ind), className=cls)], className="small"
    )


def indicator_card(row: pd.Series, ind: Indicator, *, search: str) -> dbc.Card:
    """One indicator's city figure, linking to its ranking."""
    body = [
        dcc.Link(ind.name_zh, href=dash.get_relative_path("/rankings") + search, className="ov-card-name"),
        html.Div(format_value(row["value"], ind), className="ov-card-value"),
        _change_line(t("dash.ov.pop"), row["pop"], ind),
        _change_line(t("dash.ov.yoy"), row["yoy"], ind),
    ]
    coverage = row["coverage"]
    if not is_na(coverage) and float(coverage) < 1:
        body.append(
            html.Div(
                t("dash.ov.coverage", value=format_coverage(coverage)),
                className="small text-warning-emphasis",
            )
        )
    return dbc.Card(dbc.CardBody(body), className="ov-card")


def unit_link(code: str, label: str, search: str) -> dcc.Link:
    return dcc.Link(label, href=dash.get_relative_path(f"/unit/{code}") + search)


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/",
        name=t("dash.nav.overview"),
        title=t("dash.title.overview"),
        order=0,
        layout=layout,
        permission="view",
    )

    cp.view_gate(app, ids.OV_VIEW_SHOWN, ids.OV_VIEW_WANTED)

    @guard.callback(
        app,
        "view",
        Output(ids.OV_HEADING, "children"),
        Output(ids.OV_CARDS, "children"),
        Output(ids.OV_MISSING, "children"),
        Output(ids.OV_TOP, "children"),
        Output(ids.OV_BOTTOM, "children"),
        Output(ids.OV_ALERT, "children"),
        Output(ids.OV_VIEW_SHOWN, "data"),
        Input(ids.OV_VIEW_WANTED, "data"),
        prevent_initial_call=True,  # the layout drew the first view
        cache=True,
    )
    def update(wanted: dict[str, Any] | None):  # noqa: ANN202
        wanted = wanted or {}
        region, window, period = cp.require_filters(
            wanted.get("region"), wanted.get("window"), wanted.get("period")
        )
        return (*_guarded_view(region, window, period), cp.view_key(region, window, period))


def _overview(region: str, window: str, period: str) -> tuple:
    table = data.indicator_table(region=region, period=period, window=window)  # type: ignore[arg-type]
    city = table[table["unit"] == CITY].set_index("indicator")
    heading = t("dash.ov.heading", region=cp.region_name(region), window=t(f"window.{window}"), period=period)
    base = {"region": region, "window": window, "period": period}
    cards = [
        indicator_card(city.loc[ind.code], ind, search=build_query({**base, "indicator": ind.code}))
        for ind in cp.indicators()
        if ind.code in city.index
    ]
    search = build_query(base)
    labels = cp.unit_labels(region, short=False)
    reported = data.reported_units(region, period)
    missing = [u for u in cp.unit_order(region) if u not in reported]
    missing_body: list[Any] = [html.H5(t("dash.ov.missing_title", period=period))]
    if missing:
        missing_body.append(
            html.Ul([html.Li(unit_link(u, labels[u], search)) for u in missing], className="mb-0")
        )
    else:
        missing_body.append(html.P(t("dash.ov.all_reported"), className="text-success mb-0"))

    score = data.score_table(region=region, period=period, window=window).composite  # type: ignore[arg-type]
    ranked = score[score["composite"].notna()].sort_values(["rank", "unit"])

    def listing(rows: pd.DataFrame) -> html.Ul:
        return html.Ul(
            [
                html.Li(
                    [
                        html.Span(
                            t("dash.ov.rank_no", rank=int(r.rank)), className="badge text-bg-light me-2"
                        ),
                        unit_link(r.unit, labels.get(r.unit, r.unit), search),
                        html.Span(f"  {format_value(r.composite, None)}", className="text-muted"),
                    ]
                )
                for r in rows.itertuples(index=False)
            ],
            className="list-unstyled mb-0",
        )

    top = [html.H5(t("dash.ov.top_title")), listing(ranked.head(TOP_N))]
    bottom = [html.H5(t("dash.ov.bottom_title")), listing(ranked.tail(TOP_N).iloc[::-1])]
    alert_box = None
    if city["value"].isna().all():
        alert_box = alert(t("dash.empty.no_data_period", period=period), color="info")
    return heading, cards, missing_body, top, bottom, alert_box
