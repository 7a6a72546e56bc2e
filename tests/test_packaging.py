"""Issue 16: packaging. The licence metadata, the files `sendbot init` needs inside the wheel
(and `sendbot init` working from the installed wheel, not from this checkout), and a
constraints file pinning every runtime dependency at a version its lower bound allows."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def test_the_licence_is_declared_the_modern_way() -> None:
    assert PROJECT["project"]["license"] == "MIT"
    assert PROJECT["project"]["license-files"] == ["LICENSE"]
    assert (ROOT / "LICENSE").read_text(encoding="utf-8").startswith("MIT License")


def test_every_dependency_has_a_lower_bound() -> None:
    for spec in PROJECT["project"]["dependencies"] + PROJECT["project"]["optional-dependencies"]["test"]:
        req = Requirement(spec)
        assert any(s.operator in (">=", "~=", "==") for s in req.specifier), f"{spec}: no lower bound"


def test_constraints_pin_every_runtime_dependency_within_its_bounds() -> None:
    pins: dict[str, Version] = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, version = line.partition("==")
            pins[canonicalize_name(name)] = Version(version)
    for spec in PROJECT["project"]["dependencies"]:
        req = Requirement(spec)
        pinned = pins.get(canonicalize_name(req.name))
        assert pinned is not None, f"{req.name} is missing from constraints.txt: run `make constraints`"
        assert req.specifier.contains(pinned), f"constraints.txt pins {req.name}=={pinned}, outside {req.specifier}"


@pytest.mark.slow
def test_the_wheel_ships_the_data_and_sendbot_init_works_from_it(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--quiet", "--disable-pip-version-check",
         "-w", str(wheels)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert built.returncode == 0, built.stderr
    [wheel] = wheels.glob("sendbot-*.whl")
    with zipfile.ZipFile(wheel) as z:
        names = set(z.namelist())
        metadata = next(z.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    assert {"bot/data/config.example.toml", "bot/data/slack-manifest.json"} <= names
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)
    assert "License-Expression: MIT" in metadata.splitlines()

    # Installed alone (its dependencies come from this venv), run from a folder that is not
    # this checkout, so `bot` is the wheel's.
    site = tmp_path / "site"
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--disable-pip-version-check",
         "--target", str(site), str(wheel)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert installed.returncode == 0, installed.stderr
    here = tmp_path / "admin"
    here.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SENDBOT_")}
    env["PYTHONPATH"] = str(site)
    done = subprocess.run(
        [sys.executable, "-c", "import bot, sys; from bot.cli import main; print(bot.__file__, file=sys.stderr);"
         " sys.exit(main(['init']))"],
        capture_output=True, text=True, cwd=here, env=env, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert str(site) in done.stderr  # the wheel's code, not this checkout's
    assert (here / "config.toml").read_text(encoding="utf-8") == (ROOT / "config.example.toml").read_text("utf-8")
    assert (here / "slack-manifest.json").read_text("utf-8") == (ROOT / "slack-manifest.json").read_text("utf-8")
