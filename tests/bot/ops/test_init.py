"""`sendbot init` and the files it ships (bot/data/ must equal the repository's own)."""

from __future__ import annotations

import argparse
import subprocess
from pathlib import Path

import pytest

from bot.config import load
from bot.ops.init import FILES, cmd_init, shipped
from tests.support.processes import SENDBOT, clean_env

ROOT = Path(__file__).resolve().parents[3]


@pytest.mark.parametrize("name", sorted(FILES.values()))
def test_the_shipped_copies_equal_the_repository_files(name: str) -> None:
    assert shipped(name) == (ROOT / name).read_text(encoding="utf-8"), (
        f"bot/data/{name} differs from {name}: copy it (cp {name} bot/data/)"
    )


def test_init_writes_both_files_and_never_overwrites(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = argparse.Namespace(dir=str(tmp_path))
    assert cmd_init(args) == 0
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == shipped("config.example.toml")
    assert (tmp_path / "slack-manifest.json").read_text(encoding="utf-8") == shipped("slack-manifest.json")
    load(tmp_path / "config.toml", environ={})  # what it writes is a valid config
    (tmp_path / "config.toml").write_text("# mine\n", encoding="utf-8")
    (tmp_path / "slack-manifest.json").unlink()
    assert cmd_init(args) == 1
    assert "config.toml already exists: nothing was written" in capsys.readouterr().err
    assert (tmp_path / "config.toml").read_text(encoding="utf-8") == "# mine\n"
    assert not (tmp_path / "slack-manifest.json").exists()


@pytest.mark.slow
def test_sendbot_init_in_the_current_folder(tmp_path: Path) -> None:
    done = subprocess.run([SENDBOT, "init"], capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "config.toml").is_file() and (tmp_path / "slack-manifest.json").is_file()
    check = subprocess.run(
        [SENDBOT, "check"], capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60
    )
    assert check.returncode == 0 and "config.toml is valid" in check.stdout
    again = subprocess.run([SENDBOT, "init"], capture_output=True, text=True, cwd=tmp_path, env=clean_env(), timeout=60)
    assert again.returncode == 1 and "already exist" in again.stderr
