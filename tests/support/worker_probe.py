"""Run in a parser worker by tests (importable without pytest, unlike a test module)."""

from __future__ import annotations

import sys


def loaded_modules() -> list[str]:
    """The names of the modules the worker process has imported."""
    return sorted(sys.modules)
