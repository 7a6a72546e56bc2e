"""Issue 16: every key from the environment (`SENDBOT_<SECTION>__<KEY>`), secrets from files
(`DISCORD_TOKEN_FILE`), and problems named by the variable."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.config import ConfigError, env_value, load, parse
from feeds.settings import FeedsSettings
from tests.support.processes import SENDBOT, clean_env


def problems(environ: dict[str, str], data: dict | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as e:
        parse(data or {}, environ=environ)
    return {p.key: p.message for p in e.value.problems}


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("15", 15),
        ("2.5", 2.5),
        ("true", True),
        ('["a", "b"]', ["a", "b"]),
        ('"quoted"', "quoted"),
        ('{"url": "https://e.org/f", "channel": "news"}', {"url": "https://e.org/f", "channel": "news"}),
        ("/data/sendbot.sqlite3", "/data/sendbot.sqlite3"),
        ("Europe/London", "Europe/London"),
    ],
)
def test_values_are_read_as_toml_then_json_then_text(text: str, value: object) -> None:
    assert env_value(text) == value


def test_every_section_can_be_set_from_the_environment_over_the_file(tmp_path: Path) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[feeds]\ninterval_minutes = 30\n[storage]\npath = "file.sqlite3"\n', encoding="utf-8")
    env = {
        "SENDBOT_FEEDS__INTERVAL_MINUTES": "15",
        "SENDBOT_STORAGE__PATH": "/data/sendbot.sqlite3",
        "SENDBOT_OPS__HTTP_PORT": "8080",
        "SENDBOT_OPS__HTTP_HOST": "0.0.0.0",
        "SENDBOT_LOGGING__FORMAT": "json",
        "SENDBOT_DISCORD__GUILD_IDS": "[1, 2]",
        "SENDBOT_SLACK__MODERATOR_USERGROUP": "123",  # a text key keeps the text as written
        "SENDBOT_BOT__COGS": '["cogs.help", "cogs.feeds"]',
        "SENDBOT_CONFIG": "ignored-here",
        "SENDBOT_LOG_LEVEL": "DEBUG",  # not a key: no "__"
    }
    config = load(cfg, environ=env)
    assert config.section(FeedsSettings).interval_minutes == 15
    assert config.storage.path == "/data/sendbot.sqlite3"
    assert config.ops.http_port == 8080 and config.ops.http_host == "0.0.0.0"
    assert config.logging.format == "json"
    assert config.discord.guild_ids == [1, 2]
    assert config.slack.moderator_usergroup == "123"
    assert config.bot.cogs == ["cogs.help", "cogs.feeds"]


def test_problems_are_named_by_the_variable() -> None:
    got = problems(
        {"SENDBOT_FEEDS__INTERVAL_MINUTES": "often", "SENDBOT_FEEDZ__X": "1", "SENDBOT_OPS__HTTP_PORTT": "1"}
    )
    assert "integer" in got["SENDBOT_FEEDS__INTERVAL_MINUTES (feeds.interval_minutes)"]
    assert "unknown key" in got["SENDBOT_FEEDZ__X (feedz)"]
    assert "did you mean 'http_port'" in got["SENDBOT_OPS__HTTP_PORTT (ops.http_portt)"]


def test_secrets_from_files(tmp_path: Path) -> None:
    token = tmp_path / "discord_token"
    token.write_text("tok-from-file\n", encoding="utf-8")
    config = parse({}, environ={"DISCORD_TOKEN_FILE": str(token)})
    assert config.discord.token is not None and config.discord.token.get_secret_value() == "tok-from-file"
    assert "tok-from-file" not in repr(config)
    got = problems({"SLACK_BOT_TOKEN_FILE": str(tmp_path / "missing"), "SLACK_APP_TOKEN_FILE": str(token.parent)})
    assert "cannot read" in got["SLACK_BOT_TOKEN_FILE"] and "No such file" in got["SLACK_BOT_TOKEN_FILE"]
    assert "cannot read" in got["SLACK_APP_TOKEN_FILE"]
    empty = tmp_path / "empty"
    empty.write_text("\n")
    assert "is empty" in problems({"DISCORD_TOKEN_FILE": str(empty)})["DISCORD_TOKEN_FILE"]


@pytest.mark.slow
def test_sendbot_check_names_the_variable(tmp_path: Path) -> None:
    done = subprocess.run(
        [SENDBOT, "check"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=clean_env(SENDBOT_FEEDS__INTERVAL_MINUTES="1"),
        timeout=60,
    )
    assert done.returncode == 1
    assert "SENDBOT_FEEDS__INTERVAL_MINUTES (feeds.interval_minutes): Input should be greater than or equal to 2" in (
        done.stderr + done.stdout
    )
