"""管理 (analysts): targets from the grid or an Excel sheet — every problem named with its place and
nothing written while any remains — and locking with a reason after the returns not yet approved
are listed; lock history kept. Through the running app, on both databases."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

from auth_support import csrf_headers, make_accounts, sign_in
from factories import make_return
from openpyxl import Workbook
from sqlmodel import Session


def _app(url: str) -> Any:
    from dashboard.app import create_app

    make_accounts(url)
    app = create_app(url)
    app.server.test_client().get("/login")
    return app


def _key(app: Any, prefix: str) -> str:
    return next(k for k in app.callback_map if k.lstrip(".").startswith(prefix))


def _post(app: Any, client: Any, prefix: str, values: dict[str, Any], trigger: str) -> Any:
    from test_access import callback_body

    body = callback_body(app, _key(app, prefix), values)
    body["changedPropIds"] = [trigger]
    return client.post("/_dash-update-component", json=body, headers=csrf_headers(client))


def _text(response: Any) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


def _targets(url: str) -> list[tuple[str, int, str, float]]:
    from store.db import make_engine
    from store.queries import unit_targets

    engine = make_engine(url)
    with Session(engine) as session:
        frame = unit_targets(session=session)
    engine.dispose()
    return sorted((r.unit, int(r.year), r.indicator, float(r.target)) for r in frame.itertuples())


def _audit(url: str, kind: str) -> list[tuple[str, str, dict[str, Any]]]:
    """(user, outcome, detail) of the audit rows of ``kind``, oldest first."""
    from application import audit
    from store.db import make_engine

    engine = make_engine(url)
    with Session(engine) as session:
        rows = [(e.username, e.outcome, e.detail) for e in audit.events(session=session, kind=kind)]
    engine.dispose()
    return rows[::-1]


def _sheet(path: Path, rows: list[list[Any]]) -> str:
    wb = Workbook()
    ws = wb.active
    ws.title = "目标"
    ws.append(["单位代码", "年度", "指标代码", "目标值"])
    for row in rows:
        ws.append(row)
    wb.save(path)
    return "data:application/octet-stream;base64," + base64.b64encode(path.read_bytes()).decode()


def test_targets_from_an_excel_sheet(db_url: str, tmp_path: Path) -> None:
    app = _app(db_url)
    analyst = app.server.test_client()
    sign_in(analyst, "analyst1")
    base = {"mg-year.value": 2024, "filter-region.value": "shanghai", "mg-target-upload.filename": "t.xlsx"}
    bad = _sheet(
        tmp_path / "bad.xlsx",
        [
            ["jingan", 2024, "aid_workstations", 6],
            ["atlantis", 2024, "aid_workstations", 3],  # row 3: unknown unit
            ["xuhui", "明年", "aid_workstations", "五"],  # row 4: year and target
            ["pudong", 2024, "case_completion_rate", 1.5],  # row 5: a rate above 1
        ],
    )
    response = _post(
        app,
        analyst,
        "mg-target-result",
        {**base, "mg-target-upload.contents": bad},
        "mg-target-upload.contents",
    )
    text = _text(response)
    assert "发现 4 处问题，未写入任何目标值" in text
    for cell in ("目标!A3", "目标!B4", "目标!D4", "目标!D5"):
        assert cell in text, cell
    assert _targets(db_url) == []  # nothing written
    good = _sheet(
        tmp_path / "good.xlsx",
        [["jingan", 2024, "aid_workstations", 6], ["xuhui", 2024, "aid_workstations", 4.5]],
    )
    response = _post(
        app,
        analyst,
        "mg-target-result",
        {**base, "mg-target-upload.contents": good},
        "mg-target-upload.contents",
    )
    assert "已保存 2 条目标值" in _text(response)
    assert _targets(db_url) == [
        ("jingan", 2024, "aid_workstations", 6.0),
        ("xuhui", 2024, "aid_workstations", 4.5),
    ]


def test_targets_from_the_grid(db_url: str) -> None:
    app = _app(db_url)
    analyst = app.server.test_client()
    sign_in(analyst, "analyst1")
    grid = _post(
        app,
        analyst,
        "mg-target-grid",
        {"mg-year.value": 2024, "filter-region.value": "shanghai"},
        "mg-year.value",
    )
    rows = grid.get_json()["response"]["mg-target-grid"]["rowData"]
    assert len(rows) == 17 and {r["indicator"] for r in rows} == {"aid_workstations"}  # one row per district
    rows[0]["target"] = "-2"
    rows[1]["target"] = 7
    values = {"mg-target-grid.rowData": rows, "mg-year.value": 2024, "filter-region.value": "shanghai"}
    refused = _post(app, analyst, "mg-target-result", values, "mg-target-save.n_clicks")
    assert "表格第1行 目标值" in _text(refused) and "不能为负数" in _text(refused)
    assert _targets(db_url) == []
    rows[0]["target"] = 5
    saved = _post(app, analyst, "mg-target-result", values, "mg-target-save.n_clicks")
    assert "已保存 2 条目标值" in _text(saved)
    assert _targets(db_url) == sorted(
        [(rows[0]["unit"], 2024, "aid_workstations", 5.0), (rows[1]["unit"], 2024, "aid_workstations", 7.0)]
    )
    # the save is audited (the refused attempt wrote nothing, the save one row, by the analyst)
    (saved_row,) = _audit(db_url, "targets")
    assert saved_row[0] == "analyst1" and saved_row[1] == "ok"


def test_lock_lists_unapproved_returns_then_locks_with_history(db_url: str, tmp_path: Path) -> None:
    from application.submissions import load_upload

    app = _app(db_url)
    path = make_return(tmp_path / "jingan_2023-06.xlsx")
    assert (
        load_upload(
            path.read_bytes(),
            url=db_url,
            file_name=path.name,
            submitted_by="x",
            as_unit=None,
            region="shanghai",
        ).status
        == "accepted"
    )
    analyst = app.server.test_client()
    sign_in(analyst, "analyst1")
    values = {"mg-period.value": "2023-06", "mg-reason.value": "年度考核", "filter-region.value": "shanghai"}
    first = _post(app, analyst, "mg-lock-result", values, "mg-lock.n_clicks")
    assert "1 份报表尚未通过审核" in _text(first) and "静安区 第1版：待审核" in _text(first)
    assert first.get_json()["response"].get("mg-lock-done") is None  # not locked yet
    no_reason = _post(
        app, analyst, "mg-lock-result", {**values, "mg-reason.value": ""}, "mg-lock-confirm.n_clicks"
    )
    assert "必须填写原因" in _text(no_reason)
    locked = _post(app, analyst, "mg-lock-result", values, "mg-lock-confirm.n_clicks")
    assert "已锁定 2023-06" in _text(locked)
    unlocked = _post(
        app, analyst, "mg-lock-result", {**values, "mg-reason.value": "静安更正"}, "mg-unlock.n_clicks"
    )
    assert "已解锁 2023-06" in _text(unlocked)
    history = _post(app, analyst, "mg-history", {"filter-region.value": "shanghai"}, "mg-lock-done.data")
    text = _text(history)
    assert text.index("静安更正") < text.index("年度考核")  # newest first, both kept
    # both acts are in the audit log with who and why
    assert [(u, d.get("period"), d.get("reason")) for u, _, d in _audit(db_url, "lock")] == [
        ("analyst1", "2023-06", "年度考核")
    ]
    assert [(u, d.get("period"), d.get("reason")) for u, _, d in _audit(db_url, "unlock")] == [
        ("analyst1", "2023-06", "静安更正")
    ]
    # A leader may not lock, even by forging the request.
    leader = app.server.test_client()
    sign_in(leader, "leader1")
    assert _post(app, leader, "mg-lock-result", values, "mg-lock-confirm.n_clicks").status_code == 403
