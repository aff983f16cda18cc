"""Who may do what, checked against the running app (Flask test client, real sign-in form, real
CSRF tokens, a real SQLite or PostgreSQL store).

The access matrix is generated from what the app registers — every Flask route, every page in
Dash's registry and every server-side callback in ``callback_map`` — and compared with the
issue's table written out by hand below (``EXPECTED_*``). A page or callback added without an
expectation here fails ``test_every_page_and_callback_has_an_expectation``; one added without a
rule is refused for everyone and fails the matrix.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from auth_support import PASSWORD, csrf_headers, make_accounts, sign_in
from factories import make_return
from sqlmodel import Session, select

ALL = {"admin1", "analyst1", "leader1", "clerk_jingan"}
UPLOADERS = {"analyst1", "clerk_jingan"}
NOT_CLERK = {"admin1", "analyst1", "leader1"}
ROLES = ["admin1", "analyst1", "leader1", "clerk_jingan"]

# The table, by hand. Pages by path (a clerk of 静安 asks for 静安 and for 浦东).
EXPECTED_PAGES: dict[str, set[str]] = {
    "/": ALL,  # 总览
    "/rankings": ALL,
    "/comparison": ALL,
    "/trends": ALL,
    "/unit/jingan": ALL,  # 区详情 of the clerk's own unit
    "/unit/pudong": NOT_CLERK,  # 区详情 of another unit
    "/upload": UPLOADERS,
    "/status": ALL,  # a clerk sees their own row only (tested below)
    "/tasks": ALL,  # 任务督办: a clerk sees its unit's tasks only (tests/test_task_page.py)
    "/manage": {"analyst1"},  # 管理: locks, targets
    "/audit": {"admin1"},  # 审计日志
}
# Callbacks by the first component id of their output, with the values that matter.
EXPECTED_CALLBACKS: dict[str, list[tuple[dict[str, Any], set[str]]]] = {
    "filter-region": [({}, ALL)],
    "url-write": [({}, ALL)],
    "ov-heading": [({}, ALL)],
    "rk-graph": [({}, ALL)],
    "rk-briefing-download": [({}, ALL)],  # the 通报 goes to every district (issue 12)
    "cmp-heatmap": [({}, ALL)],
    "tr-monthly": [({}, ALL)],
    "_pages_location": [({}, ALL)],  # 区详情's unit picker: navigates; the page itself is checked
    "unit-heading": [({"unit-code.data": "jingan"}, ALL), ({"unit-code.data": "pudong"}, NOT_CLERK)],
    "st-heading": [({}, ALL)],
    "st-export-download": [
        ({"st-export-unit.value": ""}, NOT_CLERK),  # the whole region
        ({"st-export-unit.value": "pudong"}, NOT_CLERK),
        ({"st-export-unit.value": "jingan"}, ALL),  # the clerk's own scorecard
    ],
    "up-template-download": [
        ({"up-template-unit.value": "jingan"}, UPLOADERS),
        ({"up-template-unit.value": "pudong"}, {"analyst1"}),
    ],
    "up-pending": [({}, UPLOADERS)],
    "data-changed": [({}, UPLOADERS)],  # an upload's result makes the shell offer the months again
    "up-annotated-download": [({}, UPLOADERS)],
    "au-table": [({}, {"admin1"})],  # 审计日志
    # The review loop: the analysts' queue and decisions; a unit's own return; a district's notes.
    "rv-queue": [({}, {"analyst1"})],
    "rv-detail": [({}, {"analyst1"})],
    "rv-result": [({}, {"analyst1"})],
    "unit-review": [({"unit-code.data": "jingan"}, ALL), ({"unit-code.data": "pudong"}, NOT_CLERK)],
    "ux-result": [({"unit-code.data": "jingan"}, {"clerk_jingan"}), ({"unit-code.data": "pudong"}, set())],
    # 管理 (analysts): lock history, lock/unlock, the targets grid and its save / upload.
    "mg-history": [({}, {"analyst1"})],
    "mg-lock-result": [({}, {"analyst1"})],
    "mg-target-grid": [({}, {"analyst1"})],
    "mg-target-result": [({}, {"analyst1"})],
    "mg-scheme-list": [({}, {"analyst1"})],
    "mg-scheme-result": [({}, {"analyst1"})],
    # 任务督办 (issue 11): 004-08 is 静安's task, 003-02 浦东's (and others'); evidence id 999 does not exist.
    "tk-counts": [({}, ALL)],
    "tk-detail": [({"tk-task.value": "004-08"}, ALL), ({"tk-task.value": "003-02"}, NOT_CLERK)],
    "tk-ev-download": [({}, ALL), ({"tk-ev-pick.value": 999}, set())],
    "tk-report-result": [
        ({"tk-task.value": "004-08"}, {"analyst1", "clerk_jingan"}),
        ({"tk-task.value": "003-02"}, {"analyst1"}),
    ],
    "tk-admin-result": [({}, {"analyst1"})],
    "tk-new-title": [({"tk-task.value": "004-08"}, {"analyst1"})],  # the analysts' form, filled from a task
}
PUBLIC_ROUTES = {"/login", "/vendor/bootstrap.min.css", "/_favicon.ico"}


@pytest.fixture
def app_and_url(db_url: str):  # noqa: ANN201
    from dashboard.app import create_app

    make_accounts(db_url)
    app = create_app(db_url)
    app.server.test_client().get("/login")  # Dash registers its page router at the first request
    return app, db_url


def _client(app: Any, username: str | None) -> Any:
    client = app.server.test_client()
    if username:
        assert sign_in(client, username).status_code == 303
    return client


def _output_key_prefix(key: str) -> str:
    first = key.strip(".").split(".", 1)[0]
    return first


def _server_callbacks(app: Any) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in app.callback_map.items() if "callback" in v}


def callback_body(app: Any, key: str, values: dict[str, Any] | None = None) -> dict[str, Any]:
    """A request as Dash's renderer builds it for callback ``key`` (nothing triggered)."""
    spec = app.callback_map[key]
    values = values or {}

    def item(dep: dict[str, Any]) -> Any:
        dep_id = dep["id"]
        if dep_id.startswith("{"):
            return []  # a pattern-matching group with no member on the page
        return {"id": dep_id, "property": dep["property"], "value": values.get(f"{dep_id}.{dep['property']}")}

    outputs = spec["output"] if isinstance(spec["output"], list) else [spec["output"]]
    out_list = [
        [] if isinstance(o.component_id, dict) else {"id": o.component_id, "property": o.component_property}
        for o in outputs
    ]
    return {
        "output": key,
        "outputs": out_list if isinstance(spec["output"], list) else out_list[0],
        "inputs": [item(d) for d in spec["inputs"]],
        "state": [item(d) for d in spec["state"]],
        "changedPropIds": [],
    }


def _router_key(app: Any) -> str:
    return next(k for k in app.callback_map if "_pages_content.children" in k)


def test_every_page_and_callback_has_an_expectation(app_and_url) -> None:  # noqa: ANN001
    import dash

    app, _ = app_and_url
    for page in dash.page_registry.values():
        path = page.get("path_template") or page["path"]
        examples = [
            p
            for p in EXPECTED_PAGES
            if p == path or (("<code>" in path) and p.startswith(path.split("<")[0]))
        ]
        assert examples, f"page {page['module']} ({path}) has no expected access in this test"
        assert page.get("permission"), f"page {page['module']} declares no permission"
    for key in _server_callbacks(app):
        if key == _router_key(app):
            continue
        assert _output_key_prefix(key) in EXPECTED_CALLBACKS, f"callback {key} has no expected access"


def test_access_matrix(app_and_url) -> None:  # noqa: ANN001
    app, _ = app_and_url
    router = _router_key(app)
    callbacks = {k: v for k, v in _server_callbacks(app).items() if k != router}

    anonymous = _client(app, None)
    for path in EXPECTED_PAGES:
        response = anonymous.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"], path
    for key in [*callbacks, router]:
        assert anonymous.post("/_dash-update-component", json=callback_body(app, key)).status_code == 401, key
    # Every Flask route but the public ones refuses an anonymous client.
    for rule in app.server.url_map.iter_rules():
        path = rule.rule.replace("<path:path>", "x").replace("<path:filename>", "x.js")
        path = path.replace("<string:package_name>", "dash").replace("<path:fingerprinted_path>", "x.js")
        if "<" in path or path in PUBLIC_ROUTES or path.startswith("/static"):
            continue
        method = "POST" if "POST" in rule.methods and "GET" not in rule.methods else "GET"
        response = anonymous.open(path, method=method)
        assert response.status_code in (302, 401), (path, response.status_code)

    for username in ROLES:
        client = _client(app, username)
        headers = csrf_headers(client)
        for path, allowed in EXPECTED_PAGES.items():
            page = client.get(path)
            routed = client.post(
                "/_dash-update-component",
                json=callback_body(app, router, {"_pages_location.pathname": path}),
                headers=headers,
            )
            if username in allowed:
                assert page.status_code == 200 and routed.status_code == 200, (username, path)
            else:
                assert page.status_code == 403 and routed.status_code == 403, (username, path)
        for key in callbacks:
            for values, allowed in EXPECTED_CALLBACKS[_output_key_prefix(key)]:
                response = client.post(
                    "/_dash-update-component", json=callback_body(app, key, values), headers=headers
                )
                if username in allowed:
                    assert response.status_code in (200, 204), (username, key, values, response.status_code)
                else:
                    assert response.status_code == 403, (username, key, values, response.status_code)


def test_navigation_shows_each_role_only_what_it_may_use(app_and_url) -> None:  # noqa: ANN001
    app, _ = app_and_url
    expected = {
        "admin1": ["总览", "排名", "对比", "趋势", "区详情", "报送情况", "任务督办", "审计日志"],
        "analyst1": ["总览", "排名", "对比", "趋势", "区详情", "上传", "报送情况", "任务督办", "管理"],
        "leader1": ["总览", "排名", "对比", "趋势", "区详情", "报送情况", "任务督办"],
        "clerk_jingan": ["总览", "排名", "对比", "趋势", "区详情", "上传", "报送情况", "任务督办"],
    }
    for username, names in expected.items():
        layout = json.loads(_client(app, username).get("/_dash-layout").get_data(as_text=True))
        links = _find(
            layout,
            lambda c: (
                isinstance(c.get("props", {}).get("id"), dict) and c["props"]["id"].get("type") == "nav-link"
            ),
        )
        assert [link["props"]["children"] for link in links][: len(names) + 1] == names, username
        if username == "clerk_jingan":
            unit_link = next(link for link in links if link["props"]["children"] == "区详情")
            assert unit_link["props"]["href"] == "/unit/jingan"


def _find(node: Any, match: Any) -> list[dict[str, Any]]:
    found = []
    if isinstance(node, dict):
        if "props" in node and match(node):
            found.append(node)
        for value in node.values():
            found += _find(value, match)
    elif isinstance(node, list):
        for value in node:
            found += _find(value, match)
    return found


# --- web hygiene ---------------------------------------------------------------------------------


def test_csrf_and_origin_are_checked_on_every_post(app_and_url) -> None:  # noqa: ANN001
    app, _ = app_and_url
    client = _client(app, "analyst1")
    key = next(k for k in app.callback_map if k.startswith("..ov-heading"))
    body = callback_body(app, key)
    good = csrf_headers(client)
    assert client.post("/_dash-update-component", json=body, headers=good).status_code == 204
    no_token = {"Origin": "http://localhost"}
    assert client.post("/_dash-update-component", json=body, headers=no_token).status_code == 403
    forged = {"X-CSRFToken": "forged", "Origin": "http://localhost"}
    assert client.post("/_dash-update-component", json=body, headers=forged).status_code == 403
    other_site = {**good, "Origin": "http://intruder.example"}
    assert client.post("/_dash-update-component", json=body, headers=other_site).status_code == 403
    other_referer = {"X-CSRFToken": good["X-CSRFToken"], "Referer": "http://intruder.example/x"}
    assert client.post("/_dash-update-component", json=body, headers=other_referer).status_code == 403
    # The sign-in form itself needs its token.
    fresh = app.server.test_client()
    fresh.get("/login")
    response = fresh.post("/login", data={"username": "analyst1", "password": PASSWORD}, headers=no_token)
    assert response.status_code == 403
    # Sign-out is a POST with the token too.
    assert client.post("/logout", headers=no_token).status_code == 403
    assert client.get("/rankings").status_code == 200


def test_security_headers_on_every_response(app_and_url) -> None:  # noqa: ANN001
    app, _ = app_and_url
    client = _client(app, "leader1")
    for path in ["/login", "/", "/rankings", "/_dash-layout", "/vendor/bootstrap.min.css"]:
        response = client.get(path)
        headers = response.headers
        csp = headers["Content-Security-Policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp, path
        assert "'unsafe-inline'" not in csp.split("script-src", 1)[1].split(";", 1)[0], path
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Referrer-Policy"] == "same-origin"
    cookie = client.get_cookie("ipdash_session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax" and not cookie.secure


def test_request_size_limit(app_and_url) -> None:  # noqa: ANN001
    from foundation.settings import get_settings

    app, _ = app_and_url
    client = _client(app, "analyst1")
    limit = get_settings().max_request_bytes()
    # 3 files of 10 MiB in base64: ceil(10,485,760 × 4/3) = 13,981,014 each, × 3 = 41,943,042,
    # plus 1 MiB (1,048,576) for the rest of the request.
    assert limit == 42_991_618
    assert app.server.config["MAX_CONTENT_LENGTH"] == limit
    headers = {**csrf_headers(client), "Content-Type": "application/json"}
    response = client.post("/_dash-update-component", data=b" " * (limit + 1), headers=headers)
    assert response.status_code == 413


# --- sign-in ------------------------------------------------------------------------------------


def test_wrong_user_or_password_get_the_same_message(app_and_url) -> None:  # noqa: ANN001
    app, _ = app_and_url
    wrong_password = sign_in(app.server.test_client(), "analyst1", "not-the-password")
    no_such_user = sign_in(app.server.test_client(), "nobody", PASSWORD)
    assert wrong_password.status_code == no_such_user.status_code == 401
    message = "用户名或密码错误"
    assert message in wrong_password.get_data(as_text=True)
    assert message in no_such_user.get_data(as_text=True)


def test_lock_out_after_five_failures_refuses_the_right_password(app_and_url) -> None:  # noqa: ANN001
    from application import audit
    from store.db import make_engine

    app, url = app_and_url
    for _ in range(5):
        assert sign_in(app.server.test_client(), "leader1", "wrong-password-1").status_code == 401
    locked = sign_in(app.server.test_client(), "leader1")  # the right password
    assert locked.status_code == 429 and "登录失败次数过多" in locked.get_data(as_text=True)
    # The same address is locked for another name too.
    assert sign_in(app.server.test_client(), "analyst1").status_code == 429
    engine = make_engine(url)
    with Session(engine) as session:
        kinds = [e.kind for e in audit.events(session=session)]
    engine.dispose()
    assert kinds.count("login_failed") == 5 and kinds.count("login_locked") == 2 and "login" not in kinds


def test_failures_older_than_the_window_do_not_lock(app_and_url) -> None:  # noqa: ANN001
    from application import audit
    from store.db import make_engine
    from store.models import utcnow

    app, url = app_and_url
    engine = make_engine(url)
    with Session(engine) as session:
        for _ in range(5):
            audit.record(
                "login_failed",
                session=session,
                username="leader1",
                address="127.0.0.1",
                outcome="refused",
                at=utcnow() - timedelta(minutes=16),
            )
        session.commit()
    engine.dispose()
    assert sign_in(app.server.test_client(), "leader1").status_code == 303


def test_idle_session_ends(app_and_url) -> None:  # noqa: ANN001
    import time

    app, _ = app_and_url
    client = _client(app, "leader1")
    assert client.get("/rankings").status_code == 200
    with client.session_transaction() as session:
        session["seen"] = int(time.time()) - 31 * 60  # default idle timeout: 30 minutes
    response = client.get("/rankings")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.post("/_dash-update-component", json={}).status_code == 401


def test_changed_password_or_disabled_account_ends_sessions(app_and_url) -> None:  # noqa: ANN001
    from application.accounts import set_active
    from store.db import make_engine

    app, url = app_and_url
    client = _client(app, "leader1")
    assert client.get("/rankings").status_code == 200
    engine = make_engine(url)
    with Session(engine) as session:
        set_active(session=session, username="leader1", active=False, actor="test")
        session.commit()
    engine.dispose()
    assert client.get("/rankings").status_code == 302
    assert sign_in(app.server.test_client(), "leader1").status_code == 401


def test_single_sign_on_only_from_the_configured_proxy(app_and_url) -> None:  # noqa: ANN001
    from dashboard.app import create_app
    from foundation.settings import Settings

    app, url = app_and_url
    asked = {"headers": {"X-Remote-User": "analyst1"}}
    from_proxy = {"REMOTE_ADDR": "10.0.0.5"}
    # Off by default: the header is ignored, from anywhere.
    client = app.server.test_client()
    assert client.get("/rankings", **asked).status_code == 302
    assert client.get("/rankings", environ_base=from_proxy, **asked).status_code == 302
    # A header name without proxy addresses is still off.
    half = create_app(
        url, settings=Settings(database_url=url, sso_header="X-Remote-User")
    ).server.test_client()
    assert half.get("/rankings", environ_base=from_proxy, **asked).status_code == 302
    sso = create_app(
        url, settings=Settings(database_url=url, sso_header="X-Remote-User", sso_proxies="10.0.0.5")
    ).server.test_client()
    assert sso.get("/rankings", **asked).status_code == 302  # not from the proxy
    assert sso.get("/rankings", environ_base=from_proxy, **asked).status_code == 200
    ghost = {"headers": {"X-Remote-User": "ghost"}}
    assert sso.get("/rankings", environ_base=from_proxy, **ghost).status_code == 302  # must exist


# --- uploads -------------------------------------------------------------------------------------


def _text(response: Any) -> str:
    """A callback response as text, Chinese unescaped."""
    return json.dumps(response.get_json(), ensure_ascii=False)


def _upload_body(app: Any, pending: list[dict[str, Any]], as_unit: str | None) -> dict[str, Any]:
    key = next(k for k in app.callback_map if k.startswith("..up-pending"))
    body = callback_body(
        app,
        key,
        {
            "up-pending.data": pending,
            "up-as-unit.value": as_unit,
            "filter-region.value": "shanghai",
            "up-confirm.n_clicks": 1,
        },
    )
    body["changedPropIds"] = ["up-confirm.n_clicks"]
    return body


def test_forged_upload_for_another_unit_is_refused_and_nothing_written(app_and_url, tmp_path: Path) -> None:  # noqa: ANN001
    from store.db import make_engine
    from store.models import Revision

    app, url = app_and_url
    pudong = make_return(tmp_path / "pudong_2023-06.xlsx", unit="浦东新区", period="2023-06")
    pending = [{"name": pudong.name, "content": base64.b64encode(pudong.read_bytes()).decode(), "ok": True}]
    client = _client(app, "clerk_jingan")
    # The client claims to upload "as 浦东" (or as nobody): the server uses the clerk's own unit.
    for forged in ("pudong", None):
        response = client.post(
            "/_dash-update-component", json=_upload_body(app, pending, forged), headers=csrf_headers(client)
        )
        text = _text(response)
        assert response.status_code == 200 and "已拒收" in text and "浦东新区" in text and "静安区" in text
    engine = make_engine(url)
    with Session(engine) as session:
        assert session.exec(select(Revision)).all() == []
    engine.dispose()
    # Anonymous: refused before anything runs.
    anonymous = app.server.test_client()
    assert anonymous.post("/_dash-update-component", json=_upload_body(app, pending, None)).status_code == 401


def test_upload_records_the_signed_in_account(app_and_url, tmp_path: Path) -> None:  # noqa: ANN001
    from store.db import make_engine
    from store.models import Submission

    app, url = app_and_url
    jingan = make_return(tmp_path / "jingan_2023-06.xlsx", unit="静安区", period="2023-06")
    pending = [{"name": jingan.name, "content": base64.b64encode(jingan.read_bytes()).decode(), "ok": True}]
    client = _client(app, "clerk_jingan")
    headers = {**csrf_headers(client), "X-Remote-User": "someone-else"}
    response = client.post("/_dash-update-component", json=_upload_body(app, pending, None), headers=headers)
    assert "已接收" in _text(response)
    engine = make_engine(url)
    with Session(engine) as session:
        (submission,) = session.exec(select(Submission)).all()
    engine.dispose()
    assert submission.submitted_by == "clerk_jingan（clerk_jingan）" and submission.as_unit == "jingan"


def test_status_page_shows_a_clerk_only_their_row(app_and_url, tmp_path: Path) -> None:  # noqa: ANN001
    app, _ = app_and_url
    key = next(k for k in app.callback_map if k.startswith("..st-heading"))
    # The filters' view, as the page's clientside gate hands it to the callback.
    values = {"st-view-wanted.data": {"region": "shanghai", "window": "month", "period": "2023-06"}}
    analyst = _client(app, "analyst1")
    clerk = _client(app, "clerk_jingan")
    everyone = analyst.post(
        "/_dash-update-component", json=callback_body(app, key, values), headers=csrf_headers(analyst)
    )
    own = clerk.post(
        "/_dash-update-component", json=callback_body(app, key, values), headers=csrf_headers(clerk)
    )
    assert "浦东新区" in _text(everyone) and "静安区" in _text(everyone)
    assert "浦东新区" not in _text(own) and "静安区" in _text(own)
    # The page's first view, drawn with its layout (the router), holds the same rows.
    page = {
        "_pages_location.pathname": "/status",
        "_pages_location.search": "?region=shanghai&window=month&period=2023-06",
    }
    everyone = analyst.post(
        "/_dash-update-component",
        json=callback_body(app, _router_key(app), page),
        headers=csrf_headers(analyst),
    )
    own = clerk.post(
        "/_dash-update-component",
        json=callback_body(app, _router_key(app), page),
        headers=csrf_headers(clerk),
    )
    assert "浦东新区" in _text(everyone) and "静安区" in _text(everyone)
    assert "浦东新区" not in _text(own) and "静安区" in _text(own)
