"""区详情 in headless Chromium on the sample database: the page is drawn with its layout (issue 13),
its sparklines are server-drawn SVG pictures — one per indicator, two series each (the unit and
the city) — whose latest values are the ones worked out by hand from 静安's sample returns, and a
change of the month filter redraws them.

静安's returns (sample_data, seeded), month window:

| month   | 依法公开数 | 裁决结案 | 执法结案 | 办理天数合计 | 办结案件公开率   | 平均办理周期        |
|---------|-----------|---------|---------|-------------|-----------------|--------------------|
| 2023-12 | 22        | 6       | 18      | 1309        | 22/24 = 91.7%   | 1309/24 = 54.54 天 |
| 2023-11 | 23        | 4       | 20      | 1245        | 23/24 = 95.8%   | 1245/24 = 51.88 天 |

The city's line ends at the pooled city value, taken from ``ipdash indicators`` (another path).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from browser_support import build_sample_db, console_errors, copy_db, start_signed_in, wait_for

pytestmark = pytest.mark.browser

QUERY = "?region=shanghai&window=ytd&period=2023-12"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_sample_db(tmp_path_factory.mktemp("unit-sample"))


@pytest.fixture
def app_url(sample: Path, tmp_path: Path) -> str:
    return copy_db(sample, tmp_path / "dash.db")


def cli_city(db_url: str, period: str, indicator: str) -> float:
    out = subprocess.run(
        [sys.executable, "-m", "ipdash.cli", "indicators", "--db", db_url, "--period", period]
        + ["--window", "month", "--format", "json"],
        capture_output=True,
        text=True,
        check=True,
    )
    row = next(r for r in json.loads(out.stdout) if r["indicator"] == indicator and r["unit"] == "city")
    return float(row["value"])


# What the browser shows of one sparkline: the picture's series (decoded from the <img>'s data
# URI with the browser's own SVG parser), the latest values written under it, its tooltip.
_SPARK_JS = """
var fig = document.querySelector('#unit-sparks .spark[data-indicator="' + arguments[0] + '"]');
if (!fig) { return null; }
var img = fig.querySelector('img');
var src = img.getAttribute('src');
var svg = new DOMParser().parseFromString(
    decodeURIComponent(src.slice(src.indexOf(',') + 1)), 'image/svg+xml');
var series = Array.from(svg.querySelectorAll('g[data-series]')).map(function (g) {
    var points = 0;
    g.querySelectorAll('polyline').forEach(function (p) {
        points += p.getAttribute('points').trim().split(/\\s+/).length;
    });
    return {name: g.getAttribute('data-series'), last: g.getAttribute('data-last'), points: points};
});
return {
    caption: fig.querySelector('figcaption').textContent,
    series: series,
    unit: fig.querySelector('.spark-unit').textContent,
    city: fig.querySelector('.spark-city').textContent,
    alt: img.getAttribute('alt'),
    title: img.getAttribute('title'),
    loaded: img.complete && img.naturalWidth > 0,
};
"""


def spark(dash_duo: Any, indicator: str) -> dict[str, Any] | None:
    return dash_duo.driver.execute_script(_SPARK_JS, indicator)


def test_unit_page_sparklines_show_unit_and_city_with_the_latest_values(dash_duo, app_url: str) -> None:
    from foundation.catalogue import default_catalogue

    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/unit/jingan" + QUERY)
    dash_duo.wait_for_element("#unit-sparks .spark img", timeout=30)

    n_indicators = len(default_catalogue().indicators)
    assert n_indicators == 17
    assert len(dash_duo.find_elements("#unit-sparks .spark")) == n_indicators
    assert "2023-01 至 2023-12" in dash_duo.find_element("#unit-sparks").text

    disclosure = spark(dash_duo, "disclosure_rate")
    assert disclosure is not None and disclosure["loaded"], "the picture decodes"
    assert disclosure["caption"] == "办结案件公开率"
    assert [s["name"] for s in disclosure["series"]] == ["city", "unit"]
    unit_series = next(s for s in disclosure["series"] if s["name"] == "unit")
    city_series = next(s for s in disclosure["series"] if s["name"] == "city")
    assert unit_series["points"] == 12  # 静安 reported every month of 2023
    assert float(unit_series["last"]) == pytest.approx(22 / 24)
    city_value = cli_city(app_url, "2023-12", "disclosure_rate")
    assert float(city_series["last"]) == pytest.approx(city_value)
    assert disclosure["unit"] == "静安 91.7%"
    assert disclosure["city"] == f"全市 {city_value * 100:.1f}%"
    assert "静安 最新 91.7%" in disclosure["alt"]
    assert disclosure["title"].splitlines()[-1].startswith("2023-12　静安 91.7%　全市")

    days = spark(dash_duo, "avg_handling_days")
    assert days is not None
    assert float(next(s for s in days["series"] if s["name"] == "unit")["last"]) == pytest.approx(1309 / 24)
    assert days["unit"] == "静安 54.5天"

    # The rest of the page was drawn with the layout too.
    assert dash_duo.find_element("#unit-scorecard table")
    assert "综合得分" in dash_duo.find_element("#unit-heading").text
    assert console_errors(dash_duo) == []

    # Another month: the filter redraws the page through its callback.
    dash_duo.select_dcc_dropdown("#filter-period", "2023-11")
    wait_for(
        lambda: (spark(dash_duo, "disclosure_rate") or {}).get("unit") == "静安 95.8%",
        message="sparklines redrawn for 2023-11",
    )
    moved = spark(dash_duo, "disclosure_rate")
    assert moved is not None
    unit_series = next(s for s in moved["series"] if s["name"] == "unit")
    assert float(unit_series["last"]) == pytest.approx(23 / 24)
    assert unit_series["points"] == 12  # the twelve months 2022-12 … 2023-11
    city_value = cli_city(app_url, "2023-11", "disclosure_rate")
    assert moved["city"] == f"全市 {city_value * 100:.1f}%"
    assert (spark(dash_duo, "avg_handling_days") or {}).get("unit") == "静安 51.9天"
    assert "2022-12 至 2023-11" in dash_duo.find_element("#unit-sparks").text
    assert "2023-11" in dash_duo.driver.current_url
    assert console_errors(dash_duo) == []
