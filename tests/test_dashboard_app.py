"""The app without a browser: built without touching the database, served from this server only,
every dashboard string in the i18n module, the ``serve`` command wired, upload size checks."""

from __future__ import annotations

import base64
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from foundation.i18n import messages
from foundation.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]


class _Refs(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for key, value in attrs:
            if key in ("href", "src") and value:
                self.urls.append(value)


def test_create_app_touches_no_database_and_serves_everything_itself(tmp_path: Path) -> None:
    from auth_support import make_accounts, sign_in

    from dashboard.app import create_app

    db = tmp_path / "never.db"
    app = create_app(f"sqlite:///{db}")
    assert not db.exists()  # building the app opened no connection
    make_accounts(f"sqlite:///{db}")  # (the schema, as ``ipdash serve`` makes it, and accounts)
    # The sign-in page needs only the stylesheet, served here.
    login = app.server.test_client().get("/login")
    refs = _Refs()
    refs.feed(login.get_data(as_text=True))
    assert login.status_code == 200 and refs.urls == ["/vendor/bootstrap.min.css"]
    client = app.server.test_client()
    assert sign_in(client, "leader1").status_code == 303
    index = client.get("/rankings?region=shanghai")
    assert index.status_code == 200
    refs = _Refs()
    refs.feed(index.get_data(as_text=True))
    assert refs.urls, "the index page links its scripts and styles"
    assert all(u.startswith("/") and not u.startswith("//") for u in refs.urls), refs.urls
    css = client.get("/vendor/bootstrap.min.css")
    assert css.status_code == 200 and css.mimetype == "text/css"
    assert b"Bootstrap" in css.get_data()[:200]
    assert client.get("/_dash-layout").status_code == 200


def test_wsgi_entry_point_exists() -> None:
    import dashboard.app

    assert callable(dashboard.app.server.wsgi_app)


def test_every_dashboard_string_is_in_the_i18n_module() -> None:
    used: set[str] = set()
    for path in [*(ROOT / "dashboard").rglob("*.py"), ROOT / "etl" / "annotate.py"]:
        used.update(re.findall(r"\"(dash\.[a-z_]+\.[a-z_.]+)\"", path.read_text(encoding="utf-8")))
    used.update({"dash.cmp.mode.score", "dash.cmp.mode.relative", "dash.tr.title_month", "dash.tr.title_ytd"})
    known = messages()
    missing = sorted(k for k in used if k not in known and not k.endswith("."))
    assert missing == []


def test_serve_command_is_registered() -> None:
    from ipdash.cli import build_parser

    args = build_parser().parse_args(
        ["serve", "--db", "sqlite:///x.db", "--host", "0.0.0.0", "--port", "9000"]
    )
    assert (args.db, args.host, args.port) == ("sqlite:///x.db", "0.0.0.0", 9000)
    assert args.handler.__module__ == "ipdash.commands.serve"


def test_upload_refuses_oversized_files_before_reading_them() -> None:
    from dashboard.pages.upload import check_one, decode_upload

    limit = get_settings().max_file_bytes
    content = b"PK\x03\x04" + b"\0" * limit
    errors, warnings = check_one("big.xlsx", content, as_unit=None, region="shanghai")
    assert [e.reason for e in errors] == ["too_large"] and warnings == []
    assert "big.xlsx" in errors[0].message
    assert (
        decode_upload("data:application/octet-stream;base64," + base64.b64encode(b"abc").decode()) == b"abc"
    )
    with pytest.raises(ValueError):
        decode_upload("no comma here")


def test_warm_up_fills_the_caches_the_first_pages_use(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    """After ``warm_up`` the overview scores and the trends are served without computing again."""
    import sys

    from sqlmodel import Session

    from application import service
    from dashboard import data
    from dashboard.app import create_app
    from store.db import open_engine

    sys.path.insert(0, str(Path(__file__).parent))
    from test_cli_etl import make  # a consistent layout-A return written with the real writer

    url = f"sqlite:///{tmp_path / 'w.db'}"
    engine = open_engine(url)
    from etl.load import load_file

    for month in ("2023-01", "2023-02", "2023-03"):
        with Session(engine) as s:
            assert load_file(make(tmp_path, "jingan", month), session=s).status == "accepted"
            s.commit()
    engine.dispose()
    app = create_app(url)
    service.clear_cache()
    with app.server.app_context():
        data.warm_up("shanghai")

        def no_more(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            raise AssertionError("computed again after warm-up")

        monkeypatch.setattr(service, "compute_indicators", no_more)
        assert not data.score_table(region="shanghai", period="2023-03", window="ytd").composite.empty
        series = data.trend(
            region="shanghai", indicator="abnormal_withdrawal_rate", end="2023-03", window="ytd", months=3
        )
        assert sorted(series["period"].unique()) == ["2023-01", "2023-02", "2023-03"]
