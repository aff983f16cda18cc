"""The frame around every page: title, navigation, the shared filters (region, window, period)
and the two callbacks that keep them in the URL.

- ``sync_filters``: the URL (on load, a followed link, the back button) sets the filters; a
  region change refreshes the months on offer, and so do a move to another page and an upload
  that loaded something (``DATA_CHANGED``): a month just uploaded is offered without a reload. One callback, because it both reads and writes
  the region (Dash allows that circle only inside one callback).
- ``write_url``: the filters and every page control marked ``QUERY_PARAM`` are written back to
  the query string through a second ``dcc.Location`` with ``refresh=False``, which changes the
  address bar without re-rendering the page; the navigation links carry the same query.
"""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
from dash import ALL, Input, Output, State, ctx, dcc, html, no_update

from dashboard import data, guard, ids
from dashboard.components import dropdown, opening_filters, region_name
from dashboard.filters import build_query, parse_query
from dashboard.identity import signed_in
from foundation.calendar import WINDOWS
from foundation.catalogue import default_catalogue
from foundation.i18n import t


def _nav_pages() -> list[dict[str, Any]]:
    """The pages the signed-in person may open (the gate refuses the others anyway)."""
    return guard.nav_pages_for(signed_in())


def nav_href(page: dict[str, Any], region: str, search: str) -> str:
    """Where a nav entry points: the page's path with the current query; a page whose path has a
    ``<code>`` (the unit page) opens on the region's first unit."""
    path = page["path"]
    template = page.get("path_template")
    if template and "<code>" in template:
        who = signed_in()
        units = default_catalogue().units_of(region)
        own = who.unit if who is not None and who.unit else None  # a clerk opens their own unit
        path = template.replace("<code>", own or (units[0].code if units else ""))
    return dash.get_relative_path(path) + search


def layout() -> html.Div:
    """A function, so the navigation reflects every page registered when the page is loaded."""
    cat = default_catalogue()
    settings = data.settings()
    nav = [
        dcc.Link(
            page["name"],
            href=nav_href(page, settings.region, ""),
            id={"type": ids.NAV_LINK, "page": page["module"]},
            className="nav-link",
        )
        for page in _nav_pages()
    ]
    filters = dbc.Row(
        [
            dbc.Col(
                [
                    dbc.Label(t("dash.filter.region"), html_for=ids.FILTER_REGION, className="small mb-0"),
                    dropdown(
                        id=ids.FILTER_REGION,
                        options=[{"label": region_name(r), "value": r} for r in cat.regions()],
                        clearable=False,
                        searchable=False,
                    ),
                ],
                xs=12,
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label(t("dash.filter.window"), html_for=ids.FILTER_WINDOW, className="small mb-0"),
                    dropdown(
                        id=ids.FILTER_WINDOW,
                        options=[{"label": t(f"window.{w}"), "value": w} for w in WINDOWS],
                        clearable=False,
                        searchable=False,
                    ),
                ],
                xs=12,
                md=3,
            ),
            dbc.Col(
                [
                    dbc.Label(t("dash.filter.period"), html_for=ids.FILTER_PERIOD, className="small mb-0"),
                    dropdown(id=ids.FILTER_PERIOD, options=[], clearable=False),
                ],
                xs=12,
                md=3,
            ),
        ],
        className="g-2 filter-bar",
        id=ids.FILTER_BAR,
    )
    return html.Div(
        [
            dcc.Location(id=ids.URL_WRITE, refresh=False),
            dcc.Store(id=ids.URL_RELOAD),
            dcc.Store(id=ids.DATA_CHANGED),
            html.Div(id=ids.URL_RELOAD_DONE, hidden=True),
            html.Header(
                [
                    html.Div(
                        [
                            html.Span(t("app.title"), className="app-title"),
                            html.Nav(nav, className="nav nav-pills"),
                            _account_box(),
                        ],
                        className="d-flex flex-wrap align-items-center gap-3",
                    ),
                    filters,
                ],
                className="app-header",
            ),
            html.Div(id=ids.SHELL_ALERT),
            html.Main(dash.page_container, className="app-main"),
            html.Footer(t("dash.footer"), className="app-footer"),
        ],
        className="container-fluid",
    )


def _account_box() -> Any:
    """Who is signed in, and 退出 (a POST form carrying the CSRF token)."""
    from flask_wtf.csrf import generate_csrf

    who = signed_in()
    if who is None:
        return html.Span()
    return html.Form(
        [
            html.Span(
                t("auth.signed_in_as", name=who.display_name, role=t(f"role.{who.role.value}")),
                id=ids.ACCOUNT_NAME,
                className="small text-muted me-2",
            ),
            dcc.Input(type="hidden", name="csrf_token", value=generate_csrf()),
            html.Button(
                t("auth.logout"), type="submit", id=ids.LOGOUT, className="btn btn-sm btn-outline-secondary"
            ),
        ],
        method="POST",
        action=dash.get_relative_path("/logout"),
        className="ms-auto d-flex align-items-center account-box",
    )


def _period_options(region: str, keep: str | None) -> list[dict[str, str]]:
    months = data.available_months(region)
    if keep and keep not in months:
        months = sorted([*months, keep], reverse=True)
    return [{"label": m, "value": m} for m in months]


def register_callbacks(app: dash.Dash) -> None:
    @guard.callback(
        app,
        "view",
        Output(ids.FILTER_REGION, "value"),
        Output(ids.FILTER_WINDOW, "value"),
        Output(ids.FILTER_PERIOD, "value"),
        Output(ids.FILTER_PERIOD, "options"),
        Output(ids.SHELL_ALERT, "children"),
        Input(ids.PAGES_LOCATION, "search"),
        Input(ids.FILTER_REGION, "value"),
        Input(ids.PAGES_LOCATION, "pathname"),
        Input(ids.DATA_CHANGED, "data"),
        State(ids.FILTER_WINDOW, "value"),
        State(ids.FILTER_PERIOD, "value"),
    )
    def sync_filters(  # noqa: ANN202
        search: str | None,
        region: str | None,
        _path: str | None,
        _changed: Any,
        window: str | None,
        period: str | None,
    ):
        try:
            triggered = set(ctx.triggered_prop_ids) if ctx.triggered else set()
            refresh_only = {f"{ids.PAGES_LOCATION}.pathname", f"{ids.DATA_CHANGED}.data"}
            if triggered and triggered <= refresh_only and region:
                # Another page or new data: the same filters, the months on offer read again.
                return no_update, no_update, no_update, _period_options(region, period), no_update
            if ctx.triggered_id == ids.FILTER_REGION and region:
                # The user picked another region: keep the month if that region has it.
                months = data.available_months(region)
                new_period = period if period in months else (months[0] if months else None)
                alert = None if months else dbc.Alert(t("dash.empty.no_data_region"), color="info")
                return no_update, no_update, new_period, _period_options(region, None), alert
            # The same filters a page's layout drew its first view with (components.opening_filters).
            new_region, new_window, new_period = opening_filters(parse_query(search))
            alert = None if new_period else dbc.Alert(t("dash.empty.no_data_region"), color="info")
            return (
                new_region if new_region != region else no_update,
                new_window if new_window != window else no_update,
                new_period if new_period != period else no_update,
                _period_options(new_region, new_period),
                alert,
            )
        except Exception as exc:
            from dashboard.safe import internal_error

            return (
                no_update,
                no_update,
                no_update,
                no_update,
                dbc.Alert(internal_error("filter sync", exc), color="danger"),
            )

    app.clientside_callback(
        _RELOAD_JS,
        Output(ids.URL_RELOAD_DONE, "children"),
        Input(ids.URL_RELOAD, "data"),
        prevent_initial_call=True,
    )

    @guard.callback(
        app,
        "view",
        Output(ids.URL_WRITE, "search"),
        Output(ids.URL_RELOAD, "data"),
        Output({"type": ids.NAV_LINK, "page": ALL}, "href"),
        Output({"type": ids.NAV_LINK, "page": ALL}, "className"),
        Input(ids.FILTER_REGION, "value"),
        Input(ids.FILTER_WINDOW, "value"),
        Input(ids.FILTER_PERIOD, "value"),
        Input({"type": ids.QUERY_PARAM, "name": ALL}, "value"),
        Input(ids.PAGES_LOCATION, "pathname"),
        State({"type": ids.QUERY_PARAM, "name": ALL}, "id"),
        State({"type": ids.NAV_LINK, "page": ALL}, "id"),
        State(ids.URL_WRITE, "search"),
        State(ids.PAGES_LOCATION, "search"),
    )
    def write_url(  # noqa: ANN202
        region: str | None,
        window: str | None,
        period: str | None,
        values: list[Any],
        pathname: str | None,
        param_ids: list[dict[str, str]],
        nav_ids: list[dict[str, str]],
        current: str | None,
        opened: str | None,
    ):
        picked = region if ctx.triggered_id == ids.FILTER_REGION else None  # a user's choice, not start-up
        region = region or data.settings().region
        params: dict[str, Any] = dict(parse_query(current))
        params.update({"region": region, "window": window, "period": period})
        for pid, value in zip(param_ids, values, strict=True):
            params[pid["name"]] = value
        search = build_query(params)
        path = dash.strip_relative_path(pathname or "/") or ""
        hrefs, classes = [], []
        for nid in nav_ids:
            page = dash.page_registry.get(nid["page"], {})
            hrefs.append(nav_href(page, region, search) if page else no_update)
            own = page.get("path_template") or page.get("path") or ""
            active = _same_page(own, "/" + path)
            classes.append("nav-link active" if active else "nav-link")
        # The region the page was built for: the query as last written, else as the page opened.
        shown = parse_query(current or opened).get("region")
        if picked and shown and shown != picked:
            # A page's own pickers (units on 对比/趋势) list the region it was built for: a region
            # change reloads the page with the new query instead of patching each picker. The new
            # region may have no month yet (period None): the query then simply leaves it out.
            return no_update, (pathname or "/") + search, hrefs, classes
        if region is None or window is None or period is None or search == (current or ""):
            return no_update, no_update, hrefs, classes
        return search, no_update, hrefs, classes


# A full navigation to the address in the store (a region change rebuilds the page); done in the
# browser because a second dcc.Location with refresh=True reloaded the old address instead.
_RELOAD_JS = """
function (href) {
    if (href) { window.location.assign(href); }
    return "";
}
"""


def _same_page(template: str, path: str) -> bool:
    if "<" in template:
        return path.startswith(template.split("<", 1)[0]) and template.split("<", 1)[0] != "/"
    return template.rstrip("/") == path.rstrip("/")
