"""任务督办 through the running app (Flask test client, real sign-in, CSRF): a clerk's callbacks
return only its unit's tasks; a task ledger uploaded by a clerk with a row of another unit's task
is refused at its cell — also when the request claims another unit — and nothing is written."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from auth_support import csrf_headers
from sqlmodel import Session, select
from test_access import _client, _text, _upload_body, app_and_url, callback_body  # noqa: F401
from test_task_store import T02, T03, write


def test_a_clerk_sees_only_its_units_tasks(app_and_url: Any) -> None:  # noqa: F811
    app, _ = app_and_url
    key = next(k for k in app.callback_map if k.startswith("..tk-counts"))
    texts = {}
    for name in ("analyst1", "clerk_jingan", "clerk_pudong"):
        client = _client(app, name)
        response = client.post(
            "/_dash-update-component", json=callback_body(app, key), headers=csrf_headers(client)
        )
        assert response.status_code == 200
        texts[name] = _text(response)
    # 004-08 is 静安's mid-term check; 003-02 names 浦东新区政府 among its owners.
    assert "004-08" in texts["analyst1"] and "003-02" in texts["analyst1"]
    assert "004-08" in texts["clerk_jingan"] and "003-02" not in texts["clerk_jingan"]
    assert "003-02" in texts["clerk_pudong"] and "004-08" not in texts["clerk_pudong"]
    # The page draws its first view with its layout (Dash's router): the same scope.
    router = next(k for k in app.callback_map if "_pages_content.children" in k)
    for name in ("analyst1", "clerk_jingan", "clerk_pudong"):
        client = _client(app, name)
        response = client.post(
            "/_dash-update-component",
            json=callback_body(app, router, {"_pages_location.pathname": "/tasks"}),
            headers=csrf_headers(client),
        )
        assert response.status_code == 200
        texts[name] = _text(response)
    assert "004-08" in texts["analyst1"] and "003-02" in texts["analyst1"]
    assert "004-08" in texts["clerk_jingan"] and "003-02" not in texts["clerk_jingan"]
    assert "003-02" in texts["clerk_pudong"] and "004-08" not in texts["clerk_pudong"]


def test_forged_ledger_row_of_another_unit_refused_nothing_written(app_and_url: Any, tmp_path: Path) -> None:  # noqa: F811
    from store.db import make_engine
    from store.models import Submission, TaskVersion

    app, url = app_and_url
    ledger = write(
        tmp_path / "jingan_tasks.xlsx",
        [
            [*T03, "推进中", None, "静安已部署", "2025-05-01"],
            [*T02, "已完成", "2024-12-20", "代报", "2025-05-01"],
        ],
    )
    pending = [{"name": ledger.name, "content": base64.b64encode(ledger.read_bytes()).decode(), "ok": True}]
    client = _client(app, "clerk_jingan")
    for forged in ("pudong", None):  # the client claims to upload as 浦东, or as nobody
        response = client.post(
            "/_dash-update-component", json=_upload_body(app, pending, forged), headers=csrf_headers(client)
        )
        text = _text(response)
        assert response.status_code == 200 and "已拒收" in text
        assert "工作表「任务台账」单元格 A4" in text and "003-02" in text and "不能由静安区报送" in text
    engine = make_engine(url)
    with Session(engine) as session:
        assert session.exec(select(TaskVersion)).all() == []
        assert [s for s in session.exec(select(Submission)).all() if s.layout == "C"] == []
    engine.dispose()
    # The same file without the foreign row goes in, as 静安's.
    own = write(tmp_path / "jingan_own.xlsx", [[*T03, "推进中", None, "静安已部署", "2025-05-01"]])
    pending = [{"name": own.name, "content": base64.b64encode(own.read_bytes()).decode(), "ok": True}]
    response = client.post(
        "/_dash-update-component", json=_upload_body(app, pending, None), headers=csrf_headers(client)
    )
    assert "已接收" in _text(response) and "任务 003-03 第1版" in _text(response)
