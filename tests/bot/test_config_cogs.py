"""Cogs own their config sections: a cog package's SETTINGS is validated when `[bot] cogs` lists it,
with the same errors as the core's sections; a section whose cog is not listed is refused."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.cli import main
from bot.config import CogSettings, Config, ConfigError, parse
from cogs.content.settings import ContentSettings
from cogs.reports.settings import ReportsSettings
from feeds.settings import FeedsSettings
from tests.support.harness import Harness

# A forum's own cog, as a volunteer would write it: a package outside sendbot with a settings model.
WEATHER_INIT = '''
    """A third-party cog with its own [weather] section."""

    from typing import Annotated

    from pydantic import Field

    from bot.cog import Cog
    from bot.commands import command
    from bot.config import CogSettings


    class WeatherSettings(CogSettings):
        section_name = "weather"

        city: str = "Leeds"
        days: Annotated[int, Field(ge=1, le=7)] = 3


    SETTINGS = WeatherSettings


    class WeatherCog(Cog):
        name = "weather"

        @command("weather", help="The forecast for the forum's city.")
        async def weather(self, ctx):
            s = self.core.config.section(WeatherSettings)
            return f"{s.days} days for {s.city}"


    def setup(core):
        return WeatherCog(core)
'''


def write_package(root: Path, name: str, source: str) -> None:
    (root / name).mkdir()
    (root / name / "__init__.py").write_text(textwrap.dedent(source))


@pytest.fixture
def third_party(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory on sys.path for cog packages written by the test (forgotten afterwards)."""
    root = tmp_path / "site"
    root.mkdir()
    monkeypatch.syspath_prepend(str(root))
    before = set(sys.modules)
    yield root
    for name in set(sys.modules) - before:
        if (getattr(sys.modules[name], "__file__", None) or "").startswith(str(root)):
            del sys.modules[name]


@pytest.fixture
def weather(third_party: Path) -> Path:
    write_package(third_party, "weathercog", WEATHER_INIT)
    return third_party


def with_weather(**sections: Any) -> dict[str, Any]:
    return {"bot": {"cogs": ["cogs.help", "weathercog"]}, **sections}


def problems(data: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(ConfigError) as e:
        parse(data, environ={})
    return {p.key: p.message for p in e.value.problems}


def weather_settings(config: Config) -> Any:
    return config.section(sys.modules["weathercog"].WeatherSettings)


def test_a_third_party_cog_section_validates_and_reads_typed(weather: Path) -> None:
    cfg = parse(with_weather(weather={"city": "York"}), environ={})
    assert (weather_settings(cfg).city, weather_settings(cfg).days) == ("York", 3)
    # Absent: the cog's defaults.
    assert weather_settings(parse(with_weather(), environ={})).city == "Leeds"


def test_a_bad_key_in_a_cog_section_is_named_by_its_dotted_key(weather: Path) -> None:
    got = problems(with_weather(weather={"citty": "York", "days": 0}, bot={"cogs": ["weathercog"], "prefx": "?"}))
    assert "did you mean 'city'?" in got["weather.citty"]
    assert "greater than or equal to 1" in got["weather.days"]
    assert "did you mean 'prefix'?" in got["bot.prefx"]  # reported together with the core's


async def test_a_third_party_cog_runs_with_its_settings(weather: Path, tmp_path: Path) -> None:
    h = await Harness.create(tmp_path, with_weather(weather={"city": "Hull", "days": 5}))
    try:
        assert await h.say_text("!weather") == "5 days for Hull"
    finally:
        await h.close()


def test_sendbot_check_loads_a_third_party_cog_section(
    weather: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text(
        f'[bot]\ncogs = ["cogs.help", "weathercog"]\n[storage]\npath = "{tmp_path / "db.sqlite3"}"\n'
        '[weather]\ncity = "York"\n'
    )
    assert main(["check", "--config", str(cfg)]) == 0
    assert "OK" in capsys.readouterr().out
    cfg.write_text('[bot]\ncogs = ["cogs.help", "weathercog"]\n[weather]\ncity = "York"\ndayz = 2\n')
    assert main(["check", "--config", str(cfg)]) == 1
    err = capsys.readouterr().err
    assert "weather.dayz: unknown key; did you mean 'days'?" in err and "Traceback" not in err


def test_a_section_for_a_shipped_cog_not_listed_says_so() -> None:
    got = problems({"bot": {"cogs": ["cogs.help"]}, "reports": {"retention_days": 30}, "content": {}})
    assert "'cogs.reports'" in got["reports"] and "[bot] cogs does not load" in got["reports"]
    # The content section is shared by three cogs: any one of them makes it valid.
    assert all(c in got["content"] for c in ("'cogs.rights'", "'cogs.timeline'", "'cogs.changes'"))
    cfg = parse({"bot": {"cogs": ["cogs.timeline"]}, "content": {"directory": "x"}}, environ={})
    assert cfg.section(ContentSettings).directory == "x"


def test_a_section_for_a_third_party_cog_not_listed_is_unknown(weather: Path) -> None:
    got = problems({"weather": {"city": "York"}})
    assert got["weather"].startswith("unknown key") and "[bot] cogs" in got["weather"]


def test_a_cog_that_cannot_load_is_reported_before_any_section(weather: Path) -> None:
    # The weather section is not called unknown: until every listed cog loads it cannot be judged.
    got = problems({"bot": {"cogs": ["weathercog", "cogs.nope"]}, "mystery": {}, "slack": {"mode": "x"}})
    assert set(got) == {"bot.cogs", "slack.mode"}
    assert "cannot load 'cogs.nope'" in got["bot.cogs"]


@pytest.mark.parametrize(
    ("source", "fragment"),
    [
        ("SETTINGS = dict\ndef setup(core): ...\n", "must be a bot.config.CogSettings class"),
        (
            "from bot.config import CogSettings\nclass S(CogSettings):\n    section_name = 'slack'\n"
            "SETTINGS = S\ndef setup(core): ...\n",
            "[slack] is a core section",
        ),
        (
            "from bot.config import CogSettings\nclass S(CogSettings):\n    section_name = 'reports'\n"
            "SETTINGS = S\ndef setup(core): ...\n",
            "both define a [reports] section",
        ),
        (
            "from bot.config import CogSettings\nclass S(CogSettings):\n    section_name = 'section'\n"
            "SETTINGS = S\ndef setup(core): ...\n",
            "not a usable section name",
        ),
    ],
)
def test_a_cog_whose_settings_cannot_be_a_section_is_named(third_party: Path, source: str, fragment: str) -> None:
    write_package(third_party, "oddcog", source)
    got = problems({"bot": {"cogs": ["cogs.reports", "oddcog"]}})
    assert set(got) == {"bot.cogs"} and "'oddcog'" in got["bot.cogs"] and fragment in got["bot.cogs"]


def test_a_cog_section_with_a_required_key_is_required(third_party: Path) -> None:
    source = (
        "from bot.config import CogSettings\nclass S(CogSettings):\n    section_name = 'needy'\n    token: str\n"
        "SETTINGS = S\ndef setup(core): ...\n"
    )
    write_package(third_party, "needycog", source)
    assert "required" in problems({"bot": {"cogs": ["needycog"]}})["needy"].lower()
    assert "required" in problems({"bot": {"cogs": ["needycog"]}, "needy": {}})["needy.token"].lower()
    assert (
        parse({"bot": {"cogs": ["needycog"]}, "needy": {"token": "t"}}, environ={})
        .section(sys.modules["needycog"].S)
        .token
        == "t"
    )


def test_section_gives_defaults_for_a_cog_without_one() -> None:
    cfg = parse({"bot": {"cogs": ["cogs.help"]}}, environ={})
    assert cfg.section(ReportsSettings) == ReportsSettings()
    assert cfg.section(FeedsSettings).subscriptions == []
    assert set(type(cfg).model_fields) == set(Config.model_fields)


def test_shipped_cogs_bring_their_sections() -> None:
    cfg = parse({"reports": {"retention_days": 30}, "feeds": {"enabled": False}}, environ={})
    assert cfg.section(ReportsSettings).retention_days == 30
    assert cfg.section(FeedsSettings).enabled is False
    assert issubclass(ReportsSettings, CogSettings) and ReportsSettings.section_name == "reports"
