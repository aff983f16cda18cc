"""对比 Comparison: a heat map of units × indicators (assessment scores, or each value relative to
the city benchmark), and side-by-side profiles of two to four chosen units."""

from __future__ import annotations

from typing import Any

import dash
import dash_bootstrap_components as dbc
import pandas as pd
from dash import Input, Output, html

from application.display import benchmark_label, format_value
from dashboard import components as cp
from dashboard import data, guard, ids
from dashboard.figures import comparison_heatmap, empty_figure, profile_figure, relative_to_city
from dashboard.filters import split_list
from dashboard.safe import alert, run_guarded, safe_layout
from foundation.catalogue import CITY, default_catalogue
from foundation.i18n import t

MODES = ("score", "relative")
MAX_UNITS = 4


@safe_layout
def layout(
    mode: str | None = None, units: str | None = None, region: str | None = None, **query: Any
) -> html.Div:
    """Drawn with the view of its URL (no callback needed to show it; ``components.view_gate``)."""
    cat = default_catalogue()
    f_region, f_window, f_period = cp.opening_filters({**query, "region": region})
    region = region if region in cat.regions() else None
    unit_options = [
        {"label": u.name_zh, "value": u.code}
        for u in (cat.units_of(region) if region else cat.units.values())
    ]
    offered = {o["value"] for o in unit_options}
    chosen = [u for u in split_list(units) if u in offered][:MAX_UNITS]  # another region's units drop out
    mode = mode if mode in MODES else "score"
    shown = cp.view_key(f_region, f_window, f_period, mode=mode, units=chosen)
    heat: Any = empty_figure(t("dash.loading"))
    profile: Any = empty_figure(t("dash.loading"))
    profile_table: Any = None
    note: Any = None
    if shown is not None and f_period is not None:
        heat, profile, profile_table, note = _guarded_view(f_region, f_window, f_period, mode, chosen)
    return html.Div(
        [
            *cp.view_stores(ids.CMP_VIEW_SHOWN, ids.CMP_VIEW_WANTED, shown),
            cp.page_title(t("dash.nav.comparison")),
            dbc.RadioItems(
                id=ids.CMP_MODE,
                options=[{"label": t(f"dash.cmp.mode.{m}"), "value": m} for m in MODES],
                value=mode,
                inline=True,
                className="mb-2",
            ),
            html.Div(note, id=ids.CMP_ALERT),
            cp.graph(ids.CMP_HEATMAP, "comparison_heatmap", figure=heat),
            html.H4(t("dash.cmp.profiles"), className="mt-3"),
            cp.dropdown(
                id=ids.CMP_UNITS,
                options=unit_options,
                value=chosen,
                multi=True,
                placeholder=t("dash.cmp.choose_units"),
            ),
            dbc.Row(
                [
                    dbc.Col(cp.graph(ids.CMP_PROFILE, "comparison_profiles", figure=profile), lg=6),
                    dbc.Col(html.Div(profile_table, id=ids.CMP_PROFILE_TABLE), lg=6),
                ],
                className="mt-2",
            ),
        ]
    )


def register(app: dash.Dash) -> None:
    dash.register_page(
        __name__,
        path="/comparison",
        name=t("dash.nav.comparison"),
        title=t("dash.title.comparison"),
        order=2,
        layout=layout,
        permission="view",
    )

    cp.view_gate(
        app, ids.CMP_VIEW_SHOWN, ids.CMP_VIEW_WANTED, [("mode", ids.CMP_MODE), ("units", ids.CMP_UNITS)]
    )

    @guard.callback(
        app,
        "view",
        Output(ids.CMP_HEATMAP, "figure"),
        Output(ids.CMP_PROFILE, "figure"),
        Output(ids.CMP_PROFILE_TABLE, "children"),
        Output(ids.CMP_ALERT, "children"),
        Output(ids.CMP_VIEW_SHOWN, "data"),
        Input(ids.CMP_VIEW_WANTED, "data"),
        prevent_initial_call=True,  # the layout drew the first view
        cache=True,
    )
    def update(wanted):  # noqa: ANN001, ANN202
        wanted = wanted or {}
        region, window, period = cp.require_filters(
            wanted.get("region"), wanted.get("window"), wanted.get("period")
        )
        mode, units = wanted.get("mode"), wanted.get("units")
        shown = cp.view_key(region, window, period, mode=mode, units=units)
        return (
            *_guarded_view(region, window, period, mode if mode in MODES else "score", list(units or [])),
            shown,
        )


def _guarded_view(region: str, window: str, period: str, mode: str, units: list[str]) -> tuple:
    return run_guarded(
        lambda: comparison_view(region, window, period, mode, units),
        lambda msg: (empty_figure(msg), empty_figure(msg), "", alert(msg)),
    )


HEAT_EDGE = 20  # a region larger than 2 × this shows its top and bottom units (and the chosen ones)


def heatmap_rows(order: list[str], chosen: list[str]) -> tuple[list[str], int]:
    """The units the heat map draws, in rank order, and the region's size when it was cut
    (0 when not): a national region's thousands of rows would be unreadable."""
    if len(order) <= 2 * HEAT_EDGE:
        return order, 0
    keep = set(order[:HEAT_EDGE]) | set(order[-HEAT_EDGE:]) | set(chosen)
    return [u for u in order if u in keep], len(order)


def comparison_view(region: str, window: str, period: str, mode: str, units: list[str]) -> tuple:
    labels = cp.unit_labels(region)
    names = cp.indicator_names()
    cat = default_catalogue()
    table = data.indicator_table(region=region, period=period, window=window)  # type: ignore[arg-type]
    score = data.score_table(region=region, period=period, window=window)  # type: ignore[arg-type]
    order = list(score.composite["unit"])  # rank order: the heat map reads top to bottom
    subtitle = t(
        "dash.rank.subtitle", region=cp.region_name(region), window=t(f"window.{window}"), period=period
    )
    order, capped = heatmap_rows(order, units)
    if capped:
        subtitle += "　" + t("dash.cmp.heat_capped", n=HEAT_EDGE, total=capped)
    if mode == "score":
        detail = score.detail
        scheme_inds = list(dict.fromkeys(detail["indicator"]))
        z = detail.pivot(index="unit", columns="indicator", values="score").reindex(
            index=order, columns=scheme_inds
        )
        composite = score.composite.set_index("unit")["composite"].reindex(order)
        z.insert(0, "composite", composite)
        text = z.map(lambda v: format_value(v, None))
        columns = [t("dash.rank.composite")] + [names[c] for c in scheme_inds]
        title = t("dash.cmp.title_score")
    else:
        units_only = table[table["unit"] != CITY].copy()
        units_only["relative"] = relative_to_city(
            units_only, {c: i.direction for c, i in cat.indicators.items()}
        )
        codes = [c for c in cat.indicators if c in set(units_only["indicator"])]
        z = units_only.pivot(index="unit", columns="indicator", values="relative").reindex(
            index=order, columns=codes
        )
        values = units_only.pivot(index="unit", columns="indicator", values="value").reindex(
            index=order, columns=codes
        )
        text = pd.DataFrame(
            {c: [format_value(v, cat.indicators[c]) for v in values[c]] for c in codes}, index=values.index
        )
        columns = [names[c] for c in codes]
        title = t("dash.cmp.title_relative", benchmark=benchmark_label(region))
    z.index = [labels.get(u, u) for u in z.index]
    z.columns = columns
    text.index, text.columns = z.index, columns
    heat = comparison_heatmap(z, text, mode=mode, title=title, subtitle=subtitle)

    note = None
    chosen = [u for u in units if u in labels][:MAX_UNITS]
    if len(units) > MAX_UNITS:
        note = alert(t("dash.cmp.too_many", n=MAX_UNITS), color="warning")
    if not chosen:
        ranked = [u for u in order if u in labels]
        chosen = ranked[:2] + [u for u in ranked[-2:] if u not in ranked[:2]]
        note = alert(t("dash.cmp.default_units"), color="light")
    profile = profile_figure(
        score.detail[score.detail["unit"].isin(chosen)],
        units=chosen,
        labels=labels,
        names=names,
        title=t("dash.cmp.profile_title"),
    )
    return heat, profile, _profile_table(table, chosen, labels, region), note


def _profile_table(table: pd.DataFrame, units: list[str], labels: dict[str, str], region: str) -> Any:
    cat = default_catalogue()
    by = table.set_index(["unit", "indicator"])["value"]
    bench = table[table["unit"] == CITY].set_index("indicator")["benchmark"]
    header = (
        [t("dash.col.indicator")]
        + [labels.get(u, u) for u in units]
        + [t("dash.col.benchmark", benchmark=benchmark_label(region))]
    )
    rows = []
    for code, ind in cat.indicators.items():
        rows.append(
            [ind.name_zh]
            + [format_value(by.get((u, code)), ind) for u in units]
            + [format_value(bench.get(code), ind)]
        )
    return cp.table(header, rows, class_name="profile-table")
