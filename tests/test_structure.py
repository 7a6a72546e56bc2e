"""Project-wide rules: every cog loads, names are unique, platform libraries stay in adapters."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.config import DEFAULT_COGS, ConfigError
from bot.core import BotCore
from tests.support.harness import Harness

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_LIBS = {"discord", "slack_bolt", "slack_sdk"}


async def test_every_cog_loads_and_no_two_commands_share_a_name(tmp_path: Path) -> None:
    h = await Harness.create(tmp_path)  # loads every module in [bot] cogs (the default list)
    try:
        core: BotCore = h.core
        assert len(core.cogs) == len(DEFAULT_COGS)
        seen: dict[str, str] = {}
        for spec in core.dispatcher.specs:
            for name in (spec.name, *spec.aliases):
                assert name not in seen, f"{name!r} used by {seen[name]} and {spec.name}"
                seen[name] = spec.name
            assert spec.help.strip(), f"{spec.name} has no help text"
            if spec.parent:
                assert not any(a.kind == "rest" for a in spec.args[:-1]), spec.name
    finally:
        await h.close()


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def test_platform_libraries_are_imported_only_by_adapters() -> None:
    offenders = []
    for pkg in ("bot", "cogs", "feeds", "storage"):
        for path in (ROOT / pkg).rglob("*.py"):
            if (ROOT / "bot" / "adapters") in path.parents:
                continue
            bad = imported_modules(path) & PLATFORM_LIBS
            if bad:
                offenders.append(f"{path.relative_to(ROOT)}: {sorted(bad)}")
    assert not offenders, offenders


def test_storage_and_cogs_do_not_import_adapters() -> None:
    for pkg in ("cogs", "feeds", "storage"):
        for path in (ROOT / pkg).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "bot.adapters" not in text, path


async def test_the_cogs_to_run_come_from_the_config(tmp_path: Path) -> None:
    h = await Harness.create(tmp_path, {"bot": {"cogs": ["cogs.help", "cogs.rights"]}})
    try:
        assert sorted(h.core.cogs) == ["help", "rights"]
        assert "feeds" not in await h.say_text("!help")
    finally:
        await h.close()


@pytest.mark.parametrize(
    ("cogs", "message"),
    [(["cogs.nonexistent"], "cannot load .cogs.nonexistent."), (["bot.markup"], r"has no setup\(core\) function")],
)
async def test_a_cog_that_cannot_be_loaded_is_named(tmp_path: Path, cogs: list[str], message: str) -> None:
    # Reading the config imports the listed cogs (for their settings), so the config names it...
    with pytest.raises(ConfigError, match=message) as e:
        await Harness.create(tmp_path, {"bot": {"cogs": cogs}})
    assert [p.key for p in e.value.problems] == ["bot.cogs"]
    # ...and so does loading cogs by module name, which does not go through the config.
    with pytest.raises(SystemExit, match=message):
        await Harness.create(tmp_path, cog_modules=cogs)


def test_every_shipped_cog_is_a_package_with_setup() -> None:
    import importlib

    for name in DEFAULT_COGS:
        module = importlib.import_module(name)
        assert module.__file__ is not None and module.__file__.endswith("__init__.py"), name
        assert callable(module.setup), name


def test_checks_come_from_the_cogs_the_config_loads() -> None:
    from bot.checks import check_functions
    from bot.config import parse
    from cogs.content.check import check as content_check
    from cogs.reports import check as reports_check

    every = check_functions(parse({}, environ={}))
    # rights, timeline and changes share the content check: it runs once.
    assert every.count(content_check) == 1 and reports_check in every
    fewer = check_functions(parse({"bot": {"cogs": ["cogs.help", "cogs.timeline"]}}, environ={}))
    assert content_check in fewer and reports_check not in fewer


def test_cog_packages_add_their_subcommands() -> None:
    from bot.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    assert {"run", "ask", "check", "reports", "feeds"} <= set(sub.choices)  # type: ignore[arg-type]


@pytest.mark.slow
def test_sendbot_check_and_the_console_load_no_platform_library(tmp_path: Path) -> None:
    """`sendbot check` and `sendbot ask` import the adapter packages' checks, never discord.py
    or slack-bolt themselves (they cost start-up time and memory a console never needs)."""
    import subprocess
    import sys

    from tests.support.processes import clean_env

    probe = (
        "import sys, runpy\n"
        "sys.argv = ['sendbot', *sys.argv[1:]]\n"
        "try:\n"
        "    runpy.run_module('bot.cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('discord', 'slack_bolt', 'slack_sdk') if m in sys.modules), file=sys.stderr)\n"
    )
    for args in (["check"], ["ask", "!help"]):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args],
            cwd=tmp_path,
            env=clean_env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.stderr.strip().splitlines()[-1] == "[]", (args, result.stderr[-500:])


@pytest.mark.slow
def test_sendbot_ask_loads_no_feed_or_heavy_library(tmp_path: Path) -> None:
    """`sendbot ask '!help'` answers without the fetcher (aiohttp), the parser (feedparser,
    lxml, pebble), the calendar or the phone-number library: they are loaded when a feed is
    polled, a timeline is asked for or a report is redacted (issue 13: cold start < 0.5 s)."""
    import subprocess
    import sys

    from tests.support.processes import clean_env

    heavy = ("aiohttp", "feedparser", "lxml", "pebble", "icalendar", "phonenumbers", "bm25s", "numpy")
    probe = (
        "import sys, runpy\n"
        "sys.argv = ['sendbot', 'ask', '!help']\n"
        "try:\n"
        "    runpy.run_module('bot.cli', run_name='__main__')\n"
        "except SystemExit:\n"
        "    pass\n"
        f"print(sorted(m for m in {heavy!r} if m in sys.modules), file=sys.stderr)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert "!rights" in result.stdout
    assert result.stderr.strip().splitlines()[-1] == "[]", result.stderr[-500:]


def test_the_core_config_names_no_feature() -> None:
    """Each cog owns its config section (issue 12): bot/config.py defines the core's sections
    only; the shipped cogs are named there just once, as strings, in DEFAULT_COGS."""
    from bot.config import Config

    assert set(Config.model_fields) == {"bot", "logging", "storage", "ops", "console", "discord", "slack"}
    tree = ast.parse((ROOT / "bot" / "config.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.AnnAssign | ast.Assign) and "DEFAULT_COGS" in ast.unparse(node).split("=")[0]:
            tree.body.remove(node)
    rest = ast.unparse(tree)  # code and docstrings, without comments and DEFAULT_COGS
    named = re.findall(r"(?i)(?<![a-z_])(feeds|reports|content|rights|timeline|changes)(?![a-z_])", rest)
    assert not named, named
