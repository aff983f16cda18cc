"""趋势 Trends: one indicator month by month (the month alone and the year to date) for the chosen
units against the city, over up to two years ending at the chosen period."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, html

from dashboard import components as cp
from dashboard import data, guard, ids
from dashboard.figures import empty_figure, trend_figure
from dashboard.filters import split_list
from dashboard.safe import alert, run_guarded, safe_layout
from foundation.catalogue import CITY, default_catalogue
from foundation.i18n import t

DEFAULT_UNITS = 3


@safe_layout
def layout(
    indicator: str | None = None, units: str | None = None, region: str | None = None, **_query: Any
) -> html.Div:
    cat = default_catalogue()
    region = region if region in cat.regions() else None
    pool = cat.units_of(region) if region else list(cat.units.values())
    offered = {u.code for u in pool}
    chosen = [u for u in split_list(units) if u in offered] or [u.code for u in pool[:DEFAULT_UNITS]]
    return html.Div(
        [
            cp.page_title(t("dash.nav.trends")),
            html.Div(
                [
                    html.Div(
                        cp.dropdown(
                            id=ids.TR_INDICATOR,
                            options=[{"label": i.name_zh, "value": i.code} for i in cp.indicators()],
                            value=data.clean_indicator(indicator),
                            clearable=False,
                        ),
                        className="tr-indicator",
                    ),
                    html.Div(
                        cp.dropdown(
                            id=ids.TR_UNITS,
                            options=[{"label": u.name_zh, "value": u.code} for u in pool],
                            value=chosen,
                            multi=True,
                            placeholder=t("dash.tr.choose_units"),
                        ),
                        className="tr-units",
                    ),
                ],
                className="d-flex flex-wrap gap-2 mb-2",
            ),
            html.Div(id=ids.TR_ALERT),
            cp.graph(ids.TR_MONTHLY, "trend_month"),
            cp.graph(ids.TR_YTD, "trend_ytd"),
        ]
    )


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/trends",
        name=t("dash.nav.trends"),
        title=t("dash.title.trends"),
        order=3,
        layout=layout,
        permission="view",
    )

    @guard.callback(
        app,
        "view",
        Output(ids.TR_MONTHLY, "figure"),
        Output(ids.TR_YTD, "figure"),
        Output(ids.TR_ALERT, "children"),
        Input(ids.FILTER_REGION, "value"),
        Input(ids.FILTER_PERIOD, "value"),
        Input(ids.TR_INDICATOR, "value"),
        Input(ids.TR_UNITS, "value"),
        Input(ids.FILTER_WINDOW, "value"),
        cache=True,
    )
    def update(region, period, indicator, units, window):  # noqa: ANN001, ANN202
        region, _window, period = cp.require_filters(region, window, period)
        return run_guarded(
            lambda: trends_view(region, period, data.clean_indicator(indicator), list(units or [])),
            lambda msg: (empty_figure(msg), empty_figure(msg), alert(msg)),
        )


def trends_view(region: str, period: str, indicator: str, units: list[str]) -> tuple:
    ind = default_catalogue().indicators[indicator]
    labels = cp.unit_labels(region)
    chosen = [u for u in units if u in labels and u != CITY]
    n = data.months_back(region, period)
    figures = []
    for window, key in (("month", "dash.tr.title_month"), ("ytd", "dash.tr.title_ytd")):
        series = data.trend(region=region, indicator=indicator, end=period, window=window, months=n)  # type: ignore[arg-type]
        figures.append(
            trend_figure(
                series,
                units=chosen,
                labels=labels,
                indicator=ind,
                title=t(key, indicator=ind.name_zh),
                city_label=t("unit.city"),
            )
        )
    note = None if chosen else alert(t("dash.tr.city_only"), color="light")
    return figures[0], figures[1], note
