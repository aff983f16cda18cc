"""Helpers for the browser tests (dash_duo in headless Chromium): a sample database built once
per run and copied per test that writes to it, a free port, and the checks every page shares."""

from __future__ import annotations

import os
import shutil
import socket
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

# Test runs leave the tracked tree alone: screenshots go to the ignored build/ folder (test
# artefacts, to look at after a run). `./scripts/screenshots` points this at docs/screenshots to
# refresh the README's pictures on purpose.
SCREENSHOTS = Path(
    os.environ.get("IPDASH_SCREENSHOT_DIR")
    or Path(__file__).resolve().parents[1] / "build" / "test-artifacts" / "screenshots"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_sample_db(folder: Path) -> Path:
    """The project's sample (17 units × 24 months of synthetic returns) loaded into SQLite."""
    from sample_data.build import load_sample, write_sample_files
    from store.db import open_engine

    files = folder / "sample"
    write_sample_files(files)
    db = folder / "sample.db"
    engine = open_engine(f"sqlite:///{db}")
    load_sample(engine, folder=files)
    with engine.connect() as conn:  # fold the WAL into the file so a plain copy is complete
        conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
    engine.dispose()
    return db


def copy_db(master: Path, target: Path) -> str:
    shutil.copy(master, target)
    return f"sqlite:///{target}"


def start(dash_duo: Any, app: Any) -> str:
    """Start ``app`` on a free port (dash_duo's fixed 58050 would collide); returns the base URL.
    Not navigating: the first page an anonymous browser sees is the sign-in form."""
    port = free_port()
    dash_duo.start_server(app, navigate=False, port=port)
    return f"http://127.0.0.1:{port}"


def wait_for(condition: Any, timeout: float = 15, message: str = "condition") -> Any:
    end = time.time() + timeout
    last: Any = None
    while time.time() < end:
        try:
            last = condition()
            if last:
                return last
        except Exception as exc:  # the page is still rendering: try again
            last = exc
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {message} (last: {last!r})")


def graph_x(dash_duo: Any, graph_id: str, trace: int = 0) -> list[Any]:
    """The x values Plotly actually drew (``_fullData``; ``data`` holds typed arrays in Plotly 7)."""
    return dash_duo.driver.execute_script(
        f"var gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        f"return gd && gd._fullData && gd._fullData[{trace}] ? Array.from(gd._fullData[{trace}].x) : null;"
    )


def graph_y(dash_duo: Any, graph_id: str, trace: int = 0) -> list[Any]:
    return dash_duo.driver.execute_script(
        f"var gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        f"return gd && gd._fullData && gd._fullData[{trace}] ? Array.from(gd._fullData[{trace}].y) : null;"
    )


def graph_title(dash_duo: Any, graph_id: str) -> str | None:
    return dash_duo.driver.execute_script(
        f"var gd = document.querySelector('#{graph_id} .js-plotly-plot');"
        "return gd && gd._fullLayout && gd._fullLayout.title ? gd._fullLayout.title.text : null;"
    )


def external_resources(dash_duo: Any, base: str) -> list[str]:
    """Every resource the page loaded or refers to that is not on this server."""
    urls = dash_duo.driver.execute_script(
        "var out = performance.getEntriesByType('resource').map(function (e) { return e.name; });"
        "document.querySelectorAll('link[href]').forEach(function (l) { out.push(l.href); });"
        "document.querySelectorAll('script[src]').forEach(function (s) { out.push(s.src); });"
        "return out;"
    )
    return [u for u in urls if not (u.startswith(base) or u.startswith("data:") or u.startswith("blob:"))]


def console_errors(dash_duo: Any) -> list[dict[str, Any]]:
    return [entry for entry in dash_duo.get_logs() or [] if entry.get("level") == "SEVERE"]


def click(dash_duo: Any, selector: str) -> None:
    """Click through the DOM: a WebDriver click at the window's edge can land on a neighbour."""
    element = dash_duo.wait_for_element(selector)
    dash_duo.driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click();", element
    )


def sign_in_browser(dash_duo: Any, base: str, username: str, password: str | None = None) -> None:
    """Sign in through the real form (the page asks for nothing else)."""
    from auth_support import PASSWORD

    dash_duo.driver.get(base + "/login")
    dash_duo.wait_for_element("#username").send_keys(username)
    dash_duo.find_element("#password").send_keys(password or PASSWORD)
    dash_duo.find_element("#login-submit").click()
    wait_for(lambda: "/login" not in dash_duo.driver.current_url, message=f"{username} signed in")


def start_signed_in(dash_duo: Any, url: str, username: str = "analyst1") -> str:
    """The dashboard on database ``url`` with the test accounts, signed in as ``username``."""
    from auth_support import make_accounts

    from dashboard.app import create_app

    make_accounts(url)
    base = start(dash_duo, create_app(url))
    sign_in_browser(dash_duo, base, username)
    return base


def csp_violations(dash_duo: Any) -> list[dict[str, Any]]:
    """Console entries Chromium writes when the Content-Security-Policy blocked something."""
    return [
        entry
        for entry in dash_duo.get_logs() or []
        if "Content Security Policy" in str(entry.get("message", ""))
        or "Content-Security-Policy" in str(entry.get("message", ""))
    ]
