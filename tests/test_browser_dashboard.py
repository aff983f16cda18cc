"""The real dashboard in headless Chromium (dash_duo) on the project's sample database.

- every page renders with no browser console error and loads nothing from outside this server,
  with Plotly's zh-CN locale applied; a screenshot of each goes to build/test-artifacts/screenshots/
  (``./scripts/screenshots`` refreshes docs/screenshots/ on purpose);
- the filters travel in the URL: a link opens the same view and the navigation keeps it;
- changing the indicator and the window on 排名 reorders the bars exactly as ``ipdash
  indicators`` ranks the units for the same query;
- uploading a valid return changes the 排名 figures; a bad return shows its cell-level errors,
  can be downloaded back annotated, and changes nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from browser_support import (
    SCREENSHOTS,
    build_sample_db,
    click,
    console_errors,
    copy_db,
    external_resources,
    graph_title,
    graph_x,
    start_signed_in,
    wait_for,
)
from selenium.webdriver.common.by import By

pytestmark = pytest.mark.browser

QUERY = "?region=shanghai&window=ytd&period=2023-12"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(master database, sample files folder); tests copy the database before writing to it."""
    folder = tmp_path_factory.mktemp("dashboard-sample")
    return build_sample_db(folder), folder / "sample"


@pytest.fixture
def app_url(sample: tuple[Path, Path], tmp_path: Path) -> str:
    return copy_db(sample[0], tmp_path / "dash.db")


def cli_ranking(db_url: str, indicator: str, window: str, period: str = "2023-12") -> list[str]:
    """Short names of the units with a value, in ``ipdash indicators``' rank order (ties: catalogue order)."""
    from foundation.catalogue import default_catalogue

    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ipdash.cli",
            "indicators",
            "--db",
            db_url,
            "--period",
            period,
            "--window",
            window,
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    rows = [
        r
        for r in json.loads(out.stdout)
        if r["indicator"] == indicator and r["unit"] != "city" and r["value"] is not None
    ]
    cat = default_catalogue()
    order = [u.code for u in cat.units_of("shanghai")]
    rows.sort(key=lambda r: (r["rank"], order.index(r["unit"])))
    return [cat.units[r["unit"]].short_zh for r in rows]


PAGES = [
    ("overview", "/", "#ov-cards .ov-card"),
    ("rankings", "/rankings", "#rk-graph .js-plotly-plot .bars path"),
    ("comparison", "/comparison", "#cmp-heatmap .js-plotly-plot .hm"),
    ("trends", "/trends", "#tr-monthly .js-plotly-plot .scatterlayer .trace"),
    ("unit", "/unit/jingan", "#unit-scorecard table"),
    ("upload", "/upload", "#up-upload"),
    ("status", "/status", "#st-grid table"),
    ("tasks", "/tasks", ".tk-list tr.tk-row"),
]


def test_every_page_renders_offline_without_console_errors(dash_duo, app_url: str) -> None:
    base = start_signed_in(dash_duo, app_url)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path, ready in PAGES:
        dash_duo.driver.get(base + path + QUERY)
        dash_duo.wait_for_element(ready, timeout=20)
        wait_for(
            lambda: (
                dash_duo.driver.execute_script(
                    "return document.querySelectorAll('[data-dash-is-loading=true]').length"
                )
                == 0
            ),
            message=f"{name} settles",
        )
        page_name, _, app_name = dash_duo.driver.title.partition(" · ")
        assert app_name == "知识产权行政保护绩效监测" and page_name, dash_duo.driver.title  # "<page> · <app>"
        dash_duo.driver.save_screenshot(str(SCREENSHOTS / f"{name}.png"))
        assert console_errors(dash_duo) == [], f"console errors on {name}"
        assert external_resources(dash_duo, base) == [], f"{name} refers outside the server"
    # Plotly speaks Chinese: the modebar's PNG button carries the zh-CN text.
    dash_duo.driver.get(base + "/rankings" + QUERY)
    button = dash_duo.wait_for_element('#rk-graph .modebar-btn[data-title="下载图表为PNG格式"]', timeout=20)
    assert button is not None


def test_filters_live_in_the_url_and_survive_navigation(dash_duo, app_url: str) -> None:
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(
        base + "/rankings?region=shanghai&window=quarter&period=2023-06&indicator=mediation_success_rate"
    )
    wait_for(
        lambda: graph_title(dash_duo, "rk-graph") and "2023-06" in graph_title(dash_duo, "rk-graph"),
        message="ranking title",
    )
    assert "调解成功率" in graph_title(dash_duo, "rk-graph")
    assert "季度累计" in graph_title(dash_duo, "rk-graph")
    # The navigation carries the view to the other pages.
    click(dash_duo, "#" + _nav_id("dashboard.pages.trends"))
    wait_for(lambda: "/trends" in dash_duo.driver.current_url, message="trends page")
    url = dash_duo.driver.current_url
    assert "period=2023-06" in url and "window=quarter" in url and "indicator=mediation_success_rate" in url
    dash_duo.wait_for_element("#tr-monthly .js-plotly-plot .scatterlayer .trace", timeout=20)
    assert "调解成功率" in graph_title(dash_duo, "tr-monthly")
    # Changing a filter rewrites the address, so the link shows a colleague the same view.
    dash_duo.select_dcc_dropdown("#filter-window", "年初至今")
    wait_for(lambda: "window=ytd" in dash_duo.driver.current_url, message="window in the URL")


def _nav_id(module: str) -> str:
    """The DOM id Dash gives a pattern-matching id (sorted keys, JSON, escaped for CSS)."""
    import json as _json

    text = _json.dumps({"page": module, "type": "nav-link"}, separators=(",", ":"))
    return "".join("\\" + ch if not ch.isalnum() and ch not in "-_" else ch for ch in text)


def test_rankings_reorder_like_the_cli(dash_duo, app_url: str) -> None:
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/rankings" + QUERY + "&indicator=abnormal_withdrawal_rate")
    expected = cli_ranking(app_url, "abnormal_withdrawal_rate", "ytd")
    wait_for(lambda: graph_x(dash_duo, "rk-graph") == expected, message="bars in CLI order (withdrawal, ytd)")

    dash_duo.select_dcc_dropdown("#" + _css({"name": "indicator", "type": "query-param"}), "行政案件办结率")
    expected = cli_ranking(app_url, "case_completion_rate", "ytd")
    wait_for(lambda: graph_x(dash_duo, "rk-graph") == expected, message="bars in CLI order (completion, ytd)")

    dash_duo.select_dcc_dropdown("#filter-window", "当月")
    expected_month = cli_ranking(app_url, "case_completion_rate", "month")
    assert expected_month != expected, "the sample should rank differently by month than year to date"
    wait_for(
        lambda: graph_x(dash_duo, "rk-graph") == expected_month,
        message="bars in CLI order (completion, month)",
    )
    assert console_errors(dash_duo) == []


def _css(component_id: dict[str, str]) -> str:
    text = json.dumps(dict(sorted(component_id.items())), separators=(",", ":"))
    return "".join("\\" + ch if not ch.isalnum() and ch not in "-_" else ch for ch in text)


def _bar_value(dash_duo, label: str) -> float:  # noqa: ANN001
    xs = graph_x(dash_duo, "rk-graph")
    ys = dash_duo.driver.execute_script(
        "var gd = document.querySelector('#rk-graph .js-plotly-plot'); return Array.from(gd._fullData[0].y);"
    )
    return float(ys[xs.index(label)])


def test_upload_valid_return_changes_rankings(dash_duo, app_url: str, sample: tuple[Path, Path]) -> None:
    corrected = sample[1] / "uploads" / "jingan_2023-12_更正.xlsx"  # every abnormal application withdrawn
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/rankings" + QUERY + "&indicator=abnormal_withdrawal_rate")
    wait_for(lambda: graph_x(dash_duo, "rk-graph"), message="ranking drawn")
    before = _bar_value(dash_duo, "静安")

    dash_duo.driver.get(base + "/upload" + QUERY)
    dash_duo.wait_for_element("#up-upload input[type=file]").send_keys(str(corrected))
    dash_duo.wait_for_contains_text("#up-report", "校验通过，可以载入", timeout=30)
    wait_for(lambda: dash_duo.find_element("#up-confirm").is_enabled(), message="confirm enabled")
    click(dash_duo, "#up-confirm")
    dash_duo.wait_for_contains_text("#up-result", "已接收", timeout=30)
    assert "jingan 2023-12 第2版" in dash_duo.find_element("#up-result").text

    dash_duo.driver.get(base + "/rankings" + QUERY + "&indicator=abnormal_withdrawal_rate")
    wait_for(lambda: graph_x(dash_duo, "rk-graph"), message="ranking drawn again")
    after = wait_for(lambda: (v := _bar_value(dash_duo, "静安")) != before and v, message="静安 changed")
    assert after > before  # withdrawn = notified in December raises the year's withdrawal rate
    assert console_errors(dash_duo) == []


def test_upload_bad_return_shows_cell_errors_and_changes_nothing(
    dash_duo, app_url: str, tmp_path: Path
) -> None:
    from factories import make_return, value_row

    bad = make_return(
        tmp_path / "jingan_2023-12_有错误.xlsx",
        unit="静安区",
        period="2023-12",
        raw={"adjudication_closed": -3, "trainees": "十二"},
    )
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/rankings" + QUERY + "&indicator=case_completion_rate")
    wait_for(lambda: graph_x(dash_duo, "rk-graph"), message="ranking drawn")
    before_x = graph_x(dash_duo, "rk-graph")
    before = _bar_value(dash_duo, "静安")

    dash_duo.driver.get(base + "/upload" + QUERY)
    dash_duo.wait_for_element("#up-upload input[type=file]").send_keys(str(bad))
    dash_duo.wait_for_contains_text("#up-report", "有错误，将被拒收", timeout=30)
    report = dash_duo.find_element("#up-report").text
    # Every error, with its sheet and cell (the factory's layout: values in column E).
    assert "错误 2 条" in report
    for code in ("adjudication_closed", "trainees"):
        assert f"月报!E{value_row(code)}" in report
        assert code in report
    assert not dash_duo.find_element("#up-confirm").is_enabled()

    # The rejected file comes back with its cells marked.
    click(dash_duo, ".file-rejected button")
    target = Path(dash_duo.download_path) / "jingan_2023-12_有错误_标注.xlsx"
    wait_for(target.exists, timeout=20, message="annotated download")

    dash_duo.driver.get(base + "/rankings" + QUERY + "&indicator=case_completion_rate")
    wait_for(lambda: graph_x(dash_duo, "rk-graph"), message="ranking drawn again")
    assert graph_x(dash_duo, "rk-graph") == before_x
    assert _bar_value(dash_duo, "静安") == before
    assert console_errors(dash_duo) == []


def test_files_over_the_limit_are_refused_in_the_browser(dash_duo, app_url: str, tmp_path: Path) -> None:
    big = tmp_path / "太大.xlsx"
    big.write_bytes(b"PK\x03\x04" + b"\0" * (10 * 1024 * 1024 + 10))
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/upload" + QUERY)
    dash_duo.wait_for_element("#up-upload input[type=file]").send_keys(str(big))
    dash_duo.wait_for_contains_text("#up-size-note", "太大.xlsx", timeout=10)
    assert dash_duo.find_element("#up-report").text == ""
    assert console_errors(dash_duo) == []


def test_nav_has_every_registered_page(dash_duo, app_url: str) -> None:
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/" + QUERY)
    dash_duo.wait_for_element("#ov-cards .ov-card", timeout=20)
    names = [e.text for e in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".app-header .nav-link")]
    assert names[:6] == ["总览", "排名", "对比", "趋势", "区详情", "上传"]


def test_region_change_rebuilds_the_unit_pickers(dash_duo, app_url: str) -> None:
    """Switching 地区 on 趋势 reloads the page for the new region: its unit picker offers that
    region's units (Anhui cities), not the Shanghai districts chosen before."""
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/trends" + QUERY + "&units=pudong,jingan")
    dash_duo.wait_for_element("#tr-monthly .js-plotly-plot .scatterlayer .trace", timeout=20)
    assert "浦东新区" in dash_duo.find_element(".tr-units").text
    dash_duo.select_dcc_dropdown("#filter-region", "安徽省")
    wait_for(lambda: "region=anhui" in dash_duo.driver.current_url, message="region in the URL")
    wait_for(lambda: "合肥市" in dash_duo.find_element(".tr-units").text, message="Anhui units chosen")
    assert "浦东新区" not in dash_duo.find_element(".tr-units").text
    assert console_errors(dash_duo) == []


def test_status_page_exports_the_assessment_workbook(dash_duo, app_url: str) -> None:
    """报送情况's button downloads the same workbook as ``ipdash export``: its 综合排名 sheet lists
    the composite of the first-ranked unit exactly as ``ipdash score`` gives it."""
    import time

    from openpyxl import load_workbook

    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/status" + QUERY)
    dash_duo.wait_for_element("#st-grid table", timeout=30)
    click(dash_duo, "#st-export-button")
    folder = Path(dash_duo.download_path)
    deadline = time.time() + 60
    while time.time() < deadline and not [p for p in folder.glob("*.xlsx") if p.stat().st_size > 0]:
        time.sleep(0.5)
    (path,) = [p for p in folder.glob("*.xlsx")]
    wb = load_workbook(path)
    assert {"综合排名", "指标明细", "原始数据", "口径说明", "修订记录"} <= set(wb.sheetnames)
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "ipdash.cli",
            "score",
            "--db",
            app_url,
            "--period",
            "2023-12",
            "--format",
            "json",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    first = json.loads(out.stdout)[0]
    cells = [c for row in wb["综合排名"].iter_rows(values_only=True) for c in row]
    assert any(isinstance(c, float) and abs(c - first["composite"]) < 1e-9 for c in cells)
    assert console_errors(dash_duo) == []
