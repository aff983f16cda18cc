"""Small building blocks the pages share: labels from the catalogue, graphs with the shared
config, tables, and the check every page callback starts with (are the filters set?)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dash_bootstrap_components as dbc
from dash import dcc, html
from dash.exceptions import PreventUpdate

from dashboard.figures import empty_figure, graph_config
from foundation.catalogue import CITY, Indicator, default_catalogue
from foundation.i18n import t


def region_name(region: str) -> str:
    """The region's Chinese name; regions are data (a units file, named in the catalogue folder's
    regions.csv or the i18n files), so an unnamed one shows its code."""
    return default_catalogue().region_name(region)


def unit_labels(region: str, *, short: bool = True) -> dict[str, str]:
    """Unit code → short Chinese name (charts) or full name (tables), plus the city row."""
    labels = {u.code: (u.short_zh if short else u.name_zh) for u in default_catalogue().units_of(region)}
    labels[CITY] = t("unit.city")
    return labels


def unit_order(region: str) -> list[str]:
    return [u.code for u in default_catalogue().units_of(region)]


def indicator_names() -> dict[str, str]:
    return {c: i.name_zh for c, i in default_catalogue().indicators.items()}


def indicators() -> list[Indicator]:
    return list(default_catalogue().indicators.values())


def dropdown_labels() -> dict[str, str]:
    """dcc.Dropdown's own words (Dash 4: "3 selected", "Search"…), in the interface language."""
    keys = (
        "select_all",
        "deselect_all",
        "selected_count",
        "search",
        "clear_search",
        "clear_selection",
        "no_options_found",
    )
    return {k: t(f"dash.dropdown.{k}") for k in keys}


def dropdown(**kwargs: Any) -> dcc.Dropdown:
    """Every dropdown of the dashboard: Chinese labels and placeholder."""
    kwargs.setdefault("placeholder", t("dash.dropdown.placeholder"))
    return dcc.Dropdown(labels=dropdown_labels(), **kwargs)  # type: ignore[arg-type]  # Labels is a TypedDict of these keys


def require_filters(region: str | None, window: str | None, period: str | None) -> tuple[str, str, str]:
    """The shell sets the filters from the URL just after a page appears; until then, wait."""
    if not region or not window or not period:
        raise PreventUpdate
    return region, window, period


def graph(component_id: Any, filename: str, *, height: int | None = None) -> dcc.Loading:
    style = {"height": f"{height}px"} if height else None
    return dcc.Loading(
        dcc.Graph(
            id=component_id,
            figure=empty_figure(t("dash.loading")),
            config=graph_config(filename),  # type: ignore[arg-type]  # Config is a TypedDict of these keys
            style=style,
        ),
        type="default",
        delay_show=300,
    )


def table(header: Sequence[str], rows: Sequence[Sequence[Any]], *, class_name: str = "") -> dbc.Table:
    return dbc.Table(
        [
            html.Thead(html.Tr([html.Th(h) for h in header])),
            html.Tbody([html.Tr([html.Td(c) for c in row]) for row in rows]),
        ],
        bordered=False,
        hover=True,
        size="sm",
        responsive=True,
        className=class_name,
    )


def page_title(text: str, *extra: Any) -> html.Div:
    return html.Div(
        [html.H2(text, className="page-title"), *extra],
        className="d-flex flex-wrap align-items-baseline column-gap-3 row-gap-1",
    )
