"""The 通报 and ``ipdash explain`` on the project's sample database (17 units × 24 months).

- ``ipdash explain``: the contributions add up to the change of the composite ``ipdash score``
  prints for the two windows, and the ranks are those of ``ipdash score``;
- ``ipdash briefing`` of 2023-12 (year) and 2023-06 (ytd): read back with python-docx, its ranking
  table equals ``ipdash score`` and its first/last three units equal ``ipdash indicators``' rank
  order; charts, page numbers, A4, unbreakable rows and repeated headers are there; LibreOffice
  converts it to a PDF with pages (the PDFs and page images go to build/test-artifacts/briefing/).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from browser_support import build_sample_db
from docx import Document
from docx.oxml.ns import qn

from application.display import format_score, format_value
from foundation.catalogue import default_catalogue
from ipdash.cli import main

CAT = default_catalogue()
ARTIFACTS = Path(__file__).resolve().parents[1] / "build" / "test-artifacts" / "briefing"


@pytest.fixture(scope="module")
def sample_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{build_sample_db(tmp_path_factory.mktemp('briefing-sample'))}"


def run_json(capsys, *argv: str):  # noqa: ANN001, ANN201
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


# --- ipdash explain ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("unit", "period", "window", "previous"),
    [("jingan", "2023-12", "year", "2022-12"), ("pudong", "2023-06", "ytd", "2023-05")],
)
def test_explain_adds_up_to_the_scores_change(sample_url, capsys, unit, period, window, previous) -> None:  # noqa: ANN001
    e = run_json(
        capsys,
        "explain",
        "--db",
        sample_url,
        "--unit",
        unit,
        "--period",
        period,
        "--window",
        window,
        "--format",
        "json",
    )
    now = {
        r["unit"]: r
        for r in run_json(
            capsys, "score", "--db", sample_url, "--period", period, "--window", window, "--format", "json"
        )
    }
    before = {
        r["unit"]: r
        for r in run_json(
            capsys, "score", "--db", sample_url, "--period", previous, "--window", window, "--format", "json"
        )
    }
    assert e["previous_period"] == previous
    assert e["rank_now"] == now[unit]["rank"] and e["rank_before"] == before[unit]["rank"]
    change = now[unit]["composite"] - before[unit]["composite"]
    assert sum(c["contribution"] for c in e["contributions"]) == pytest.approx(change, abs=1e-9)
    assert e["change"] == pytest.approx(change, abs=1e-9)
    # each contribution is (s'·a' − s·a)/100 with the scores and weights ipdash score prints
    for c in e["contributions"]:
        s1 = now[unit]["indicators"][c["indicator"]]
        s0 = before[unit]["indicators"][c["indicator"]]
        expected = ((s1["score"] or 0) * s1["weight"] - (s0["score"] or 0) * s0["weight"]) / 100
        assert c["contribution"] == pytest.approx(expected, abs=1e-12)
    # overtaking follows from the two rankings
    overtook_it = {
        u
        for u in now
        if u != unit and before[u]["rank"] > before[unit]["rank"] and now[u]["rank"] < now[unit]["rank"]
    }
    assert set(e["overtook_it"]) == overtook_it
    magnitudes = [abs(c["contribution"]) for c in e["contributions"]]
    assert magnitudes == sorted(magnitudes, reverse=True)


def test_explain_table_and_refusals(sample_url, capsys) -> None:  # noqa: ANN001
    code = main(
        ["explain", "--db", sample_url, "--unit", "jingan", "--period", "2023-12", "--window", "year"]
    )
    out, _ = capsys.readouterr()
    # ipdash score: 静安 88.89 (8th) in 2022 and 90.47 (4th) in 2023
    assert code == 0 and "综合得分 88.89 → 90.47（+1.58），排名 第8名 → 第4名（上升4位）" in out
    rows = [line.split() for line in out.splitlines()]
    shown = [float(r[5]) for r in rows if len(r) == 8 and re.fullmatch(r"[+-]?\d+\.\d\d", r[5])]
    assert len(shown) == 9  # one row per scheme indicator
    assert round(sum(shown), 2) == 1.58  # the shown contributions add up to the shown change
    assert main(["explain", "--db", sample_url, "--unit", "nowhere", "--period", "2023-12"]) == 2
    assert "未知单位：nowhere" in capsys.readouterr().err
    assert main(["explain", "--db", sample_url, "--unit", "hefei", "--period", "2023-12"]) == 2
    capsys.readouterr()
    assert (
        main(["explain", "--db", sample_url, "--unit", "jingan", "--period", "2023-01", "--window", "ytd"])
        == 1
    )
    assert "没有可比的上一期" in capsys.readouterr().err


# --- ipdash briefing ------------------------------------------------------------------------------------


def _paragraphs(doc) -> list[str]:  # noqa: ANN001
    return [p.text for p in doc.paragraphs]


def _lists(doc, prefix: str) -> list[list[str]]:  # noqa: ANN001
    """'前三名：宝山区 92.37%、…。' paragraphs as lists of 'name value' items, in document order."""
    return [p[len(prefix) : -1].split("、") for p in _paragraphs(doc) if p.startswith(prefix)]


@pytest.mark.parametrize(("period", "window"), [("2023-12", "year"), ("2023-06", "ytd")])
def test_briefing_figures_equal_score_and_indicators(sample_url, tmp_path, capsys, period, window) -> None:  # noqa: ANN001
    out = tmp_path / f"briefing-{period}-{window}.docx"
    code = main(
        [
            "briefing",
            "--db",
            sample_url,
            "--period",
            period,
            "--window",
            window,
            "--by",
            "市局保护处",
            "-o",
            str(out),
        ]
    )
    assert code == 0 and "已生成通报" in capsys.readouterr().out
    doc = Document(str(out))
    scores = run_json(
        capsys, "score", "--db", sample_url, "--period", period, "--window", window, "--format", "json"
    )
    indicators = run_json(
        capsys, "indicators", "--db", sample_url, "--period", period, "--window", window, "--format", "json"
    )

    title = _paragraphs(doc)[0]
    expected_title = {
        "year": "上海市知识产权行政保护工作通报\n（2023年1—12月）",
        "ytd": "上海市知识产权行政保护工作通报\n（2023年1—6月）",
    }
    assert title == expected_title[window]

    # 三、综合排名: rank, unit, composite as ipdash score, in its order
    table = doc.tables[0]
    rows = [[c.text for c in r.cells] for r in table.rows]
    assert rows[0][:3] == ["排名", "单位", "综合得分"]
    assert [r[:3] for r in rows[1:]] == [
        [str(s["rank"]), CAT.units[s["unit"]].name_zh, format_score(s["composite"])] for s in scores
    ]

    # 四、各项指标: first three and last three in ipdash indicators' rank order (ties: catalogue order)
    order = {u.code: i for i, u in enumerate(CAT.units_of("shanghai"))}
    best, worst = _lists(doc, "前三名："), _lists(doc, "后三名：")
    expected_best, expected_worst = [], []
    for code, ind in CAT.indicators.items():
        ranked = sorted(
            (
                r
                for r in indicators
                if r["indicator"] == code and r["unit"] != "city" and r["rank"] is not None
            ),
            key=lambda r: (r["rank"], order[r["unit"]]),
        )
        if not ranked:
            continue
        items = [f"{CAT.units[r['unit']].name_zh} {format_value(r['value'], ind)}" for r in ranked]
        expected_best.append(items[:3])
        expected_worst.append(list(reversed(items[-3:])))
    assert best == expected_best and worst == expected_worst
    # the units below the benchmark are those ipdash indicators says do not meet it
    below = _lists(doc, "低于全市平均水平")
    assert len(below) >= 1
    n_below = sum(1 for r in indicators if r["unit"] != "city" and r["meets_benchmark"] is False)
    assert sum(len(items) for items in below) == n_below
    # no unit listed below the benchmark reads the same as it (more digits where rounding hid it)
    for p in _paragraphs(doc):
        if p.startswith("低于全市平均水平"):
            shown = p[p.index("（") + 1 : p.index("）")]
            values = [item.split(" ")[1] for item in p[p.index("：") + 1 : -1].split("、")]
            assert all(v != shown for v in values), p

            def decimals(text: str) -> int:
                digits = re.sub(r"[^0-9.]", "", text)
                return len(digits.split(".")[1]) if "." in digits else 0

            # and the benchmark is given as precisely as the most precise unit (73.12% vs 73.11%)
            assert decimals(shown) >= max(decimals(v) for v in values), p

    # charts: the composite and every scored indicator; A4; page numbers; rows keep together
    scheme_rows = len(default_scheme_rows())
    assert len(doc.inline_shapes) == 1 + scheme_rows
    section = doc.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    footer_xml = section.footer._element.xml
    assert "PAGE" in footer_xml and 'w:fldCharType="begin"' in footer_xml
    for r in table.rows:
        assert r._tr.trPr.find(qn("w:cantSplit")) is not None
    assert table.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None
    text = "\n".join(_paragraphs(doc))
    assert "一、报送情况" in text and "二、主要指标" in text and "六、口径说明" in text
    # 五、任务督办: the overdue and due-soon tasks of ipdash tasks status on the cut-off day, by lead
    assert "五、任务督办" in text
    on = next(p for p in _paragraphs(doc) if p.startswith("截至") and "计划任务" in p)[2:12]
    tasks = run_json(capsys, "tasks", "status", "--db", sample_url, "--as-of", on, "--format", "json")
    chase = [s for s in tasks if s["state"] in ("overdue", "due_soon")]
    task_table = doc.tables[-1]
    task_rows = [[c.text for c in r.cells] for r in task_table.rows]
    assert task_rows[0] == ["牵头单位", "任务", "完成时限", "状态"]
    assert sorted(r[1].split(" ")[0] for r in task_rows[1:]) == sorted(s["task"] for s in chase)
    overdue = {s["task"]: s["days_overdue"] for s in chase if s["state"] == "overdue"}
    for row in task_rows[1:]:
        task_id = row[1].split(" ")[0]
        if task_id in overdue:
            assert row[3] == f"逾期 {overdue[task_id]} 天"
    n_overdue = sum(s["state"] == "overdue" for s in tasks)
    assert f"计划任务 {len(tasks)} 项中，逾期未完成 {n_overdue} 项" in text
    # 一、报送情况: the counts of ipdash status, the rate of ipdash indicators' 报送及时率
    status = run_json(
        capsys, "status", "--db", sample_url, "--period", period, "--window", window, "--format", "json"
    )
    rows = [r for r in status["rows"] if r["period"] <= period]
    on_time = sum(r["state"] == "on_time" for r in rows)
    late = sum(r["state"] == "late" for r in rows)
    overdue = sum(r["state"] == "missing" and r["overdue"] for r in rows)
    timeliness = next(r for r in indicators if r["unit"] == "city" and r["indicator"] == "timeliness_rate")
    summary = next(p for p in _paragraphs(doc) if p.startswith("2023-01至"))
    assert f"应报月报 {on_time + late + overdue} 份，按时报送 {on_time} 份，逾期报送 {late} 份" in summary
    assert f"逾期未报 {overdue} 份；按时报送率 {timeliness['value'] * 100:.1f}%" in summary
    _opens_in_libreoffice(out)


def default_scheme_rows() -> list[str]:
    from indicators.scoring import default_scheme

    return default_scheme(CAT).indicators


def test_briefing_explains_units_that_moved_three_places(sample_url, tmp_path, capsys) -> None:  # noqa: ANN001
    out = tmp_path / "b.docx"
    assert (
        main(["briefing", "--db", sample_url, "--period", "2023-12", "--window", "year", "-o", str(out)]) == 0
    )
    capsys.readouterr()
    now = {
        r["unit"]: r
        for r in run_json(
            capsys, "score", "--db", sample_url, "--period", "2023-12", "--window", "year", "--format", "json"
        )
    }
    before = {
        r["unit"]: r
        for r in run_json(
            capsys, "score", "--db", sample_url, "--period", "2022-12", "--window", "year", "--format", "json"
        )
    }
    movers = {u for u in now if abs(before[u]["rank"] - now[u]["rank"]) >= 3}
    assert movers  # the sample has some (静安 8th → 4th)
    text = _paragraphs(Document(str(out)))
    explained = {u for u in now if any(p.startswith(f"{CAT.units[u].short_zh}综合得分") for p in text)}
    assert explained == movers
    # the change-of-rank column: ↑4 for 静安 (8th → 4th)
    rows = {r.cells[1].text: r.cells[3].text for r in Document(str(out)).tables[0].rows}
    assert rows["静安区"] == "↑4"


def _opens_in_libreoffice(docx: Path) -> None:
    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.fail("soffice missing: ./scripts/setup --test installs libreoffice-writer-nogui")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = docx.parent / "lo-profile"
    env = {**os.environ, "HOME": str(docx.parent)}
    subprocess.run(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(ARTIFACTS),
            str(docx),
        ],
        check=True,
        capture_output=True,
        env=env,
        timeout=300,
    )
    pdf = ARTIFACTS / (docx.stem + ".pdf")
    assert pdf.exists()
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]
    assert pages >= 3
    assert "595.3" in info and "841.89" in info  # A4 in points
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(pdf), str(ARTIFACTS / docx.stem)], check=True)
