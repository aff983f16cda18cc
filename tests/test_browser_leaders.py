"""What leaders see, in headless Chromium on the sample database: the 通报 download on 排名 (the
same figures as ``ipdash score`` for the view on screen), the rank explanation on the unit page
(the figures of ``ipdash explain``), and the rough edges of issue 12."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from browser_support import (
    SCREENSHOTS,
    build_sample_db,
    click,
    console_errors,
    copy_db,
    sign_in_browser,
    start_signed_in,
    wait_for,
)
from docx import Document

from foundation.catalogue import default_catalogue

pytestmark = pytest.mark.browser
CAT = default_catalogue()


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("leaders-sample")
    return build_sample_db(folder), folder / "sample"


@pytest.fixture
def app_url(sample: tuple[Path, Path], tmp_path: Path) -> str:
    return copy_db(sample[0], tmp_path / "dash.db")


def cli_json(*argv: str):  # noqa: ANN201
    out = subprocess.run(
        [sys.executable, "-m", "ipdash.cli", *argv], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


def settle(dash_duo) -> None:  # noqa: ANN001
    wait_for(
        lambda: (
            dash_duo.driver.execute_script(
                "return document.querySelectorAll('[data-dash-is-loading=true]').length"
            )
            == 0
        ),
        message="page settles",
    )


def test_rankings_downloads_the_briefing_of_the_view_on_screen(dash_duo, app_url: str) -> None:  # noqa: ANN001
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/rankings?region=shanghai&window=year&period=2023-12")
    dash_duo.wait_for_element("#rk-graph .js-plotly-plot", timeout=30)
    click(dash_duo, "#rk-briefing-button")
    folder = Path(dash_duo.download_path)
    deadline = time.time() + 90
    while time.time() < deadline and not [p for p in folder.glob("*.docx") if p.stat().st_size > 0]:
        time.sleep(0.5)
    (path,) = list(folder.glob("*.docx"))
    assert path.name == "上海市知识产权行政保护工作通报_全年_2023-12.docx"
    doc = Document(str(path))
    scores = cli_json("score", "--db", app_url, "--period", "2023-12", "--window", "year", "--format", "json")
    rows = [[c.text for c in r.cells] for r in doc.tables[0].rows][1:]
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (str(s["rank"]), CAT.units[s["unit"]].name_zh, f"{s['composite']:.2f}") for s in scores
    ]
    # the download is audited: who, which document, which view
    from sqlmodel import Session

    from application.audit import events
    from store.db import open_engine

    engine = open_engine(app_url)
    with Session(engine) as session:
        (event,) = [
            e for e in events(session=session, kind="export") if e.detail.get("document") == "briefing"
        ]
    engine.dispose()
    assert event.username == "analyst1" and event.outcome == "ok"
    assert (event.detail["region"], event.detail["window"], event.detail["period"]) == (
        "shanghai",
        "year",
        "2023-12",
    )
    assert console_errors(dash_duo) == []


def test_unit_page_explains_the_rank_change(dash_duo, app_url: str) -> None:  # noqa: ANN001
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/unit/jingan?region=shanghai&window=year&period=2023-12")
    dash_duo.wait_for_element("#unit-explain table", timeout=30)
    text = dash_duo.find_element("#unit-explain").text
    # ipdash score: 静安 88.89 (8th, 2022) → 90.47 (4th, 2023)
    assert "综合得分 88.89 → 90.47（+1.58），排名 第8名 → 第4名（上升4位）" in text
    e = cli_json(
        "explain",
        "--db",
        app_url,
        "--unit",
        "jingan",
        "--period",
        "2023-12",
        "--window",
        "year",
        "--format",
        "json",
    )
    first = CAT.indicators[e["contributions"][0]["indicator"]].name_zh
    first_row = dash_duo.find_elements("#unit-explain tbody tr")[0].text
    assert first_row.startswith(first)
    assert "超过本单位的：奉贤" in text
    assert console_errors(dash_duo) == []


def period_options(dash_duo) -> list[str]:  # noqa: ANN001
    """The months the 截止月份 dropdown offers, opened as a person would open it."""
    click(dash_duo, "#filter-period")
    texts = wait_for(
        lambda: [e.text for e in dash_duo.driver.find_elements("css selector", "[role=option]") if e.text],
        message="period options",
    )
    dash_duo.driver.find_element("css selector", "body").send_keys("\ue00c")  # Escape closes it
    return texts


def test_a_new_month_is_offered_after_an_upload_without_a_reload(
    dash_duo, app_url: str, tmp_path: Path
) -> None:  # noqa: ANN001
    from test_export_data import month_values

    from etl.writers import write_return

    new = tmp_path / "jingan_2024-01.xlsx"
    write_return(new, unit=CAT.units["jingan"], period="2024-01", catalogue=CAT, values=month_values(3))
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(base + "/upload?region=shanghai&window=ytd&period=2023-12")
    dash_duo.wait_for_element("#up-upload input[type=file]", timeout=30)
    settle(dash_duo)
    assert "2024-01" not in period_options(dash_duo)
    dash_duo.wait_for_element("#up-upload input[type=file]").send_keys(str(new))
    dash_duo.wait_for_contains_text("#up-report", "校验通过", timeout=30)
    wait_for(lambda: dash_duo.find_element("#up-confirm").is_enabled(), message="confirm enabled")
    click(dash_duo, "#up-confirm")
    dash_duo.wait_for_contains_text("#up-result", "已接收", timeout=30)
    # no reload: the same page offers the new month now, and so does 排名 reached by its link
    wait_for(lambda: "2024-01" in period_options(dash_duo), message="2024-01 offered on the upload page")
    click(dash_duo, "a.nav-link[href*='/rankings']")
    dash_duo.wait_for_element("#rk-graph .js-plotly-plot", timeout=30)
    assert period_options(dash_duo)[0] == "2024-01"
    assert console_errors(dash_duo) == []


def grid_units(dash_duo) -> list[str]:  # noqa: ANN001
    """The unit column of 排名's grid, top to bottom as displayed."""
    rows = dash_duo.driver.find_elements("css selector", "#rk-grid .ag-center-cols-container .ag-row")
    rows = sorted(rows, key=lambda r: int(r.get_attribute("row-index")))
    return [r.find_element("css selector", "[col-id=name]").text for r in rows]


def test_units_without_a_value_sit_at_the_end_of_the_ranking_table(dash_duo, app_url: str) -> None:  # noqa: ANN001
    # December 2023 alone: 崇明 had no malicious-trademark lead, so its handling rate is NA (—)
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.get(
        base + "/rankings?region=shanghai&window=month&period=2023-12&indicator=malicious_tm_handling_rate"
    )
    units = wait_for(lambda: (u := grid_units(dash_duo)) and len(u) == 17 and u, message="grid rows")
    assert units[-1] == "崇明区" and units[0] != "崇明区", units
    # sorted the other way round (rank descending), the unit without a value is still last
    click(dash_duo, "#rk-grid .ag-header-cell[col-id=rank] .ag-header-cell-label")
    units = wait_for(lambda: (u := grid_units(dash_duo)) and u[0] != "黄浦区" and u, message="resorted")
    assert units[-1] == "崇明区"
    assert console_errors(dash_duo) == []


WIDTHS = {"phone": (375, 812), "laptop": (1400, 900), "wide": (1920, 1080)}
# every page, as a leader opens it (the comparison in its relative mode, whose labels are long)
SCREEN_PAGES = [
    ("overview", "/", "#ov-cards .card"),
    ("rankings", "/rankings", "#rk-graph .js-plotly-plot .bars"),
    ("rankings_days", "/rankings?indicator=avg_handling_days", "#rk-graph .js-plotly-plot .bars"),
    ("comparison", "/comparison?mode=relative", "#cmp-heatmap .js-plotly-plot .hm"),
    ("trends", "/trends", "#tr-monthly .js-plotly-plot .scatterlayer .trace"),
    ("unit", "/unit/jingan", "#unit-explain table"),
    ("upload", "/upload", "#up-upload"),
    ("status", "/status", "#st-grid table"),
    ("manage", "/manage", "#mg-target-grid .ag-row"),
    ("audit", "/audit", "#au-table table"),  # admins only: signed in again for it
]


def _with_query(path: str, query: str) -> str:
    return path + ("&" if "?" in path else "?") + query


@pytest.mark.parametrize("width", list(WIDTHS))
def test_every_page_is_usable_at_phone_and_wide_widths(dash_duo, app_url: str, width: str) -> None:  # noqa: ANN001
    """No page scrolls sideways at 375 px or 1,920 px; a screenshot of each goes to
    build/test-artifacts/screenshots/<page>_<width>.png (look at them)."""
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.set_window_size(*WIDTHS[width])
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for name, path, ready in SCREEN_PAGES:
        if name == "audit":
            click(dash_duo, "#logout-button")
            wait_for(lambda: "/login" in dash_duo.driver.current_url, message="signed out")
            sign_in_browser(dash_duo, base, "admin1")
        dash_duo.driver.get(base + _with_query(path, "region=shanghai&window=ytd&period=2023-12"))
        dash_duo.wait_for_element(ready, timeout=30)
        settle(dash_duo)
        inner, scroll = dash_duo.driver.execute_script(
            "return [window.innerWidth, document.documentElement.scrollWidth];"
        )
        # full-page screenshot: the page's whole height at this width
        height = dash_duo.driver.execute_script("return document.documentElement.scrollHeight;")
        dash_duo.driver.set_window_size(WIDTHS[width][0], min(max(height + 120, WIDTHS[width][1]), 6000))
        time.sleep(0.3)
        dash_duo.driver.save_screenshot(str(SCREENSHOTS / f"{name}_{width}.png"))
        dash_duo.driver.set_window_size(*WIDTHS[width])
        assert scroll <= inner, f"{name} scrolls sideways at {width}: {scroll} > {inner}"
        # the page's title stays on one line (it was squeezed to a character a line on a phone)
        title_height = dash_duo.driver.execute_script(
            "var h = document.querySelector('.page-title'); return h ? h.getBoundingClientRect().height : 0;"
        )
        assert 0 < title_height < 50, f"{name}'s title wraps at {width}: {title_height}px"
    assert console_errors(dash_duo) == []


RECTS_OVERLAP = """
var a = arguments[0], b = arguments[1];
function rects(sel) {
  return Array.from(document.querySelectorAll(sel)).map(function (e) { return e.getBoundingClientRect(); })
    .filter(function (r) { return r.width > 0 && r.height > 0; });
}
var out = [];
rects(a).forEach(function (r) { rects(b).forEach(function (s) {
  if (r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom) { out.push([r.top, s.top]); }
}); });
return [rects(a).length, rects(b).length, out.length];
"""


@pytest.mark.parametrize("width", ["phone", "wide"])
def test_comparison_labels_clear_the_titles_and_hints_are_not_cut(dash_duo, app_url: str, width: str) -> None:  # noqa: ANN001
    base = start_signed_in(dash_duo, app_url)
    dash_duo.driver.set_window_size(*WIDTHS[width])
    dash_duo.driver.get(base + "/comparison?mode=relative&region=shanghai&window=ytd&period=2023-12")
    dash_duo.wait_for_element("#cmp-heatmap .js-plotly-plot .hm", timeout=30)
    settle(dash_duo)
    n_labels, n_titles, overlaps = dash_duo.driver.execute_script(
        RECTS_OVERLAP, "#cmp-heatmap .xtick text", "#cmp-heatmap .g-gtitle text"
    )
    assert n_labels >= 5 and n_titles >= 1 and overlaps == 0  # a phone shows every third label
    # 提示 on 排名: December alone, 报送及时率 has a small denominator for every unit
    dash_duo.driver.get(
        base + "/rankings?region=shanghai&window=month&period=2023-12&indicator=timeliness_rate"
    )
    cells = wait_for(
        lambda: [
            c
            for c in dash_duo.driver.find_elements("css selector", "#rk-grid .ag-cell[col-id=flag_text]")
            if c.text
        ],
        message="提示 cells",
    )
    for cell in cells:
        inner = dash_duo.driver.execute_script(
            "var v = arguments[0].querySelector('.ag-cell-value') || arguments[0];"
            "return [v.scrollWidth, v.clientWidth, v.scrollHeight, v.clientHeight];",
            cell,
        )
        assert inner[0] <= inner[1] + 1 and inner[2] <= inner[3] + 1, f"提示 cut off: {cell.text} {inner}"
    # the bars' value labels never overlap each other (those that do not fit are hidden)
    n_text, _, overlaps = dash_duo.driver.execute_script(
        RECTS_OVERLAP, "#rk-graph .bartext", "#rk-graph .bartext"
    )
    assert overlaps == n_text  # each label meets only itself
    # the benchmark line's label sits in the margin, clear of every bar label
    _, n_notes, overlaps = dash_duo.driver.execute_script(
        RECTS_OVERLAP, "#rk-graph .bartext", "#rk-graph .annotation"
    )
    assert n_notes >= 1 and overlaps == 0


def test_trend_marks_year_to_date_points_with_a_missing_month(dash_duo, tmp_path: Path) -> None:  # noqa: ANN001
    """静安 never sent March 2023: its year-to-date points from March on are drawn hollow."""
    from sample_data.build import load_sample, write_sample_files
    from store.db import open_engine

    files = tmp_path / "sample"
    write_sample_files(files)
    (files / "returns" / "2023-03" / "jingan_2023-03.xlsx").unlink()
    engine = open_engine(f"sqlite:///{tmp_path / 'gap.db'}")
    load_sample(engine, folder=files)
    engine.dispose()
    base = start_signed_in(dash_duo, f"sqlite:///{tmp_path / 'gap.db'}")
    dash_duo.driver.get(
        base
        + "/trends?region=shanghai&window=ytd&period=2023-06&indicator=mediation_success_rate&units=jingan"
    )
    dash_duo.wait_for_element("#tr-ytd .js-plotly-plot .scatterlayer .trace", timeout=30)
    settle(dash_duo)
    script = (
        "var gd = document.querySelector('#{} .js-plotly-plot'); var d = gd._fullData[0];"
        "return [Array.from(d.x), [].concat(d.marker.symbol)];"
    )
    months, symbols = dash_duo.driver.execute_script(script.format("tr-ytd"))
    marks = dict(zip(months, symbols, strict=True))
    assert [marks[m] for m in ("2023-01", "2023-02")] == ["circle", "circle"]
    assert [marks[m] for m in ("2023-03", "2023-04", "2023-05", "2023-06")] == ["circle-open"] * 4
    assert "空心点" in dash_duo.find_element("#tr-ytd").text
    # the month alone: March has no value (no point, no mark), the other months are complete
    assert "空心点" not in dash_duo.find_element("#tr-monthly").text
    dash_duo.driver.save_screenshot(str(SCREENSHOTS / "trends_incomplete.png"))
    assert console_errors(dash_duo) == []
