"""The assessment workbook: every exported figure equals ``ipdash indicators`` / ``ipdash score``
(read back cell by cell), number formats and layout, the raw-data sheets round-trip through
``ipdash load``, ``--as-of`` reproduces an export made before a correction, and the one-unit
scorecard. Real files, real databases (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select
from test_export_data import CAT, month_values, save, seed_scenario, sheet_rows

from application import service
from application.assessment import (
    COMPOSITE_HEADER_ROW,
    DETAIL_COLUMNS,
    DETAIL_HEADER_ROW,
    AsOfError,
    formula_text,
    method_text,
    parse_as_of,
)
from indicators.scoring import default_scheme
from ipdash.cli import main
from store import queries
from store.db import open_engine
from store.models import Revision

PERIOD = "2023-03"
NA = "—"
SCHEME = default_scheme(CAT)
FIGURE_SHEETS = ("综合排名", "指标明细")


def run(capsys, *argv: str) -> tuple[int, str, str]:  # noqa: ANN001 - pytest fixture
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def export(capsys, db_url: str, out: Path, *extra: str) -> Path:  # noqa: ANN001
    code, stdout, err = run(capsys, "export", "--period", PERIOD, "--db", db_url, "-o", str(out), *extra)
    assert code == 0, err
    assert "已导出" in stdout
    return out


def na_or(value):  # noqa: ANN001, ANN201
    """The service/CLI value as the workbook holds it: — for NA; a float to the 16 significant
    digits an .xlsx cell carries (openpyxl writes ``%.16g``; Excel itself computes with 15)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return NA
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not isinstance(value, bool):
        return float(f"{value:.16g}")
    return value


def yes_no(value) -> str:  # noqa: ANN001
    value = na_or(value)
    return NA if value == NA else "是" if value else "否"


# --- read-back: every figure cell equals the engine --------------------------------------------------


def test_every_exported_figure_equals_cli_and_service(engine, db_url, tmp_path, capsys) -> None:  # noqa: ANN001
    seed_scenario(engine)
    path = export(capsys, db_url, tmp_path / "考核.xlsx", "--by", "分析员甲")
    code, out, _ = run(capsys, "indicators", "--period", PERIOD, "--format", "json", "--db", db_url)
    assert code == 0
    cli_rows = {(r["unit"], r["indicator"]): r for r in json.loads(out)}
    code, out, _ = run(capsys, "score", "--period", PERIOD, "--format", "json", "--db", db_url)
    assert code == 0
    cli_scores = json.loads(out)
    service.clear_cache()
    with Session(engine) as session:
        frame = service.indicator_table(session=session, region="shanghai", period=PERIOD, window="ytd")
        scores = service.score_table(session=session, region="shanghai", period=PERIOD, window="ytd")
    wb = load_workbook(path)
    assert wb.sheetnames[:6] == ["综合排名", "指标明细", "原始数据", "口径说明", "修订记录", "任务进展"]

    # -- 综合排名: one row per unit, in the CLI's rank order
    ws = wb["综合排名"]
    rows = sheet_rows(ws)
    header = rows[COMPOSITE_HEADER_ROW - 1]
    assert header[:4] == ["排名", "单位", "单位代码", "综合得分"] and header[-1] == "说明"
    group = rows[COMPOSITE_HEADER_ROW - 2]
    body = rows[COMPOSITE_HEADER_ROW : COMPOSITE_HEADER_ROW + len(cli_scores)]
    assert rows[COMPOSITE_HEADER_ROW + len(cli_scores)][0] is None  # nothing but units in the table
    composite = scores.composite.set_index("unit")
    for i, rule in enumerate(SCHEME.rules):
        assert group[4 + 2 * i].startswith(CAT.indicators[rule.indicator].name_zh)
    for row, expected in zip(body, cli_scores, strict=True):
        unit = expected["unit"]
        assert row[2] == unit
        assert row[1] == CAT.units[unit].name_zh
        assert row[0] == na_or(expected["rank"])
        assert row[3] == na_or(expected["composite"])
        for i, rule in enumerate(SCHEME.rules):
            cell = expected["indicators"][rule.indicator]
            assert row[4 + 2 * i] == na_or(cell["score"]), (unit, rule.indicator)
            assert row[5 + 2 * i] == na_or(cell["weight"]), (unit, rule.indicator)
        note = row[-1] or ""
        if composite.loc[unit, "respread"]:
            for code in composite.loc[unit, "na_indicators"]:
                assert CAT.indicators[code].name_zh in note
            assert "已按比例分配" in note
        else:
            assert "已按比例分配" not in note
    # jingan missed February: the note says so
    jingan = next(r for r in body if r[2] == "jingan")
    assert "未报送 2023-02" in jingan[-1]

    # -- 指标明细: one row per (indicator, unit) plus each indicator's city row
    ws = wb["指标明细"]
    rows = sheet_rows(ws)
    keys = [key for key, _, _ in DETAIL_COLUMNS]
    assert rows[DETAIL_HEADER_ROW - 1] == [ws.cell(DETAIL_HEADER_ROW, i + 1).value for i in range(len(keys))]
    body = rows[DETAIL_HEADER_ROW : DETAIL_HEADER_ROW + len(frame)]
    assert rows[DETAIL_HEADER_ROW + len(frame)][0] is None
    by_key = frame.set_index(["unit", "indicator"])
    seen = set()
    for row in body:
        cells = dict(zip(keys, row, strict=False))
        key = (cells["unit"], cells["indicator"])
        seen.add(key)
        ind = CAT.indicators[cells["indicator"]]
        engine_row = by_key.loc[key]
        cli = cli_rows[key]
        assert cells["indicator_name"] == ind.name_zh
        assert cells["unit_name"] == ("全市" if key[0] == "city" else CAT.units[key[0]].name_zh)
        for column in ("numerator", "value", "coverage", "city_value", "yoy", "pop", "rank"):
            assert cells[column] == na_or(cli[column]), (key, column)
        if ind.is_ratio:
            assert cells["denominator"] == na_or(cli["denominator"]), key
        else:
            assert cells["denominator"] is None and cli["denominator"] is None
        assert cells["meets_benchmark"] == yes_no(cli["meets_benchmark"]), key
        assert cells["small_denominator"] == yes_no(cli["small_denominator"]), key
        for column in ("months_reported", "months_in_window", "benchmark", "city_mean", "city_median"):
            assert cells[column] == na_or(engine_row[column]), (key, column)
        assert cells["diff_benchmark"] == na_or(engine_row["diff_benchmark"]), key
        assert cells["incomplete"] == yes_no(engine_row["incomplete"]), key
    assert seen == set(cli_rows) == set(by_key.index)

    # spot checks written by hand: pudong reported every month; jingan 2 of 3
    assert by_key.loc[("pudong", "trainees"), "coverage"] == 1.0
    jingan_trainees = next(r for r in body if r[0] == "trainees" and r[5] == "jingan")
    assert dict(zip(keys, jingan_trainees, strict=False))["coverage"] == pytest.approx(2 / 3)
    # trainees of jingan: month_values(7)['trainees'] + month_values(8)['trainees'] = 1 + 2
    assert dict(zip(keys, jingan_trainees, strict=False))["numerator"] == 3


# --- formats and layout -------------------------------------------------------------------------------


def test_number_formats_header_rows_filters_and_marks(engine, db_url, tmp_path, capsys) -> None:  # noqa: ANN001
    seed_scenario(engine)
    wb = load_workbook(export(capsys, db_url, tmp_path / "f.xlsx"))
    ws = wb["指标明细"]
    assert ws.freeze_panes == f"G{DETAIL_HEADER_ROW + 1}"
    assert ws.auto_filter.ref.startswith(f"A{DETAIL_HEADER_ROW}:")
    assert ws.print_title_rows == f"${DETAIL_HEADER_ROW}:${DETAIL_HEADER_ROW}"
    col = {key: i + 1 for i, (key, _, _) in enumerate(DETAIL_COLUMNS)}

    def row_of(indicator: str, unit: str) -> int:
        for r in range(DETAIL_HEADER_ROW + 1, ws.max_row + 1):
            if ws.cell(r, 1).value == indicator and ws.cell(r, col["unit"]).value == unit:
                return r
        raise AssertionError((indicator, unit))

    formats = {
        ("case_completion_rate", "value"): "0.0%",
        ("case_completion_rate", "coverage"): "0.0%",
        ("case_completion_rate", "numerator"): "#,##0",
        ("case_completion_rate", "denominator"): "#,##0",
        ("avg_handling_days", "value"): "0.0",
        ("trainees", "value"): "#,##0",
        ("trainees", "benchmark"): "#,##0.0",
        ("trainees", "rank"): "0",
        ("case_completion_rate", "pop"): "+0.0%;-0.0%;0.0%",
        ("avg_handling_days", "pop"): "+0.0;-0.0;0.0",
    }
    for (indicator, column), fmt in formats.items():
        assert ws.cell(row_of(indicator, "pudong"), col[column]).number_format == fmt, (indicator, column)
    # the city row is set apart: grey and bold
    city = ws.cell(row_of("trainees", "city"), col["value"])
    assert city.fill.fgColor.rgb.endswith("E7E6E6") and city.font.b
    # a unit below the benchmark is marked: red value, 否, and a remark
    below = [
        r
        for r in range(DETAIL_HEADER_ROW + 1, ws.max_row + 1)
        if ws.cell(r, col["meets_benchmark"]).value == "否"
    ]
    assert below
    for r in below:
        assert ws.cell(r, col["value"]).font.color.rgb.endswith("C00000")
        assert "低于全市基准" in ws.cell(r, col["remarks"]).value

    ws = wb["综合排名"]
    assert ws.freeze_panes == f"E{COMPOSITE_HEADER_ROW + 1}"
    assert ws.auto_filter.ref.startswith(f"A{COMPOSITE_HEADER_ROW}:")
    assert ws.cell(COMPOSITE_HEADER_ROW + 1, 4).number_format == "0.00"
    assert ws.cell(COMPOSITE_HEADER_ROW + 1, 5).number_format == "0.00"
    assert ws.page_setup.orientation == "landscape"

    notes = {r[0]: r[1] for r in sheet_rows(wb["口径说明"]) if r and r[0]}
    assert notes["考核方案"].startswith("scheme_default（版本 ")
    assert notes["生成人"]
    assert isinstance(notes["截止时最新一次报送时间"], datetime)
    # the latest submission by then: the satisfaction ledger, 2023-04-30 12:00 Beijing
    assert notes["截止时最新一次报送时间"] == datetime(2023, 4, 30, 12, 0)
    assert notes["复现命令"].startswith(
        f"ipdash export --period {PERIOD} --window ytd --region shanghai --as-of "
    )
    rows = sheet_rows(wb["口径说明"])
    definitions = {r[0]: r for r in rows if r[0] in CAT.indicators}
    assert set(definitions) == set(CAT.indicators)  # every registered indicator is documented
    assert definitions["abnormal_withdrawal_rate"][7] == 15
    assert definitions["abnormal_withdrawal_rate"][8].startswith("全市基准法")
    assert definitions["trainees"][8] == "不计分（仅监测）"
    coverage_rows = {r[1]: r for r in rows if r[1] in CAT.units}
    assert coverage_rows["jingan"][2] == "2023-02"
    assert coverage_rows["changning"][2] == "2023-01、2023-02、2023-03"
    assert "pudong" not in coverage_rows


# --- raw data round trip ---------------------------------------------------------------------------


def test_raw_data_sheets_round_trip_through_load(engine, db_url, tmp_path, capsys) -> None:  # noqa: ANN001
    seed_scenario(engine)
    path = export(capsys, db_url, tmp_path / "raw.xlsx")
    wb = load_workbook(path)
    assert wb.sheetnames[6:] == ["2023-01", "2023-02", "2023-03", "2023"]
    index = sheet_rows(wb["原始数据"])
    assert [r[0] for r in index[4:8]] == ["2023-01", "2023-02", "2023-03", "2023"]
    assert index[5][3] == 3  # units reporting 2023-02: huangpu, xuhui, pudong

    fresh_url = f"sqlite:///{tmp_path / 'fresh.db'}"
    code, out, err = run(capsys, "load", "--json", "--db", fresh_url, str(path))
    assert code == 0, err
    result = json.loads(out)[0]
    assert result["status"] == "accepted" and result["errors"] == []
    # the workbook's own sheets (综合排名, 指标明细, 原始数据, 口径说明, 修订记录) are known, not warned about
    assert [w for w in result["warnings"] if w["reason"] == "unknown_sheet"] == []
    fresh = open_engine(fresh_url)
    try:
        with Session(engine) as a, Session(fresh) as b:
            cols = ["unit", "period", "measure", "value"]
            before = queries.current_values(session=a).sort_values(cols[:3]).reset_index(drop=True)
            after = queries.current_values(session=b).sort_values(cols[:3]).reset_index(drop=True)
    finally:
        fresh.dispose()
    pd.testing.assert_frame_equal(before, after)

    # loading it into the database it came from changes nothing
    with Session(engine) as s:
        n_revisions = len(s.exec(select(Revision)).all())
    code, out, _ = run(capsys, "load", "--json", "--db", db_url, str(path))
    assert code == 0 and json.loads(out)[0]["status"] == "unchanged"
    with Session(engine) as s:
        assert len(s.exec(select(Revision)).all()) == n_revisions


# --- --as-of ----------------------------------------------------------------------------------------


def _as_of_in(path: Path) -> str:
    notes = {r[0]: r[1] for r in sheet_rows(load_workbook(path)["口径说明"]) if r and r[0]}
    return notes["数据截止时间（as-of）"]


def test_as_of_reproduces_an_export_made_before_a_correction(engine, db_url, tmp_path, capsys) -> None:  # noqa: ANN001
    seed_scenario(engine)
    first = export(capsys, db_url, tmp_path / "first.xlsx")
    as_of = _as_of_in(first)
    assert parse_as_of(as_of) <= datetime.now(UTC)

    # a later correction of pudong's February: more trainees, a new current revision
    with Session(engine) as s:
        outcome = save(s, "pudong", "2023-02", month_values(10) | {"trainees": 500.0}, None, name="更正.xlsx")
        s.commit()
    assert outcome.new_revisions == [("pudong", "2023-02", 2)]

    again = export(capsys, db_url, tmp_path / "again.xlsx", "--as-of", as_of)
    today = export(capsys, db_url, tmp_path / "today.xlsx")
    a, b, c = (load_workbook(p) for p in (first, again, today))
    assert a.sheetnames == b.sheetnames
    for name in a.sheetnames:
        rows_a, rows_b = sheet_rows(a[name]), sheet_rows(b[name])
        if name in ("综合排名", "指标明细", "修订记录"):
            # row 2 names the generation time; 修订记录 also lists the correction made since
            rows_a, rows_b = rows_a[2:], rows_b[2:]
            if name == "修订记录":
                cut = next(
                    i for i, r in enumerate(rows_a) if r[0] and str(r[0]).startswith("数据截止时间之后")
                )
                rows_a, rows_b = rows_a[:cut], rows_b[:cut]
        if name == "口径说明":
            keep = lambda rows: [r for r in rows if r[0] not in ("生成时间", "生成人")]  # noqa: E731
            rows_a, rows_b = keep(rows_a), keep(rows_b)
        assert rows_a == rows_b, name
    assert _as_of_in(again) == as_of

    # the export reproduced at the earlier time lists the correction it did not use
    later = [r for r in sheet_rows(b["修订记录"]) if r[1] == "pudong" and r[2] == "2023-02"]
    assert [r[3] for r in later] == [1, 2] and later[1][7] == "更正.xlsx"

    # …while an export of today uses it
    def trainees(wb) -> object:  # noqa: ANN001
        keys = [k for k, _, _ in DETAIL_COLUMNS]
        for row in sheet_rows(wb["指标明细"])[DETAIL_HEADER_ROW:]:
            cells = dict(zip(keys, row, strict=False))
            if cells["indicator"] == "trainees" and cells["unit"] == "pudong":
                return cells["value"]
        raise AssertionError

    assert trainees(a) == trainees(b) == 3 + 4 + 5  # month_values(9), (10), (11): seed % 7 + 1
    assert trainees(c) == 3 + 500 + 5


@pytest.mark.parametrize(
    ("text", "expected_utc"),
    [
        ("2024-01-15T18:00:00+08:00", "2024-01-15T10:00:00+00:00"),
        ("2024-01-15T18:00:00", "2024-01-15T10:00:00+00:00"),  # naive: Beijing time
        ("2024-01-15 18:00", "2024-01-15T10:00:00+00:00"),
        ("2024-01-15T10:00:00Z", "2024-01-15T10:00:00+00:00"),
        ("2024-01-15T18:00:00.123456+08:00", "2024-01-15T10:00:00.123456+00:00"),
        ("2024-01-15", "2024-01-15T15:59:59.999999+00:00"),  # a date: the end of that day
    ],
)
def test_parse_as_of(text: str, expected_utc: str) -> None:
    assert parse_as_of(text) == datetime.fromisoformat(expected_utc)


@pytest.mark.parametrize("text", ["yesterday", "2024-13-01", "15/01/2024", ""])
def test_parse_as_of_refuses_what_is_not_a_moment(text: str) -> None:
    with pytest.raises(AsOfError, match="ISO 8601"):
        parse_as_of(text)


def test_parse_as_of_refuses_the_future() -> None:
    future = (datetime.now(UTC) + timedelta(days=2)).isoformat()
    with pytest.raises(AsOfError, match="晚于当前时间"):
        parse_as_of(future)


# --- one-unit scorecard ----------------------------------------------------------------------------


def test_unit_scorecard(engine, db_url, tmp_path, capsys) -> None:  # noqa: ANN001
    seed_scenario(engine)
    path = export(capsys, db_url, tmp_path / "jingan.xlsx", "--unit", "jingan")
    service.clear_cache()
    with Session(engine) as session:
        scores = service.score_table(session=session, region="shanghai", period=PERIOD, window="ytd")
    composite = scores.composite.set_index("unit").loc["jingan"]
    wb = load_workbook(path)
    assert wb.sheetnames[:2] == ["得分卡", "指标明细"]
    card = {r[0]: r[1] for r in sheet_rows(wb["得分卡"]) if r and r[0]}
    assert card["综合得分"] == float(f"{composite['composite']:.16g}")
    assert card["排名"] == composite["rank"]
    detail_units = {r[5] for r in sheet_rows(wb["指标明细"])[DETAIL_HEADER_ROW:] if r[0] in CAT.indicators}
    assert detail_units == {"jingan", "city"}
    # the raw sheets hold jingan's row only, and jingan's revisions only
    raw = sheet_rows(wb["2023-01"])
    assert [r[0] for r in raw[1:] if r[0] != "合计"] == ["静安区"]
    revisions = {r[1] for r in sheet_rows(wb["修订记录"])[4:] if r[1] in CAT.units}
    assert revisions == {"jingan"}


# --- texts of 口径说明 --------------------------------------------------------------------------------


def test_formula_and_method_texts() -> None:
    assert (
        formula_text(CAT.indicators["abnormal_withdrawal_rate"], CAT)
        == "Σ非正常专利申请主动撤回件数 ÷ Σ非正常专利申请通知（转办）件数"
    )
    assert formula_text(CAT.indicators["aid_workstations"], CAT) == "维权援助工作站数（月末）（期末数）"
    assert formula_text(CAT.indicators["timeliness_rate"], CAT) == "按时报送的月报数 ÷ 应报月报数"
    rules = {r.indicator: r for r in SCHEME.rules}
    assert method_text(rules["case_completion_rate"], CAT.indicators["case_completion_rate"]) == (
        "分档计分：≥90% 得 100 分；≥80% 得 90 分；≥70% 得 80 分；≥60% 得 70 分；≥0% 得 60 分；未达最低档得 0 分"
    )
    assert "不允许值 70，满意值 90" in method_text(
        rules["satisfaction_score"], CAT.indicators["satisfaction_score"]
    )
    assert "目标值 95%" in method_text(
        rules["complaint_closure_rate"], CAT.indicators["complaint_closure_rate"]
    )


# --- 任务进展 (plan tasks as of the export's --as-of) ------------------------------------------------


def test_task_sheet_as_of_the_export_time(engine, db_url, tmp_path, capsys) -> None:  # noqa: ANN001
    """003-02 (deadline 2024-12-31) reported done on 2024-12-20 in a ledger recorded at 2025-01-10
    10:00 Beijing. An export --as-of 2025-01-10T09:00 still shows it overdue (10 days: 1–10 Jan); one
    as of 10:30 shows it done (green). The scorecard of 静安 has no 003-02 (浦东's)."""
    from test_task_store import T02, write

    from etl.load import load_paths

    seed_scenario(engine)
    ledger = write(tmp_path / "t.xlsx", [[*T02, "已完成", "2024-12-20", "已印发", "2025-01-10"]])
    when = datetime(2025, 1, 10, 2, 0, tzinfo=UTC)  # 10:00 Beijing
    (result,) = list(load_paths([ledger], engine=engine, submitted_by="analyst1", received_at=when))
    assert result.status == "accepted"

    def task_rows(path: Path) -> dict[str, list]:  # noqa: ANN202
        ws = load_workbook(path)["任务进展"]
        assert [c.value for c in ws[3]][:2] == ["序号", "任务编号"]
        return {r[1]: list(r) for r in ws.iter_rows(min_row=4, values_only=True) if r[1]}

    before = task_rows(export(capsys, db_url, tmp_path / "a.xlsx", "--as-of", "2025-01-10T09:00"))
    assert (
        before["003-02"][7] == "未启动"
        and before["003-02"][11] == "红·逾期未完成"
        and before["003-02"][12] == 10
    )
    after = task_rows(export(capsys, db_url, tmp_path / "b.xlsx", "--as-of", "2025-01-10T10:30"))
    assert after["003-02"][7] == "已完成" and after["003-02"][8] == "2024-12-20"
    assert after["003-02"][11] == "绿·按期完成" and after["003-02"][12] is None
    card = task_rows(
        export(capsys, db_url, tmp_path / "c.xlsx", "--as-of", "2025-01-10T10:30", "--unit", "jingan")
    )
    assert "003-02" not in card and "004-08" in card
