"""Figure builders: plain functions from DataFrames to ``go.Figure``, testable without a server.

They shape and draw what the service computed; they compute no indicator. Inputs follow the
service's frames (``application.service.indicator_table`` / ``score_table``); labels (unit names,
indicator names) are passed in so the builders need no catalogue lookups of their own.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from application.display import d3_format, format_coverage, format_number, format_value, is_na
from foundation.catalogue import CITY, Indicator
from foundation.i18n import messages, t

FONT = '"Noto Sans CJK SC", "Microsoft YaHei", "PingFang SC", "Source Han Sans SC", sans-serif'
COLOR_MEETS = "#2f6fae"
COLOR_BELOW = "#e07b39"
COLOR_NA = "#9aa5b1"
COLOR_CITY = "#333333"
LINE_COLORS = ["#2f6fae", "#e07b39", "#3a9d5d", "#b84a9c", "#8c6d31", "#d6404e", "#5b8fd9", "#7f7f7f"]
FLAG_PATTERN = "/"


# --- shared -------------------------------------------------------------------------------------


def plotly_locale() -> dict[str, Any]:
    """Plotly's zh-CN locale, built from the i18n strings (no locale script to fetch)."""
    msgs = messages()
    dictionary = {k.removeprefix("dash.plotly."): v for k, v in msgs.items() if k.startswith("dash.plotly.")}
    fmt = {
        "days": msgs["dash.plotly_format.days"].split(","),
        "shortDays": msgs["dash.plotly_format.short_days"].split(","),
        "months": msgs["dash.plotly_format.months"].split(","),
        "shortMonths": msgs["dash.plotly_format.short_months"].split(","),
        "date": "%Y-%m-%d",
        "decimal": ".",
        "thousands": ",",
    }
    return {"dictionary": dictionary, "format": fmt}


def graph_config(filename: str) -> dict[str, Any]:
    """dcc.Graph config: zh-CN locale, PNG download named after the chart, no Plotly logo."""
    return {
        "locale": "zh-CN",
        "locales": {"zh-CN": plotly_locale()},
        "displaylogo": False,
        # No "share to the cloud" or "edit in Chart Studio": they point outside the intranet.
        "showSendToCloud": False,
        "showEditInChartStudio": False,
        "showLink": False,
        "toImageButtonOptions": {"format": "png", "filename": filename, "scale": 2},
        "modeBarButtonsToRemove": ["lasso2d", "select2d"],
    }


def _style(
    fig: go.Figure, *, title: str | None = None, subtitle: str | None = None, height: int = 420
) -> None:
    fig.update_layout(
        template="plotly_white",
        font={"family": FONT, "size": 13},
        height=height,
        margin={"l": 60, "r": 20, "t": 80 if subtitle else 50, "b": 60},
        hoverlabel={"font": {"family": FONT}},
    )
    if title:
        fig.update_layout(
            title={"text": title, "subtitle": {"text": subtitle or ""}, "x": 0.01, "xanchor": "left"}
        )


def empty_figure(message: str, *, height: int = 300) -> go.Figure:
    fig = go.Figure()
    _style(fig, height=height)
    fig.update_layout(
        xaxis={"visible": False},
        yaxis={"visible": False},
        annotations=[
            {"text": message, "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
        ],
    )
    return fig


# --- rankings -----------------------------------------------------------------------------------

RANK_COLUMNS = [
    "unit",
    "label",
    "value",
    "rank",
    "below",
    "flagged",
    "flag_text",
    "numerator",
    "denominator",
    "coverage",
]


def _flag_text(small: Any, incomplete: Any) -> str:
    parts = []
    if small is True:
        parts.append(t("dash.flag.small_denominator"))
    if incomplete is True:
        parts.append(t("dash.flag.incomplete"))
    return "、".join(parts)


def _bool(value: Any) -> bool | None:
    return (
        None
        if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
        else bool(value)
    )


def ranking_rows(
    table: pd.DataFrame, indicator: str, *, labels: Mapping[str, str], order: Sequence[str]
) -> pd.DataFrame:
    """One indicator's units, best first: rank order, ties and NA in catalogue ``order``.

    ``below`` is True where the unit does not meet the benchmark (NA where its value is NA);
    ``flagged`` where the denominator is small or the window's coverage incomplete.
    """
    rows = table[(table["indicator"] == indicator) & (table["unit"] != CITY)]
    position = {u: i for i, u in enumerate(order)}
    out = pd.DataFrame(
        {
            "unit": rows["unit"].to_numpy(),
            "label": [labels.get(u, u) for u in rows["unit"]],
            "value": rows["value"].astype(float).to_numpy(),
            "rank": rows["rank"].astype("Int64").to_numpy(),
            "below": [None if (m := _bool(v)) is None else not m for v in rows["meets_benchmark"]],
            "flagged": [
                _bool(s) is True or _bool(i) is True
                for s, i in zip(rows["small_denominator"], rows["incomplete"], strict=True)
            ],
            "flag_text": [
                _flag_text(_bool(s), _bool(i))
                for s, i in zip(rows["small_denominator"], rows["incomplete"], strict=True)
            ],
            "numerator": rows["numerator"].astype(float).to_numpy(),
            "denominator": rows["denominator"].astype(float).to_numpy(),
            "coverage": rows["coverage"].astype(float).to_numpy(),
        }
    )
    return _sort_ranked(out, position)


def composite_rows(
    composite: pd.DataFrame, *, labels: Mapping[str, str], order: Sequence[str], names: Mapping[str, str]
) -> pd.DataFrame:
    """The composite score's units in the same shape as ``ranking_rows`` (no benchmark)."""
    position = {u: i for i, u in enumerate(order)}
    out = pd.DataFrame(
        {
            "unit": composite["unit"].to_numpy(),
            "label": [labels.get(u, u) for u in composite["unit"]],
            "value": composite["composite"].astype(float).to_numpy(),
            "rank": composite["rank"].astype("Int64").to_numpy(),
            "below": [None] * len(composite),
            "flagged": composite["respread"].astype(bool).to_numpy(),
            "flag_text": [
                t("dash.flag.respread", indicators="、".join(names.get(c, c) for c in na)) if na else ""
                for na in composite["na_indicators"]
            ],
            "numerator": np.nan,
            "denominator": np.nan,
            "coverage": np.nan,
        }
    )
    return _sort_ranked(out, position)


def _sort_ranked(frame: pd.DataFrame, position: Mapping[str, int]) -> pd.DataFrame:
    frame = frame.assign(
        _rank=frame["rank"].astype("Float64").fillna(np.inf), _pos=frame["unit"].map(position)
    )
    frame = frame.sort_values(["_rank", "_pos"], kind="stable").drop(columns=["_rank", "_pos"])
    return frame.reset_index(drop=True)[RANK_COLUMNS]


def ranking_figure(
    rows: pd.DataFrame,
    *,
    indicator: Indicator | None,
    benchmark: float | None,
    title: str,
    benchmark_name: str | None = None,
) -> go.Figure:
    """Sorted bars, best first; the benchmark as a dashed line; units below it coloured apart;
    small-denominator and incomplete units hatched. Units without a value are left out (the
    page lists them).

    The value labels sit inside the bars' tops (outside only where a bar is too short), and the
    line is drawn under the bars, so it never crosses a label; its own label sits in the right
    margin, off the bars. The y axis says which way is better (越低越好 ↓ for days)."""
    shown = rows[rows["value"].notna()]
    if shown.empty:
        return empty_figure(t("dash.empty.no_values"))
    colors = [COLOR_BELOW if b is True else COLOR_MEETS for b in shown["below"]]
    patterns = [FLAG_PATTERN if f else "" for f in shown["flagged"]]
    hover = [_hover_text(r, indicator) for r in shown.itertuples(index=False)]
    fig = go.Figure(
        go.Bar(
            x=list(shown["label"]),
            y=list(shown["value"]),
            marker={"color": colors, "pattern": {"shape": patterns, "solidity": 0.35}},
            text=[format_value(v, indicator) for v in shown["value"]],
            textposition="auto",
            insidetextanchor="end",
            textangle=0,
            cliponaxis=False,
            hovertext=hover,
            hoverinfo="text",
            name="",
        )
    )
    name = benchmark_name or t("benchmark.shanghai")
    if indicator is not None:
        subtitle = t("dash.rank.legend", benchmark=name)
    else:
        subtitle = t("dash.rank.legend_composite")
    _style(fig, title=title, subtitle=subtitle, height=460)
    fig.update_xaxes(type="category", categoryorder="array", categoryarray=list(shown["label"]))
    fig.update_yaxes(tickformat=d3_format(indicator), rangemode="tozero")
    if indicator is not None:
        fig.update_yaxes(title={"text": t(f"dash.rank.axis_{indicator.direction}"), "font": {"size": 12}})
    # a label that does not fit its bar (narrow bars on a phone) is hidden, never drawn over its
    # neighbours; the hover still gives the figure
    fig.update_layout(uniformtext={"minsize": 9, "mode": "hide"}, margin={"t": 100})
    if benchmark is not None and not is_na(benchmark):
        fig.add_hline(
            y=float(benchmark), line={"color": COLOR_CITY, "dash": "dash", "width": 1.5}, layer="below"
        )
        fig.add_annotation(
            x=1,
            xref="paper",
            xanchor="left",
            y=float(benchmark),
            yref="y",
            text=t("dash.rank.benchmark_line", benchmark=name, value=format_value(benchmark, indicator)),
            showarrow=False,
            align="left",
            font={"size": 11, "color": COLOR_CITY},
        )
        fig.update_layout(margin={"r": 84})
    fig.update_layout(showlegend=False, bargap=0.25)
    return fig


def _hover_text(row: Any, indicator: Indicator | None) -> str:
    lines = [f"<b>{row.label}</b>", t("dash.col.value") + "：" + format_value(row.value, indicator)]
    if not is_na(row.rank):
        lines.append(t("dash.col.rank") + f"：{int(row.rank)}")
    if indicator is not None:
        lines.append(t("dash.col.numerator") + "：" + format_number(row.numerator))
        if indicator.is_ratio:
            lines.append(t("dash.col.denominator") + "：" + format_number(row.denominator))
        lines.append(t("dash.col.coverage") + "：" + format_coverage(row.coverage))
    if row.flag_text:
        lines.append("⚠ " + row.flag_text)
    return "<br>".join(lines)


# --- comparison ---------------------------------------------------------------------------------


def relative_to_city(table: pd.DataFrame, directions: Mapping[str, str]) -> pd.Series:
    """How far each value is from the city benchmark, signed so that positive is better:
    (value − benchmark) / |benchmark|, negated for lower-is-better indicators; NA when either is
    NA or the benchmark is 0."""
    value = table["value"].astype(float)
    bench = table["benchmark"].astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = (value - bench) / bench.abs()
    rel = rel.where(bench != 0)
    sign = table["indicator"].map(lambda c: -1.0 if directions.get(c) == "lower" else 1.0)
    return rel * sign


def comparison_heatmap(
    z: pd.DataFrame, text: pd.DataFrame, *, mode: str, title: str, subtitle: str = ""
) -> go.Figure:
    """Units (rows) × indicators (columns). ``mode`` "score": 0..100 scores; "relative":
    signed distance from the city (positive better), coloured on a diverging scale around 0."""
    if z.empty:
        return empty_figure(t("dash.empty.no_values"))
    zvalues = z.to_numpy(dtype=float)
    common = {
        "x": list(z.columns),
        "y": list(z.index),
        "text": text.to_numpy(),
        "texttemplate": "%{text}",
        "hovertemplate": "%{y}<br>%{x}<br>%{text}<extra></extra>",
        "xgap": 1,
        "ygap": 1,
    }
    if mode == "score":
        trace = go.Heatmap(
            z=zvalues,
            zmin=60,
            zmax=100,
            colorscale="RdYlGn",
            colorbar={"title": {"text": t("dash.cmp.score")}},
            **common,
        )
    else:
        trace = go.Heatmap(
            z=np.clip(zvalues, -1, 1),
            zmid=0,
            zmin=-1,
            zmax=1,
            colorscale="RdBu",
            colorbar={"title": {"text": t("dash.cmp.relative")}, "tickformat": ".0%"},
            **common,
        )
    fig = go.Figure(trace)
    _style(fig, title=title, subtitle=subtitle, height=max(420, 28 * len(z.index) + 200))
    # column labels under the map, slanted, with the margin they need (automargin): at the top
    # they ran into the title and subtitle
    fig.update_xaxes(type="category", side="bottom", tickangle=-40, automargin=True)
    fig.update_yaxes(type="category", autorange="reversed", automargin=True)
    fig.update_layout(margin={"t": 110, "l": 60, "b": 40})
    return fig


def profile_figure(
    scores: pd.DataFrame,
    *,
    units: Sequence[str],
    labels: Mapping[str, str],
    names: Mapping[str, str],
    title: str,
) -> go.Figure:
    """Side-by-side profiles: each chosen unit's per-indicator scores (0..100) on one radar."""
    if not units or scores.empty:
        return empty_figure(t("dash.cmp.choose_units"))
    fig = go.Figure()
    indicators = list(dict.fromkeys(scores["indicator"]))
    theta = [names.get(c, c) for c in indicators]
    for i, unit in enumerate(units):
        mine = scores[scores["unit"] == unit].set_index("indicator")["score"].reindex(indicators)
        r = [None if is_na(v) else float(v) for v in mine]
        fig.add_trace(
            go.Scatterpolar(
                r=r + r[:1],
                theta=theta + theta[:1],
                name=labels.get(unit, unit),
                line={"color": LINE_COLORS[i % len(LINE_COLORS)]},
                connectgaps=True,
            )
        )
    _style(fig, title=title, height=480)
    fig.update_layout(polar={"radialaxis": {"range": [0, 100]}}, legend={"orientation": "h"})
    return fig


# --- trends -------------------------------------------------------------------------------------


def trend_figure(
    series: pd.DataFrame,
    *,
    units: Sequence[str],
    labels: Mapping[str, str],
    indicator: Indicator,
    title: str,
    city_label: str,
) -> go.Figure:
    """One line per chosen unit and the city (dashed), month by month (categories, not dates).

    A point whose window misses a month of the unit (``incomplete``, e.g. a year to date with a
    month not reported) is drawn hollow and its hover says so; the subtitle explains the mark."""
    if series.empty:
        return empty_figure(t("dash.empty.no_values"))
    periods = sorted(series["period"].unique())
    fig = go.Figure()
    any_incomplete = False
    for i, unit in enumerate(units):
        mine = series[series["unit"] == unit].set_index("period")
        values = mine["value"].reindex(periods)
        if "incomplete" in mine.columns:
            flags = mine["incomplete"].reindex(periods)
            # a point is marked only where there is one (a month with no value draws nothing)
            incomplete = [
                not is_na(f) and bool(f) and not is_na(v) for f, v in zip(flags, values, strict=True)
            ]
        else:
            incomplete = [False] * len(periods)
        any_incomplete |= any(incomplete)
        color = LINE_COLORS[i % len(LINE_COLORS)]
        fig.add_trace(
            go.Scatter(
                x=periods,
                y=[None if is_na(v) else float(v) for v in values],
                mode="lines+markers",
                name=labels.get(unit, unit),
                line={"color": color},
                marker={
                    "symbol": ["circle-open" if flagged else "circle" for flagged in incomplete],
                    "size": [10 if flagged else 6 for flagged in incomplete],
                    "line": {"width": 2, "color": color},
                },
                customdata=[t("dash.tr.incomplete_point") if flagged else "" for flagged in incomplete],
                hovertemplate="%{x}：%{y:"
                + d3_format(indicator)
                + "}%{customdata}<extra>"
                + labels.get(unit, unit)
                + "</extra>",
            )
        )
    city = series[series["unit"] == CITY].set_index("period")["value"].reindex(periods)
    fig.add_trace(
        go.Scatter(
            x=periods,
            y=[None if is_na(v) else float(v) for v in city],
            mode="lines",
            name=city_label,
            line={"color": COLOR_CITY, "dash": "dash", "width": 2.5},
            hovertemplate="%{x}：%{y:" + d3_format(indicator) + "}<extra>" + city_label + "</extra>",
        )
    )
    _style(fig, title=title, subtitle=t("dash.tr.incomplete_legend") if any_incomplete else None, height=380)
    fig.update_xaxes(type="category")
    fig.update_yaxes(tickformat=d3_format(indicator), rangemode="tozero")
    fig.update_layout(legend={"orientation": "h", "y": -0.2})
    return fig


# --- sparklines (区详情) ------------------------------------------------------------------------------

SPARK_WIDTH = 240
SPARK_HEIGHT = 56
_SPARK_PAD = 5
SPARK_STYLES = {
    # series key → (stroke colour, width, dash pattern)
    "unit": (COLOR_MEETS, 2.0, ""),
    "city": (COLOR_CITY, 1.3, "3 2"),
}


def _spark_number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def sparkline_svg(series: Mapping[str, Sequence[float | None]]) -> str:
    """One small line chart as an SVG document: each named series (``SPARK_STYLES`` keys) a
    ``<g data-series=… data-last=…>`` of polylines over equally spaced months (a gap where a
    value is missing), its last value marked with a dot; one vertical scale for all series.

    Drawn on the server and shown as an ``<img>``: 17 of them cost the browser nothing, where
    Plotly's 17 subplots (34 traces) took it about two seconds to lay out (issue 13)."""
    present = [float(v) for values in series.values() for v in values if v is not None and not is_na(v)]
    n = max((len(values) for values in series.values()), default=0)
    low, high = (min(present), max(present)) if present else (0.0, 1.0)
    if high - low < 1e-12:
        low, high = low - 1.0, high + 1.0
    inner_w, inner_h = SPARK_WIDTH - 2 * _SPARK_PAD, SPARK_HEIGHT - 2 * _SPARK_PAD

    def x(i: int) -> float:
        return _SPARK_PAD + (inner_w * i / (n - 1) if n > 1 else inner_w / 2)

    def y(v: float) -> float:
        return _SPARK_PAD + inner_h * (high - v) / (high - low)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{SPARK_WIDTH}" height="{SPARK_HEIGHT}" '
        f'viewBox="0 0 {SPARK_WIDTH} {SPARK_HEIGHT}">',
        f'<line x1="{_SPARK_PAD}" x2="{SPARK_WIDTH - _SPARK_PAD}" y1="{SPARK_HEIGHT - _SPARK_PAD}" '
        f'y2="{SPARK_HEIGHT - _SPARK_PAD}" stroke="#dde1e6" stroke-width="1"/>',
    ]
    for key in ("city", "unit"):  # the unit's line on top
        if key not in series:
            continue
        values = list(series[key])
        color, width, dash = SPARK_STYLES[key]
        last = values[-1] if values and not is_na(values[-1]) else None
        attrs = f'data-series="{key}" data-last="{"" if last is None else repr(float(last))}"'
        parts.append(f"<g {attrs}>")
        run: list[str] = []
        for i, v in enumerate([*values, None]):
            if not is_na(v):
                run.append(f"{_spark_number(x(i))},{_spark_number(y(float(v)))}")  # type: ignore[arg-type]
                continue
            if len(run) > 1:
                dashes = f' stroke-dasharray="{dash}"' if dash else ""
                parts.append(
                    f'<polyline points="{" ".join(run)}" fill="none" stroke="{color}" '
                    f'stroke-width="{width}"{dashes} stroke-linejoin="round"/>'
                )
            run = []
        if last is not None:
            parts.append(
                f'<circle cx="{_spark_number(x(len(values) - 1))}" cy="{_spark_number(y(float(last)))}" '
                f'r="2.5" fill="{color}"/>'
            )
        parts.append("</g>")
    parts.append("</svg>")
    return "".join(parts)


def svg_data_uri(svg: str) -> str:
    """An SVG as an ``<img src>`` (the page's Content-Security-Policy allows ``data:`` images)."""
    from urllib.parse import quote

    return "data:image/svg+xml;charset=utf-8," + quote(svg, safe="=:/,.-")
