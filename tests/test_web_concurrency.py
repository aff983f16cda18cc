"""Issue 10, defect 3 through the web: 17 uploads of the same unit and month confirmed at once on a
real gunicorn server with 4 worker processes (SQLite and PostgreSQL). Every upload is accounted for:
each answer names its file as accepted (with its revision number) or unchanged, and the database
holds exactly those revisions. Before, 9 of 17 were stored and the rest ended in 系统内部错误."""

from __future__ import annotations

import base64
import json
import re
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from test_cli_etl import make
from test_concurrency import stored
from test_serve import get, running_server, signed_in

N = 17


def confirm_payload(callback: dict, name: str, content: bytes) -> dict:
    """The request the browser sends when 确认载入 is clicked with one checked file pending."""
    pending = [{"name": name, "content": base64.b64encode(content).decode(), "ok": True}]
    values = {
        ("up-upload", "contents"): None,
        ("up-confirm", "n_clicks"): 1,
        ("up-clear", "n_clicks"): None,
        ("up-upload", "filename"): None,
        ("up-pending", "data"): pending,
        ("up-user", "value"): "并发测试",
        ("up-as-unit", "value"): None,
        ("filter-region", "value"): "shanghai",
    }

    def fill(deps: list[dict]) -> list[dict]:
        return [
            {"id": d["id"], "property": d["property"], "value": values[(d["id"], d["property"])]}
            for d in deps
        ]

    outputs = [
        dict(zip(("id", "property"), part.split("."), strict=True))
        for part in callback["output"].strip(".").split("...")
    ]
    return {
        "output": callback["output"],
        "outputs": outputs,
        "inputs": fill(callback["inputs"]),
        "changedPropIds": ["up-confirm.n_clicks"],
        "state": fill(callback["state"]),
    }


def post(opener: urllib.request.OpenerDirector, headers: dict, url: str, payload: dict) -> tuple[int, str]:
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with opener.open(request, timeout=300) as response:
        # Dash escapes non-ASCII in its JSON: read it back as text a person would see
        return response.status, json.dumps(json.loads(response.read()), ensure_ascii=False)


def test_17_concurrent_web_uploads_of_one_unit_month(db_url: str, tmp_path: Path) -> None:
    files = [make(tmp_path, "jingan", "2023-06", seed=i, name=f"jingan_{i:02d}.xlsx") for i in range(1, 16)]
    files += [make(tmp_path, "jingan", "2023-06", seed=1, name=f"jingan_copy{i}.xlsx") for i in (1, 2)]
    from auth_support import make_accounts

    make_accounts(db_url)
    with running_server(db_url, tmp_path, "--workers", "4", "--threads", "2") as (base, _proc):
        opener, headers = signed_in(base, "clerk_jingan")  # 静安's clerk uploads 静安's month
        status, deps = get(base + "/_dash-dependencies", opener)
        assert status == 200
        (callback,) = [
            c
            for c in json.loads(deps)
            if "up-pending.data" in c["output"] and "up-confirm" in json.dumps(c["inputs"])
        ]
        payloads = [confirm_payload(callback, f.name, f.read_bytes()) for f in files]
        with ThreadPoolExecutor(max_workers=N) as pool:
            answers = list(
                pool.map(lambda p: post(opener, headers, base + "/_dash-update-component", p), payloads)
            )

    accepted: dict[str, int] = {}
    unchanged = []
    for f, (status, body) in zip(files, answers, strict=True):
        assert status == 200
        assert "系统内部错误" not in body and "已拒收" not in body, body[:500]
        revision = re.search(r"jingan 2023-06 第(\d+)版", body)
        if revision:
            assert "已接收" in body
            accepted[f.name] = int(revision.group(1))
        else:
            assert "内容未变" in body, body[:500]
            unchanged.append(f.name)
    assert len(accepted) + len(unchanged) == N
    assert len(accepted) >= 15  # the 15 different contents are always new
    assert sorted(accepted.values()) == list(range(1, len(accepted) + 1))

    revisions, names, _ = stored(db_url)
    assert {names[r.submission_id]: r.revision_no for r in revisions} == accepted
    assert [r.is_current for r in revisions] == [False] * (len(accepted) - 1) + [True]
