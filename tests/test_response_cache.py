"""Issue 13: the response cache of the read-only views (``dashboard/response_cache.py``).

Each test on a SQLite file and on a fresh PostgreSQL database holding two returns of 2024-01,
written as .xlsx and loaded through ``application.submissions`` (静安: 培训人次 40, 维权援助工作站数 16; 浦东: 培训人次 32 — every other
measure the factory's default), the real app through the Flask test client with the real
sign-in form and CSRF tokens, and a real redis-server (``IPDASH_TEST_REDIS_URL``, default
``redis://127.0.0.1:6379/13``: a database number of its own; each test's keys live under its own
store's namespace and are deleted afterwards). Where no Redis answers, those tests are skipped
and say why. No test measures time.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from auth_support import csrf_headers, make_accounts, sign_in
from callback_support import app_spec, view_body
from factories import default_values, make_return

REDIS_URL = os.environ.get("IPDASH_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
PERIOD = "2024-01"
RANKINGS = {
    "filter-region.value": "shanghai",
    "filter-window.value": "month",
    "filter-period.value": PERIOD,
    '{"name":"indicator","type":"query-param"}.value': "trainees",
}
COMPOSITE = {**RANKINGS, '{"name":"indicator","type":"query-param"}.value': "composite"}


def unit_values(code: str) -> dict[str, Any]:
    """The unit callback's input as the page's clientside gate hands it over (the page's first
    view is drawn with its layout; the callback runs for another view)."""
    return {
        "unit-view-wanted.data": {"region": "shanghai", "window": "month", "period": PERIOD},
        "unit-code.data": code,
    }


def upload(url: str, tmp_path: Path, unit: str, name_zh: str, **values: float) -> None:
    from application.submissions import load_upload

    path = make_return(
        tmp_path / f"{unit}-{len(list(tmp_path.glob('*.xlsx')))}.xlsx",
        unit=name_zh,
        period=PERIOD,
        values={**default_values(), **values},
    )
    result = load_upload(
        path.read_bytes(),
        url=url,
        file_name=path.name,
        submitted_by="测试",
        as_unit=None,
        region="shanghai",
        username="analyst1",
    )
    assert result.status == "accepted", result


@pytest.fixture
def store(db_url: str, tmp_path: Path) -> str:
    """The two returns on a SQLite file and on a fresh PostgreSQL database (``db_url``)."""
    from application.submissions import open_database

    url = db_url
    open_database(url).dispose()
    make_accounts(url)
    upload(url, tmp_path, "jingan", "静安区", trainees=40)  # 培训人次; 维权援助工作站数 stays 16
    upload(url, tmp_path, "pudong", "浦东新区", trainees=32)
    return url


def make_app(url: str, **settings: Any) -> Any:
    from dashboard.app import create_app
    from foundation.settings import Settings

    app = create_app(url, Settings(**settings))
    app.server.test_client().get("/login")  # Dash registers its page router at the first request
    return app


def cache_of(app: Any) -> Any:
    from dashboard import response_cache

    found = response_cache.of(app.server)
    assert found is not None
    return found


def client_of(app: Any, username: str) -> tuple[Any, dict[str, str]]:
    client = app.server.test_client()
    assert sign_in(client, username).status_code == 303
    return client, csrf_headers(client)


def post(client: Any, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/_dash-update-component", json=body, headers=headers)


def rankings_values(response: Any) -> dict[str, float | None]:
    rows = json.loads(response.data)["response"]["rk-grid"]["rowData"]
    return {r["unit"]: r["value"] for r in rows}


def table_rows(tree: Any) -> list[list[str]]:
    """The text of each cell of each table row (html.Tr) in a serialised component tree."""

    def text(node: Any) -> str:
        if isinstance(node, str | int | float):
            return str(node)
        if isinstance(node, list):
            return "".join(text(n) for n in node)
        if isinstance(node, dict):
            return text(node.get("props", {}).get("children", ""))
        return ""

    rows: list[list[str]] = []

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for n in node:
                walk(n)
        elif isinstance(node, dict):
            if node.get("type") == "Tr":
                cells = node["props"]["children"]
                rows.append([text(c) for c in (cells if isinstance(cells, list) else [cells])])
            else:
                walk(node.get("props", {}).get("children"))

    walk(tree)
    return rows


def scorecard_row(response: Any, indicator_name: str) -> list[str]:
    tree = json.loads(response.data)["response"]["unit-scorecard"]["children"]
    (row,) = [r for r in table_rows(tree) if r and r[0] == indicator_name]
    return row


# --- Redis ----------------------------------------------------------------------------------------


def redis_reason(url: str = REDIS_URL) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2).ping()
    except Exception as exc:  # any failure to answer means: skip with the reason
        return f"no redis-server answers at {url}: {exc.__class__.__name__}: {exc}"[:300]
    return None


@pytest.fixture
def redis_url() -> Iterator[str]:
    reason = redis_reason()
    if reason:
        pytest.skip(reason)
    yield REDIS_URL


def forget(app: Any) -> None:
    """Delete this test's keys (its store's namespace) from the shared Redis."""
    cache = cache_of(app)
    client = cache.backend.client
    for key in client.scan_iter(match=cache.prefix() + "*"):
        client.delete(key)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# --- the tests --------------------------------------------------------------------------------------


def test_default_is_in_process_and_a_hit_is_the_same_bytes(store: str) -> None:
    from dashboard.response_cache import MemoryBackend

    app = make_app(store)  # no cache setting at all
    cache = cache_of(app)
    assert isinstance(cache.backend, MemoryBackend)
    client, headers = client_of(app, "leader1")
    body = view_body(app_spec(app, "rk-graph"), RANKINGS)
    first, second = post(client, headers, body), post(client, headers, body)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first.headers["X-IPdash-Cache"], second.headers["X-IPdash-Cache"]) == ("miss", "hit")
    assert second.data == first.data
    assert second.headers["Content-Type"] == first.headers["Content-Type"] == "application/json"
    # the same figures as with the cache turned off: 静安 40, 浦东 32 (the uploaded 培训人次)
    off = make_app(store, response_cache=False)
    off_client, off_headers = client_of(off, "leader1")
    uncached = post(off_client, off_headers, body)
    assert "X-IPdash-Cache" not in uncached.headers
    assert uncached.data == first.data
    values = rankings_values(second)
    assert (values["jingan"], values["pudong"]) == (40.0, 32.0)
    assert dict(cache.stats) == {"miss": 1, "stored": 1, "hit": 1}


def test_an_upload_makes_the_next_response_fresh(store: str, tmp_path: Path) -> None:
    app = make_app(store)
    client, headers = client_of(app, "leader1")
    body = view_body(app_spec(app, "rk-graph"), RANKINGS)
    post(client, headers, body)
    assert post(client, headers, body).headers["X-IPdash-Cache"] == "hit"
    upload(store, tmp_path, "jingan", "静安区", trainees=55)  # a correction: 静安 40 → 55
    fresh = post(client, headers, body)
    assert fresh.headers["X-IPdash-Cache"] == "miss"
    assert rankings_values(fresh)["jingan"] == 55.0
    assert rankings_values(fresh)["pudong"] == 32.0
    assert post(client, headers, body).data == fresh.data  # and that is cached in turn


def test_a_target_change_makes_the_next_response_fresh(store: str) -> None:
    import pandas as pd

    from application import targets
    from application.accounts import get_user
    from dashboard import data

    app = make_app(store)
    client, headers = client_of(app, "analyst1")
    body = view_body(app_spec(app, "unit-heading"), unit_values("jingan"))
    before = scorecard_row(post(client, headers, body), "维权援助工作站数")
    assert post(client, headers, body).headers["X-IPdash-Cache"] == "hit"

    def set_targets(jingan: float, pudong: float) -> None:
        rows = [("jingan", jingan), ("pudong", pudong)]
        frame = pd.DataFrame(
            [{"unit": u, "year": 2024, "indicator": "aid_workstations", "target": v} for u, v in rows]
        )
        with app.server.app_context(), data.session_scope() as session:
            analyst = get_user(session=session, username="analyst1")
            assert analyst is not None
            targets.save(session=session, account=analyst, targets=frame, source="test")
            session.commit()

    set_targets(20.0, 30.0)
    after = post(client, headers, body)
    assert after.headers["X-IPdash-Cache"] == "miss"
    row = scorecard_row(after, "维权援助工作站数")
    # columns: 指标, 本期值, 基准, 达标, 目标, 得分, 排名, 提示. 静安 has 16 workstations; the scheme
    # scores aid_workstations by unit target: min(16 / 20, 1) · 100 = 80.00
    assert row[1] == before[1] == "16个"
    assert (before[4], row[4]) == ("—", "20个")  # no target before (NA shows —)
    assert row[5] == "80.00"
    assert post(client, headers, body).headers["X-IPdash-Cache"] == "hit"
    # swapped: as many targets with the same sum as before, still fresh — min(16 / 30, 1) · 100 = 53.33
    set_targets(30.0, 20.0)
    swapped = scorecard_row(post(client, headers, body), "维权援助工作站数")
    assert (swapped[4], swapped[5]) == ("30个", "53.33")


def test_a_scheme_choice_makes_the_next_response_fresh(store: str) -> None:
    from application import schemes
    from application.accounts import get_user
    from dashboard import data
    from foundation.catalogue import default_catalogue

    app = make_app(store)
    client, headers = client_of(app, "leader1")
    body = view_body(app_spec(app, "rk-graph"), COMPOSITE)
    shipped = rankings_values(post(client, headers, body))
    assert post(client, headers, body).headers["X-IPdash-Cache"] == "hit"
    text = "indicator,weight,method,target,floor,ceiling,bands\ntrainees,100,target,100,,,\n"
    with app.server.app_context(), data.session_scope() as session:
        analyst = get_user(session=session, username="analyst1")
        assert analyst is not None
        scheme, problems = schemes.upload(
            session=session, account=analyst, text=text, name="只看培训", catalogue=default_catalogue()
        )
        assert scheme is not None, problems
        schemes.choose_default(session=session, account=analyst, version=scheme.version)
        session.commit()
    fresh = post(client, headers, body)
    assert fresh.headers["X-IPdash-Cache"] == "miss"
    values = rankings_values(fresh)
    # one indicator, weight 100, target 100 trainees: 静安 min(40/100, 1)·100 = 40, 浦东 32
    assert (values["jingan"], values["pudong"]) == (40.0, 32.0)
    assert shipped["jingan"] != 40.0


def test_refusals_stand_when_the_response_is_cached(store: str) -> None:
    from application.accounts import set_active
    from dashboard import data

    app = make_app(store)
    body = view_body(app_spec(app, "unit-heading"), unit_values("jingan"))
    analyst, analyst_headers = client_of(app, "analyst1")
    assert post(analyst, analyst_headers, body).status_code == 200
    assert post(analyst, analyst_headers, body).headers["X-IPdash-Cache"] == "hit"
    leader, leader_headers = client_of(app, "leader1")
    assert post(leader, leader_headers, body).status_code == 200
    assert post(leader, leader_headers, body).headers["X-IPdash-Cache"] == "hit"
    cache = cache_of(app)
    hits = cache.stats["hit"]

    # a clerk of another unit: 403, as without a cache
    pudong, pudong_headers = client_of(app, "clerk_pudong")
    assert post(pudong, pudong_headers, body).status_code == 403
    # nobody signed in: 401
    assert app.server.test_client().post("/_dash-update-component", json=body).status_code == 401
    # signed in, but no CSRF token, or from another site: 403
    assert post(analyst, {"Origin": "http://localhost"}, body).status_code == 403
    forged = {**analyst_headers, "Origin": "http://evil.example"}
    assert post(analyst, forged, body).status_code == 403
    # an account disabled since: its session ends (401)
    with app.server.app_context(), data.session_scope() as session:
        set_active(session=session, username="leader1", active=False, actor="test")
        session.commit()
    assert post(leader, leader_headers, body).status_code == 401
    assert cache.stats["hit"] == hits  # no refused request reached the cache

    # 静安's own clerk may see it, under a key of their own (a clerk's answer is never shared)
    jingan, jingan_headers = client_of(app, "clerk_jingan")
    mine = post(jingan, jingan_headers, body)
    assert (mine.status_code, mine.headers["X-IPdash-Cache"]) == (200, "miss")


def test_errors_and_no_updates_are_never_stored(store: str) -> None:
    app = make_app(store)
    client, headers = client_of(app, "analyst1")
    # a unit that is not in the catalogue: the callback shows an internal-error alert (status 200)
    broken = view_body(app_spec(app, "unit-heading"), unit_values("nosuch"))
    first = post(client, headers, broken)
    assert first.status_code == 200 and "系统内部错误" in json.dumps(
        json.loads(first.data), ensure_ascii=False
    )
    assert post(client, headers, broken).headers["X-IPdash-Cache"] == "miss"
    # no period yet (the page has just appeared): PreventUpdate, 204
    waiting = view_body(app_spec(app, "rk-graph"), {**RANKINGS, "filter-period.value": None})
    assert post(client, headers, waiting).status_code == 204
    assert post(client, headers, waiting).status_code == 204
    assert cache_of(app).stats["stored"] == 0 and cache_of(app).stats["hit"] == 0


def test_two_workers_share_one_redis(store: str, redis_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from dashboard.pages import rankings
    from dashboard.response_cache import RedisBackend

    calls: list[tuple] = []
    real_view = rankings.rankings_view

    def counted(*args: Any) -> tuple:
        calls.append(args)
        return real_view(*args)

    monkeypatch.setattr(rankings, "rankings_view", counted)
    first_worker = make_app(store, cache_url=redis_url)
    second_worker = make_app(store, cache_url=redis_url)
    try:
        assert isinstance(cache_of(first_worker).backend, RedisBackend)
        body = view_body(app_spec(first_worker, "rk-graph"), RANKINGS)
        one, one_headers = client_of(first_worker, "leader1")
        computed = post(one, one_headers, body)
        assert computed.headers["X-IPdash-Cache"] == "miss" and len(calls) == 1
        two, two_headers = client_of(second_worker, "leader1")
        served = post(two, two_headers, body)
        assert served.headers["X-IPdash-Cache"] == "hit"
        assert len(calls) == 1  # the second worker did not run the view
        assert served.data == computed.data
        assert cache_of(second_worker).stats["hit"] == 1 and cache_of(second_worker).stats["miss"] == 0
        # the entry is in Redis, under the store's namespace, with a time to live
        client = cache_of(first_worker).backend.client
        (key,) = list(client.scan_iter(match=cache_of(first_worker).prefix() + "*"))
        assert 0 < client.ttl(key) <= 86400
    finally:
        forget(first_worker)


def test_two_stores_sharing_one_redis_never_mix(store: str, redis_url: str, tmp_path: Path) -> None:
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    other = f"sqlite:///{other_dir / 'ipdash.db'}"
    from application.submissions import open_database

    open_database(other).dispose()
    make_accounts(other)
    upload(other, other_dir, "jingan", "静安区", trainees=7)
    mine, theirs = make_app(store, cache_url=redis_url), make_app(other, cache_url=redis_url)
    try:
        assert cache_of(mine).prefix() != cache_of(theirs).prefix()
        body = view_body(app_spec(mine, "rk-graph"), RANKINGS)
        a, a_headers = client_of(mine, "leader1")
        b, b_headers = client_of(theirs, "leader1")
        assert rankings_values(post(a, a_headers, body))["jingan"] == 40.0
        answer = post(b, b_headers, body)
        assert answer.headers["X-IPdash-Cache"] == "miss"
        assert rankings_values(answer)["jingan"] == 7.0
    finally:
        forget(mine)
        forget(theirs)


def test_unreachable_redis_still_answers(store: str, caplog: pytest.LogCaptureFixture) -> None:
    port = free_port()  # nothing listens there
    app = make_app(store, cache_url=f"redis://127.0.0.1:{port}/0")
    reference = make_app(store, response_cache=False)
    client, headers = client_of(app, "leader1")
    ref_client, ref_headers = client_of(reference, "leader1")
    body = view_body(app_spec(app, "rk-graph"), RANKINGS)
    expected = post(ref_client, ref_headers, body).data
    with caplog.at_level(logging.WARNING, logger="dashboard.cache"):
        answers = [post(client, headers, body) for _ in range(3)]
    assert [(r.status_code, r.headers["X-IPdash-Cache"]) for r in answers] == [(200, "miss")] * 3
    assert all(r.data == expected for r in answers)
    said = [r.getMessage() for r in caplog.records if r.name == "dashboard.cache"]
    assert len(said) == 1 and f"127.0.0.1:{port}" in said[0]  # logged once, not per request


def test_redis_stopped_while_serving(store: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (./scripts/setup --test installs it)")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
        cwd=tmp_path,
    )
    try:
        url = f"redis://127.0.0.1:{port}/0"
        while redis_reason(url):  # until it answers (it exits with an error otherwise)
            assert server.poll() is None, "redis-server did not start"
            time.sleep(0.1)
        app = make_app(store, cache_url=url)
        client, headers = client_of(app, "leader1")
        body = view_body(app_spec(app, "rk-graph"), RANKINGS)
        first = post(client, headers, body)
        assert post(client, headers, body).headers["X-IPdash-Cache"] == "hit"
        server.terminate()
        server.wait(timeout=30)
        with caplog.at_level(logging.WARNING, logger="dashboard.cache"):
            after = [post(client, headers, body) for _ in range(3)]
        assert [(r.status_code, r.headers["X-IPdash-Cache"]) for r in after] == [(200, "miss")] * 3
        assert all(r.data == first.data for r in after)
        assert len([r for r in caplog.records if r.name == "dashboard.cache"]) == 1
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()


def test_only_the_read_only_views_are_cached(store: str) -> None:
    """The allow-list, by hand: 总览, 排名, 对比, 趋势 and 区详情's figures. Not the page router or the
    filter bar (they differ by role and read which input fired), no upload, review, lock, target,
    scheme or task callback (writes), no download (audited), not 报送情况 (a clerk sees one row)."""
    from dashboard import guard

    app = make_app(store)
    cached = {key.strip(".").split(".", 1)[0] for key, rule in guard.rules(app).items() if rule.cacheable}
    assert cached == {"ov-heading", "rk-graph", "cmp-heatmap", "tr-monthly", "unit-heading"}


def test_a_request_without_state_is_the_same_request(store: str) -> None:
    """Dash's renderer leaves ``state`` out of the request when a callback has none."""
    app = make_app(store)
    client, headers = client_of(app, "leader1")
    body = view_body(app_spec(app, "rk-graph"), RANKINGS)
    assert body["state"] == []
    first = post(client, headers, body)
    without = {k: v for k, v in body.items() if k != "state"}
    again = post(client, headers, without)
    assert again.headers["X-IPdash-Cache"] == "hit" and again.data == first.data


def test_hosts_compute_the_same_namespace(store: str) -> None:
    """Two hosts (separate processes, each with its own hash seed) must name a view's entry alike,
    or they would never share it through Redis."""
    import sys

    script = (
        "import sys\n"
        "from dashboard.response_cache import ResponseCache\n"
        "from foundation.settings import Settings\n"
        "print(ResponseCache(Settings(), sys.argv[1]).prefix())\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("IPDASH_")}
    prefixes = {
        subprocess.run(
            [sys.executable, "-c", script, store],
            env={**env, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert len(prefixes) == 1 and next(iter(prefixes)).startswith("ipdash:")
