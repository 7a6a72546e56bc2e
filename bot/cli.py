"""The `sendbot` command: run, ask, check (and the subcommands other packages add)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import os
import signal
import sys
from collections.abc import Sequence

from bot import __version__
from bot.config import DEFAULT_COGS, Config, ConfigError, load, resolve_path
from bot.logsetup import setup_logging
from bot.ops import backup as ops_backup
from bot.ops import dbcopy as ops_dbcopy
from bot.ops import init as ops_init
from bot.ops import status as ops_status


def _interactive_console(config: Config) -> bool:
    """`sendbot run` will be the console in a terminal (no platform token configured)."""
    from bot.app import selected_platforms

    try:
        return not selected_platforms(config) and sys.stdin.isatty()
    except (ValueError, AttributeError):
        return False


def _load_config(args: argparse.Namespace) -> Config | None:
    try:
        return load(resolve_path(args.config))
    except ConfigError as e:
        print(f"sendbot: configuration problems in {e.source}:", file=sys.stderr)
        for p in e.problems:
            print(f"  {p}", file=sys.stderr)
        return None


def cmd_run(args: argparse.Namespace, config: Config) -> int:
    from bot.app import run_bot

    try:
        return asyncio.run(run_bot(config, as_member=args.as_member))
    except KeyboardInterrupt:
        return 130


def cmd_ask(args: argparse.Namespace, config: Config) -> int:
    from bot.adapters.console import ConsoleAdapter
    from bot.core import BotCore

    text = " ".join(args.text).strip()
    if not text:
        print("sendbot ask: give the command text, e.g. sendbot ask '!rights ehcp'", file=sys.stderr)
        return 2
    prefix = config.bot.prefix
    if not text.startswith(prefix):
        text = prefix + text

    async def go() -> int:
        core = await BotCore.create(config)
        try:
            console = ConsoleAdapter(core, as_member=args.as_member)
            await core.start()
            outcome = await console.ask(text)
        finally:
            await core.stop()
        if outcome is None:
            print(f"sendbot ask: not a command: {text!r}", file=sys.stderr)
            return 2
        return {"usage": 2, "unknown": 2, "error": 1}.get(outcome.status, 0)

    return asyncio.run(go())


def cmd_discord_sync(args: argparse.Namespace, config: Config) -> int:
    """Register the Discord slash commands now, even if unchanged since the last sync."""
    from bot.core import BotCore

    if not config.discord_enabled:
        print("sendbot discord sync: no Discord token (set DISCORD_TOKEN or [discord] token)", file=sys.stderr)
        return 2

    async def go() -> int:
        from bot.adapters.discord import adapter

        core = await BotCore.create(config)
        try:
            await adapter.DiscordAdapter(core).sync_once()
        finally:
            await core.close()
        return 0

    return asyncio.run(go())


def cmd_check(args: argparse.Namespace, config: Config) -> int:
    from bot.checks import run_checks

    problems, warnings = run_checks(config)
    for w in warnings:
        print(f"warning: {w}")
    for p in problems:
        print(f"problem: {p}")
    if problems:
        return 1
    where = resolve_path(args.config)
    print(f"OK: {where if where else 'built-in defaults (no config file)'} is valid.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sendbot",
        description="A community bot for SEND parent carer forums (Discord, Slack, console).",
    )
    parser.add_argument("--version", action="version", version=f"sendbot {__version__}")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--config",
        metavar="PATH",
        help="config file (default: $SENDBOT_CONFIG, else ./config.toml if present, else built-in defaults)",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    p = sub.add_parser("run", parents=[common], help="run the bot (console when no tokens are configured)")
    p.add_argument("--as-member", action="store_true", help="console: act as an ordinary member, not a moderator")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("ask", parents=[common], help="run one command through the console and print the reply")
    p.add_argument("text", nargs=argparse.REMAINDER, help="the command, e.g. '!rights ehcp'")
    p.add_argument("--as-member", action="store_true", help="act as an ordinary member, not a moderator")
    p.set_defaults(func=cmd_ask)
    p = sub.add_parser("check", parents=[common], help="validate the config file and the bot's content")
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("discord", help="Discord housekeeping")
    discord_sub = p.add_subparsers(dest="discord_command", metavar="ACTION", required=True)
    p = discord_sub.add_parser(
        "sync", parents=[common], help="register the slash commands now, even if unchanged since the last sync"
    )
    p.set_defaults(func=cmd_discord_sync)
    ops_backup.register_cli(sub, common)
    ops_dbcopy.register_cli(sub, common)
    ops_status.register_cli(sub, common)
    ops_init.register_cli(sub, common)
    # A cog package adds subcommands with `register_cli(subparsers, common)`, setting `func`
    # on its parsers to `(args, config) -> int`. The parser is built before the config file is
    # read, so every shipped cog's subcommands are offered.
    for name in DEFAULT_COGS:
        register = getattr(importlib.import_module(name), "register_cli", None)
        if register is not None:
            register(sub, common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """The `sendbot` command. Output piped into something that stops reading early
    (`sendbot ask '!help' | head -1`) ends quietly, as other command-line tools do."""
    try:
        return _main(argv)
    except BrokenPipeError:
        return _stdout_closed()


def _stdout_closed() -> int:
    """Whoever read our output has gone. Point stdout at /dev/null, so the flush at exit
    (of whatever is still buffered) cannot fail again with a second traceback, and exit as a
    process stopped by SIGPIPE would (128 + 13), the code shells treat as "reader left"."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 128 + int(getattr(signal, "SIGPIPE", 13))


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    if not getattr(args, "needs_config", True):
        # `sendbot init` writes the config file: it does not read one.
        return int(args.func(args, None))
    config = _load_config(args)
    if config is None:
        return 1
    # `ask` and CLI tools keep stderr quiet unless asked; `run` logs at the configured level,
    # and the interactive console to a file, so log lines never break into the conversation.
    level = config.logging.level if args.command == "run" else os.environ.get("SENDBOT_LOG_LEVEL", "WARNING")
    log_file = config.logging.console_file if args.command == "run" and _interactive_console(config) else None
    used = setup_logging(level, config.logging.format, file=log_file)
    if used is not None:
        print(f"(the bot's log is in {used}; warnings show here)", file=sys.stderr)
    return int(args.func(args, config))


if __name__ == "__main__":
    sys.exit(main())
