"""Config: the example validates, every kind of bad value is named by its key, secrets from env."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.config import ConfigError, load, parse, resolve_path
from feeds.settings import FeedsSettings

ROOT = Path(__file__).resolve().parents[2]


def problems(data: dict) -> dict[str, str]:
    with pytest.raises(ConfigError) as e:
        parse(data, environ={})
    return {p.key: p.message for p in e.value.problems}


def test_example_config_validates() -> None:
    cfg = load(ROOT / "config.example.toml", environ={})
    assert cfg.bot.prefix == "!"
    assert any("specialneedsjungle" in s.url for s in cfg.section(FeedsSettings).subscriptions)
    assert not cfg.discord_enabled and not cfg.slack_enabled


def test_no_file_gives_defaults() -> None:
    cfg = load(None, environ={})
    assert cfg.storage.path == "data/sendbot.sqlite3"


def test_unknown_keys_are_reported_with_their_path() -> None:
    got = problems({"bot": {"prefx": "?"}, "colour": "red"})
    assert "bot.prefx" in got and "unknown key" in got["bot.prefx"]
    assert "colour" in got


def test_a_misspelt_key_gets_the_closest_real_one() -> None:
    got = problems(
        {
            "bot": {"prefx": "?"},
            "storag": {},
            "discord": {"moderator_role": ["Mods"]},
            "feeds": {"subscriptions": [{"url": "https://example.org/feed", "channel": "c", "urll": "x"}]},
        }
    )
    assert "did you mean 'prefix'?" in got["bot.prefx"]
    assert "did you mean 'storage'?" in got["storag"]
    assert "did you mean 'moderator_roles'?" in got["discord.moderator_role"]
    assert "did you mean 'url'?" in got["feeds.subscriptions.0.urll"]
    assert "did you mean" not in problems({"bot": {"zzzzzz": 1}})["bot.zzzzzz"]


@pytest.mark.parametrize(
    ("data", "key", "fragment"),
    [
        ({"bot": {"prefix": ""}}, "bot.prefix", "at least 1"),
        ({"bot": {"prefix": "x"}}, "bot.prefix", "punctuation"),
        ({"bot": {"timezone": "Mars/Olympus"}}, "bot.timezone", "unknown time zone"),
        ({"logging": {"level": "LOUD"}}, "logging.level", "DEBUG"),
        ({"feeds": {"interval_minutes": 1}}, "feeds.interval_minutes", "greater than or equal to 2"),
        ({"feeds": {"enabled": "sometimes"}}, "feeds.enabled", "boolean"),
        ({"slack": {"mode": "carrier-pigeon"}}, "slack.mode", "socket"),
        ({"slack": {"http_port": 70000}}, "slack.http_port", "less than or equal"),
        ({"discord": {"api_base_url": "ftp://x"}}, "discord.api_base_url", "pattern"),
        (
            {"feeds": {"subscriptions": [{"url": "file:///etc/passwd", "channel": "g"}]}},
            "feeds.subscriptions.0.url",
            "",
        ),
        ({"feeds": {"subscriptions": [{"url": "https://x.org/feed"}]}}, "feeds.subscriptions.0.channel", "required"),
        ({"reports": {"retention_days": 0}}, "reports.retention_days", "greater than or equal to 1"),
    ],
)
def test_bad_values_name_the_key(data: dict, key: str, fragment: str) -> None:
    got = problems(data)
    assert key in got, got
    assert fragment.lower() in got[key].lower()


def test_all_problems_are_reported_at_once() -> None:
    got = problems({"bot": {"prefix": "x"}, "feeds": {"interval_minutes": 0}})
    assert {"bot.prefix", "feeds.interval_minutes"} <= set(got)


def test_secrets_come_from_environment_and_are_not_printed() -> None:
    cfg = parse({}, environ={"DISCORD_TOKEN": "tok-123", "SLACK_BOT_TOKEN": "xoxb-1"})
    assert cfg.discord_enabled and cfg.slack_enabled
    assert "tok-123" not in repr(cfg) and "tok-123" not in str(cfg.discord)
    assert cfg.discord.token is not None and cfg.discord.token.get_secret_value() == "tok-123"


def test_syntax_errors_and_missing_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[bot\nprefix = '!'")
    with pytest.raises(ConfigError) as e:
        load(bad, environ={})
    assert e.value.problems[0].key == "(syntax)"
    with pytest.raises(ConfigError, match="no such file"):
        load(tmp_path / "absent.toml", environ={})


def test_path_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert resolve_path(None, environ={}) is None
    (tmp_path / "config.toml").write_text("")
    assert resolve_path(None, environ={}) == Path("config.toml")
    assert resolve_path(None, environ={"SENDBOT_CONFIG": "/x.toml"}) == Path("/x.toml")
    assert resolve_path("/y.toml", environ={"SENDBOT_CONFIG": "/x.toml"}) == Path("/y.toml")


def run_check(tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    cfg = tmp_path / "c.toml"
    cfg.write_text(text)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "check", "--config", str(cfg)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin"},
        timeout=60,
    )


def test_sendbot_check_lists_each_problem_and_exits_1(tmp_path: Path) -> None:
    proc = run_check(tmp_path, '[bot]\nprefix = "x"\n[feeds]\ninterval_minutes = 1\nbogus = 1\n')
    assert proc.returncode == 1
    assert "bot.prefix" in proc.stderr and "feeds.interval_minutes" in proc.stderr and "feeds.bogus" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_sendbot_check_accepts_the_example(tmp_path: Path) -> None:
    proc = run_check(tmp_path, (ROOT / "config.example.toml").read_text())
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "OK" in proc.stdout
