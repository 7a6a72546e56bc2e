"""Composition root: which adapters run, and the run loop that ties them to the core."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import signal
import stat
import sys
from typing import Any, Protocol, TextIO

from bot.adapters.console import ConsoleAdapter
from bot.config import Config
from bot.core import BotCore
from bot.ops.health import OpsServer
from storage.db import StorageError, describe_error
from storage.handle import database_errors
from storage.open import describe_target

log = logging.getLogger(__name__)


class Adapter(Protocol):
    async def run(self) -> None:
        """Serve until stopped (or, for the console, until end of input)."""
        ...


# Platform adapters are imported only when configured, so the console never loads them. Each is
# a package whose `build(core)` loads its client library when called, not at import.
PLATFORM_ADAPTERS: dict[str, str] = {
    "discord": "bot.adapters.discord",
    "slack": "bot.adapters.slack",
}


# What opening (then using) the database can raise, whichever engine: one line, no traceback.
def _run_failures() -> tuple[type[BaseException], ...]:
    return (StorageError, *database_errors())


def _open_failures() -> tuple[type[BaseException], ...]:
    return (OSError, *_run_failures())


def selected_platforms(config: Config) -> list[str]:
    """Platforms whose tokens are configured; empty means the console runs."""
    chosen = []
    if config.discord_enabled:
        chosen.append("discord")
    if config.slack_enabled:
        chosen.append("slack")
    return chosen


def build_adapter(name: str, core: BotCore) -> Any:
    module = importlib.import_module(PLATFORM_ADAPTERS[name])
    return module.build(core)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush cannot fail again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


NOTHING_TO_SERVE = (
    "no platform is configured (set DISCORD_TOKEN, or SLACK_BOT_TOKEN and SLACK_APP_TOKEN; see docs/deploy.md)"
    " and there is no console input ({why}): nothing to serve"
)


def _no_console_input(stdin: TextIO) -> str | None:
    """Why `stdin` can give the console nothing (closed, /dev/null, an empty file), or None
    for a terminal or anything that may still bring lines (a pipe, a file with content).
    Under systemd or in a container without `-i`, stdin is /dev/null: the console would read
    nothing and exit 0 at once, and a supervisor would restart it for ever."""
    try:
        if stdin.closed:
            return "stdin is closed"
        fd = stdin.fileno()
        if os.isatty(fd):
            return None
        st = os.fstat(fd)
    except (OSError, ValueError, AttributeError):
        # No file descriptor (a test's StringIO) is judged by what it yields, not here.
        return None if not getattr(stdin, "closed", False) else "stdin is closed"
    with contextlib.suppress(OSError):
        null = os.stat(os.devnull)
        if stat.S_ISCHR(st.st_mode) and st.st_rdev == null.st_rdev:
            return "stdin is /dev/null"
    if stat.S_ISREG(st.st_mode) and st.st_size == 0:
        return "stdin is an empty file"
    return None


async def run_bot(config: Config, *, as_member: bool = False, stdin: TextIO | None = None) -> int:
    """Run until stopped. Start-up failures close whatever was opened and return 1 with one
    readable line on stderr; a stop (SIGTERM, SIGINT, end of console input) shuts down in the
    order that loses and doubles nothing: background work first (a send in progress may
    finish), then the adapters, then the database.

    With no platform configured the console runs; when it can read nothing at all (stdin is
    /dev/null, closed or empty, as under systemd or in a container) that is a start-up
    failure, not a clean exit."""
    if not selected_platforms(config) and (why := _no_console_input(stdin or sys.stdin)):
        print(f"sendbot: {NOTHING_TO_SERVE.format(why=why)}", file=sys.stderr)
        return 1
    try:
        core = await BotCore.create(config, exclusive=True)
    except _open_failures() as e:
        print(f"sendbot: {describe_error(describe_target(config.storage), e)}", file=sys.stderr)
        return 1
    # Filled as they start, so that the shutdown closes exactly what was started.
    runners: list[Any] = []
    tasks: list[asyncio.Task[Any]] = []
    try:
        return await _serve(core, config, runners, tasks, as_member=as_member, stdin=stdin)
    except _run_failures() as e:
        print(f"sendbot: {describe_error(describe_target(config.storage), e)}", file=sys.stderr)
        return 1
    finally:
        await _shut_down(core, runners, tasks)


async def _serve(
    core: BotCore,
    config: Config,
    runners: list[Any],
    tasks: list[asyncio.Task[Any]],
    *,
    as_member: bool,
    stdin: TextIO | None,
) -> int:
    """Start the core and the adapters (adding them to `runners` and `tasks`), wait for a stop
    signal or for an adapter to end, and return the exit code."""
    platforms = selected_platforms(config)
    # Background work (feed polling, report retention) runs for a real deployment or an
    # interactive console. A scripted console (stdin not a terminal) answers its lines and
    # exits, so it starts none: `printf '!help\n' | sendbot run` never touches the network.
    core.serving = bool(platforms) or (stdin or sys.stdin).isatty()
    for name in platforms:
        runners.append(build_adapter(name, core))
    if platforms:
        log.info("starting adapters: %s", ", ".join(platforms))
    console = ConsoleAdapter(core, as_member=as_member) if not platforms else None
    await core.start()
    if config.ops.http_port is not None:
        ops = OpsServer(core, platforms, config.ops.http_host, config.ops.http_port)
        try:
            await ops.start()
        except OSError as e:
            where = f"{config.ops.http_host}:{config.ops.http_port}"
            print(
                f"sendbot: [ops] http_port: cannot listen on {where} ({e.strerror or e}):"
                " choose another port, or stop what uses it",
                file=sys.stderr,
            )
            return 1
        runners.append(ops)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    tasks.extend(asyncio.create_task(r.run(), name=f"adapter-{type(r).__name__}") for r in runners)
    if console is not None:
        tasks.append(asyncio.create_task(console.run(stdin), name="adapter-console"))
    stopper = asyncio.create_task(stop.wait(), name="stop-signal")
    tasks.append(stopper)
    done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    if console is not None and not stopper.done() and console.lines_read == 0 and not console.interactive:
        # An empty pipe: the console ended before a single line came.
        print(f"sendbot: {NOTHING_TO_SERVE.format(why='stdin ended before any line')}", file=sys.stderr)
        return 1
    return _exit_code(done, stopper)


def _exit_code(done: set[asyncio.Task[Any]], stopper: asyncio.Task[Any]) -> int:
    """0 for a stop signal or an adapter that ended cleanly (end of console input), else 1,
    or 141 when the reader of a piped console went away."""
    code = 0
    for t in done:
        if t is stopper or t.cancelled() or t.exception() is None:
            continue
        if isinstance(t.exception(), BrokenPipeError):
            # `printf '!help\n' | sendbot run | head -1`: the reader left; stop quietly,
            # as a CLI whose output is piped does (128 + SIGPIPE).
            _silence_stdout()
            code = 141
        else:
            log.error("adapter stopped with an error", exc_info=t.exception())
            code = 1
    return code


async def _shut_down(core: BotCore, runners: list[Any], tasks: list[asyncio.Task[Any]]) -> None:
    """The stop order of docs/architecture.md ("Start, stop and crashes")."""
    # 1. Background work stops while the adapters can still deliver what is in flight.
    with contextlib.suppress(Exception):
        await core.stop_work()
    # 2. The adapters.
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    for r in runners:
        close = getattr(r, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                await close()
    # 3. The database (and the lock that keeps a second bot off it).
    await core.close()
