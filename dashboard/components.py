"""Small building blocks the pages share: labels from the catalogue, graphs with the shared
config, tables, and the check every page callback starts with (are the filters set?)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import Input, Output, State, dcc, html
from dash.exceptions import PreventUpdate

from dashboard import data, ids
from dashboard.figures import empty_figure, graph_config
from dashboard.filters import clean_filters
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


def opening_filters(query: Mapping[str, Any]) -> tuple[str, str, str | None]:
    """(region, window, period) a page opens with for its URL query: exactly what the shell's
    ``sync_filters`` puts in the filters for the same query (the latest month with data when the
    query names none; None when the region has no data)."""
    wanted = clean_filters(
        {k: v[-1] if isinstance(v, list) and v else v for k, v in query.items() if v},
        catalogue=default_catalogue(),
        default_region=data.settings().region,
    )
    return wanted.region, wanted.window, wanted.period or data.latest_month(wanted.region)


def view_key(
    region: str | None, window: str | None, period: str | None, **controls: Any
) -> dict[str, Any] | None:
    """What a page shows: the filters and the page's own controls (None until the filters are set)."""
    if not region or not window or not period:
        return None
    return {"region": region, "window": window, "period": period, **controls}


# Browser-side: the view the filters and controls ask for, unless the page already shows it (or the
# filters are not set yet). ``__NAMES__`` is replaced by the view's keys, in the order of the inputs.
_GATE_JS = """
function () {
    var names = __NAMES__, shown = arguments[names.length], view = {}, same = !!shown;
    var none = window.dash_clientside.no_update;
    for (var i = 0; i < names.length; i++) {
        view[names[i]] = arguments[i] === undefined ? null : arguments[i];
        if (same && JSON.stringify(view[names[i]]) !== JSON.stringify(shown[names[i]])) { same = false; }
    }
    if (!view.region || !view.window || !view.period || same) { return none; }
    return view;
}
"""


def view_gate(
    app: dash.Dash, shown_id: str, wanted_id: str, controls: Sequence[tuple[str, Any]] = ()
) -> None:
    """A page whose layout already draws the view of its URL (``opening_filters`` and its own
    controls) keeps that view (``view_key``) in the store ``shown_id``. This clientside callback
    writes the view the filters and ``controls`` ((name, component id) of each ``value``) ask for
    to ``wanted_id`` only when it differs, so the filters arriving from the URL — and a control
    setting its value as it mounts — cost no server round trip; a real change reaches the page's
    callback (``Input(wanted_id)``, which also writes ``shown_id``)."""
    names = ["region", "window", "period", *(name for name, _ in controls)]
    app.clientside_callback(
        _GATE_JS.replace("__NAMES__", json.dumps(names)),
        Output(wanted_id, "data"),
        Input(ids.FILTER_REGION, "value"),
        Input(ids.FILTER_WINDOW, "value"),
        Input(ids.FILTER_PERIOD, "value"),
        *(Input(component_id, "value") for _, component_id in controls),
        State(shown_id, "data"),
    )


def view_stores(shown_id: str, wanted_id: str, shown: dict[str, Any] | None) -> list[dcc.Store]:
    return [dcc.Store(id=shown_id, data=shown), dcc.Store(id=wanted_id)]


def graph(component_id: Any, filename: str, *, height: int | None = None, figure: Any = None) -> dcc.Loading:
    """A figure with the shared config; ``figure``: drawn with the layout (else "loading")."""
    style = {"height": f"{height}px"} if height else None
    return dcc.Loading(
        dcc.Graph(
            id=component_id,
            figure=figure if figure is not None else empty_figure(t("dash.loading")),
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
