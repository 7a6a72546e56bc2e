"""Without PostgreSQL the PostgreSQL cases are skipped with the reason shown; with CI=true the
same skip is a failure, so CI can never pass without having tested PostgreSQL (issue 15)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST = "tests/storage/test_postgres.py::test_dialects_name_themselves"


def _pytest(**env: str) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "CI"}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", TEST],
        cwd=ROOT,
        env={**base, "SENDBOT_TEST_NO_POSTGRES": "1", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
def test_without_postgresql_the_cases_skip_visibly_and_on_ci_they_fail() -> None:
    local = _pytest()
    assert local.returncode == 0, local.stdout + local.stderr
    assert "1 passed, 1 skipped" in local.stdout
    assert "PostgreSQL tests not run: SENDBOT_TEST_NO_POSTGRES is set" in local.stdout

    ci = _pytest(CI="true")
    assert ci.returncode == 1, ci.stdout + ci.stderr
    assert "1 passed, 1 error" in ci.stdout or "1 failed, 1 passed" in ci.stdout, ci.stdout
    assert "CI=true: .ci/run installs PostgreSQL" in ci.stdout
