"""The submission tracker: on-time, late, missing (overdue or not yet due) and revised returns,
open warnings, locks and the chase-first order — on the scenario of ``test_export_data``, stored in
SQLite and PostgreSQL and read back through ``store.tracking.revision_log``."""

from __future__ import annotations

import pandas as pd
import pytest
from sqlmodel import Session
from test_export_data import CAT, XUHUI_REVISION_AT, beijing, seed_scenario

from application.tracker import tracker_table, unit_summary
from foundation.calendar import due_limit, latest_due_month
from store.tracking import revision_log

UNITS = [u.code for u in CAT.units_of("shanghai")]
MONTHS = ["2023-01", "2023-02", "2023-03"]
REPORTING = ["huangpu", "xuhui", "jingan", "pudong"]
NEVER = [u for u in UNITS if u not in REPORTING]


@pytest.mark.parametrize(
    ("period", "limit_utc"),
    [
        ("2023-01", "2023-02-10T16:00:00+00:00"),  # 2023-02-11 00:00 Beijing
        ("2023-12", "2024-01-10T16:00:00+00:00"),  # December rolls into the next year
    ],
)
def test_due_limit_is_midnight_after_the_10th_beijing(period: str, limit_utc: str) -> None:
    assert due_limit(period) == pd.Timestamp(limit_utc)


def test_latest_due_month() -> None:
    assert latest_due_month(MONTHS, now=beijing(2023, 4, 5)) == "2023-02"
    assert latest_due_month(MONTHS, now=beijing(2023, 4, 11, 0, 0)) == "2023-03"  # the instant it is late
    assert latest_due_month(MONTHS, now=beijing(2023, 2, 10, 23, 59)) is None


def _table(engine, now, locked=()):  # noqa: ANN001, ANN202
    with Session(engine) as session:
        log = revision_log(session=session, region="shanghai", periods=MONTHS)
    return tracker_table(log, units=UNITS, months=MONTHS, now=now, locked=locked)


def _cell(table: pd.DataFrame, unit: str, period: str) -> dict:
    rows = table[(table["unit"] == unit) & (table["period"] == period)]
    assert len(rows) == 1
    return rows.iloc[0].to_dict()


def test_states_after_every_deadline(engine) -> None:  # noqa: ANN001
    seed_scenario(engine)
    table = _table(engine, beijing(2023, 5, 1))
    assert len(table) == len(UNITS) * 3
    # (unit, period) → state, overdue, revisions, open warnings — from the scenario table
    expected = {
        ("huangpu", "2023-01"): ("on_time", False, 1, 0),
        ("huangpu", "2023-02"): ("on_time", False, 1, 0),  # 23:59:59 on the 10th
        ("huangpu", "2023-03"): ("late", False, 1, 0),
        ("xuhui", "2023-01"): ("on_time", False, 1, 0),
        ("xuhui", "2023-02"): ("late", False, 1, 0),
        ("xuhui", "2023-03"): ("on_time", False, 2, 0),  # revised after the deadline: still on time
        ("jingan", "2023-01"): ("on_time", False, 1, 0),
        ("jingan", "2023-02"): ("missing", True, 0, 0),
        ("jingan", "2023-03"): ("on_time", False, 1, 2),
        ("pudong", "2023-01"): ("on_time", False, 1, 0),
        ("pudong", "2023-02"): ("on_time", False, 1, 0),
        ("pudong", "2023-03"): ("on_time", False, 1, 0),
    }
    for (unit, period), (state, overdue, revisions, warnings) in expected.items():
        cell = _cell(table, unit, period)
        assert (cell["state"], cell["overdue"], cell["revisions"], cell["open_warnings"]) == (
            state,
            overdue,
            revisions,
            warnings,
        ), (unit, period)
    for unit in NEVER:
        for period in MONTHS:
            cell = _cell(table, unit, period)
            assert (cell["state"], cell["overdue"], cell["revisions"]) == ("missing", True, 0)

    late = _cell(table, "huangpu", "2023-03")
    assert late["days_late"] == pytest.approx(8 / 24)  # 08:00 on the 11th
    assert late["first_received_at"] == pd.Timestamp("2023-04-11T00:00:00+00:00")
    assert _cell(table, "xuhui", "2023-02")["days_late"] == pytest.approx(4 + 10 / 24)

    revised = _cell(table, "xuhui", "2023-03")
    assert revised["revised"] is True
    assert revised["first_received_at"] == pd.Timestamp("2023-04-01T01:00:00+00:00")
    assert revised["last_received_at"] == pd.Timestamp(XUHUI_REVISION_AT)
    assert revised["current_file"] == "xuhui_2023-03_更正.xlsx"

    # jingan's warning and the file-level one are open; the one naming xuhui is not jingan's
    assert _cell(table, "jingan", "2023-03")["warning_messages"] == [
        "静安 2023-03 存量跳变",
        "文件中有未知行",
    ]

    # chase first: nothing for 2023-03 (the latest due month), most overdue months first
    order = list(dict.fromkeys(table["unit"]))
    assert order == NEVER + ["jingan", "huangpu", "xuhui", "pudong"]

    summary = unit_summary(table).set_index("unit")
    assert summary.loc["xuhui"].to_dict() == {
        "on_time": 2,
        "late": 1,
        "overdue": 0,
        "not_due": 0,
        "revisions": 4,
        "open_warnings": 0,
    }
    assert summary.loc["jingan", "overdue"] == 1


def test_states_as_they_stood_before_the_march_deadline(engine) -> None:  # noqa: ANN001
    seed_scenario(engine)
    table = _table(engine, beijing(2023, 4, 5), locked={"2023-02"})
    # huangpu (late later) and pudong (on 04-09) have not sent March yet: missing, not overdue
    for unit in ("huangpu", "pudong"):
        cell = _cell(table, unit, "2023-03")
        assert (cell["state"], cell["overdue"]) == ("missing", False)
    # xuhui's correction of 04-20 had not arrived: one revision
    assert _cell(table, "xuhui", "2023-03")["revisions"] == 1
    assert _cell(table, "jingan", "2023-02")["overdue"] is True
    assert table.loc[table["period"] == "2023-02", "locked"].all()
    assert not table.loc[table["period"] != "2023-02", "locked"].any()
    # the latest due month is now 2023-02: jingan lacks it, after the units lacking everything
    assert list(dict.fromkeys(table["unit"])) == NEVER + ["jingan", "huangpu", "xuhui", "pudong"]
    summary = unit_summary(table).set_index("unit")
    assert summary.loc["huangpu", "not_due"] == 1


def test_revision_log_as_of_recomputes_current(engine) -> None:  # noqa: ANN001
    seed_scenario(engine)
    with Session(engine) as session:
        now_log = revision_log(session=session, units=["xuhui"], periods=["2023-03"])
        then_log = revision_log(
            session=session, units=["xuhui"], periods=["2023-03"], as_of=beijing(2023, 4, 5)
        )
    assert now_log[["revision_no", "is_current"]].values.tolist() == [[1, False], [2, True]]
    assert then_log[["revision_no", "is_current"]].values.tolist() == [[1, True]]
    assert then_log.loc[0, "created_at"] == pd.Timestamp("2023-04-01T01:00:00+00:00")


def test_empty_store_lists_every_unit_month_missing(engine) -> None:  # noqa: ANN001
    table = _table(engine, beijing(2023, 5, 1))
    assert len(table) == len(UNITS) * 3
    assert set(table["state"]) == {"missing"} and table["overdue"].all()
    assert list(dict.fromkeys(table["unit"])) == UNITS


# --- the dashboard page 报送情况 -----------------------------------------------------------------------


def _find(component, component_id: str):  # noqa: ANN001, ANN202 - a Dash component tree
    """The component with ``component_id`` in a layout tree (depth first), or an AssertionError."""
    if getattr(component, "id", None) == component_id:
        return component
    children = getattr(component, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            try:
                return _find(child, component_id)
            except AssertionError:
                continue
    raise AssertionError(f"no component {component_id!r} in the layout")


def test_dashboard_status_page_renders_the_tracker_and_exports(engine, db_url) -> None:  # noqa: ANN001
    from io import BytesIO

    from flask_login import login_user
    from openpyxl import load_workbook
    from sqlmodel import Session

    from application.accounts import add_user
    from dashboard import ids
    from dashboard.app import create_app
    from dashboard.pages import status as page

    seed_scenario(engine)
    with Session(engine) as session:  # the page is built for a signed-in analyst (issue 9)
        analyst = add_user(session=session, username="analyst1", role="analyst", password="correct-horse-42")
        session.commit()
    app = create_app(db_url)
    with app.server.test_request_context("/status"):
        login_user(analyst)
        layout = page.layout(region="shanghai")
        picker = _find(layout, ids.ST_EXPORT_UNIT)
        # the export picker: the whole region first, then every unit of the region in catalogue order
        assert [o["value"] for o in picker.options] == ["", *UNITS]
        assert picker.options[1]["label"] == "黄浦区"
        heading, summary, grid, detail, alert_box = page._render("shanghai", "ytd", "2023-03")
        assert alert_box is None and heading.startswith("上海市 报送情况 · 2023-01 至 2023-03")
        body = grid.children[1].children
        first_row = body[0].children
        assert first_row[0].children == "长宁区"  # owes every month: first
        assert [c.children for c in first_row[1:]] == ["✗", "✗", "✗"]
        assert "table-danger" in first_row[1].className
        xuhui = next(r.children for r in body if r.children[0].children == "徐汇区")
        assert [c.children for c in xuhui[1:]] == ["✓", "迟", "✓2"]
        assert "table-warning" in xuhui[2].className

        content, name = page.export_bytes(region="shanghai", window="ytd", period="2023-03", unit="jingan")
    assert name == "静安区_绩效考核_年初至今_截至2023-03.xlsx"
    assert load_workbook(BytesIO(content)).sheetnames[0] == "得分卡"


def test_due_text_names_the_deadline_day_of_the_next_month() -> None:
    from foundation.calendar import due_text

    assert due_text("2023-06", 10) == "2023-07-10 24:00"
    assert due_text("2023-12", 10) == "2024-01-10 24:00"  # December's return is due in January
    assert due_text("2023-02", 15) == "2023-03-15 24:00"
