"""Scoring schemes in 管理 (issue 9): an upload with problems names every one and keeps nothing;
a good one is kept as a version (SHA-256, 12 hex digits); choosing it as the default changes the
composite every face and the export use, and choosing the shipped scheme again restores the
figures exactly. Versions and choices are only ever added."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from auth_support import csrf_headers, make_accounts, sign_in
from sqlmodel import Session

from foundation.catalogue import default_scheme_path

# Two weights moved between indicators (15/15 → 25/5): still 100 in all.
GOOD = (
    default_scheme_path()
    .read_text(encoding="utf-8")
    .replace("abnormal_withdrawal_rate,15,", "abnormal_withdrawal_rate,25,")
    .replace("case_completion_rate,15,", "case_completion_rate,5,")
)
BAD = "indicator,weight,method,target,floor,ceiling,bands\nno_such_rate,50,benchmark,,,,\ncase_completion_rate,-1,magic,,,,\n"


def _post(app: Any, client: Any, prefix: str, values: dict[str, Any], trigger: str) -> Any:
    from test_access import callback_body

    key = next(k for k in app.callback_map if k.lstrip(".").startswith(prefix))
    body = callback_body(app, key, values)
    body["changedPropIds"] = [trigger]
    return client.post("/_dash-update-component", json=body, headers=csrf_headers(client))


def _csv(text: str) -> str:
    return "data:text/csv;base64," + base64.b64encode(text.encode("utf-8")).decode()


def _text(response: Any) -> str:
    return json.dumps(response.get_json(), ensure_ascii=False)


def test_schemes_are_checked_versioned_and_chosen(db_url: str, tmp_path: Path) -> None:
    from factories import make_return

    from application import service
    from application.submissions import load_upload
    from dashboard.app import create_app
    from store.db import make_engine

    make_accounts(db_url)
    for unit, name in (("jingan", "静安区"), ("xuhui", "徐汇区")):
        path = make_return(tmp_path / f"{unit}.xlsx", unit=name, period="2023-06")
        assert (
            load_upload(
                path.read_bytes(),
                url=db_url,
                file_name=path.name,
                submitted_by="t",
                as_unit=None,
                region="shanghai",
            ).status
            == "accepted"
        )
    engine = make_engine(db_url)

    def composite() -> dict[str, float]:
        service.clear_cache()
        with Session(engine) as session:
            result = service.score_table(session=session, region="shanghai", period="2023-06", window="month")
        return dict(zip(result.composite["unit"], result.composite["composite"], strict=True))

    shipped = composite()
    app = create_app(db_url)
    app.server.test_client().get("/login")
    analyst = app.server.test_client()
    sign_in(analyst, "analyst1")

    bad = _post(
        app,
        analyst,
        "mg-scheme-result",
        {"mg-scheme-upload.contents": _csv(BAD), "mg-scheme-upload.filename": "坏方案.csv"},
        "mg-scheme-upload.contents",
    )
    text = _text(bad)
    assert "坏方案.csv 有" in text and "no_such_rate" in text and "magic" in text and "-1" in text
    listed = _post(app, analyst, "mg-scheme-list", {}, "mg-scheme-done.data").get_json()["response"]
    assert [o["value"] for o in listed["mg-scheme-pick"]["options"]] == ["shipped"]  # nothing kept

    version = hashlib.sha256(GOOD.encode("utf-8")).hexdigest()[:12]
    good = _post(
        app,
        analyst,
        "mg-scheme-result",
        {"mg-scheme-upload.contents": _csv(GOOD), "mg-scheme-upload.filename": "2024方案.csv"},
        "mg-scheme-upload.contents",
    )
    assert f"版本 {version}" in _text(good)
    listed = _post(app, analyst, "mg-scheme-list", {}, "mg-scheme-done.data").get_json()["response"]
    assert [o["value"] for o in listed["mg-scheme-pick"]["options"]] == ["shipped", version]
    assert listed["mg-scheme-pick"]["value"] == "shipped"
    assert composite() == shipped  # uploading alone changes nothing

    chosen = _post(
        app, analyst, "mg-scheme-result", {"mg-scheme-pick.value": version}, "mg-scheme-choose.n_clicks"
    )
    assert f"版本 {version}" in _text(chosen)
    moved = composite()
    assert moved != shipped and set(moved) == set(shipped)
    with Session(engine) as session:
        from application.assessment import collect_assessment

        assert (
            collect_assessment(
                session=session, region="shanghai", period="2023-06", window="month"
            ).scheme.version
            == version
        )
    _post(app, analyst, "mg-scheme-result", {"mg-scheme-pick.value": "shipped"}, "mg-scheme-choose.n_clicks")
    assert composite() == shipped  # the shipped scheme again: the same figures exactly
    with Session(engine) as session:
        from application import audit

        actions = [e.detail["action"] for e in audit.events(session=session, kind="scheme")]
    assert actions == ["choose_default", "choose_default", "upload"]
    engine.dispose()
    leader = app.server.test_client()
    sign_in(leader, "leader1")
    assert (
        _post(
            app, leader, "mg-scheme-result", {"mg-scheme-pick.value": version}, "mg-scheme-choose.n_clicks"
        ).status_code
        == 403
    )
