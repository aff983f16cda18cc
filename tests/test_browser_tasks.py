"""任务督办 in headless Chromium: a clerk of 静安 sees only its unit's tasks, coloured (red first),
reports progress on its mid-term check with a PDF as evidence; an analyst then sees the report,
the file and every task. No console error (CSP) on the way."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import click, console_errors, sign_in_browser, start_signed_in, wait_for
from test_task_evidence import PDF
from test_task_store import T03, write

pytestmark = pytest.mark.browser


def _settled(dash_duo) -> None:  # noqa: ANN001
    wait_for(
        lambda: (
            dash_duo.driver.execute_script(
                "return document.querySelectorAll('[data-dash-is-loading=true]').length"
            )
            == 0
        ),
        message="page settles",
    )


def _pick(dash_duo, selector: str, label: str) -> None:  # noqa: ANN001
    from selenium.webdriver.common.by import By

    _settled(dash_duo)
    click(dash_duo, selector)
    search = wait_for(lambda: dash_duo.find_element(".dash-dropdown-search"), message="dropdown search box")
    search.send_keys(label)

    def option():  # noqa: ANN202
        for found in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
            if found.text.startswith(label):
                return found
        return None

    found = wait_for(option, message=f"option {label}")
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", found
    )


def _rows(dash_duo) -> dict[str, str]:  # noqa: ANN001
    """task → the row's class (its colour) of the task list, in the order shown."""
    pairs = dash_duo.driver.execute_script(
        "return Array.from(document.querySelectorAll('.tk-list tr.tk-row'))"
        ".map(function (r) { return [r.cells[0].textContent, r.className]; });"
    )
    return {task: cls for task, cls in pairs}


def test_clerk_reports_with_evidence_and_analyst_sees_it(dash_duo, tmp_path: Path) -> None:  # noqa: ANN001
    from etl.load import load_paths
    from store.db import open_engine

    url = f"sqlite:///{tmp_path / 'tasks.db'}"
    engine = open_engine(url)
    # 003-03 (every district's) done on 2025-12-01, before its deadline 2025-12-31: green.
    ledger = write(tmp_path / "done.xlsx", [[*T03, "已完成", "2025-12-01", "已建成", "2025-12-01"]])
    (loaded,) = list(load_paths([ledger], engine=engine, submitted_by="analyst1"))
    assert loaded.status == "accepted"
    engine.dispose()
    evidence = tmp_path / "中期检查.pdf"
    evidence.write_bytes(PDF)

    base = start_signed_in(dash_duo, url, "clerk_jingan")
    dash_duo.driver.get(base + "/tasks")
    dash_duo.wait_for_element(".tk-list tr.tk-row", timeout=30)
    rows = _rows(dash_duo)
    # 静安's own: its mid-term check (deadline 2023-11-30, not done: red) and 003-03 (green);
    # 003-02 (浦东's and the city's) is not shown to 静安.
    assert "table-danger" in rows["004-08"] and "table-success" in rows["003-03"] and "003-02" not in rows
    order = list(rows.values())
    assert "table-danger" in order[0]  # red first
    reds = [i for i, c in enumerate(order) if "table-danger" in c]
    assert reds == list(range(len(reds)))
    assert "红" in dash_duo.find_element("#tk-counts").text

    _pick(dash_duo, "#tk-task", "004-08")
    dash_duo.wait_for_contains_text("#tk-detail", "尚无报送记录", timeout=20)
    dash_duo.find_element("#tk-note").send_keys("中期检查材料已汇总，待区政府审定")
    dash_duo.find_element("#tk-files input[type=file]").send_keys(str(evidence))
    click(dash_duo, "#tk-report")
    dash_duo.wait_for_contains_text("#tk-report-result", "已记录任务 004-08 的进展（第1版）", timeout=30)
    dash_duo.wait_for_contains_text("#tk-detail", "中期检查.pdf", timeout=20)
    _settled(dash_duo)
    assert console_errors(dash_duo) == []
    click(dash_duo, "#logout-button")
    wait_for(lambda: "/login" in dash_duo.driver.current_url, message="signed out")

    sign_in_browser(dash_duo, base, "analyst1")
    dash_duo.driver.get(base + "/tasks")
    dash_duo.wait_for_element(".tk-list tr.tk-row", timeout=30)
    rows = _rows(dash_duo)
    assert "003-02" in rows and "table-danger" in rows["004-08"] and "table-success" in rows["003-03"]
    _pick(dash_duo, "#tk-task", "004-08")
    dash_duo.wait_for_contains_text("#tk-detail", "中期检查材料已汇总，待区政府审定", timeout=20)
    detail = dash_duo.find_element("#tk-detail").text
    assert "中期检查.pdf" in detail and "clerk_jingan" in detail and "报送进展" in detail
    # Its row now shows the report's date (today) as the last update, and 推进中.
    row = dash_duo.driver.execute_script(
        "var r = Array.from(document.querySelectorAll('.tk-list tr.tk-row'))"
        ".find(function (r) { return r.cells[0].textContent === '004-08'; }); return r.textContent;"
    )
    assert "推进中" in row
    # The analysts' form is filled from the chosen task, to edit from.
    wait_for(
        lambda: dash_duo.find_element("#tk-new-deadline").get_attribute("value") == "2023年11月",
        message="form filled",
    )
    assert dash_duo.find_element("#tk-new-lead").get_attribute("value") == "静安区知识产权局"
    _settled(dash_duo)
    assert console_errors(dash_duo) == []
