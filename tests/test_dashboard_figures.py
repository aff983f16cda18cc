"""Figure builders, without a browser: hand-made frames in the service's shape in, figures out."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from dashboard import figures as F
from foundation.catalogue import default_catalogue
from foundation.i18n import t

NA = pd.NA
RATE = default_catalogue().indicators["mediation_success_rate"]  # higher is better, %
DAYS = default_catalogue().indicators["avg_handling_days"]  # lower is better, 天


def table(rows: list[tuple]) -> pd.DataFrame:
    """Rows of (unit, indicator, value, numerator, denominator, coverage, rank, meets, small, incomplete, benchmark)."""
    cols = [
        "unit", "indicator", "value", "numerator", "denominator", "coverage",
        "rank", "meets_benchmark", "small_denominator", "incomplete", "benchmark",
    ]  # fmt: skip
    frame = pd.DataFrame(rows, columns=cols)
    frame["rank"] = frame["rank"].astype("Int64")
    for c in ("meets_benchmark", "small_denominator", "incomplete"):
        frame[c] = frame[c].astype("boolean")
    return frame


# Four units and the city; b is best; a and d tie on 0.5 (rank 2, 2); c has no value.
RANKED = table(
    [
        ("a", "mediation_success_rate", 0.5, 5.0, 10.0, 1.0, 2, False, False, False, 0.6),
        ("b", "mediation_success_rate", 0.8, 4.0, 5.0, 1.0, 1, True, False, False, 0.6),
        ("c", "mediation_success_rate", np.nan, 0.0, 0.0, 0.5, NA, NA, NA, True, 0.6),
        ("d", "mediation_success_rate", 0.5, 2.0, 4.0, 2 / 3, 2, False, True, True, 0.6),
        ("city", "mediation_success_rate", 11 / 19, 11.0, 19.0, 0.875, NA, NA, NA, NA, 0.6),
    ]
)
LABELS = {"a": "甲", "b": "乙", "c": "丙", "d": "丁"}


def test_ranking_rows_best_first_ties_in_catalogue_order_na_last() -> None:
    rows = F.ranking_rows(RANKED, "mediation_success_rate", labels=LABELS, order=["d", "a", "b", "c"])
    assert list(rows["unit"]) == ["b", "d", "a", "c"]  # tie a/d: catalogue order puts d first
    assert list(rows["below"]) == [False, True, True, None]
    assert list(rows["flagged"]) == [False, True, False, True]
    assert rows.loc[1, "flag_text"] == t("dash.flag.small_denominator") + "、" + t("dash.flag.incomplete")
    assert list(rows["label"]) == ["乙", "丁", "甲", "丙"]


def test_ranking_figure_bars_colours_hatching_and_benchmark_line() -> None:
    rows = F.ranking_rows(RANKED, "mediation_success_rate", labels=LABELS, order=["a", "b", "c", "d"])
    fig = F.ranking_figure(rows, indicator=RATE, benchmark=0.6, title="调解成功率")
    bar = fig.data[0]
    assert list(bar.x) == ["乙", "甲", "丁"]  # 丙 has no value: not drawn
    assert list(bar.y) == [0.8, 0.5, 0.5]
    assert list(bar.marker.color) == [F.COLOR_MEETS, F.COLOR_BELOW, F.COLOR_BELOW]
    assert list(bar.marker.pattern.shape) == ["", "", F.FLAG_PATTERN]  # 丁: small and incomplete
    assert list(bar.text) == ["80.0%", "50.0%", "50.0%"]
    assert fig.layout.xaxis.categoryarray == ("乙", "甲", "丁")
    line = fig.layout.shapes[0]
    assert (line.y0, line.y1) == (0.6, 0.6)
    assert "60.0%" in fig.layout.annotations[0].text
    assert fig.layout.yaxis.tickformat == ".1%"


def test_ranking_figure_without_values_says_so() -> None:
    rows = F.ranking_rows(RANKED[RANKED["unit"] == "c"], "mediation_success_rate", labels=LABELS, order=["c"])
    fig = F.ranking_figure(rows, indicator=RATE, benchmark=0.6, title="x")
    assert fig.layout.annotations[0].text == t("dash.empty.no_values")


def test_composite_rows_flag_respread_units() -> None:
    composite = pd.DataFrame(
        {
            "unit": ["b", "a", "c"],
            "composite": [90.0, 80.0, np.nan],
            "rank": pd.array([1, 2, NA], dtype="Int64"),
            "respread": [False, True, False],
            "na_indicators": [[], ["avg_handling_days"], []],
        }
    )
    rows = F.composite_rows(
        composite, labels=LABELS, order=["a", "b", "c"], names={"avg_handling_days": "平均办理周期"}
    )
    assert list(rows["unit"]) == ["b", "a", "c"]
    assert list(rows["flagged"]) == [False, True, False]
    assert "平均办理周期" in rows.loc[1, "flag_text"]
    fig = F.ranking_figure(rows, indicator=None, benchmark=None, title="综合得分")
    assert list(fig.data[0].text) == ["90.00", "80.00"]
    assert not fig.layout.shapes  # no benchmark line for the composite


def test_relative_to_city_is_signed_so_positive_is_better() -> None:
    frame = pd.DataFrame(
        {
            "indicator": ["r", "d", "r", "r"],
            "value": [0.6, 40.0, 0.3, np.nan],
            "benchmark": [0.5, 50.0, 0.0, 0.5],
        }
    )
    rel = F.relative_to_city(frame, {"r": "higher", "d": "lower"})
    assert rel[0] == pytest.approx(0.2)  # (0.6 − 0.5) / 0.5
    assert rel[1] == pytest.approx(0.2)  # 40 days against 50: 20 % better, lower is better
    assert math.isnan(rel[2]) and math.isnan(rel[3])  # benchmark 0, value NA


def test_comparison_heatmap_relative_is_centred_on_zero() -> None:
    z = pd.DataFrame({"调解成功率": [0.2, -2.0]}, index=["甲", "乙"])
    text = pd.DataFrame({"调解成功率": ["60.0%", "10.0%"]}, index=["甲", "乙"])
    fig = F.comparison_heatmap(z, text, mode="relative", title="t")
    heat = fig.data[0]
    assert heat.zmid == 0
    assert np.asarray(heat.z).tolist() == [[0.2], [-1.0]]  # colour clipped to ±100 %
    assert list(heat.y) == ["甲", "乙"]
    score = F.comparison_heatmap(z, text, mode="score", title="t")
    assert (score.data[0].zmin, score.data[0].zmax) == (60, 100)


def test_profile_figure_one_closed_loop_per_unit() -> None:
    scores = pd.DataFrame(
        {
            "unit": ["a", "a", "b", "b"],
            "indicator": ["x", "y", "x", "y"],
            "score": [100.0, 60.0, 80.0, np.nan],
        }
    )
    fig = F.profile_figure(scores, units=["a", "b"], labels=LABELS, names={"x": "X", "y": "Y"}, title="p")
    assert [tr.name for tr in fig.data] == ["甲", "乙"]
    assert list(fig.data[0].r) == [100.0, 60.0, 100.0]
    assert list(fig.data[0].theta) == ["X", "Y", "X"]
    assert list(fig.data[1].r) == [80.0, None, 80.0]


def test_trend_figure_units_then_city_dashed_months_as_categories() -> None:
    series = pd.DataFrame(
        {
            "unit": ["a", "a", "city", "city"],
            "period": ["2023-01", "2023-02", "2023-01", "2023-02"],
            "value": [0.5, np.nan, 0.6, 0.7],
        }
    )
    fig = F.trend_figure(series, units=["a"], labels=LABELS, indicator=RATE, title="t", city_label="全市")
    assert [tr.name for tr in fig.data] == ["甲", "全市"]
    assert list(fig.data[0].y) == [0.5, None]
    assert fig.data[1].line.dash == "dash"
    assert fig.layout.xaxis.type == "category"


def test_sparkline_svg_draws_each_series_with_gaps_and_its_last_value() -> None:
    import xml.etree.ElementTree as ET
    from urllib.parse import unquote

    svg = F.sparkline_svg({"unit": [0.5, None, 0.7, 0.9], "city": [0.6, 0.6, 0.6, None]})
    uri = F.svg_data_uri(svg)
    assert uri.startswith("data:image/svg+xml;charset=utf-8,") and "#" not in uri  # '#' would end the URI
    root = ET.fromstring(unquote(uri.split(",", 1)[1]))
    ns = "{http://www.w3.org/2000/svg}"
    groups = {g.get("data-series"): g for g in root.iter(ns + "g")}
    assert list(groups) == ["city", "unit"]  # the unit's line drawn last, on top
    assert groups["unit"].get("data-last") == "0.9"
    assert groups["city"].get("data-last") == ""  # the city's last month is missing
    # The gap at the second month splits the unit's line: a lone first point draws no line,
    # the last two points one segment; the city's three months one line.
    unit_lines = [p.get("points").split() for p in groups["unit"].iter(ns + "polyline")]
    city_lines = [p.get("points").split() for p in groups["city"].iter(ns + "polyline")]
    assert [len(line) for line in unit_lines] == [2] and [len(line) for line in city_lines] == [3]
    # One scale for both series, 0.5 … 0.9 over the inner height 56 − 2×5 = 46 (y grows downwards):
    # 0.9 at the top (y = 5), 0.7 at 5 + 46 × 0.2/0.4 = 28; x of month i = 5 + 230 × i/3.
    assert unit_lines[0] == ["158.3,28", "235,5"]
    assert city_lines[0][0] == "5,39.5"  # 0.6: 5 + 46 × 0.3/0.4 = 39.5
    assert len(list(groups["unit"].iter(ns + "circle"))) == 1  # the last value marked
    assert not list(groups["city"].iter(ns + "circle"))


def test_graph_config_is_chinese_png_and_stays_on_the_intranet() -> None:
    config = F.graph_config("ranking")
    assert config["locale"] == "zh-CN"
    locale = config["locales"]["zh-CN"]
    assert locale["dictionary"]["Download plot as a PNG"] == "下载图表为PNG格式"
    assert len(locale["format"]["months"]) == 12 and locale["format"]["shortMonths"][0] == "1月"
    assert config["toImageButtonOptions"]["format"] == "png"
    assert config["showSendToCloud"] is False and config["showEditInChartStudio"] is False


def test_heatmap_rows_cut_large_regions_to_both_ends_and_the_chosen() -> None:
    from dashboard.pages.comparison import HEAT_EDGE, heatmap_rows

    small = [f"u{i}" for i in range(17)]
    assert heatmap_rows(small, []) == (small, 0)
    big = [f"u{i:04d}" for i in range(100)]  # rank order
    rows, total = heatmap_rows(big, ["u0050"])
    assert total == 100 and HEAT_EDGE == 20
    # top 20 (u0000..u0019), the chosen u0050, bottom 20 (u0080..u0099), still in rank order
    assert rows == big[:20] + ["u0050"] + big[80:]


def test_benchmark_line_stays_off_the_labels_and_lower_is_better_is_said() -> None:
    from foundation.catalogue import default_catalogue

    days = default_catalogue().indicators["avg_handling_days"]
    rows = F.ranking_rows(RANKED, "mediation_success_rate", labels=LABELS, order=["a", "b", "c", "d"])
    fig = F.ranking_figure(
        rows, indicator=days, benchmark=0.6, title="平均办理周期", benchmark_name="全省平均水平"
    )
    line = fig.layout.shapes[0]
    assert line.layer == "below"  # drawn under the bars: labels inside the bars are never crossed
    assert fig.data[0].insidetextanchor == "end" and fig.data[0].textposition == "auto"
    label = fig.layout.annotations[0]
    # the line's label in the right margin (paper x = 1, anchored left), not on the last bars
    assert (label.xref, label.x, label.xanchor) == ("paper", 1, "left")
    assert label.text.startswith("全省平均水平")  # the region's own benchmark name
    assert fig.layout.margin.r >= 80
    assert fig.layout.yaxis.title.text == "越低越好 ↓"
    assert "全省平均水平" in fig.layout.title.subtitle.text
    assert fig.layout.uniformtext.mode == "hide"  # a label that does not fit its bar is not drawn over others
    rate = F.ranking_figure(rows, indicator=RATE, benchmark=0.6, title="调解成功率")
    assert rate.layout.yaxis.title.text == "越高越好 ↑"


def test_benchmark_label_per_region() -> None:
    from application.display import benchmark_label

    assert benchmark_label("shanghai") == "全市平均水平"
    assert benchmark_label("anhui") == "全省平均水平"
    assert benchmark_label("elsewhere") == "平均水平"


def test_trend_marks_incomplete_points_hollow() -> None:
    # 甲's year to date misses February's return from March on: those points are incomplete
    series = pd.DataFrame(
        {
            "unit": ["a", "a", "a", "city", "city", "city"],
            "period": ["2023-01", "2023-02", "2023-03"] * 2,
            "value": [0.5, 0.5, 0.55, 0.6, 0.62, 0.63],
            "incomplete": pd.array([False, True, True, pd.NA, pd.NA, pd.NA], dtype="boolean"),
        }
    )
    fig = F.trend_figure(series, units=["a"], labels=LABELS, indicator=RATE, title="t", city_label="全市")
    assert list(fig.data[0].marker.symbol) == ["circle", "circle-open", "circle-open"]
    assert list(fig.data[0].customdata) == ["", t("dash.tr.incomplete_point"), t("dash.tr.incomplete_point")]
    assert fig.layout.title.subtitle.text == t("dash.tr.incomplete_legend")
    complete = F.trend_figure(
        series.assign(incomplete=False),
        units=["a"],
        labels=LABELS,
        indicator=RATE,
        title="t",
        city_label="全市",
    )
    assert set(complete.data[0].marker.symbol) == {"circle"} and not complete.layout.title.subtitle.text
