"""排名 Rankings: one indicator (or the composite score) for the chosen window and period; a
sorted bar chart with the city benchmark as a line, units below it coloured apart; a sortable
table with value, numerator, denominator, coverage and rank; small-denominator and incomplete
units flagged in both."""

from __future__ import annotations

import io
import logging
from typing import Any

import dash
import dash_ag_grid as dag
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, State, dcc, html, no_update
from dash.exceptions import PreventUpdate

from application.display import benchmark_label, d3_format, is_na
from dashboard import components as cp
from dashboard import data, guard, ids
from dashboard.figures import composite_rows, empty_figure, ranking_figure, ranking_rows
from dashboard.filters import build_query
from dashboard.identity import current_user
from dashboard.safe import alert, run_guarded, safe_layout
from foundation.catalogue import CITY, Indicator, default_catalogue
from foundation.i18n import t

COMPOSITE = "composite"
log = logging.getLogger(__name__)


def indicator_options() -> list[dict[str, str]]:
    return [{"label": t("dash.rank.composite"), "value": COMPOSITE}] + [
        {"label": i.name_zh, "value": i.code} for i in cp.indicators()
    ]


def clean_indicator(value: str | None) -> str:
    return value if value == COMPOSITE or value in default_catalogue().indicators else COMPOSITE


@safe_layout
def layout(indicator: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        [
            cp.page_title(
                t("dash.nav.rankings"),
                dbc.Button(
                    t("dash.briefing.button"),
                    id=ids.RK_BRIEFING_BUTTON,
                    color="secondary",
                    outline=True,
                    size="sm",
                    title=t("dash.briefing.hint"),
                ),
                dcc.Download(id=ids.RK_BRIEFING_DOWNLOAD),
            ),
            html.Div(id=ids.RK_BRIEFING_ALERT),
            html.Div(
                [
                    html.Label(
                        t("dash.rank.indicator"), htmlFor="rk-indicator-select", className="small mb-0"
                    ),
                    cp.dropdown(
                        id=ids.RK_INDICATOR,
                        options=indicator_options(),
                        value=clean_indicator(indicator),
                        clearable=False,
                    ),
                ],
                className="rk-picker",
            ),
            html.Div(id=ids.RK_ALERT),
            cp.graph(ids.RK_GRAPH, "ranking"),
            html.Div(id=ids.RK_NOTE, className="small text-muted mb-2"),
            dag.AgGrid(
                id=ids.RK_GRID,
                columnDefs=[],
                rowData=[],
                # a minimum width: on a phone the grid scrolls inside itself instead of cutting numbers
                defaultColDef={"sortable": True, "resizable": True, "filter": False, "minWidth": 84},
                columnSize="responsiveSizeToFit",
                dashGridOptions={
                    "domLayout": "autoHeight",
                    "localeText": {"noRowsToShow": t("dash.empty.no_values")},
                    "rowClassRules": {
                        "rk-below": "params.data.below === true",
                        "rk-flagged": "params.data.flagged",
                    },
                },
                className="ag-theme-quartz rk-grid",
                style=_grid_style(0),
            ),
        ]
    )


AUTO_HEIGHT_ROWS = 60


def _grid_options(n_rows: int) -> dict[str, Any]:
    """A city's 17 units show in full; a national list keeps the grid's row virtualisation
    (autoHeight would render every row)."""
    return {
        "domLayout": "autoHeight" if n_rows <= AUTO_HEIGHT_ROWS else "normal",
        "localeText": {"noRowsToShow": t("dash.empty.no_values")},
        "rowClassRules": {"rk-below": "params.data.below === true", "rk-flagged": "params.data.flagged"},
    }


def _grid_style(n_rows: int) -> dict[str, Any]:
    return {"height": None} if n_rows <= AUTO_HEIGHT_ROWS else {"height": "640px"}


def _js_format(spec: str) -> dict[str, str]:
    """An AG Grid valueFormatter: d3-format the number, — for NA (strings from the i18n module)."""
    return {"function": f"params.value == null ? '{t('na')}' : d3.format('{spec}')(params.value)"}


# Units without a value (no rank) stay at the end whichever way the column is sorted
# (``dagfuncs.nullsLast`` in assets/dashAgGridFunctions.js).
NULLS_LAST = {"function": "nullsLast"}


def column_defs(indicator: Indicator | None) -> list[dict[str, Any]]:
    cols: list[dict[str, Any]] = [
        {
            "field": "rank",
            "headerName": t("dash.col.rank"),
            "sort": "asc",
            "maxWidth": 90,
            "type": "numericColumn",
            "comparator": NULLS_LAST,
        },
        {"field": "name", "headerName": t("dash.col.unit"), "cellRenderer": "markdown", "minWidth": 140},
        {
            "field": "value",
            "headerName": t("dash.col.value") if indicator is not None else t("dash.rank.composite"),
            "valueFormatter": _js_format(d3_format(indicator)),
            "type": "numericColumn",
            "comparator": NULLS_LAST,
        },
    ]
    if indicator is not None:
        cols += [
            {
                "field": "numerator",
                "headerName": t("dash.col.numerator"),
                "valueFormatter": _js_format(",.2~f"),
                "type": "numericColumn",
            },
            {
                "field": "denominator",
                "headerName": t("dash.col.denominator"),
                "valueFormatter": _js_format(",.2~f"),
                "type": "numericColumn",
                "hide": not indicator.is_ratio,
            },
            {
                "field": "coverage",
                "headerName": t("dash.col.coverage"),
                "valueFormatter": _js_format(".0%"),
                "type": "numericColumn",
            },
            {"field": "meets", "headerName": t("dash.col.meets")},
        ]
    # 提示 wraps onto more lines (the row grows) instead of being cut off
    cols.append(
        {
            "field": "flag_text",
            "headerName": t("dash.col.flags"),
            "minWidth": 160,
            "wrapText": True,
            "autoHeight": True,
            "cellStyle": {"lineHeight": "1.4", "paddingTop": "6px", "paddingBottom": "6px"},
        }
    )
    return cols


def row_data(rows: pd.DataFrame, search: str) -> list[dict[str, Any]]:
    """Grid rows: plain numbers (None for NA) so the grid sorts numerically; units link to their page."""

    def num(v: Any) -> float | None:
        return None if is_na(v) else float(v)

    out = []
    for r in rows.itertuples(index=False):
        meets = "" if r.below is None else (t("dash.meets.no") if r.below else t("dash.meets.yes"))
        out.append(
            {
                "unit": r.unit,
                "rank": None if is_na(r.rank) else int(r.rank),
                "name": f"[{r.label}]({dash.get_relative_path('/unit/' + r.unit)}{search})",
                "value": num(r.value),
                "numerator": num(r.numerator),
                "denominator": num(r.denominator),
                "coverage": num(r.coverage),
                "meets": meets,
                "below": r.below,
                "flagged": bool(r.flagged),
                "flag_text": r.flag_text,
            }
        )
    return out


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/rankings",
        name=t("dash.nav.rankings"),
        title=t("dash.title.rankings"),
        order=1,
        layout=layout,
        permission="view",
    )

    @guard.callback(
        app,
        "view",
        Output(ids.RK_GRAPH, "figure"),
        Output(ids.RK_GRID, "columnDefs"),
        Output(ids.RK_GRID, "rowData"),
        Output(ids.RK_NOTE, "children"),
        Output(ids.RK_ALERT, "children"),
        Output(ids.RK_GRID, "dashGridOptions"),
        Output(ids.RK_GRID, "style"),
        Input(ids.FILTER_REGION, "value"),
        Input(ids.FILTER_WINDOW, "value"),
        Input(ids.FILTER_PERIOD, "value"),
        Input(ids.RK_INDICATOR, "value"),
        cache=True,
    )
    def update(region: str | None, window: str | None, period: str | None, indicator: str | None):  # noqa: ANN202
        region, window, period = cp.require_filters(region, window, period)
        return run_guarded(
            lambda: rankings_view(region, window, period, clean_indicator(indicator)),
            lambda msg: (empty_figure(msg), [], [], "", alert(msg), _grid_options(0), _grid_style(0)),
        )

    # Who may download the 通报: every signed-in role ("export"); it goes to every district, so a
    # district's clerk gets the same document as everyone. Each download is audited.
    @guard.callback(
        app,
        "export",
        Output(ids.RK_BRIEFING_DOWNLOAD, "data"),
        Output(ids.RK_BRIEFING_ALERT, "children"),
        Input(ids.RK_BRIEFING_BUTTON, "n_clicks"),
        State(ids.FILTER_REGION, "value"),
        State(ids.FILTER_WINDOW, "value"),
        State(ids.FILTER_PERIOD, "value"),
        prevent_initial_call=True,
    )
    def download_briefing(_clicks: int | None, region: str | None, window: str | None, period: str | None):  # noqa: ANN202
        if not region or not window or not period:
            raise PreventUpdate
        try:
            content, name = briefing_bytes(region=region, window=window, period=period)
            from dashboard.auth import audit_now

            audit_now(
                "export",
                detail={
                    "document": "briefing",
                    "file": name,
                    "region": region,
                    "window": window,
                    "period": period,
                },
            )
        except Exception:
            log.exception("briefing failed")
            return no_update, alert(t("dash.error.internal"))
        return dcc.send_bytes(content, name), None


def briefing_bytes(*, region: str, window: str, period: str) -> tuple[bytes, str]:
    """The 通报 ``ipdash briefing`` writes for the filters on screen (default scheme, as of now).

    Who may download: every signed-in role (the 通报 goes to every district); each download is
    audited (kind ``export``, ``document: briefing``)."""
    from application.briefing import write_briefing

    buffer = io.BytesIO()
    with data.session_scope() as session:
        write_briefing(
            buffer,
            session=session,
            region=region,
            period=period,
            window=window,  # type: ignore[arg-type]
            generated_by=current_user(),
            settings=data.settings(),
        )
    name = t(
        "dash.briefing.file_name", region=cp.region_name(region), window=t(f"window.{window}"), period=period
    )
    return buffer.getvalue(), name


def rankings_view(region: str, window: str, period: str, indicator: str) -> tuple:
    labels = cp.unit_labels(region)
    full = cp.unit_labels(region, short=False)
    order = cp.unit_order(region)
    search = build_query({"region": region, "window": window, "period": period})
    heading = t(
        "dash.rank.subtitle", region=cp.region_name(region), window=t(f"window.{window}"), period=period
    )
    if indicator == COMPOSITE:
        composite = data.score_table(region=region, period=period, window=window).composite  # type: ignore[arg-type]
        rows = composite_rows(composite, labels=labels, order=order, names=cp.indicator_names())
        ind = None
        benchmark = None
        title = t("dash.rank.title", name=t("dash.rank.composite"), heading=heading)
    else:
        table = data.indicator_table(region=region, period=period, window=window)  # type: ignore[arg-type]
        ind = default_catalogue().indicators[indicator]
        rows = ranking_rows(table, indicator, labels=labels, order=order)
        city = table[(table["unit"] == CITY) & (table["indicator"] == indicator)]
        benchmark = float(city["benchmark"].iloc[0]) if len(city) else None
        name = ind.name_zh + (t("dash.rank.lower_suffix") if ind.direction == "lower" else "")
        title = t("dash.rank.title", name=name, heading=heading)
    fig = ranking_figure(
        rows, indicator=ind, benchmark=benchmark, title=title, benchmark_name=benchmark_label(region)
    )
    grid_rows = row_data(rows.assign(label=[full.get(u, u) for u in rows["unit"]]), search)
    no_value = [full.get(u, u) for u in rows.loc[rows["value"].isna(), "unit"]]
    note = t("dash.rank.no_value", units="、".join(no_value)) if no_value else ""
    n = len(grid_rows)
    return fig, column_defs(ind), grid_rows, note, None, _grid_options(n), _grid_style(n)
