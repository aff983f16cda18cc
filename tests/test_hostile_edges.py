"""Issue 10, defects 5, 7 and 8: a very long file name on both databases, a 404 (not 500) for a
component path Dash does not know, and an export of an empty scope that says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from auth_support import make_accounts, sign_in
from factories import make_return
from sqlmodel import Session, select
from test_export_data import seed_scenario

from etl.load import load_file
from ipdash.cli import main
from store.models import Submission


def test_a_305_character_file_name_is_stored_whole(engine, tmp_path: Path) -> None:  # noqa: ANN001
    data = make_return(tmp_path / "r.xlsx").read_bytes()
    name = "静安区" * 100 + "_6月.xlsx"
    assert len(name) == 308
    with Session(engine) as session:
        result = load_file(data, session=session, file_name=name)
        assert result.status == "accepted", [e.message for e in result.errors]
        session.commit()
    with Session(engine) as session:
        assert [s.file_name for s in session.exec(select(Submission)).all()] == [name]


@pytest.mark.parametrize(
    "path",
    [
        "/_dash-component-suites/..%2f..%2fetc%2fpasswd",
        "/_dash-component-suites/dash/..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/_dash-component-suites/dash/..%2fsetup.py",
        "/_dash-component-suites/dash/no-such-file.js",
        "/_dash-component-suites/flask/app.py",
    ],
)
def test_unknown_component_paths_are_404_and_leak_nothing(path: str, sqlite_url: str) -> None:
    from dashboard.app import create_app
    from store.db import open_engine

    open_engine(sqlite_url).dispose()  # the sign-in gate reads its session key from the database
    make_accounts(sqlite_url)
    client = create_app(sqlite_url).server.test_client()
    assert client.get(path).status_code == 401  # anonymous: refused before anything is looked up
    sign_in(client, "analyst1")
    response = client.get(path)
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "root:" not in body and "import" not in body
    assert "未找到" in body


def test_export_of_an_empty_scope_warns_and_exits_1(engine, db_url: str, tmp_path: Path, capsys) -> None:  # noqa: ANN001
    seed_scenario(engine)
    out = tmp_path / "before.xlsx"
    code = main(
        ["export", "--period", "2023-03", "--as-of", "2020-01-01T00:00", "--db", db_url, "-o", str(out)]
    )
    stdout, err = capsys.readouterr()
    assert code == 1
    assert "没有任何报送数据" in err and "2023-03" in err
    assert out.exists()  # written all the same: it shows the scope was empty

    code = main(["export", "--period", "2019-06", "--db", db_url, "-o", str(tmp_path / "none.xlsx")])
    _, err = capsys.readouterr()
    assert code == 1 and "没有任何报送数据" in err

    code = main(["export", "--period", "2023-03", "--db", db_url, "-o", str(tmp_path / "ok.xlsx")])
    stdout, err = capsys.readouterr()
    assert code == 0 and "没有任何报送数据" not in err and "已导出考核工作簿" in stdout
