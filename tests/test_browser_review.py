"""The review loop in headless Chromium on the sample database: a clerk of 静安 signs in and
uploads its own corrected return; an analyst returns it with a reason from 报送情况's queue; the
clerk signs in again and reads the reason on 区详情. Every page visited (the analysts' 管理 and
the admin's 审计日志 too) logs no console error — a Content-Security-Policy violation is one."""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import (
    build_sample_db,
    click,
    console_errors,
    copy_db,
    sign_in_browser,
    start_signed_in,
    wait_for,
)

pytestmark = pytest.mark.browser

QUERY = "?region=shanghai&window=ytd&period=2023-12"
REASON = "技术调查官人数与上月差异过大，请核实"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("review-sample")
    return build_sample_db(folder), folder / "sample"


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
    """Choose an option of a long dropdown by typing part of its label, as a person would."""
    from selenium.webdriver.common.by import By

    _settled(dash_duo)
    click(dash_duo, selector)  # through the DOM: the page above may still be growing
    search = wait_for(lambda: dash_duo.find_element(".dash-dropdown-search"), message="dropdown search box")
    search.send_keys(label)

    def option():  # noqa: ANN202
        for found in dash_duo.driver.find_elements(By.CSS_SELECTOR, ".dash-dropdown-option"):
            if found.text == label:
                return found
        return None

    wait_for(option, message=f"option {label}").click()


def _sign_out(dash_duo) -> None:  # noqa: ANN001
    click(dash_duo, "#logout-button")
    wait_for(lambda: "/login" in dash_duo.driver.current_url, message="signed out")


def test_clerk_uploads_analyst_returns_clerk_reads_the_reason(
    dash_duo, sample: tuple[Path, Path], tmp_path: Path
) -> None:
    url = copy_db(sample[0], tmp_path / "review.db")
    corrected = sample[1] / "uploads" / "jingan_2023-12_更正.xlsx"
    base = start_signed_in(dash_duo, url, "clerk_jingan")

    # The clerk: navigation without 管理 or 审计日志; the upload goes in as 静安.
    dash_duo.driver.get(base + "/upload" + QUERY)
    dash_duo.wait_for_element("#up-upload input[type=file]").send_keys(str(corrected))
    dash_duo.wait_for_contains_text("#up-report", "校验通过，可以载入", timeout=30)
    wait_for(lambda: dash_duo.find_element("#up-confirm").is_enabled(), message="confirm enabled")
    click(dash_duo, "#up-confirm")
    dash_duo.wait_for_contains_text("#up-result", "已接收", timeout=30)
    nav = dash_duo.find_element(".app-header nav").text
    assert "管理" not in nav and "审计日志" not in nav
    assert console_errors(dash_duo) == []
    _sign_out(dash_duo)

    # The analyst returns it from the queue on 报送情况.
    sign_in_browser(dash_duo, base, "analyst1")
    dash_duo.driver.get(base + "/status" + QUERY)
    dash_duo.wait_for_element("#rv-queue table", timeout=30)
    _pick(dash_duo, "#rv-pick", "静安区 2023-12 第2版")
    dash_duo.wait_for_contains_text("#rv-detail", "待审核", timeout=20)
    dash_duo.find_element("#rv-reason").send_keys(REASON)
    click(dash_duo, "#rv-return")
    dash_duo.wait_for_contains_text("#rv-result", "已退回", timeout=20)
    assert console_errors(dash_duo) == []
    dash_duo.driver.get(base + "/manage" + QUERY)
    dash_duo.wait_for_element("#mg-target-grid .ag-row", timeout=30)
    _settled(dash_duo)
    assert console_errors(dash_duo) == []
    _sign_out(dash_duo)

    # The clerk sees why, on its own unit page.
    sign_in_browser(dash_duo, base, "clerk_jingan")
    dash_duo.driver.get(base + "/unit/jingan" + QUERY)
    dash_duo.wait_for_contains_text("#unit-review", REASON, timeout=30)
    assert "已退回" in dash_duo.find_element("#unit-review").text
    _settled(dash_duo)
    assert console_errors(dash_duo) == []
    _sign_out(dash_duo)

    # The admin's audit page shows the upload and the review.
    sign_in_browser(dash_duo, base, "admin1")
    dash_duo.driver.get(base + "/audit" + QUERY)
    dash_duo.wait_for_contains_text("#au-table", "review", timeout=30)
    assert "upload" in dash_duo.find_element("#au-table").text
    assert console_errors(dash_duo) == []
    # The check above can fail: an inline script the policy does not allow is reported.
    dash_duo.driver.execute_script(
        "var s = document.createElement('script'); s.textContent = 'window.injected = 1;';"
        "document.body.appendChild(s);"
    )
    blocked = wait_for(lambda: console_errors(dash_duo), message="the CSP violation in the console")
    assert any("Content Security Policy" in str(e.get("message")) for e in blocked)
    assert dash_duo.driver.execute_script("return window.injected === undefined")
