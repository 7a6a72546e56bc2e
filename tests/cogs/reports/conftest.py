"""Every reports test runs on both storage backends (tests/support/backends.py)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def _on_each_backend(each_backend: str) -> str:
    return each_backend
