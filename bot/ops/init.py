"""`sendbot init`: a config.toml (from config.example.toml) and the Slack app's manifest in the
current folder, from the copies shipped in the package (bot/data/), never overwriting."""

from __future__ import annotations

import argparse
import sys
from importlib import resources
from pathlib import Path

from bot.config import Config

FILES = {"config.toml": "config.example.toml", "slack-manifest.json": "slack-manifest.json"}


def shipped(name: str) -> str:
    return resources.files("bot.data").joinpath(name).read_text(encoding="utf-8")


def cmd_init(args: argparse.Namespace, config: Config | None = None) -> int:
    folder = Path(args.dir)
    existing = [name for name in FILES if (folder / name).exists()]
    if existing:
        names = " and ".join(str(folder / n) for n in existing)
        them = "it" if len(existing) == 1 else "them"
        print(f"sendbot init: {names} already exist{'s' if len(existing) == 1 else ''}: nothing was written"
              f" (move {them} away to start again)", file=sys.stderr)  # fmt: skip
        return 1
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in FILES.items():
        (folder / name).write_text(shipped(source), encoding="utf-8")
    print(
        f"Wrote {folder / 'config.toml'} and {folder / 'slack-manifest.json'}.\n"
        "Next: edit config.toml, give the bot its token (DISCORD_TOKEN, or SLACK_BOT_TOKEN and SLACK_APP_TOKEN;"
        " Slack: create the app from slack-manifest.json), then `sendbot check` and `sendbot run`."
        " Running it 24/7: docs/deploy.md."
    )
    return 0


def register_cli(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    p = sub.add_parser("init", help="write config.toml and slack-manifest.json here (never overwrites)")
    p.add_argument("--dir", default=".", help="the folder to write them in (default: the current folder)")
    p.set_defaults(func=cmd_init, needs_config=False)
