"""The test suite's own guard: a shell's ``IPDASH_…`` settings never reach a test."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from foundation.settings import get_settings

ROOT = Path(__file__).resolve().parents[1]


def test_no_product_setting_reaches_a_test() -> None:
    leaked = [
        n
        for n in os.environ
        if n.startswith("IPDASH_") and not n.startswith(("IPDASH_TEST_", "IPDASH_SCREENSHOT"))
    ]
    assert leaked == []
    assert get_settings().due_day == 10 and get_settings().region == "shanghai"


def test_a_shell_setting_does_not_change_a_result(tmp_path: Path) -> None:
    """Run one settings-sensitive test in a child pytest with a hostile environment: it passes."""
    env = {**os.environ, "IPDASH_DUE_DAY": "25", "IPDASH_REGION": "anhui", "HOME": str(tmp_path)}
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:randomly",
            f"{ROOT / 'tests' / 'test_settings_isolation.py'}::test_no_product_setting_reaches_a_test",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:]
    assert "1 passed" in done.stdout
